import { describe, fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import * as ops from '../ops/index.js';
import type { OpProgram } from '../ops/index.js';
import { zeros, type Shape, type Tensor } from '../tensor.js';
import type { ChannelAffine } from '../engine/plan.js';
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

/** What one application keeps: the normalized input, 1/sqrt(var + eps) per channel, and whether batch stats were used. */
interface BatchNormSaved {
  xhat?: Tensor;
  invStd?: Float64Array;
  training?: boolean;
}

/**
 * Normalizes each channel (the last axis). Training: with the batch's mean and (biased) variance over every
 * other axis, updating the moving averages. Inference: with the moving averages.
 * Weights: [gamma, beta, movingMean, movingVariance] (the last two not trainable).
 * @example layers.batchNormalization({ momentum: 0.9 })
 */
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

  /**
   * Training: the batch's per-channel mean and biased variance (one pass in double), the moving averages
   * updated, then xhat = (x - mean) / sqrt(var + eps) and y = gamma * xhat + beta, each one pass (ops.channel*).
   * Inference: y = x * (gamma / std) + (beta - mean * gamma / std), one pass; xhat only if a backward follows.
   */
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, ctx: ForwardContext, state: BatchNormSaved): OpProgram<Tensor> {
    const c = this.movingMean.value.size;
    let mean: ArrayLike<number>;
    let variance: ArrayLike<number>;
    if (ctx.training) {
      const m: Tensor = yield ops.request.channelMoments(x);
      yield ops.SETTLE;
      mean = m.data.subarray(0, c);
      variance = m.data.subarray(c);
      const mm = this.movingMean.value.data;
      const mv = this.movingVariance.value.data;
      for (let k = 0; k < c; k++) {
        mm[k] = this.momentum * mm[k] + (1 - this.momentum) * mean[k];
        mv[k] = this.momentum * mv[k] + (1 - this.momentum) * variance[k];
      }
    } else {
      if (!ctx.keep) {
        const { scale, shift } = this.inferenceAffine();
        return yield ops.request.channelAffine(x, perChannel(x, (k) => scale[k]), perChannel(x, (k) => shift[k]));
      }
      mean = Float64Array.from(this.movingMean.value.data);
      variance = Float64Array.from(this.movingVariance.value.data);
    }
    const invStd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + this.epsilon));
    const gamma = Float64Array.from({ length: c }, (_, k) => this.gamma?.value.data[k] ?? 1);
    const beta = Float64Array.from({ length: c }, (_, k) => this.beta?.value.data[k] ?? 0);
    Object.assign(state, { invStd, training: ctx.training });
    const xhat: Tensor = yield ops.request.channelAffine(x, perChannel(x, (k) => invStd[k]), perChannel(x, (k) => -mean[k] * invStd[k]));
    state.xhat = xhat;
    return yield ops.request.channelAffine(xhat, perChannel(x, (k) => gamma[k]), perChannel(x, (k) => beta[k]));
  }

  /**
   * dgamma = sum(dy * xhat), dbeta = sum(dy); dx = gamma / std * dy, less, with batch statistics (which depend on
   * x too), the two mean terms: gamma / std * (dy - mean(dy) - xhat * mean(dy * xhat)). Sums in one pass.
   */
  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: BatchNormSaved): OpProgram<Tensor> {
    const xhat = this.saved(state.xhat);
    const invStd = state.invStd!;
    const c = invStd.length;
    const rows = dy.size / c;
    const sums: Tensor = yield ops.request.channelSums(dy, xhat);
    yield ops.SETTLE;
    if (this.gamma) yield* ctx.grad(this.gamma, perChannel(dy, (k) => sums.data[c + k]));
    if (this.beta) yield* ctx.grad(this.beta, perChannel(dy, (k) => sums.data[k]));
    const scale = Float64Array.from(invStd, (s, k) => (this.gamma?.value.data[k] ?? 1) * s);
    if (!state.training) return yield ops.request.channelAffine(dy, perChannel(dy, (k) => scale[k]), perChannel(dy, () => 0));
    return yield ops.request.channelAffine2(
      dy,
      xhat,
      perChannel(dy, (k) => scale[k]),
      perChannel(dy, (k) => (-scale[k] * sums.data[c + k]) / rows),
      perChannel(dy, (k) => (-scale[k] * sums.data[k]) / rows),
    );
  }

  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }

  /** At inference this layer is an affine map per channel, which the op before it can apply (engine/plan.ts). */
  override foldsAtInference(): boolean {
    return true;
  }

  /** The map inference applies, from the moving statistics: scale = gamma / sqrt(var + eps), shift = beta - mean * scale. */
  inferenceAffine(): ChannelAffine {
    const c = this.movingMean.value.size;
    const scale = new Float64Array(c);
    const shift = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      scale[k] = (this.gamma?.value.data[k] ?? 1) / Math.sqrt(this.movingVariance.value.data[k] + this.epsilon);
      shift[k] = (this.beta?.value.data[k] ?? 0) - this.movingMean.value.data[k] * scale[k];
    }
    return { scale, shift };
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

/** A per-channel coefficient vector (C values) in like's dtype. */
function perChannel(like: Tensor, value: (k: number) => number): Tensor {
  const c = like.shape[like.rank - 1];
  const t = zeros([c], like.dtype);
  for (let k = 0; k < c; k++) t.data[k] = value(k);
  return t;
}
