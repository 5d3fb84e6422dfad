/**
 * Layers that move pixels without weights: ZeroPadding2D, Cropping2D and UpSampling2D (nearest and bilinear).
 * NHWC. Padding and cropping copy whole rows (W*C contiguous values) at a time; nearest upsampling repeats
 * pixels and rows with the concatenate op; bilinear weights two rows and two columns per output pixel.
 */
import { describe, fail } from '../errors.js';
import * as ops from '../ops/index.js';
import type { ExplicitPadding, RunContext } from '../ops/index.js';
import type { Shape, Tensor } from '../tensor.js';
import { Layer, type BackwardContext, type ForwardContext, type LayerArgs } from './layer.js';

/** Keras's three spellings of per-side sizes: n (every side), [h, w] (symmetric), [[top, bottom], [left, right]]. */
export type SidesSpec = number | [number, number] | ExplicitPadding;

function sides(where: string, arg: string, v: unknown): ExplicitPadding {
  const count = (x: unknown, name: string): number => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) fail(where, `${name} to be a non-negative integer`, describe(x));
    return x;
  };
  if (typeof v === 'number') {
    const n = count(v, arg);
    return [[n, n], [n, n]];
  }
  if (Array.isArray(v) && v.length === 2 && v.every((e) => typeof e === 'number')) {
    const [h, w] = [count(v[0], `${arg}[0]`), count(v[1], `${arg}[1]`)];
    return [[h, h], [w, w]];
  }
  if (Array.isArray(v) && v.length === 2 && v.every((e) => Array.isArray(e) && e.length === 2)) {
    const [[t, b], [l, r]] = v as number[][];
    return [[count(t, `${arg}[0][0] (top)`), count(b, `${arg}[0][1] (bottom)`)], [count(l, `${arg}[1][0] (left)`), count(r, `${arg}[1][1] (right)`)]];
  }
  return fail(where, `${arg} as n, [h, w] or [[top, bottom], [left, right]]`, describe(v));
}

function checkNhwc(where: string, inputShape: Shape): void {
  if (inputShape.length !== 3) fail(where, 'input of shape [N, height, width, channels] (nhwc)', `[N, ${inputShape.join(', ')}]`);
}

/** x (N,H,W,C) written at (t, l) into an (N, H+t+b, W+l+r, C) tensor, row by row, and zeros around it (only there: the buffer may be a reused one). */
function padRows(run: RunContext, x: Tensor, [[t, b], [l, r]]: ExplicitPadding): Tensor {
  const [n, h, w, c] = x.shape;
  const [oh, ow] = [h + t + b, w + l + r];
  const y = run.alloc([n, oh, ow, c], x.dtype);
  const row = w * c;
  const [outRow, left] = [ow * c, l * c];
  for (let i = 0; i < n; i++) {
    const image = i * oh * outRow;
    y.data.fill(0, image, image + t * outRow);
    for (let k = 0; k < h; k++) {
      const at = image + (k + t) * outRow;
      y.data.fill(0, at, at + left);
      y.data.set(x.data.subarray((i * h + k) * row, (i * h + k + 1) * row), at + left);
      y.data.fill(0, at + left + row, at + outRow);
    }
    y.data.fill(0, image + (h + t) * outRow, image + oh * outRow);
  }
  return y;
}

/** The (H-t-b, W-l-r) window of x (N,H,W,C) starting at (t, l), row by row. */
function cropRows(run: RunContext, x: Tensor, [[t, b], [l, r]]: ExplicitPadding): Tensor {
  const [n, h, w, c] = x.shape;
  const [oh, ow] = [h - t - b, w - l - r];
  const y = run.alloc([n, oh, ow, c], x.dtype);
  const row = ow * c;
  for (let i = 0; i < n; i++)
    for (let k = 0; k < oh; k++) {
      const from = ((i * h + k + t) * w + l) * c;
      y.data.set(x.data.subarray(from, from + row), (i * oh + k) * row);
    }
  return y;
}

export interface ZeroPadding2DArgs extends LayerArgs {
  /** Rows and columns of zeros added: n, [h, w] or [[top, bottom], [left, right]]. Default 1. */
  padding?: SidesSpec;
}

/** Zeros around each image. @example layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }) */
export class ZeroPadding2D extends Layer {
  static override readonly className = 'ZeroPadding2D';
  readonly padding: ExplicitPadding;
  constructor(args: ZeroPadding2DArgs = {}) {
    super(args, 'zero_padding2d');
    this.padding = sides(this.where, 'padding', args.padding ?? 1);
  }
  computeOutputShape(inputShape: Shape): number[] {
    checkNhwc(this.where, inputShape);
    const [[t, b], [l, r]] = this.padding;
    return [inputShape[0] + t + b, inputShape[1] + l + r, inputShape[2]];
  }
  *forwardProgram(x: Tensor, ctx: ForwardContext): ops.OpProgram<Tensor> {
    return padRows(ctx.run, x, this.padding);
  }
  override zeroPadding(): ExplicitPadding {
    return this.padding;
  }
  *backwardProgram(dy: Tensor, ctx: BackwardContext): ops.OpProgram<Tensor> {
    return cropRows(ctx.run, dy, this.padding);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
  protected ownConfig(): Record<string, unknown> {
    return { padding: this.padding };
  }
}

export interface Cropping2DArgs extends LayerArgs {
  /** Rows and columns removed: n, [h, w] or [[top, bottom], [left, right]]. Default 0. */
  cropping?: SidesSpec;
}

/** Removes rows and columns at the edges of each image (U-Net's skip connections). @example layers.cropping2d({ cropping: [[2, 2], [2, 2]] }) */
export class Cropping2D extends Layer {
  static override readonly className = 'Cropping2D';
  readonly cropping: ExplicitPadding;
  constructor(args: Cropping2DArgs = {}) {
    super(args, 'cropping2d');
    this.cropping = sides(this.where, 'cropping', args.cropping ?? 0);
  }
  computeOutputShape(inputShape: Shape): number[] {
    checkNhwc(this.where, inputShape);
    const [[t, b], [l, r]] = this.cropping;
    const [h, w] = [inputShape[0] - t - b, inputShape[1] - l - r];
    if (h < 1 || w < 1) fail(this.where, `an input larger than its cropping [[${t}, ${b}], [${l}, ${r}]]`, `[N, ${inputShape.join(', ')}]`);
    return [h, w, inputShape[2]];
  }
  *forwardProgram(x: Tensor, ctx: ForwardContext): ops.OpProgram<Tensor> {
    return cropRows(ctx.run, x, this.cropping);
  }
  *backwardProgram(dy: Tensor, ctx: BackwardContext): ops.OpProgram<Tensor> {
    return padRows(ctx.run, dy, this.cropping);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
  protected ownConfig(): Record<string, unknown> {
    return { cropping: this.cropping };
  }
}

export interface UpSampling2DArgs extends LayerArgs {
  /** Integer factors [rows, columns] (or one for both). Default 2. */
  size?: number | [number, number];
  /** 'nearest' (default: each pixel repeated) or 'bilinear' (TF's resize with half-pixel centers, as Keras). */
  interpolation?: 'nearest' | 'bilinear';
}

/** One output row's (or column's) two source indices and the weight of the second: TF's half-pixel bilinear. */
function bilinearTaps(inSize: number, factor: number): { lo: Int32Array; hi: Int32Array; w: Float64Array } {
  const out = inSize * factor;
  const lo = new Int32Array(out);
  const hi = new Int32Array(out);
  const w = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    const at = (o + 0.5) / factor - 0.5;
    const f = Math.floor(at);
    lo[o] = Math.max(f, 0);
    hi[o] = Math.min(Math.ceil(at), inSize - 1);
    w[o] = at - f;
  }
  return { lo, hi, w };
}

/**
 * Each image made `size` times larger. 'nearest' repeats each pixel (its gradient sums the copies);
 * 'bilinear' interpolates between the two nearest rows and columns, sampling at half-pixel centers and
 * clamping at the edges, as TF's image resize does (Keras's UpSampling2D).
 * @example layers.upSampling2d({ size: 2, interpolation: 'bilinear' })
 */
export class UpSampling2D extends Layer {
  static override readonly className = 'UpSampling2D';
  readonly size: [number, number];
  readonly interpolation: 'nearest' | 'bilinear';
  constructor(args: UpSampling2DArgs = {}) {
    super(args, 'up_sampling2d');
    const size = args.size ?? 2;
    if (typeof size === 'number') {
      if (!Number.isInteger(size) || size < 1) fail(this.where, 'size to be a positive integer or [rows, columns]', describe(size));
      this.size = [size, size];
    } else if (Array.isArray(size) && size.length === 2 && size.every((s) => Number.isInteger(s) && s >= 1)) {
      this.size = [size[0], size[1]];
    } else {
      this.size = fail(this.where, 'size to be a positive integer or [rows, columns]', describe(size));
    }
    const interpolation = args.interpolation ?? 'nearest';
    if (interpolation !== 'nearest' && interpolation !== 'bilinear') fail(this.where, "interpolation 'nearest' or 'bilinear'", describe(interpolation));
    this.interpolation = interpolation;
  }
  computeOutputShape(inputShape: Shape): number[] {
    checkNhwc(this.where, inputShape);
    return [inputShape[0] * this.size[0], inputShape[1] * this.size[1], inputShape[2]];
  }
  override touchesValues(): boolean {
    return this.interpolation === 'bilinear';
  }
  *forwardProgram(x: Tensor, ctx: ForwardContext): ops.OpProgram<Tensor> {
    const [n, h, w, c] = x.shape;
    const [sh, sw] = this.size;
    if (this.interpolation === 'bilinear') return bilinear(ctx.run, x, this.size);
    // each pixel sw times along the row, then each row sh times: two copies by the concatenate op
    let y = x;
    if (sw > 1) {
      const px = x.reshape([n * h * w, 1, c]);
      y = (yield ops.request.concatenate(Array.from({ length: sw }, () => px), 1)).reshape([n, h, w * sw, c]);
    }
    if (sh > 1) {
      const rows = y.reshape([n * h, 1, w * sw * c]);
      y = (yield ops.request.concatenate(Array.from({ length: sh }, () => rows), 1)).reshape([n, h * sh, w * sw, c]);
    }
    return y;
  }
  *backwardProgram(dy: Tensor, ctx: BackwardContext): ops.OpProgram<Tensor> {
    const [n, oh, ow, c] = dy.shape;
    const [sh, sw] = this.size;
    const [h, w] = [oh / sh, ow / sw];
    if (this.interpolation === 'bilinear') return bilinearBackward(ctx.run, dy, this.inputShape, this.size);
    // the sum over each pixel's copies: the copies of a row first, then those of a pixel
    let g = dy;
    if (sh > 1) g = yield* sumCopies(g.reshape([n * h, sh, ow * c]), sh);
    if (sw > 1) g = yield* sumCopies(g.reshape([n * h * w, sw, c]), sw);
    return g.reshape([n, h, w, c]);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
  protected ownConfig(): Record<string, unknown> {
    return { size: this.size, interpolation: this.interpolation };
  }
}

/** t (rows, k, cols) summed over its middle axis, in order: (rows, 1, cols). */
function* sumCopies(t: Tensor, k: number): ops.OpProgram<Tensor> {
  let acc: Tensor = yield ops.request.sliceAxis(t, 1, 0, 1);
  for (let i = 1; i < k; i++) acc = yield ops.request.add(acc, yield ops.request.sliceAxis(t, 1, i, 1));
  return acc;
}

function bilinear(run: RunContext, x: Tensor, [sh, sw]: [number, number]): Tensor {
  const [n, h, w, c] = x.shape;
  const [oh, ow] = [h * sh, w * sw];
  const ty = bilinearTaps(h, sh);
  const tx = bilinearTaps(w, sw);
  const y = run.alloc([n, oh, ow, c], x.dtype);
  const xd = x.data;
  const yd = y.data;
  for (let i = 0; i < n; i++)
    for (let oy = 0; oy < oh; oy++) {
      const r0 = (i * h + ty.lo[oy]) * w;
      const r1 = (i * h + ty.hi[oy]) * w;
      const wy = ty.w[oy];
      for (let ox = 0; ox < ow; ox++) {
        const [c0, c1, wx] = [tx.lo[ox], tx.hi[ox], tx.w[ox]];
        const a = (r0 + c0) * c;
        const b = (r0 + c1) * c;
        const d = (r1 + c0) * c;
        const e = (r1 + c1) * c;
        const out = ((i * oh + oy) * ow + ox) * c;
        for (let k = 0; k < c; k++) {
          const top = xd[a + k] + (xd[b + k] - xd[a + k]) * wx;
          const bottom = xd[d + k] + (xd[e + k] - xd[d + k]) * wx;
          yd[out + k] = top + (bottom - top) * wy;
        }
      }
    }
  return y;
}

/** The adjoint of bilinear: each output gradient spread back over its four source pixels with their weights. */
function bilinearBackward(run: RunContext, dy: Tensor, inputShape: readonly number[], [sh, sw]: [number, number]): Tensor {
  const [n, oh, ow, c] = dy.shape;
  const [h, w] = inputShape;
  const ty = bilinearTaps(h, sh);
  const tx = bilinearTaps(w, sw);
  const dx = run.alloc([n, h, w, c], dy.dtype);
  dx.data.fill(0);
  const g = dy.data;
  const d = dx.data;
  for (let i = 0; i < n; i++)
    for (let oy = 0; oy < oh; oy++) {
      const r0 = (i * h + ty.lo[oy]) * w;
      const r1 = (i * h + ty.hi[oy]) * w;
      const wy = ty.w[oy];
      for (let ox = 0; ox < ow; ox++) {
        const [c0, c1, wx] = [tx.lo[ox], tx.hi[ox], tx.w[ox]];
        const [a, b, e, f] = [(r0 + c0) * c, (r0 + c1) * c, (r1 + c0) * c, (r1 + c1) * c];
        const [wa, wb, we, wf] = [(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx];
        const at = ((i * oh + oy) * ow + ox) * c;
        for (let k = 0; k < c; k++) {
          const v = g[at + k];
          d[a + k] += v * wa;
          d[b + k] += v * wb;
          d[e + k] += v * we;
          d[f + k] += v * wf;
        }
      }
    }
  return dx;
}
