import { fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import * as ops from '../ops/index.js';
import type { Shape, Tensor } from '../tensor.js';
import { positiveInt } from '../validate.js';
import { ActivationStep, type ActivationName, type ActivationSaved } from './activations.js';
import { initializerOf, Layer, type BackwardContext, type ForwardContext, type LayerArgs, type Param } from './layer.js';
import { getRegularizer, type Regularizer } from './regularizers.js';
import { triple } from '../ops/conv3d.js';

export interface Conv3DArgs extends LayerArgs {
  filters: number;
  kernelSize: ops.Triple;
  strides?: ops.Triple;
  padding?: ops.Padding3D;
  dilationRate?: ops.Triple;
  /** Grouped convolution: input and output channels split into `groups` independent blocks. */
  groups?: number;
  useBias?: boolean;
  activation?: ActivationName;
  alpha?: number;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: Regularizer;
}

interface Conv3DSaved {
  x?: Tensor;
  act: ActivationSaved;
}

/**
 * 3-D convolution over NDHWC volumes (video, scans) with a kernel [kd, kh, kw, channels / groups, filters]
 * (Keras's layout), bias and activation fused into the op; computed by conv2d's kernels (ops.conv3d).
 * @example layers.conv3d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 32, 32, 3] })
 */
export class Conv3D extends Layer<Conv3DSaved> {
  static override readonly className = 'Conv3D';
  readonly filters: number;
  readonly kernelSize: [number, number, number];
  readonly opts: ops.Conv3DOptions;
  readonly useBias: boolean;
  private readonly act: ActivationStep;
  private readonly args: Conv3DArgs;
  private kernel!: Param;
  private bias: Param | undefined;

  constructor(args: Conv3DArgs) {
    super(args, 'conv3d');
    this.args = args;
    this.filters = positiveInt(this.where, 'filters', args.filters);
    this.kernelSize = triple(this.where, 'kernelSize', args.kernelSize);
    this.opts = { strides: args.strides ?? 1, padding: args.padding ?? 'valid', dilations: args.dilationRate ?? 1, groups: args.groups ?? 1 };
    this.useBias = args.useBias ?? true;
    this.act = new ActivationStep(this.where, args.activation, args.alpha);
  }

  private kernelShape(inChannels: number): number[] {
    return [...this.kernelSize, inChannels / this.opts.groups!, this.filters];
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 4) fail(this.where, 'input of shape [N, depth, height, width, channels] (ndhwc)', `[N, ${inputShape.join(', ')}]`);
    try {
      return ops.conv3dOutputShape([1, ...inputShape], this.kernelShape(inputShape[3]), this.opts).slice(1);
    } catch (e) {
      return fail(this.where, `an input that fits its kernel, strides, padding and groups (${(e as Error).message})`, `[N, ${inputShape.join(', ')}]`);
    }
  }

  protected override createWeights(): void {
    const a = this.args;
    this.kernel = this.addWeight('kernel', this.kernelShape(this.inputShape[3]), initializerOf(this.where, a.kernelInitializer, 'glorotUniform'), true, getRegularizer(this.where, a.kernelRegularizer));
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], initializerOf(this.where, a.biasInitializer, 'zeros'));
  }

  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: Conv3DSaved): ops.OpProgram<Tensor> {
    state.x = x;
    const z = yield* ops.programs.conv3d(x, this.kernel.value, { ...this.opts, bias: this.bias?.value, ...this.act.epilogue() });
    return yield* this.act.after(z, state.act);
  }

  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: Conv3DSaved): ops.OpProgram<Tensor | undefined> {
    const x = this.saved(state.x);
    const dz = yield* this.act.backward(dy, state.act);
    yield* ctx.grad(this.kernel, yield* ops.programs.conv3dBackwardFilter(x, dz, this.kernel.value.shape, this.opts));
    if (this.bias) yield* ctx.grad(this.bias, yield ops.request.biasGrad(dz));
    return ctx.needInputGrad() ? yield* ops.programs.conv3dBackwardInput(dz, this.kernel.value, x.shape, this.opts) : undefined;
  }

  override newState(): Conv3DSaved {
    return { act: {} };
  }

  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: this.act.kind !== 'linear' };
  }

  protected ownConfig(): Record<string, unknown> {
    const a = this.args;
    return {
      filters: this.filters,
      kernelSize: a.kernelSize,
      strides: this.opts.strides,
      padding: this.opts.padding,
      dilationRate: this.opts.dilations,
      groups: this.opts.groups,
      useBias: this.useBias,
      ...this.act.config(),
      kernelInitializer: initializerOf(this.where, a.kernelInitializer, 'glorotUniform').getConfig(),
      biasInitializer: initializerOf(this.where, a.biasInitializer, 'zeros').getConfig(),
      kernelRegularizer: getRegularizer(this.where, a.kernelRegularizer)?.getConfig(),
    };
  }
}
