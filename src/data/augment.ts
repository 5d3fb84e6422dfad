import { ConvkitError, describe, fail } from '../errors.js';
import type { Rng } from '../random.js';
import { Tensor, zeros } from '../tensor.js';

/** Transforms a training batch (N,H,W,C) with a generator fit seeds per (epoch, batch). */
export interface Augmenter {
  apply(x: Tensor, rng: Rng): Tensor;
}

export interface ImageAugmenterArgs {
  /** Rotate by a uniform angle in [-rotationRange, rotationRange] degrees. */
  rotationRange?: number;
  /** Shift by up to this fraction of the width (or this many pixels when >= 1). */
  widthShiftRange?: number;
  heightShiftRange?: number;
  /** Shear by a uniform angle in [-shearRange, shearRange] degrees (counter-clockwise, as Keras). */
  shearRange?: number;
  /** Zoom each axis by its own uniform factor in [1 - z, 1 + z], or in [lo, hi]; above 1 zooms out (Keras's sense). */
  zoomRange?: number | [number, number];
  /** Multiply each image by a uniform factor in [lo, hi]. */
  brightnessRange?: [number, number];
  /** Mirror left-right with probability 1/2 (not for digits). */
  horizontalFlip?: boolean;
  verticalFlip?: boolean;
  /** Value for pixels mapped from outside the image. Default 0. */
  fillValue?: number;
  /** Subtract each channel's mean over the data given to `fit` (after the random transforms). */
  featurewiseCenter?: boolean;
  /** Divide by each channel's standard deviation over the data given to `fit` (plus 1e-6, as Keras). */
  featurewiseStdNormalization?: boolean;
}

const OPTIONS: readonly (keyof ImageAugmenterArgs)[] = [
  'rotationRange', 'widthShiftRange', 'heightShiftRange', 'shearRange', 'zoomRange', 'brightnessRange', 'horizontalFlip', 'verticalFlip', 'fillValue',
  'featurewiseCenter', 'featurewiseStdNormalization',
];

/** An Augmenter that also standardizes with statistics of the training data (featurewise options). */
export interface ImageAugmenter extends Augmenter {
  /** Per-channel mean and standard deviation of x (N,H,W,C), for the featurewise options. Returns this. */
  fit(x: Tensor): ImageAugmenter;
  /** x with only the featurewise standardization applied (for validation and test data), a new tensor. */
  standardize(x: Tensor): Tensor;
}

function nonNegative(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) fail('imageAugmenter', `${name} >= 0`, describe(v));
  return v;
}

function interval(name: string, v: unknown, around1: boolean): [number, number] | undefined {
  if (v === undefined) return undefined;
  if (around1 && typeof v === 'number') {
    const z = nonNegative(name, v);
    return z === 0 ? undefined : [1 - z, 1 + z];
  }
  if (!Array.isArray(v) || v.length !== 2 || !v.every((e) => typeof e === 'number' && Number.isFinite(e) && e >= 0) || v[0] > v[1]) {
    fail('imageAugmenter', `${name} as [lo, hi] with 0 <= lo <= hi${around1 ? ' (or one number z for [1 - z, 1 + z])' : ''}`, describe(v));
  }
  return [v[0], v[1]];
}

/**
 * Random rotation, shifts, shear, zoom, flips and brightness per image (NHWC), Keras ImageDataGenerator style,
 * sampled bilinearly; then, with the featurewise options, standardized by statistics `fit` took from the
 * training data. Pass it to fit as `augment`; every draw comes from fit's seeded generator.
 * @example await model.fit(x, y, { augment: data.imageAugmenter({ rotationRange: 10, zoomRange: 0.1, featurewiseCenter: true }).fit(x) })
 * @throws ConvkitError for a negative range or an option it does not know.
 */
export function imageAugmenter(args: ImageAugmenterArgs = {}): ImageAugmenter {
  if (args === null || typeof args !== 'object') fail('imageAugmenter', 'an options object', describe(args));
  const unknown = Object.keys(args).find((k) => !(OPTIONS as readonly string[]).includes(k));
  if (unknown !== undefined) fail('imageAugmenter', `options from ${OPTIONS.join(', ')}`, `'${unknown}'`);
  const rotation = (nonNegative('rotationRange', args.rotationRange) * Math.PI) / 180;
  const widthShift = nonNegative('widthShiftRange', args.widthShiftRange);
  const heightShift = nonNegative('heightShiftRange', args.heightShiftRange);
  const shear = (nonNegative('shearRange', args.shearRange) * Math.PI) / 180;
  const zoom = interval('zoomRange', args.zoomRange, true);
  const brightness = interval('brightnessRange', args.brightnessRange, false);
  const fillValue = args.fillValue ?? 0;
  let stats: { mean: Float64Array; std: Float64Array } | undefined;
  const featurewise = args.featurewiseCenter === true || args.featurewiseStdNormalization === true;

  const standardizeInPlace = (t: Tensor): void => {
    if (!featurewise) return;
    if (!stats) throw new ConvkitError('imageAugmenter: featurewiseCenter and featurewiseStdNormalization need statistics: call fit(x) with the training images first', 'imageAugmenter');
    const { mean, std } = stats;
    const c = mean.length;
    if (t.shape[t.rank - 1] !== c) fail('imageAugmenter', `images of ${c} channels (as fit saw)`, `${t.shape[t.rank - 1]}`);
    for (let i = 0; i < t.size; i++) {
      let v = t.data[i];
      if (args.featurewiseCenter) v -= mean[i % c];
      if (args.featurewiseStdNormalization) v /= std[i % c] + 1e-6;
      t.data[i] = v;
    }
  };

  const augmenter: ImageAugmenter = {
    fit(x) {
      if (!(x instanceof Tensor) || x.rank !== 4) fail('imageAugmenter.fit', 'images of shape [N, height, width, channels]', x instanceof Tensor ? `[${x.shape.join(', ')}]` : describe(x));
      const c = x.shape[3];
      const mean = new Float64Array(c);
      const sq = new Float64Array(c);
      for (let i = 0; i < x.size; i++) mean[i % c] += x.data[i];
      const count = x.size / c;
      for (let k = 0; k < c; k++) mean[k] /= count;
      for (let i = 0; i < x.size; i++) sq[i % c] += (x.data[i] - mean[i % c]) ** 2;
      stats = { mean, std: sq.map((s) => Math.sqrt(s / count)) };
      return augmenter;
    },
    standardize(x) {
      const out = x.clone();
      standardizeInPlace(out);
      return out;
    },
    apply(x, rng) {
      if (x.rank !== 4) fail('imageAugmenter', 'a batch of shape [N, height, width, channels]', `[${x.shape.join(', ')}]`);
      const [n, h, w, c] = x.shape;
      const out = zeros(x.shape, x.dtype);
      const src = x.data;
      const dst = out.data;
      const cy = (h - 1) / 2;
      const cx = (w - 1) / 2;
      const shift = (range: number, size: number): number => (range === 0 ? 0 : rng.uniform(-1, 1) * (range < 1 ? range * size : range));
      for (let s = 0; s < n; s++) {
        // Each option draws for every sample when on (the options of earlier versions first, in their order, so
        // their streams are unchanged).
        const angle = rotation === 0 ? 0 : rng.uniform(-rotation, rotation);
        const ty = shift(heightShift, h);
        const tx = shift(widthShift, w);
        const flipX = args.horizontalFlip ? rng.next() < 0.5 : false;
        const flipY = args.verticalFlip ? rng.next() < 0.5 : false;
        const zy = zoom ? rng.uniform(zoom[0], zoom[1]) : 1;
        const zx = zoom ? rng.uniform(zoom[0], zoom[1]) : 1;
        const sh = shear === 0 ? 0 : rng.uniform(-shear, shear);
        const gain = brightness ? rng.uniform(brightness[0], brightness[1]) : 1;
        const cos = Math.cos(angle);
        const sin = Math.sin(angle);
        const [shSin, shCos] = [Math.sin(sh), Math.cos(sh)];
        const base = s * h * w * c;
        for (let i = 0; i < h; i++) {
          for (let j = 0; j < w; j++) {
            // Inverse map: output pixel -> source position (un-flip, un-shift, zoom, shear, un-rotate about the centre).
            let oy = ((flipY ? h - 1 - i : i) - cy - ty) * zy;
            let ox = ((flipX ? w - 1 - j : j) - cx - tx) * zx;
            if (sh !== 0) [oy, ox] = [oy - shSin * ox, shCos * ox];
            const sy = cos * oy + sin * ox + cy;
            const sx = -sin * oy + cos * ox + cx;
            const y0 = Math.floor(sy);
            const x0 = Math.floor(sx);
            const fy = sy - y0;
            const fx = sx - x0;
            // Bilinear weights of the four neighbours; a neighbour outside the image reads fillValue.
            const w00 = (1 - fy) * (1 - fx);
            const w01 = (1 - fy) * fx;
            const w10 = fy * (1 - fx);
            const w11 = fy * fx;
            const o = base + (i * w + j) * c;
            if (y0 >= 0 && y0 + 1 < h && x0 >= 0 && x0 + 1 < w) {
              // All four neighbours inside (most pixels): the same sum without the per-neighbour tests.
              const p = base + (y0 * w + x0) * c, below = w * c;
              for (let ch = 0; ch < c; ch++) {
                dst[o + ch] = w00 * src[p + ch] + w01 * src[p + c + ch] + w10 * src[p + below + ch] + w11 * src[p + below + c + ch];
              }
              continue;
            }
            const inY0 = y0 >= 0 && y0 < h;
            const inY1 = y0 + 1 >= 0 && y0 + 1 < h;
            const inX0 = x0 >= 0 && x0 < w;
            const inX1 = x0 + 1 >= 0 && x0 + 1 < w;
            const p00 = inY0 && inX0 ? base + (y0 * w + x0) * c : -1;
            const p01 = inY0 && inX1 ? base + (y0 * w + x0 + 1) * c : -1;
            const p10 = inY1 && inX0 ? base + ((y0 + 1) * w + x0) * c : -1;
            const p11 = inY1 && inX1 ? base + ((y0 + 1) * w + x0 + 1) * c : -1;
            for (let ch = 0; ch < c; ch++) {
              dst[o + ch] =
                w00 * (p00 < 0 ? fillValue : src[p00 + ch]) +
                w01 * (p01 < 0 ? fillValue : src[p01 + ch]) +
                w10 * (p10 < 0 ? fillValue : src[p10 + ch]) +
                w11 * (p11 < 0 ? fillValue : src[p11 + ch]);
            }
          }
        }
        if (gain !== 1) for (let k = base; k < base + h * w * c; k++) dst[k] *= gain;
      }
      standardizeInPlace(out);
      return out;
    },
  };
  return augmenter;
}
