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
  static override readonly className = 'Activation';
  private readonly act: ActivationStep;
  constructor(args: ActivationArgs) {
    super(args, 'activation');
    if (args?.activation === undefined) fail(this.where, 'an activation name', describe(undefined));
    this.act = new ActivationStep(this.where, args.activation, args.alpha);
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
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
