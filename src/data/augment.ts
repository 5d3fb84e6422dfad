import { describe, fail } from '../errors.js';
import type { Rng } from '../random.js';
import { zeros, type Tensor } from '../tensor.js';

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
  /** Mirror left-right with probability 1/2 (not for digits). */
  horizontalFlip?: boolean;
  verticalFlip?: boolean;
  /** Value for pixels mapped from outside the image. Default 0. */
  fillValue?: number;
}

function nonNegative(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) fail('imageAugmenter', `${name} >= 0`, describe(v));
  return v;
}

/**
 * Random rotation, shifts and flips per image (NHWC), Keras ImageDataGenerator style, sampled bilinearly.
 * Pass it to fit as `augment`; every draw comes from fit's seeded generator.
 * @example await model.fit(x, y, { augment: data.imageAugmenter({ rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1 }) })
 * @throws ConvkitError for a negative range.
 */
export function imageAugmenter(args: ImageAugmenterArgs = {}): Augmenter {
  const rotation = (nonNegative('rotationRange', args.rotationRange) * Math.PI) / 180;
  const widthShift = nonNegative('widthShiftRange', args.widthShiftRange);
  const heightShift = nonNegative('heightShiftRange', args.heightShiftRange);
  const fillValue = args.fillValue ?? 0;
  return {
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
        // Draw every parameter for each sample, so the stream does not depend on which options are on.
        const angle = rotation === 0 ? 0 : rng.uniform(-rotation, rotation);
        const ty = shift(heightShift, h);
        const tx = shift(widthShift, w);
        const flipX = args.horizontalFlip ? rng.next() < 0.5 : false;
        const flipY = args.verticalFlip ? rng.next() < 0.5 : false;
        const cos = Math.cos(angle);
        const sin = Math.sin(angle);
        const base = s * h * w * c;
        for (let i = 0; i < h; i++) {
          for (let j = 0; j < w; j++) {
            // Inverse map: output pixel -> source position (un-flip, un-shift, un-rotate about the centre).
            const oy = (flipY ? h - 1 - i : i) - cy - ty;
            const ox = (flipX ? w - 1 - j : j) - cx - tx;
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
      }
      return out;
    },
  };
}
