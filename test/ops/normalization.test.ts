// The per-channel passes of batch normalization: native against reference under every ISA and thread count.
// The affine maps are float32 ops in a fixed order (a product rounded, then a sum rounded), which the reference
// reproduces by rounding in double: equal bits. The moments and sums accumulate in double in another order
// (fixed blocks of rows): they agree to 1e-12 relative, far inside what float32 outputs could show.
import { describe, expect, it } from 'vitest';
import { ops, randomNormal, Rng, Tensor, withBackend } from '../../src/index.js';
import { nativeAvailable, nativeVariants, useNativeVariant } from '../helpers/backends.js';

const ref = <T>(fn: () => T): T => withBackend('reference', fn);
const nat = <T>(fn: () => T): T => withBackend('native', fn);

const rng = new Rng(5);
const shapes = [[1, 1], [3, 7], [2, 5, 5, 16], [4, 3, 3, 17], [2, 9, 33], [1200, 3], [8, 8, 8, 64]].concat(
  Array.from({ length: 6 }, () => [1 + Math.floor(rng.uniform(0, 40)), 1 + Math.floor(rng.uniform(0, 70))]),
);

describe('per-channel ops', () => {
  it('hand anchors: moments, sums, affine maps', () => {
    for (const b of ['reference', ...(nativeAvailable ? ['native' as const] : [])] as const) {
      withBackend(b, () => {
        const x = new Tensor(Float32Array.of(1, 10, 3, 20, 5, 60), [3, 2]);
        expect(Array.from(ops.channelMoments(x).data)).toEqual([3, 30, 8 / 3, 1400 / 3]);
        expect(Array.from(ops.channelSums(x, x).data)).toEqual([9, 90, 35, 4100]);
        const s = new Tensor(Float32Array.of(2, -1), [2]);
        const t = new Tensor(Float32Array.of(0.5, 1), [2]);
        expect(Array.from(ops.channelAffine(x, s, t).data)).toEqual([2.5, -9, 6.5, -19, 10.5, -59]);
        expect(Array.from(ops.channelAffine2(x, x, s, s, t).data)).toEqual([4.5, -19, 12.5, -39, 20.5, -119]);
      });
    }
  });

  for (const v of nativeVariants()) {
    it(`native matches reference (${v.label})`, () => {
      useNativeVariant(v);
      for (const [i, shape] of shapes.entries()) {
        const x = randomNormal(shape, { seed: 100 + i, mean: 3, stddev: 2 });
        const y = randomNormal(shape, { seed: 200 + i });
        const c = shape[shape.length - 1];
        const s = randomNormal([c], { seed: 300 + i });
        const t = randomNormal([c], { seed: 400 + i });
        const close = (a: Tensor, b: Tensor, what: string) =>
          b.data.forEach((w, k) => expect(Math.abs(a.data[k] - w), `${what} ${shape} [${k}]`).toBeLessThanOrEqual(1e-12 * (Math.abs(w) + 1)));
        close(nat(() => ops.channelMoments(x)), ref(() => ops.channelMoments(x)), 'moments');
        close(nat(() => ops.channelSums(x, y)), ref(() => ops.channelSums(x, y)), 'sums');
        expect(Array.from(nat(() => ops.channelAffine(x, s, t)).data), `affine ${shape}`).toEqual(Array.from(ref(() => ops.channelAffine(x, s, t)).data));
        expect(Array.from(nat(() => ops.channelAffine2(x, y, s, t, s)).data), `affine2 ${shape}`).toEqual(Array.from(ref(() => ops.channelAffine2(x, y, s, t, s)).data));
      }
    });
  }

  it('refuses per-channel vectors of another length', () => {
    const x = randomNormal([2, 3], { seed: 1 });
    expect(() => ops.channelAffine(x, randomNormal([2], { seed: 2 }), randomNormal([3], { seed: 3 }))).toThrow(/channelAffine: expected s of shape \[3\] but received \[2\]/);
  });
});
