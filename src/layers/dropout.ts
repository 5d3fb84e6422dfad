import { describe, fail } from '../errors.js';
import { deriveSeed } from '../initializers/seed.js';
import * as ops from '../ops/index.js';
import type { Shape, Tensor } from '../tensor.js';
import { Layer, type BackwardContext, type ForwardContext, type LayerArgs } from './layer.js';

export interface DropoutArgs extends LayerArgs {
  /** Fraction of inputs zeroed in training, in [0, 1). */
  rate: number;
  /** Mask seed; defaults to one derived from the model seed and the layer's position. */
  seed?: number;
}

/**
 * Inverted dropout: in training each input is zeroed with probability `rate` and the rest scaled by
 * 1 / (1 - rate), so inference is the identity. The mask is drawn from (seed, optimizer step): the same step
 * always draws the same mask, which makes runs reproducible and resumable.
 * @example layers.dropout({ rate: 0.4 })
 */
export class Dropout extends Layer<{ mask?: Tensor }> {
  static override readonly className = 'Dropout';
  readonly rate: number;
  private readonly ownSeed: number | undefined;

  constructor(args: DropoutArgs) {
    super(args, 'dropout');
    if (typeof args?.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) fail(this.where, 'rate in [0, 1)', describe(args?.rate));
    this.rate = args.rate;
    this.ownSeed = args.seed;
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  *forwardProgram(x: Tensor, ctx: ForwardContext, state: { mask?: Tensor }): ops.OpProgram<Tensor> {
    if (!ctx.training || this.rate === 0) return x;
    state.mask = ctx.run.alloc(x.shape, x.dtype);
    return yield ops.request.dropout(x, this.rate, deriveSeed(this.ownSeed ?? this.seed, ctx.step), state.mask);
  }
  *backwardProgram(dy: Tensor, _ctx: BackwardContext, state: { mask?: Tensor }): ops.OpProgram<Tensor> {
    return state.mask ? yield ops.request.multiply(dy, state.mask) : dy;
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
  protected ownConfig(): Record<string, unknown> {
    return { rate: this.rate, seed: this.ownSeed };
  }
}
