import { describe, fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import * as ops from '../ops/index.js';
import { zeros, type Shape, type Tensor } from '../tensor.js';
import { ActivationStep, type ActivationName } from './activations.js';
import { initializerOf, Layer, type ForwardContext, type LayerArgs, type Param } from './layer.js';

export interface ActivationArgs extends LayerArgs {
  activation: ActivationName;
  /** leakyRelu slope (default 0.2) or elu alpha (default 1). */
  alpha?: number;
}

/** An activation as its own layer (softmax is over the last axis). @example layers.activation({ activation: 'softmax' }) */
export class Activation extends Layer {
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
  *forwardProgram(x: Tensor, _ctx: ForwardContext): ops.OpProgram<Tensor> {
    this.checkInput(x);
    // ActivationStep takes an already-activated tensor for the kinds it would fuse; standalone, apply it here.
    const z = this.act.fused ? yield ops.request.activation(this.act.kind, x, this.act.alpha) : x;
    return yield* this.act.after(z);
  }
  *backwardProgram(dy: Tensor): ops.OpProgram<Tensor> {
    return yield* this.act.backward(dy);
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
export class PReLU extends Layer {
  static override readonly className = 'PReLU';
  private readonly args: PReLUArgs;
  private alpha!: Param;
  private x: Tensor | undefined;
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
  *forwardProgram(x: Tensor, ctx: ForwardContext): ops.OpProgram<Tensor> {
    this.checkInput(x);
    this.x = x;
    const a = this.alpha.value.data;
    const c = a.length;
    const y = ctx.run.alloc(x.shape, x.dtype);
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i];
      y.data[i] = v > 0 ? v : a[i % c] * v;
    }
    return y;
  }
  *backwardProgram(dy: Tensor, _needInputGrad: boolean, run: ops.RunContext): ops.OpProgram<Tensor> {
    const x = this.saved(this.x);
    const a = this.alpha.value.data;
    const c = a.length;
    const dx = run.alloc(x.shape, x.dtype);
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
    this.alpha.grad = da;
    return dx;
  }
  protected ownConfig(): Record<string, unknown> {
    return { alphaInitializer: initializerOf(this.where, this.args.alphaInitializer, { className: 'constant', config: { value: 0.25 } }).getConfig() };
  }
}
