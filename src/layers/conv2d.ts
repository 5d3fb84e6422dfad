import { describe, fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import * as ops from '../ops/index.js';
import type { Shape, Tensor } from '../tensor.js';
import { pair, positiveInt } from '../validate.js';
import { ActivationStep, type ActivationName, type ActivationSaved } from './activations.js';
import { initializerOf, Layer, sameShape, type BackwardContext, type ForwardContext, type LayerArgs, type Param } from './layer.js';
import { getRegularizer, type Regularizer } from './regularizers.js';
import { fusedEpilogue } from './epilogue.js';
import type { InferenceEpilogue } from '../engine/plan.js';

export interface Conv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: ops.Padding;
  dilationRate?: number | [number, number];
  /** Grouped convolution: input and output channels split into `groups` independent blocks. */
  groups?: number;
  useBias?: boolean;
  activation?: ActivationName;
  /** leakyRelu slope or elu alpha. */
  alpha?: number;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: Regularizer;
}

/**
 * 2-D convolution over NHWC input with an HWIO kernel [kh, kw, inChannels / groups, filters], then bias and
 * activation (fused into one op where possible).
 */
/** What one application keeps: its input and its activation's tensors. */
export interface ConvSaved {
  x?: Tensor;
  /** The op's options where they are not the layer's own: with an absorbed zero padding's added. */
  opts?: ops.Conv2DOptions;
  act: ActivationSaved;
}

export class Conv2D extends Layer<ConvSaved> {
  static override readonly className: string = 'Conv2D';
  /** Output channels (a depthwise layer sets it at build time from the input channels). */
  filters: number;
  readonly kernelSize: [number, number];
  readonly opts: ops.Conv2DOptions;
  readonly useBias: boolean;
  protected readonly act: ActivationStep;
  private readonly args: Conv2DArgs;
  private kernel!: Param;
  private bias: Param | undefined;

  constructor(args: Conv2DArgs, prefix = 'conv2d') {
    super(args, prefix);
    this.args = args;
    this.filters = positiveInt(this.where, 'filters', args.filters);
    this.kernelSize = pair(this.where, 'kernelSize', args.kernelSize);
    this.opts = {
      strides: args.strides ?? 1,
      padding: args.padding ?? 'valid',
      dilations: args.dilationRate ?? 1,
      groups: args.groups ?? 1,
    };
    this.useBias = args.useBias ?? true;
    this.act = new ActivationStep(this.where, args.activation, args.alpha);
  }

  /** The kernel's shape as the op reads it (hwio), for an input of `inChannels`. */
  protected kernelShape(inChannels: number): number[] {
    const groups = this.opts.groups!;
    if (inChannels % groups !== 0) fail(this.where, `input channels divisible by groups ${groups}`, describe(inChannels));
    return [...this.kernelSize, inChannels / groups, this.filters];
  }

  /** The kernel weight's own shape (Conv1D stores [k, in, out], without the op's leading 1). */
  protected storedKernelShape(inChannels: number): number[] {
    return this.kernelShape(inChannels);
  }

  /** The nhwc shape (batch axis first) the op reads for a shape of this layer's rank: itself for 2-D. */
  protected nhwcShape(shape: readonly number[]): number[] {
    return [...shape];
  }

  /** A tensor of this layer's (input or output) rank as the nhwc tensor the op reads (a view). */
  protected toNhwc(t: Tensor): Tensor {
    return t.rank === 4 ? t : t.reshape(this.nhwcShape(t.shape));
  }

  /** The op's nhwc result as a tensor of shape [N, ...like] (the layer's input or output shape): itself for 2-D. */
  protected fromNhwc(t: Tensor, _like: readonly number[]): Tensor {
    return t;
  }

  computeOutputShape(inputShape: Shape): number[] {
    const nhwc = this.nhwcShape([1, ...inputShape]).slice(1);
    if (nhwc.length !== 3) fail(this.where, 'input of shape [N, height, width, channels] (nhwc)', `[N, ${inputShape.join(', ')}]`);
    try {
      const out = ops.conv2dOutputShape([1, ...nhwc], this.kernelShape(nhwc[2]), this.opts).slice(1);
      return this.outputShapeOf(out);
    } catch (e) {
      return fail(this.where, `an input that fits its kernel, strides and padding (${(e as Error).message})`, `[N, ${inputShape.join(', ')}]`);
    }
  }

  /** The layer's output shape for the op's nhwc output shape (no batch axis). */
  protected outputShapeOf(nhwc: number[]): number[] {
    return nhwc;
  }

  protected override createWeights(): void {
    const kernelReg = getRegularizer(this.where, this.args.kernelRegularizer);
    const channels = this.inputShape[this.inputShape.length - 1];
    this.kernel = this.addWeight('kernel', this.storedKernelShape(channels), initializerOf(this.where, this.args.kernelInitializer, 'glorotUniform'), true, kernelReg);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], initializerOf(this.where, this.args.biasInitializer, 'zeros'));
  }

  /** The kernel as the op reads it (a view). */
  private get filter(): Tensor {
    const channels = this.inputShape[this.inputShape.length - 1];
    const shape = this.kernelShape(channels);
    return this.kernel.value.rank === shape.length ? this.kernel.value : this.kernel.value.reshape(shape);
  }

  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: ConvSaved): ops.OpProgram<Tensor> {
    return this.fromNhwc(yield* this.convolve(this.toNhwc(x), this.opts, state), this.outputShape);
  }

  /** The convolution of x (nhwc) with these options, its bias and activation; state keeps what the backward reads. */
  private *convolve(x4: Tensor, opts: ops.Conv2DOptions, state: ConvSaved): ops.OpProgram<Tensor> {
    state.x = x4;
    const z = yield ops.request.conv2d(x4, this.filter, { ...opts, bias: this.bias?.value, ...this.act.epilogue() });
    return yield* this.act.after(z, state.act);
  }

  override newState(): ConvSaved {
    return { act: {} };
  }

  /** Fusion capability: whether forwardMaxPoolProgram applies (the activation runs inside the convolution op). */
  fusesMaxPool(): boolean {
    return this.act.fused;
  }

  /**
   * This layer and a max pooling of its output as one op (ops.conv2dMaxPool). For inference it keeps nothing;
   * given the pooling's layer and state (training), it keeps what both forward passes would (the convolution's
   * output is written too, as the pooling's input).
   */
  *forwardMaxPoolProgram(x: Tensor, pool: ops.Pool2DOptions, ctx: ForwardContext, state: ConvSaved, keep?: { layer: Layer<{ x?: Tensor }>; state: { x?: Tensor } }): ops.OpProgram<Tensor> {
    this.checkInputs([x]);
    const opts = { ...this.opts, bias: this.bias?.value, ...this.act.epilogue() };
    if (!keep) return yield ops.request.conv2dMaxPool(x, this.filter, opts, pool);
    state.x = x;
    const z = ctx.run.alloc(ops.conv2dOutputShape(x.shape, this.filter.shape, this.opts), x.dtype);
    const y = yield ops.request.conv2dMaxPool(x, this.filter, opts, pool, z);
    keep.state.x = yield* this.act.after(z, state.act);
    return y;
  }

  /**
   * The activation a following max pooling's backward can apply (MaxPooling2D.backwardThroughProgram), then
   * handing backwardFromActivationInput its result; undefined when there is none.
   */
  pooledActivation(): ops.PooledActivation | undefined {
    return this.act.pooled();
  }

  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: ConvSaved): ops.OpProgram<Tensor | undefined> {
    const dx = yield* this.backwardFromActivationInput(yield* this.act.backward(this.toNhwc(dy), state.act), ctx, state);
    return dx && this.fromNhwc(dx, this.inputShape);
  }

  /** backwardProgram from dz (nhwc), the gradient at the activation's input (the convolution's biased result); dx nhwc. */
  *backwardFromActivationInput(dz: Tensor, ctx: BackwardContext, state: ConvSaved): ops.OpProgram<Tensor | undefined> {
    const x = this.saved(state.x);
    const opts = state.opts ?? this.opts;
    const dk: Tensor = yield ops.request.conv2dBackwardFilter(x, dz, this.filter.shape, opts);
    yield* ctx.grad(this.kernel, dk.reshape(this.kernel.value.shape));
    if (this.bias) yield* ctx.grad(this.bias, yield ops.request.biasGrad(dz));
    return ctx.needInputGrad() ? yield ops.request.conv2dBackwardInput(dz, this.filter, x.shape, opts) : undefined;
  }

  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: this.act.kind !== 'linear' };
  }

  /** Fusion capability (EpilogueProducer): with no activation of its own, its op can apply what follows it at inference. */
  takesEpilogue(): boolean {
    return this.act.kind === 'linear';
  }

  /** Fusion capability (PaddingAbsorber): a 2-D convolution can read its input through a zero padding. */
  absorbsPadding(): boolean {
    return this.inputShape.length === 3;
  }

  /** forwardProgram on x as if a zero padding of `pad` surrounded it; the backward then gives x's own gradient. */
  *forwardPaddedProgram(x: Tensor, pad: ops.ExplicitPadding, _ctx: ForwardContext, state: ConvSaved): ops.OpProgram<Tensor> {
    state.opts = this.paddedOptions(x, pad);
    return yield* this.convolve(x, state.opts, state);
  }

  /**
   * The convolution with an inference epilogue (engine/plan.ts) in its op: its input read through a zero
   * padding, a folded batch normalization, a residual, an activation.
   */
  *forwardEpilogueProgram(x: Tensor, ep: InferenceEpilogue, _ctx: ForwardContext, _state: ConvSaved): ops.OpProgram<Tensor> {
    if (!ep.inputPadding) this.checkInputs([x]);
    const opts = ep.inputPadding ? this.paddedOptions(x, ep.inputPadding) : this.opts;
    const residual = ep.residual && this.toNhwc(ep.residual);
    const y = yield ops.request.conv2d(this.toNhwc(x), this.filter, { ...opts, ...fusedEpilogue(ep, this.bias?.value, this.kernel.value), residual, activation: ep.activation, alpha: ep.alpha });
    return this.fromNhwc(y, this.outputShape);
  }

  /**
   * The op's options for reading x (nhwc) as if `pad` zeros surrounded it: this layer's padding resolved against
   * the padded shape, plus those zeros. The output is the same as this layer's on the padded tensor.
   */
  private paddedOptions(x: Tensor, [[t, b], [l, r]]: ops.ExplicitPadding): ops.Conv2DOptions {
    const padded = [x.shape[0], x.shape[1] + t + b, x.shape[2] + l + r, x.shape[3]];
    if (x.rank !== 4 || !sameShape(padded.slice(1), this.inputShape)) {
      fail(this.where, `input of shape [N, ${this.inputShape.join(', ')}] once padded by [[${t}, ${b}], [${l}, ${r}]]`, `[${x.shape.join(', ')}]`);
    }
    if (x.dtype !== this.dtype) fail(this.where, `input of dtype ${this.dtype} (the model's)`, describe(x.dtype));
    const i = ops.conv2dInfo(padded, this.filter.shape, this.opts, this.where);
    return { ...this.opts, padding: [[i.padTop + t, i.padBottom + b], [i.padLeft + l, i.padRight + r]] };
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

export interface DepthwiseConv2DArgs extends Omit<Conv2DArgs, 'filters' | 'groups' | 'kernelInitializer' | 'kernelRegularizer'> {
  /** Output channels per input channel (default 1). */
  depthMultiplier?: number;
  depthwiseInitializer?: InitializerSpec;
  depthwiseRegularizer?: Regularizer;
}

/**
 * Depthwise convolution: each input channel convolved with its own `depthMultiplier` filters. Stored as a
 * grouped conv (groups = channels), so the kernel is hwio [kh, kw, 1, channels * depthMultiplier] and output
 * channel c * depthMultiplier + m comes from input channel c (Keras's order).
 */
export class DepthwiseConv2D extends Conv2D {
  static override readonly className: string = 'DepthwiseConv2D';
  readonly depthMultiplier: number;

  constructor(args: DepthwiseConv2DArgs) {
    const depthMultiplier = args.depthMultiplier ?? 1;
    const channels = args.inputShape?.[2];
    super(
      {
        ...args,
        // filters and groups depend on the input channels; fixed at build time (see kernelShape).
        filters: 1,
        kernelInitializer: args.depthwiseInitializer,
        kernelRegularizer: args.depthwiseRegularizer,
        groups: channels ?? 1,
      },
      'depthwise_conv2d',
    );
    this.depthMultiplier = positiveInt(this.where, 'depthMultiplier', depthMultiplier);
  }

  protected override kernelShape(inChannels: number): number[] {
    this.filters = inChannels * this.depthMultiplier;
    this.opts.groups = inChannels;
    return [...this.kernelSize, 1, this.filters];
  }

  protected override ownConfig(): Record<string, unknown> {
    const { filters: _f, groups: _g, kernelInitializer, kernelRegularizer, ...rest } = super.ownConfig();
    return { ...rest, depthMultiplier: this.depthMultiplier, depthwiseInitializer: kernelInitializer, depthwiseRegularizer: kernelRegularizer };
  }
}
