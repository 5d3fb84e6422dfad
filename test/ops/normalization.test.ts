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

// Group and layer normalization: statistics in double per (sample, group), outputs rounded once from double
// values in the reference and through two float32 ops in the kernels (a scale and shift folded per channel),
// so the two agree to a few float32 ulps of the normalized values (|xhat| up to ~5 here): 1e-5 absolute on y
// and xhat; dx mixes three terms of that size: 3e-5 relative to max(1, |dx|). The parameter sums are double.
describe('group and layer normalization', () => {
  const geometries: [number[], 'layer' | 'group', number][] = [
    [[2, 5, 5, 16], 'group', 4], [[3, 4, 4, 6], 'group', 6], [[1, 7, 3, 8], 'group', 1], [[5, 33], 'layer', -1], [[4, 3, 3, 5], 'layer', -1],
    [[2, 6, 6, 4], 'layer', 1], [[600, 3], 'layer', -1], [[8, 8, 8, 64], 'group', 32],
  ];

  it('hand anchors: normalized per sample and group, then gamma and beta; groups = 1 is layer norm of the whole sample', () => {
    for (const b of ['reference', ...(nativeAvailable ? ['native' as const] : [])] as const) {
      withBackend(b, () => {
        const x = new Tensor(Float32Array.of(1, 2, 3, 10, 20, 30), [2, 3]);
        const y = ops.layerNorm(x, { epsilon: 1e-9 });
        const r = Math.sqrt(3 / 2);
        [-r, 0, r, -r, 0, r].forEach((v, i) => expect(y.data[i]).toBeCloseTo(v, 5));
        const gamma = new Tensor(Float32Array.of(2, 1, 1), [3]);
        const beta = new Tensor(Float32Array.of(0, 0, 5), [3]);
        expect(ops.layerNorm(x, { epsilon: 1e-9, gamma, beta }).data[2]).toBeCloseTo(r + 5, 5);
        const img = randomNormal([2, 3, 3, 4], { seed: 1 });
        const whole = ops.layerNorm(img, { axis: 1 });
        const one = ops.groupNorm(img, { groups: 1 });
        one.data.forEach((v, i) => expect(v).toBeCloseTo(whole.data[i], 5));
      });
    }
  });

  for (const v of nativeVariants()) {
    it(`native matches reference, forward and backward (${v.label})`, () => {
      useNativeVariant(v);
      for (const [i, [shape, kind, p]] of geometries.entries()) {
        const x = randomNormal(shape, { seed: 500 + i, mean: 2, stddev: 3 });
        const dy = randomNormal(shape, { seed: 600 + i });
        const info = kind === 'group' ? ops.groupNormInfo('test', shape, p, 1e-3) : ops.layerNormInfo('test', shape, p, 1e-3);
        const c = info.g * info.k;
        const gamma = randomNormal([c], { seed: 700 + i, mean: 1 });
        const beta = randomNormal([c], { seed: 800 + i });
        const run = () => {
          const stats = new Tensor(new Float64Array(2 * info.n * info.g), [2, info.n * info.g]);
          const xhat = new Tensor(new Float32Array(x.size), shape);
          const y = ops.request.groupNormForward(x, info, stats, gamma, beta, xhat);
          const yt = ops.runProgramSync((function* () { return yield y; })());
          const sums = new Tensor(new Float64Array(2 * c), [2, c]);
          const inv = new Tensor(stats.data.subarray(info.n * info.g), [info.n * info.g]);
          const dx = ops.runProgramSync((function* () { return yield ops.request.groupNormBackward(dy, xhat, inv, info, gamma, sums); })());
          return { y: yt, xhat, stats, sums, dx };
        };
        const [a, b] = [nat(run), ref(run)];
        const what = `${shape} ${kind} ${p}`;
        a.y.data.forEach((val, j) => expect(Math.abs(val - b.y.data[j]), `${what} y[${j}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(b.y.data[j]))));
        a.xhat.data.forEach((val, j) => expect(Math.abs(val - b.xhat.data[j]), `${what} xhat[${j}]`).toBeLessThanOrEqual(1e-5));
        a.stats.data.forEach((val, j) => expect(Math.abs(val - b.stats.data[j]), `${what} stats[${j}]`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(b.stats.data[j]))));
        a.sums.data.forEach((val, j) => expect(Math.abs(val - b.sums.data[j]), `${what} sums[${j}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(b.sums.data[j]))));
        a.dx.data.forEach((val, j) => expect(Math.abs(val - b.dx.data[j]), `${what} dx[${j}]`).toBeLessThanOrEqual(3e-5 * Math.max(1, Math.abs(b.dx.data[j]))));
      }
    });
  }

  it('refuses groups that do not divide the channels, and parameters of the wrong shape', () => {
    const x = randomNormal([2, 3, 3, 6], { seed: 1 });
    expect(() => ops.groupNorm(x, { groups: 4 })).toThrow(/groupNorm: expected groups dividing the 6 channels but received 4/);
    expect(() => ops.layerNorm(x, { gamma: randomNormal([5], { seed: 2 }) })).toThrow(/groupNorm: expected gamma of shape \[6\] but received \[5\]/);
    expect(() => ops.layerNorm(x, { axis: 0 })).toThrow(/layerNorm: expected an axis after the batch axis/);
  });
});
