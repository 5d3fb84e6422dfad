import { describe, fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import * as ops from '../ops/index.js';
import type { Shape, Tensor } from '../tensor.js';
import { pair, positiveInt } from '../validate.js';
import { ActivationStep, type ActivationName, type ActivationSaved } from './activations.js';
import { initializerOf, Layer, type BackwardContext, type ForwardContext, type LayerArgs, type Param } from './layer.js';
import { getRegularizer, type Regularizer } from './regularizers.js';

export interface Conv2DTransposeArgs extends LayerArgs {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  /** 'valid' (default) or 'same' (with no outputPadding: output = input * strides). */
  padding?: 'valid' | 'same';
  /** Extra rows and columns at the bottom and right, each below its stride (Keras's output_padding). */
  outputPadding?: number | [number, number];
  dilationRate?: number | [number, number];
  useBias?: boolean;
  activation?: ActivationName;
  alpha?: number;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: Regularizer;
}

interface TransposeSaved {
  x?: Tensor;
  act: ActivationSaved;
}

/** Keras's deconv_output_length: the transposed convolution's output size along one axis. */
function outputLength(size: number, k: number, padding: 'valid' | 'same', outputPadding: number | undefined, stride: number, dilation: number): number {
  const kEff = k + (k - 1) * (dilation - 1);
  if (outputPadding === undefined) return padding === 'valid' ? size * stride + Math.max(kEff - stride, 0) : size * stride;
  const pad = padding === 'same' ? Math.floor(kEff / 2) : 0;
  return (size - 1) * stride + kEff - 2 * pad + outputPadding;
}

/**
 * Transposed convolution (a "deconvolution": the input gradient of a convolution, run forward), as Keras's
 * Conv2DTranspose: kernel [kh, kw, filters, inChannels], output size from deconv_output_length, and the
 * padding TF's conv2d_transpose derives from it (the convolution of the output that gives back the input:
 * 'same' centres it with any odd row at the bottom, 'valid' none). Forward is conv2dBackwardInput of that
 * convolution, the input gradient its conv2d, the kernel gradient its conv2dBackwardFilter with the roles of
 * input and output swapped; bias and activation follow as their own ops.
 * @example layers.conv2dTranspose({ filters: 32, kernelSize: 3, strides: 2, padding: 'same' })
 */
export class Conv2DTranspose extends Layer<TransposeSaved> {
  static override readonly className = 'Conv2DTranspose';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly padding: 'valid' | 'same';
  readonly outputPadding: [number, number] | undefined;
  readonly useBias: boolean;
  private readonly act: ActivationStep;
  private readonly args: Conv2DTransposeArgs;
  private kernel!: Param;
  private bias: Param | undefined;

  constructor(args: Conv2DTransposeArgs) {
    super(args, 'conv2d_transpose');
    this.args = args;
    this.filters = positiveInt(this.where, 'filters', args.filters);
    this.kernelSize = pair(this.where, 'kernelSize', args.kernelSize);
    this.strides = pair(this.where, 'strides', args.strides ?? 1);
    this.dilations = pair(this.where, 'dilationRate', args.dilationRate ?? 1);
    const padding = args.padding ?? 'valid';
    if (padding !== 'valid' && padding !== 'same') fail(this.where, "padding 'valid' or 'same'", describe(padding));
    this.padding = padding;
    if (args.outputPadding !== undefined) {
      const op = typeof args.outputPadding === 'number' ? [args.outputPadding, args.outputPadding] : args.outputPadding;
      if (!Array.isArray(op) || op.length !== 2 || op.some((v, i) => !Number.isInteger(v) || v < 0 || v >= this.strides[i])) {
        fail(this.where, `outputPadding to be integers in [0, strides) (strides [${this.strides.join(', ')}])`, describe(args.outputPadding));
      }
      this.outputPadding = [op[0], op[1]];
    }
    this.useBias = args.useBias ?? true;
    this.act = new ActivationStep(this.where, args.activation, args.alpha);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3) fail(this.where, 'input of shape [N, height, width, channels] (nhwc)', `[N, ${inputShape.join(', ')}]`);
    const [h, w] = [0, 1].map((i) => outputLength(inputShape[i], this.kernelSize[i], this.padding, this.outputPadding?.[i], this.strides[i], this.dilations[i]));
    if (h < 1 || w < 1) fail(this.where, 'an input its kernel and strides give a non-empty output', `[N, ${inputShape.join(', ')}]`);
    return [h, w, this.filters];
  }

  /** The options of the convolution (output -> input) this layer transposes: explicit padding, as TF derives it. */
  private convOptions(): ops.Conv2DOptions {
    const pads = [0, 1].map((i) => {
      if (this.padding === 'valid') return [0, 0] as [number, number];
      const kEff = this.kernelSize[i] + (this.kernelSize[i] - 1) * (this.dilations[i] - 1);
      const total = Math.max((this.inputShape[i] - 1) * this.strides[i] + kEff - this.outputShape[i], 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)] as [number, number];
    });
    return { strides: this.strides, dilations: this.dilations, padding: [pads[0], pads[1]] };
  }

  protected override createWeights(): void {
    const kernelReg = getRegularizer(this.where, this.args.kernelRegularizer);
    this.kernel = this.addWeight('kernel', [...this.kernelSize, this.filters, this.inputShape[2]], initializerOf(this.where, this.args.kernelInitializer, 'glorotUniform'), true, kernelReg);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], initializerOf(this.where, this.args.biasInitializer, 'zeros'));
  }

  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: TransposeSaved): ops.OpProgram<Tensor> {
    state.x = x;
    let z: Tensor = yield ops.request.conv2dBackwardInput(x, this.kernel.value, [x.shape[0], ...this.outputShape], this.convOptions());
    if (this.bias) z = yield ops.request.biasAdd(z, this.bias.value);
    return yield* this.act.after(z, state.act, false);
  }

  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: TransposeSaved): ops.OpProgram<Tensor | undefined> {
    const x = this.saved(state.x);
    const dz = yield* this.act.backward(dy, state.act);
    const opts = this.convOptions();
    yield* ctx.grad(this.kernel, yield ops.request.conv2dBackwardFilter(dz, x, this.kernel.value.shape, opts));
    if (this.bias) yield* ctx.grad(this.bias, yield ops.request.biasGrad(dz));
    return ctx.needInputGrad() ? yield ops.request.conv2d(dz, this.kernel.value, opts) : undefined;
  }

  override newState(): TransposeSaved {
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
      strides: this.strides,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilationRate: this.dilations,
      useBias: this.useBias,
      ...this.act.config(),
      kernelInitializer: initializerOf(this.where, a.kernelInitializer, 'glorotUniform').getConfig(),
      biasInitializer: initializerOf(this.where, a.biasInitializer, 'zeros').getConfig(),
      kernelRegularizer: getRegularizer(this.where, a.kernelRegularizer)?.getConfig(),
    };
  }
}
