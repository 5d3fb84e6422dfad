import { fail } from '../errors.js';
import { deriveSeed } from '../initializers/seed.js';
import * as ops from '../ops.js';
import { sharedArray, Tensor, type Shape } from '../tensor.js';
import { Layer, type ForwardContext, type LayerArgs } from './layer.js';

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
export class Dropout extends Layer {
  static override readonly className = 'Dropout';
  readonly rate: number;
  private readonly ownSeed: number | undefined;
  private mask: Tensor | undefined;
  private maskBuffer: Tensor | undefined;

  constructor(args: DropoutArgs) {
    super(args, 'dropout');
    if (typeof args?.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) fail(this.where, 'rate in [0, 1)', args?.rate);
    this.rate = args.rate;
    this.ownSeed = args.seed;
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  *forwardProgram(x: Tensor, ctx: ForwardContext): ops.OpProgram<Tensor> {
    this.checkInput(x);
    if (!ctx.training || this.rate === 0) {
      this.mask = undefined;
      return x;
    }
    // the mask's buffer is kept from step to step: backward reads it, so it cannot come from the output arena
    let mask = this.maskBuffer;
    if (!mask || mask.size !== x.size || mask.dtype !== x.dtype) {
      mask = this.maskBuffer = new Tensor(sharedArray(x.dtype, x.size), x.shape);
    }
    this.mask = mask.reshape(x.shape);
    return ops.dropout(x, this.rate, deriveSeed(this.ownSeed ?? this.seed, ctx.step), this.mask).y;
  }
  *backwardProgram(dy: Tensor): ops.OpProgram<Tensor> {
    return this.mask ? ops.multiply(dy, this.mask) : dy;
  }
  protected ownConfig(): Record<string, unknown> {
    return { rate: this.rate, seed: this.ownSeed };
  }
}
