import { describe, fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import * as ops from '../ops/index.js';
import { zeros, type Shape, type Tensor } from '../tensor.js';
import { ActivationStep, type ActivationName, type ActivationSaved } from './activations.js';
import { initializerOf, Layer, type BackwardContext, type ForwardContext, type LayerArgs, type Param } from './layer.js';

export interface ActivationArgs extends LayerArgs {
  activation: ActivationName;
  /** leakyRelu slope (default 0.2) or elu alpha (default 1). */
  alpha?: number;
}

/** An activation as its own layer (softmax is over the last axis). @example layers.activation({ activation: 'softmax' }) */
export class Activation extends Layer<ActivationSaved> {
  static override readonly className: string = 'Activation';
  private readonly act: ActivationStep;
  constructor(args: ActivationArgs, prefix = 'activation') {
    super(args, prefix);
    if (args?.activation === undefined) fail(this.where, 'an activation name', describe(undefined));
    this.act = new ActivationStep(this.where, args.activation, args.alpha);
  }
  /** The activation's alpha, as given (undefined: its default). */
  get alpha(): number | undefined {
    return this.act.alpha;
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: ActivationSaved): ops.OpProgram<Tensor> {
    // ActivationStep takes an already-activated tensor for the kinds it would fuse; standalone, apply it here.
    const z = this.act.fused ? yield ops.request.activation(this.act.kind, x, this.act.alpha) : x;
    return yield* this.act.after(z, state);
  }
  *backwardProgram(dy: Tensor, _ctx: BackwardContext, state: ActivationSaved): ops.OpProgram<Tensor> {
    return yield* this.act.backward(dy, state);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: !this.act.fused, output: true };
  }
  /** Any activation but softmax can run in the op before it at inference (no derivative needed there). */
  override epilogueActivation(): { activation: ops.ActivationKind; alpha?: number } | undefined {
    return this.act.kind === 'softmax' ? undefined : { activation: this.act.kind, alpha: this.act.alpha };
  }
  protected ownConfig(): Record<string, unknown> {
    return this.act.config();
  }
}

export interface ReLUArgs extends LayerArgs {
  /** The largest output (default none; 6 is ReLU6). */
  maxValue?: number;
  /** The slope below the threshold (default 0). */
  negativeSlope?: number;
  /** Where the slope changes (default 0). */
  threshold?: number;
}

/**
 * Keras's ReLU layer: y = maxValue for x >= maxValue, x for threshold <= x < maxValue, and
 * negativeSlope * (x - threshold) below. With the default threshold it is the relu, relu6 or leakyRelu
 * activation (the kernels', fused into the op before it at inference); otherwise computed elementwise here.
 * @example layers.reLU({ maxValue: 6 })
 */
export class ReLU extends Layer<ActivationSaved & { x?: Tensor }> {
  static override readonly className = 'ReLU';
  readonly maxValue: number | undefined;
  readonly negativeSlope: number;
  readonly threshold: number;
  /** The activation kernel this layer is, when one is. */
  private readonly step: ActivationStep | undefined;

  constructor(args: ReLUArgs = {}) {
    super(args, 're_lu');
    const { maxValue, negativeSlope = 0, threshold = 0 } = args;
    if (maxValue !== undefined && !(typeof maxValue === 'number' && maxValue >= 0)) fail(this.where, 'maxValue to be a number >= 0', describe(maxValue));
    if (!(typeof negativeSlope === 'number' && negativeSlope >= 0)) fail(this.where, 'negativeSlope to be a number >= 0', describe(negativeSlope));
    if (!(typeof threshold === 'number' && Number.isFinite(threshold))) fail(this.where, 'threshold to be a finite number', describe(threshold));
    if (maxValue !== undefined && maxValue < threshold) fail(this.where, `maxValue >= threshold (${threshold})`, describe(maxValue));
    this.maxValue = maxValue;
    this.negativeSlope = negativeSlope;
    this.threshold = threshold;
    if (threshold === 0 && maxValue === undefined) this.step = new ActivationStep(this.where, negativeSlope === 0 ? 'relu' : 'leakyRelu', negativeSlope === 0 ? undefined : negativeSlope);
    else if (threshold === 0 && maxValue === 6 && negativeSlope === 0) this.step = new ActivationStep(this.where, 'relu6', undefined);
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  // without a native step (thresholds, negative slopes), a JS loop over the values
  override touchesValues(): boolean {
    return this.step === undefined;
  }
  *forwardProgram(x: Tensor, ctx: ForwardContext, state: ActivationSaved & { x?: Tensor }): ops.OpProgram<Tensor> {
    if (this.step) return yield* this.step.after(x, state, false);
    state.x = x;
    const y = ctx.run.alloc(x.shape, x.dtype);
    const { maxValue = Infinity, negativeSlope, threshold } = this;
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i];
      y.data[i] = v >= maxValue ? maxValue : v >= threshold ? v : Number.isNaN(v) ? v : negativeSlope * (v - threshold);
    }
    return y;
  }
  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: ActivationSaved & { x?: Tensor }): ops.OpProgram<Tensor> {
    if (this.step) return yield* this.step.backward(dy, state);
    const x = this.saved(state.x);
    const dx = ctx.run.alloc(dy.shape, dy.dtype);
    const { maxValue = Infinity, negativeSlope, threshold } = this;
    for (let i = 0; i < dy.size; i++) {
      const v = x.data[i];
      dx.data[i] = v >= maxValue ? 0 : v >= threshold ? dy.data[i] : negativeSlope * dy.data[i];
    }
    return dx;
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: true };
  }
  override epilogueActivation(): { activation: ops.ActivationKind; alpha?: number } | undefined {
    return this.step ? { activation: this.step.kind as ops.ActivationKind, alpha: this.step.alpha } : undefined;
  }
  protected ownConfig(): Record<string, unknown> {
    return { maxValue: this.maxValue, negativeSlope: this.negativeSlope, threshold: this.threshold };
  }
}

export interface LeakyReLUArgs extends LayerArgs {
  /** The slope below 0 (Keras's layer default, 0.3). */
  alpha?: number;
}

/** x for x > 0, alpha * x below (alpha 0.3 by default, as Keras's layer; the activation's default is 0.2). */
export class LeakyReLU extends Activation {
  static override readonly className = 'LeakyReLU';
  constructor(args: LeakyReLUArgs = {}) {
    super({ ...args, activation: 'leakyRelu', alpha: args.alpha ?? 0.3 }, 'leaky_re_lu');
  }
  protected override ownConfig(): Record<string, unknown> {
    return { alpha: this.alpha };
  }
}

export interface ELUArgs extends LayerArgs {
  /** Default 1. */
  alpha?: number;
}

/** x for x > 0, alpha * (e^x - 1) below. */
export class ELU extends Activation {
  static override readonly className = 'ELU';
  constructor(args: ELUArgs = {}) {
    super({ ...args, activation: 'elu', alpha: args.alpha ?? 1 }, 'elu');
  }
  protected override ownConfig(): Record<string, unknown> {
    return { alpha: this.alpha };
  }
}

/** Softmax over the last axis. */
export class Softmax extends Activation {
  static override readonly className = 'Softmax';
  constructor(args: LayerArgs = {}) {
    super({ ...args, activation: 'softmax' }, 'softmax');
  }
  protected override ownConfig(): Record<string, unknown> {
    return {};
  }
}

export interface PReLUArgs extends LayerArgs {
  /** Initial slope for negative inputs (default constant 0.25). */
  alphaInitializer?: InitializerSpec;
}

/**
 * Leaky relu with a learned slope per channel (the last axis): y = x > 0 ? x : alpha[c] * x.
 * @example layers.prelu()
 */
export class PReLU extends Layer<{ x?: Tensor }> {
  static override readonly className = 'PReLU';
  private readonly args: PReLUArgs;
  private alpha!: Param;
  constructor(args: PReLUArgs = {}) {
    super(args, 'p_re_lu');
    this.args = args;
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  protected override createWeights(): void {
    const channels = this.inputShape[this.inputShape.length - 1] ?? 1;
    this.alpha = this.addWeight('alpha', [channels], initializerOf(this.where, this.args.alphaInitializer, { className: 'constant', config: { value: 0.25 } }));
  }
  // Elementwise in TypeScript: no op exists for a learned per-channel slope.
  *forwardProgram(x: Tensor, ctx: ForwardContext, state: { x?: Tensor }): ops.OpProgram<Tensor> {
    state.x = x;
    const a = this.alpha.value.data;
    const c = a.length;
    const y = ctx.run.alloc(x.shape, x.dtype);
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i];
      y.data[i] = v > 0 ? v : a[i % c] * v;
    }
    return y;
  }
  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: { x?: Tensor }): ops.OpProgram<Tensor> {
    const x = this.saved(state.x);
    const a = this.alpha.value.data;
    const c = a.length;
    const dx = ctx.run.alloc(x.shape, x.dtype);
    const da = zeros([c], x.dtype);
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i];
      if (v > 0) {
        dx.data[i] = dy.data[i];
      } else {
        dx.data[i] = a[i % c] * dy.data[i];
        da.data[i % c] += v * dy.data[i];
      }
    }
    yield* ctx.grad(this.alpha, da);
    return dx;
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: false };
  }
  protected ownConfig(): Record<string, unknown> {
    return { alphaInitializer: initializerOf(this.where, this.args.alphaInitializer, { className: 'constant', config: { value: 0.25 } }).getConfig() };
  }
}
