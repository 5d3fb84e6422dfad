import { describe, fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import type { OpProgram } from '../ops/index.js';
import { zeros, type FloatArray, type Shape, type Tensor } from '../tensor.js';
import { initializerOf, Layer, type BackwardContext, type ForwardContext, type LayerArgs, type Param } from './layer.js';

export interface BatchNormalizationArgs extends LayerArgs {
  /** Moving-average momentum: moving = momentum * moving + (1 - momentum) * batch. Default 0.99. */
  momentum?: number;
  /** Added to the variance. Default 1e-3. */
  epsilon?: number;
  /** Learn beta (offset). Default true. */
  center?: boolean;
  /** Learn gamma (scale). Default true. */
  scale?: boolean;
  gammaInitializer?: InitializerSpec;
  betaInitializer?: InitializerSpec;
}

/**
 * Normalizes each channel (the last axis). Training: with the batch's mean and (biased) variance over every
 * other axis, updating the moving averages. Inference: with the moving averages.
 * Weights: [gamma, beta, movingMean, movingVariance] (the last two not trainable).
 * @example layers.batchNormalization({ momentum: 0.9 })
 */
/** What one application keeps: the normalized input, 1/sqrt(var + eps) per channel, and whether batch stats were used. */
interface BatchNormSaved {
  xhat?: FloatArray;
  invStd?: Float64Array;
  training?: boolean;
}

export class BatchNormalization extends Layer<BatchNormSaved> {
  static override readonly className = 'BatchNormalization';
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly args: BatchNormalizationArgs;
  private gamma: Param | undefined;
  private beta: Param | undefined;
  private movingMean!: Param;
  private movingVariance!: Param;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args, 'batch_normalization');
    this.args = args;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum <= 1)) fail(this.where, 'momentum in [0, 1]', describe(this.momentum));
    if (!(this.epsilon > 0)) fail(this.where, 'epsilon > 0', describe(this.epsilon));
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
  }

  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }

  protected override createWeights(): void {
    const c = [this.inputShape[this.inputShape.length - 1]];
    if (this.scale) this.gamma = this.addWeight('gamma', c, initializerOf(this.where, this.args.gammaInitializer, 'ones'));
    if (this.center) this.beta = this.addWeight('beta', c, initializerOf(this.where, this.args.betaInitializer, 'zeros'));
    this.movingMean = this.addWeight('moving_mean', c, initializerOf(this.where, undefined, 'zeros'), false);
    this.movingVariance = this.addWeight('moving_variance', c, initializerOf(this.where, undefined, 'ones'), false);
  }

  *forwardProgram(x: Tensor, ctx: ForwardContext, state: BatchNormSaved): OpProgram<Tensor> {
    const c = this.movingMean.value.size;
    const rows = x.size / c;
    const mean = new Float64Array(c);
    const variance = new Float64Array(c);
    if (ctx.training) {
      for (let i = 0; i < x.size; i++) mean[i % c] += x.data[i];
      for (let k = 0; k < c; k++) mean[k] /= rows;
      for (let i = 0; i < x.size; i++) {
        const d = x.data[i] - mean[i % c];
        variance[i % c] += d * d;
      }
      const mm = this.movingMean.value.data;
      const mv = this.movingVariance.value.data;
      for (let k = 0; k < c; k++) {
        variance[k] /= rows;
        mm[k] = this.momentum * mm[k] + (1 - this.momentum) * mean[k];
        mv[k] = this.momentum * mv[k] + (1 - this.momentum) * variance[k];
      }
    } else {
      mean.set(this.movingMean.value.data);
      variance.set(this.movingVariance.value.data);
    }
    const invStd = variance.map((v) => 1 / Math.sqrt(v + this.epsilon));
    const y = ctx.run.alloc(x.shape, x.dtype);
    const xhat = ctx.run.alloc(x.shape, x.dtype).data;
    const g = this.gamma?.value.data;
    const b = this.beta?.value.data;
    for (let i = 0; i < x.size; i++) {
      const k = i % c;
      const h = (x.data[i] - mean[k]) * invStd[k];
      xhat[i] = h;
      y.data[i] = (g ? g[k] : 1) * h + (b ? b[k] : 0);
    }
    Object.assign(state, { xhat, invStd, training: ctx.training });
    return y;
  }

  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: BatchNormSaved): OpProgram<Tensor> {
    const xhat = this.saved(state.xhat);
    const invStd = state.invStd!;
    const training = state.training!;
    const c = invStd.length;
    const rows = dy.size / c;
    const g = this.gamma?.value.data;
    const sumDy = new Float64Array(c);
    const sumDyXhat = new Float64Array(c);
    for (let i = 0; i < dy.size; i++) {
      sumDy[i % c] += dy.data[i];
      sumDyXhat[i % c] += dy.data[i] * xhat[i];
    }
    if (this.gamma) yield* ctx.grad(this.gamma, fromArray(sumDyXhat, dy));
    if (this.beta) yield* ctx.grad(this.beta, fromArray(sumDy, dy));
    const dx = ctx.run.alloc(dy.shape, dy.dtype);
    for (let i = 0; i < dy.size; i++) {
      const k = i % c;
      const s = (g ? g[k] : 1) * invStd[k];
      // With batch statistics the mean and variance depend on x too, which takes out the two mean terms.
      dx.data[i] = training ? s * (dy.data[i] - sumDy[k] / rows - (xhat[i] * sumDyXhat[k]) / rows) : s * dy.data[i];
    }
    return dx;
  }

  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }

  protected ownConfig(): Record<string, unknown> {
    return {
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      gammaInitializer: initializerOf(this.where, this.args.gammaInitializer, 'ones').getConfig(),
      betaInitializer: initializerOf(this.where, this.args.betaInitializer, 'zeros').getConfig(),
    };
  }
}

function fromArray(values: Float64Array, like: Tensor): Tensor {
  const t = zeros([values.length], like.dtype);
  t.data.set(values);
  return t;
}
