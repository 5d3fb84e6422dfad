import { describe, fail } from '../errors.js';
import { deriveSeed } from '../initializers/seed.js';
import * as ops from '../ops/index.js';
import { zeros, type Shape, type Tensor } from '../tensor.js';
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
  override touchesValues(): boolean {
    return false;
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

/**
 * Dropout of whole feature maps: in training each (sample, channel) is zeroed with probability `rate` and the
 * rest scaled by 1 / (1 - rate), every pixel of a map alike (Keras's SpatialDropout2D: neighbouring pixels are
 * correlated, so dropping single ones regularizes little). The [N, C] mask comes from the dropout op, seeded by
 * (seed, optimizer step) as Dropout's is.
 * @example layers.spatialDropout2d({ rate: 0.2 })
 */
export class SpatialDropout2D extends Layer<{ mask?: Tensor }> {
  static override readonly className = 'SpatialDropout2D';
  readonly rate: number;
  private readonly ownSeed: number | undefined;

  constructor(args: DropoutArgs) {
    super(args, 'spatial_dropout2d');
    if (typeof args?.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) fail(this.where, 'rate in [0, 1)', describe(args?.rate));
    this.rate = args.rate;
    this.ownSeed = args.seed;
  }
  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3) fail(this.where, 'input of shape [N, height, width, channels] (nhwc)', `[N, ${inputShape.join(', ')}]`);
    return [...inputShape];
  }
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, ctx: ForwardContext, state: { mask?: Tensor }): ops.OpProgram<Tensor> {
    if (!ctx.training || this.rate === 0) return x;
    const [n, , , c] = x.shape;
    const ones = zeros([n, c], x.dtype);
    ones.data.fill(1);
    // the dropout of ones: 0 or 1 / (1 - rate) per map, the factor each map is scaled by
    state.mask = yield ops.request.dropout(ones, this.rate, deriveSeed(this.ownSeed ?? this.seed, ctx.step), zeros([n, c], x.dtype));
    yield ops.SETTLE;
    return scaleMaps(ctx.run.alloc(x.shape, x.dtype), x, state.mask!);
  }
  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: { mask?: Tensor }): ops.OpProgram<Tensor> {
    if (!state.mask) return dy;
    yield ops.SETTLE;
    return scaleMaps(ctx.run.alloc(dy.shape, dy.dtype), dy, state.mask);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
  protected ownConfig(): Record<string, unknown> {
    return { rate: this.rate, seed: this.ownSeed };
  }
}

/** out = x (N,H,W,C) times mask (N,C), each map by its sample's and channel's factor. */
function scaleMaps(out: Tensor, x: Tensor, mask: Tensor): Tensor {
  const [n, h, w, c] = x.shape;
  const plane = h * w * c;
  for (let i = 0; i < n; i++) {
    const m = mask.data.subarray(i * c, (i + 1) * c);
    for (let p = i * plane, end = p + plane; p < end; p += c) for (let k = 0; k < c; k++) out.data[p + k] = x.data[p + k] * m[k];
  }
  return out;
}
