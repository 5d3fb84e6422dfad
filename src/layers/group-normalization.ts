import { describe, fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import * as ops from '../ops/index.js';
import { Tensor, zeros, type Shape } from '../tensor.js';
import { initializerOf, Layer, type BackwardContext, type ForwardContext, type LayerArgs, type Param } from './layer.js';

export interface NormalizationArgs extends LayerArgs {
  /** Added to the variance. Default 1e-3 (Keras's). */
  epsilon?: number;
  /** Learn beta (offset). Default true. */
  center?: boolean;
  /** Learn gamma (scale). Default true. */
  scale?: boolean;
  gammaInitializer?: InitializerSpec;
  betaInitializer?: InitializerSpec;
}

export interface LayerNormalizationArgs extends NormalizationArgs {
  /** The first normalized axis, counted with the batch axis (negative from the end); every axis after it too. Default -1. */
  axis?: number;
}

export interface GroupNormalizationArgs extends NormalizationArgs {
  /** Channel groups (dividing the channels). Default 32 (Keras's). */
  groups?: number;
}

interface NormSaved {
  xhat?: Tensor;
  stats?: Tensor;
  info?: ops.GroupNormInfo;
}

/**
 * What layer and group normalization share: statistics per sample (and group) whatever the mode, so training
 * and inference compute the same function; gamma and beta per normalized element or channel; native kernels.
 */
abstract class SampleNormalization extends Layer<NormSaved> {
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  protected readonly normArgs: NormalizationArgs;
  private gamma: Param | undefined;
  private beta: Param | undefined;

  constructor(args: NormalizationArgs, prefix: string) {
    super(args, prefix);
    this.normArgs = args;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(typeof this.epsilon === 'number' && this.epsilon > 0 && Number.isFinite(this.epsilon))) fail(this.where, 'epsilon > 0', describe(args.epsilon));
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
  }

  /** The geometry for a batch of this input shape (with the batch axis). */
  protected abstract info(shape: Shape): ops.GroupNormInfo;
  /** The shape of gamma and beta. */
  protected abstract paramShape(): number[];

  computeOutputShape(inputShape: Shape): number[] {
    this.info([1, ...inputShape]);
    return [...inputShape];
  }

  protected override createWeights(): void {
    const shape = this.paramShape();
    if (this.scale) this.gamma = this.addWeight('gamma', shape, initializerOf(this.where, this.normArgs.gammaInitializer, 'ones'));
    if (this.center) this.beta = this.addWeight('beta', shape, initializerOf(this.where, this.normArgs.betaInitializer, 'zeros'));
  }

  private flat(p: Param | undefined): Tensor | undefined {
    return p && p.value.reshape([p.value.size]);
  }

  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, ctx: ForwardContext, state: NormSaved): ops.OpProgram<Tensor> {
    const info = this.info(x.shape);
    const stats = zeros([2, info.n * info.g], 'float64');
    const xhat = ctx.keep ? ctx.run.alloc(x.shape, x.dtype) : undefined;
    Object.assign(state, { xhat, stats, info });
    return yield ops.request.groupNormForward(x, info, stats, this.flat(this.gamma), this.flat(this.beta), xhat);
  }

  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: NormSaved): ops.OpProgram<Tensor> {
    const xhat = this.saved(state.xhat);
    const info = state.info!;
    const invStd = new Tensor(state.stats!.data.subarray(info.n * info.g), [info.n * info.g]);
    const sums = this.gamma || this.beta ? zeros([2, info.g * info.k], 'float64') : undefined;
    const dx = yield ops.request.groupNormBackward(dy, xhat, invStd, info, this.flat(this.gamma), sums);
    if (sums) yield ops.SETTLE; // grad() casts them in JS
    const c = info.g * info.k;
    const grad = (p: Param, row: number): Tensor => new Tensor(sums!.data.subarray(row * c, (row + 1) * c), [c]).cast(p.value.dtype).reshape(p.value.shape);
    if (this.gamma) yield* ctx.grad(this.gamma, grad(this.gamma, 1));
    if (this.beta) yield* ctx.grad(this.beta, grad(this.beta, 0));
    return dx;
  }

  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }

  protected normConfig(): Record<string, unknown> {
    const a = this.normArgs;
    return {
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      gammaInitializer: initializerOf(this.where, a.gammaInitializer, 'ones').getConfig(),
      betaInitializer: initializerOf(this.where, a.betaInitializer, 'zeros').getConfig(),
    };
  }
}

/**
 * Layer normalization (Ba et al., 2016): each sample normalized over its last axes (from `axis`, default the
 * channels), then scaled and shifted per normalized element; the same in training and inference.
 * @example layers.layerNormalization()
 */
export class LayerNormalization extends SampleNormalization {
  static override readonly className = 'LayerNormalization';
  readonly axis: number;
  constructor(args: LayerNormalizationArgs = {}) {
    super(args, 'layer_normalization');
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis)) fail(this.where, 'axis to be an integer', describe(args.axis));
  }
  protected info(shape: Shape): ops.GroupNormInfo {
    return ops.layerNormInfo(this.where, shape, this.axis, this.epsilon);
  }
  protected paramShape(): number[] {
    const full = [1, ...this.inputShape];
    return full.slice(ops.normalizeAxis(this.where, this.axis, full.length));
  }
  protected ownConfig(): Record<string, unknown> {
    return { axis: this.axis, ...this.normConfig() };
  }
}

/**
 * Group normalization (Wu and He, 2018): the channels (last axis) split into `groups`, each normalized per
 * sample over its positions and channels, then scaled and shifted per channel; independent of the batch size.
 * groups = channels is instance normalization.
 * @example layers.groupNormalization({ groups: 8 })
 */
export class GroupNormalization extends SampleNormalization {
  static override readonly className = 'GroupNormalization';
  readonly groups: number;
  constructor(args: GroupNormalizationArgs = {}) {
    super(args, 'group_normalization');
    this.groups = args.groups ?? 32;
  }
  protected info(shape: Shape): ops.GroupNormInfo {
    return ops.groupNormInfo(this.where, shape, this.groups, this.epsilon);
  }
  protected paramShape(): number[] {
    return [this.inputShape[this.inputShape.length - 1]];
  }
  protected ownConfig(): Record<string, unknown> {
    return { groups: this.groups, ...this.normConfig() };
  }
}
