import { fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import type { InferenceEpilogue } from '../engine/plan.js';
import * as ops from '../ops/index.js';
import type { Shape, Tensor } from '../tensor.js';
import { pair, positiveInt } from '../validate.js';
import { ActivationStep, type ActivationName, type ActivationSaved } from './activations.js';
import { fusedEpilogue } from './epilogue.js';
import { initializerOf, Layer, type BackwardContext, type ForwardContext, type LayerArgs, type Param } from './layer.js';
import { getRegularizer, type Regularizer } from './regularizers.js';

export interface SeparableConv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: ops.Padding;
  dilationRate?: number | [number, number];
  /** Depthwise filters per input channel (default 1). */
  depthMultiplier?: number;
  useBias?: boolean;
  activation?: ActivationName;
  alpha?: number;
  depthwiseInitializer?: InitializerSpec;
  pointwiseInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  depthwiseRegularizer?: Regularizer;
  pointwiseRegularizer?: Regularizer;
}

interface SeparableSaved {
  x?: Tensor;
  /** The depthwise result, the pointwise convolution's input. */
  d?: Tensor;
  act: ActivationSaved;
}

/**
 * Depthwise separable convolution (MobileNet, Xception): a depthwise convolution (each channel its own
 * depthMultiplier filters, kernel [kh, kw, 1, channels * depthMultiplier] as DepthwiseConv2D stores it), then a
 * 1x1 convolution to `filters` (kernel [1, 1, channels * depthMultiplier, filters]) with the bias and activation
 * fused into it.
 * @example layers.separableConv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' })
 */
export class SeparableConv2D extends Layer<SeparableSaved> {
  static override readonly className = 'SeparableConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly depthMultiplier: number;
  readonly useBias: boolean;
  private readonly depthwiseOpts: ops.Conv2DOptions;
  private readonly act: ActivationStep;
  private readonly args: SeparableConv2DArgs;
  private depthwise!: Param;
  private pointwise!: Param;
  private bias: Param | undefined;

  constructor(args: SeparableConv2DArgs) {
    super(args, 'separable_conv2d');
    this.args = args;
    this.filters = positiveInt(this.where, 'filters', args.filters);
    this.kernelSize = pair(this.where, 'kernelSize', args.kernelSize);
    this.depthMultiplier = positiveInt(this.where, 'depthMultiplier', args.depthMultiplier ?? 1);
    this.depthwiseOpts = { strides: args.strides ?? 1, padding: args.padding ?? 'valid', dilations: args.dilationRate ?? 1 };
    this.useBias = args.useBias ?? true;
    this.act = new ActivationStep(this.where, args.activation, args.alpha);
  }

  private depthwiseOptions(channels: number): ops.Conv2DOptions {
    return { ...this.depthwiseOpts, groups: channels };
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3) fail(this.where, 'input of shape [N, height, width, channels] (nhwc)', `[N, ${inputShape.join(', ')}]`);
    const c = inputShape[2];
    try {
      const [, h, w] = ops.conv2dOutputShape([1, ...inputShape], [...this.kernelSize, 1, c * this.depthMultiplier], this.depthwiseOptions(c));
      return [h, w, this.filters];
    } catch (e) {
      return fail(this.where, `an input that fits its kernel, strides and padding (${(e as Error).message})`, `[N, ${inputShape.join(', ')}]`);
    }
  }

  protected override createWeights(): void {
    const a = this.args;
    const mid = this.inputShape[2] * this.depthMultiplier;
    this.depthwise = this.addWeight('depthwise_kernel', [...this.kernelSize, 1, mid], initializerOf(this.where, a.depthwiseInitializer, 'glorotUniform'), true, getRegularizer(this.where, a.depthwiseRegularizer));
    this.pointwise = this.addWeight('pointwise_kernel', [1, 1, mid, this.filters], initializerOf(this.where, a.pointwiseInitializer, 'glorotUniform'), true, getRegularizer(this.where, a.pointwiseRegularizer));
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], initializerOf(this.where, a.biasInitializer, 'zeros'));
  }

  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: SeparableSaved): ops.OpProgram<Tensor> {
    state.x = x;
    state.d = yield ops.request.conv2d(x, this.depthwise.value, this.depthwiseOptions(x.shape[3]));
    const z = yield ops.request.conv2d(state.d!, this.pointwise.value, { bias: this.bias?.value, ...this.act.epilogue() });
    return yield* this.act.after(z, state.act);
  }

  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: SeparableSaved): ops.OpProgram<Tensor | undefined> {
    const x = this.saved(state.x);
    const d = this.saved(state.d);
    const dz = yield* this.act.backward(dy, state.act);
    yield* ctx.grad(this.pointwise, yield ops.request.conv2dBackwardFilter(d, dz, this.pointwise.value.shape, {}));
    if (this.bias) yield* ctx.grad(this.bias, yield ops.request.biasGrad(dz));
    const dd: Tensor = yield ops.request.conv2dBackwardInput(dz, this.pointwise.value, d.shape, {});
    const opts = this.depthwiseOptions(x.shape[3]);
    yield* ctx.grad(this.depthwise, yield ops.request.conv2dBackwardFilter(x, dd, this.depthwise.value.shape, opts));
    return ctx.needInputGrad() ? yield ops.request.conv2dBackwardInput(dd, this.depthwise.value, x.shape, opts) : undefined;
  }

  override newState(): SeparableSaved {
    return { act: {} };
  }

  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: this.act.kind !== 'linear' };
  }

  /** Fusion capability (EpilogueProducer): with no activation of its own, its pointwise op applies what follows it at inference. */
  takesEpilogue(): boolean {
    return this.act.kind === 'linear';
  }

  *forwardEpilogueProgram(x: Tensor, ep: InferenceEpilogue, _ctx: ForwardContext, _state: SeparableSaved): ops.OpProgram<Tensor> {
    this.checkInputs([x]);
    const d: Tensor = yield ops.request.conv2d(x, this.depthwise.value, this.depthwiseOptions(x.shape[3]));
    return yield ops.request.conv2d(d, this.pointwise.value, { ...fusedEpilogue(ep, this.bias?.value, this.pointwise.value), residual: ep.residual, activation: ep.activation, alpha: ep.alpha });
  }

  protected ownConfig(): Record<string, unknown> {
    const a = this.args;
    return {
      filters: this.filters,
      kernelSize: a.kernelSize,
      strides: this.depthwiseOpts.strides,
      padding: this.depthwiseOpts.padding,
      dilationRate: this.depthwiseOpts.dilations,
      depthMultiplier: this.depthMultiplier,
      useBias: this.useBias,
      ...this.act.config(),
      depthwiseInitializer: initializerOf(this.where, a.depthwiseInitializer, 'glorotUniform').getConfig(),
      pointwiseInitializer: initializerOf(this.where, a.pointwiseInitializer, 'glorotUniform').getConfig(),
      biasInitializer: initializerOf(this.where, a.biasInitializer, 'zeros').getConfig(),
      depthwiseRegularizer: getRegularizer(this.where, a.depthwiseRegularizer)?.getConfig(),
      pointwiseRegularizer: getRegularizer(this.where, a.pointwiseRegularizer)?.getConfig(),
    };
  }
}

