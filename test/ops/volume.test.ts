// 3-D convolution and pooling (ops.conv3d, maxPool3d, avgPool3d and their backward passes) are lowered onto the
// 2-D kernels. Checked here against plain 3-D loops written from the definition (float64, reference backend:
// exact up to summation order, 1e-12), by the adjoint identities that tie each backward pass to its forward
// (<f(x), dy> = <x, f'(dy)> holds exactly for linear maps, so a wrong backward cannot pass), and native against
// reference under every ISA and thread count with the float32 dot-product bound of helpers/close.ts.
import { describe, expect, it } from 'vitest';
import { ConvkitError, ops, randomNormal, Tensor, withBackend, zeros } from '../../src/index.js';
import { abs, dotTolerance, expectClose, U32 } from '../helpers/close.js';
import { nativeAvailable, nativeVariants, useNativeVariant } from '../helpers/backends.js';

type Opts = ops.Conv3DOptions;

/** The axis's [padBefore, out] as TF computes them. */
function axis(size: number, k: number, s: number, d: number, padding: Opts['padding'], explicit: [number, number]): [number, number] {
  const win = (k - 1) * d + 1;
  if (padding === 'same') {
    const out = Math.ceil(size / s);
    return [Math.floor(Math.max((out - 1) * s + win - size, 0) / 2), out];
  }
  const [b, a] = padding === 'valid' || padding === undefined ? [0, 0] : explicit;
  return [b, Math.floor((size + b + a - win) / s) + 1];
}

const t3 = (v: ops.Triple | undefined): number[] => (typeof v === 'number' ? [v, v, v] : v ?? [1, 1, 1]);

/** conv3d from its definition: y[n,od,oh,ow,f] = sum over taps and the group's channels. */
function naiveConv3d(x: Tensor, w: Tensor, o: Opts): Tensor {
  const [n, D, H, W, C] = x.shape;
  const [kd, kh, kw, cg, F] = w.shape;
  const [s, d] = [t3(o.strides), t3(o.dilations)];
  const ex = Array.isArray(o.padding) ? o.padding : [[0, 0], [0, 0], [0, 0]];
  const geo = [D, H, W].map((size, a) => axis(size, [kd, kh, kw][a], s[a], d[a], o.padding, ex[a] as [number, number]));
  const [OD, OH, OW] = geo.map((g) => g[1]);
  const groups = o.groups ?? 1;
  const y = zeros([n, OD, OH, OW, F], 'float64');
  const at = (i: number[], shape: number[]) => i.reduce((acc, v, k) => acc * shape[k] + v, 0);
  for (let b = 0; b < n; b++)
    for (let od = 0; od < OD; od++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let f = 0; f < F; f++) {
            const g = Math.floor(f / (F / groups));
            let sum = 0;
            for (let a = 0; a < kd; a++)
              for (let p = 0; p < kh; p++)
                for (let q = 0; q < kw; q++) {
                  const [zd, zh, zw] = [od * s[0] + a * d[0] - geo[0][0], oh * s[1] + p * d[1] - geo[1][0], ow * s[2] + q * d[2] - geo[2][0]];
                  if (zd < 0 || zd >= D || zh < 0 || zh >= H || zw < 0 || zw >= W) continue;
                  for (let c = 0; c < cg; c++) sum += x.data[at([b, zd, zh, zw, g * cg + c], x.shape)] * w.data[at([a, p, q, c, f], w.shape)];
                }
            y.data[at([b, od, oh, ow, f], y.shape)] = sum;
          }
  return y;
}

/** 3-D pooling from its definition (TF semantics: padded cells never win a max and are not counted in a mean). */
function naivePool3d(x: Tensor, o: ops.Pool3DOptions, kind: 'max' | 'avg'): Tensor {
  const [n, D, H, W, C] = x.shape;
  const k = t3(o.poolSize);
  const s = t3(o.strides ?? o.poolSize);
  const geo = [D, H, W].map((size, a) => axis(size, k[a], s[a], 1, o.padding, [0, 0]));
  const [OD, OH, OW] = geo.map((g) => g[1]);
  const y = zeros([n, OD, OH, OW, C], 'float64');
  const at = (i: number[], shape: number[]) => i.reduce((acc, v, j) => acc * shape[j] + v, 0);
  for (let b = 0; b < n; b++)
    for (let od = 0; od < OD; od++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let c = 0; c < C; c++) {
            let [best, sum, count] = [-Infinity, 0, 0];
            for (let a = 0; a < k[0]; a++)
              for (let p = 0; p < k[1]; p++)
                for (let q = 0; q < k[2]; q++) {
                  const [zd, zh, zw] = [od * s[0] + a - geo[0][0], oh * s[1] + p - geo[1][0], ow * s[2] + q - geo[2][0]];
                  if (zd < 0 || zd >= D || zh < 0 || zh >= H || zw < 0 || zw >= W) continue;
                  const v = x.data[at([b, zd, zh, zw, c], x.shape)];
                  best = Math.max(best, v);
                  sum += v;
                  count++;
                }
            y.data[at([b, od, oh, ow, c], y.shape)] = kind === 'max' ? best : sum / count;
          }
  return y;
}

const dot = (a: Tensor, b: Tensor): number => a.data.reduce((s: number, v: number, i: number) => s + v * b.data[i], 0);

const convCases: { label: string; x: number[]; w: number[]; opts: Opts }[] = [
  { label: '3x3x3 valid', x: [2, 5, 6, 5, 3], w: [3, 3, 3, 3, 4], opts: {} },
  { label: '3x3x3 same', x: [1, 4, 5, 6, 2], w: [3, 3, 3, 2, 3], opts: { padding: 'same' } },
  { label: 'strided [2,1,2] same, even kernel', x: [2, 7, 5, 6, 2], w: [2, 2, 3, 2, 3], opts: { strides: [2, 1, 2], padding: 'same' } },
  { label: 'depth stride 3, dilation 2', x: [1, 11, 5, 5, 2], w: [3, 2, 2, 2, 2], opts: { strides: [3, 1, 1], dilations: [2, 1, 2] } },
  { label: 'explicit padding', x: [2, 3, 4, 4, 2], w: [2, 3, 2, 2, 3], opts: { padding: [[2, 1], [1, 0], [0, 2]] } },
  { label: 'grouped (2 groups)', x: [1, 4, 4, 4, 4], w: [2, 2, 2, 2, 6], opts: { groups: 2, padding: 'same' } },
  { label: 'grouped, strided, padded in depth', x: [2, 5, 4, 3, 6], w: [3, 1, 2, 2, 3], opts: { groups: 3, strides: 2, padding: [[1, 2], [0, 0], [1, 0]] } },
  { label: 'kernel depth 1', x: [2, 3, 4, 4, 3], w: [1, 3, 3, 3, 2], opts: { padding: 'same' } },
];

const poolCases: { label: string; x: number[]; opts: ops.Pool3DOptions }[] = [
  { label: '2x2x2', x: [2, 4, 4, 6, 3], opts: { poolSize: 2 } },
  { label: '3x3x3 / 2 same', x: [1, 5, 6, 7, 2], opts: { poolSize: 3, strides: 2, padding: 'same' } },
  { label: '[1, 2, 2]', x: [2, 3, 4, 4, 2], opts: { poolSize: [1, 2, 2] } },
  { label: '[3, 2, 1] / [1, 2, 1] same', x: [1, 4, 5, 3, 2], opts: { poolSize: [3, 2, 1], strides: [1, 2, 1], padding: 'same' } },
];

const ref = <T>(fn: () => T): T => withBackend('reference', fn);

describe('conv3d against its definition (reference, float64)', () => {
  for (const [i, c] of convCases.entries()) {
    it(c.label, () => {
      const x = randomNormal(c.x, { seed: 10 + i, dtype: 'float64' });
      const w = randomNormal(c.w, { seed: 20 + i, dtype: 'float64' });
      const want = naiveConv3d(x, w, c.opts);
      const y = ref(() => ops.conv3d(x, w, c.opts));
      expectClose(y, want, 1e-12, c.label);
      // backward passes: the adjoints of the forward
      const dy = randomNormal(y.shape, { seed: 30 + i, dtype: 'float64' });
      const dx = ref(() => ops.conv3dBackwardInput(dy, w, x.shape, c.opts));
      const dw = ref(() => ops.conv3dBackwardFilter(x, dy, w.shape, c.opts));
      const xr = randomNormal(c.x, { seed: 40 + i, dtype: 'float64' });
      const wr = randomNormal(c.w, { seed: 50 + i, dtype: 'float64' });
      const lhsX = dot(naiveConv3d(xr, w, c.opts), dy);
      expect(Math.abs(lhsX - dot(xr, dx))).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhsX)));
      const lhsW = dot(naiveConv3d(x, wr, c.opts), dy);
      expect(Math.abs(lhsW - dot(wr, dw))).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhsW)));
    });
  }

  it('fused bias, activation and residual act on the 3-D output', () => {
    const x = randomNormal([2, 4, 4, 4, 2], { seed: 1, dtype: 'float64' });
    const w = randomNormal([3, 3, 3, 2, 3], { seed: 2, dtype: 'float64' });
    const bias = randomNormal([3], { seed: 3, dtype: 'float64' });
    const residual = randomNormal([2, 4, 4, 4, 3], { seed: 4, dtype: 'float64' });
    const y = ref(() => ops.conv3d(x, w, { padding: 'same', bias, residual, activation: 'relu' }));
    const plain = naiveConv3d(x, w, { padding: 'same' });
    const want = new Tensor(plain.data.map((v: number, i: number) => Math.max(0, v + bias.data[i % 3] + residual.data[i])), plain.shape);
    expectClose(y, want, 1e-12, 'epilogue');
  });

  it('rejects what does not fit, naming the op and the field', () => {
    const x = randomNormal([1, 4, 4, 4, 3], { seed: 1 });
    expect(() => ops.conv3d(x, randomNormal([3, 3, 3, 2, 4], { seed: 1 }))).toThrow(/conv3d: expected filter in-channels 3/);
    expect(() => ops.conv3d(x, randomNormal([3, 3, 3, 1, 4], { seed: 1 }), { groups: 2 })).toThrow(/conv3d: expected x channels divisible by groups 2/);
    expect(() => ops.conv3d(randomNormal([1, 2, 4, 4, 3], { seed: 1 }), randomNormal([3, 3, 3, 3, 4], { seed: 1 }))).toThrow(/conv3d: expected an input depth of at least 3/);
    expect(() => ops.conv3d(randomNormal([1, 4, 4, 3], { seed: 1 }), randomNormal([3, 3, 3, 3, 4], { seed: 1 }))).toThrow(ConvkitError);
    expect(() => ops.conv3d(x, randomNormal([3, 3, 3, 3, 4], { seed: 1 }), { strides: [1, 2] as never })).toThrow(/strides to be a positive integer or \[d, h, w\]/);
    expect(() => ops.conv3d(x, randomNormal([3, 3, 3, 3, 4], { seed: 1 }), { padding: [[1, 1], [1, 1]] as never })).toThrow(/padding 'same', 'valid' or \[\[front, back\]/);
  });
});

describe('3-D pooling against its definition (reference, float64)', () => {
  for (const [i, c] of poolCases.entries()) {
    it(c.label, () => {
      const x = randomNormal(c.x, { seed: 60 + i, dtype: 'float64' });
      for (const kind of ['max', 'avg'] as const) {
        const y = ref(() => (kind === 'max' ? ops.maxPool3d(x, c.opts) : ops.avgPool3d(x, c.opts)));
        expectClose(y, naivePool3d(x, c.opts, kind), 1e-12, `${c.label} ${kind}`);
      }
      // average pooling is linear: its backward is its adjoint
      const dy = randomNormal(ops.pool3dOutputShape(c.x, c.opts), { seed: 70 + i, dtype: 'float64' });
      const xr = randomNormal(c.x, { seed: 80 + i, dtype: 'float64' });
      const lhs = dot(naivePool3d(xr, c.opts, 'avg'), dy);
      expect(Math.abs(lhs - dot(xr, ref(() => ops.avgPool3dBackward(dy, c.x, c.opts))))).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
      // max pooling routes each dy to its window's maximum: with distinct values, the gradient of the definition
      const dx = ref(() => ops.maxPool3dBackward(dy, x, c.opts));
      const h = 1e-6;
      for (let j = 0; j < x.size; j += 7) {
        const bump = new Tensor(Float64Array.from(x.data), x.shape);
        bump.data[j] += h;
        const numeric = (dot(naivePool3d(bump, c.opts, 'max'), dy) - dot(naivePool3d(x, c.opts, 'max'), dy)) / h;
        expect(Math.abs(numeric - dx.data[j]), `${c.label} max, element ${j}`).toBeLessThan(1e-6);
      }
    });
  }

  it('global pools: the mean and max over depth, height and width', () => {
    const x = randomNormal([2, 3, 4, 2, 5], { seed: 9, dtype: 'float64' });
    const flat = naivePool3d(x, { poolSize: [3, 4, 2] }, 'avg').reshape([2, 5]);
    expectClose(ref(() => ops.globalAvgPool3d(x)), flat, 1e-12, 'globalAvgPool3d');
    expectClose(ref(() => ops.globalMaxPool3d(x)), naivePool3d(x, { poolSize: [3, 4, 2] }, 'max').reshape([2, 5]), 0, 'globalMaxPool3d');
    expect(ref(() => ops.globalAvgPool3dBackward(randomNormal([2, 5], { seed: 2, dtype: 'float64' }), x.shape)).shape).toEqual(x.shape);
  });
});

describe.skipIf(!nativeAvailable)('conv3d and 3-D pooling: native against reference', () => {
  for (const v of nativeVariants()) {
    it(`every case (${v.label})`, () => {
      useNativeVariant(v);
      for (const [i, c] of convCases.entries()) {
        const x = randomNormal(c.x, { seed: 100 + i });
        const w = randomNormal(c.w, { seed: 200 + i, stddev: 0.5 });
        const bias = randomNormal([c.w[4]], { seed: 300 + i });
        const fused = { ...c.opts, bias, activation: 'tanh' as const };
        const k = c.w[0] * c.w[1] * c.w[2] * c.w[3];
        const want = ref(() => ops.conv3d(x, w, fused));
        const scale = ref(() => ops.conv3d(abs(x), abs(w), { ...c.opts, bias: abs(bias) }));
        const tol = dotTolerance(scale, k);
        expectClose(ops.conv3d(x, w, fused), want, (j) => tol(j) + 2 ** -20, `${c.label} forward`);
        const dy = randomNormal(want.shape, { seed: 400 + i });
        const kIn = c.w[0] * c.w[1] * c.w[2] * (c.w[4] / (c.opts.groups ?? 1));
        expectClose(ops.conv3dBackwardInput(dy, w, c.x, c.opts), ref(() => ops.conv3dBackwardInput(dy, w, c.x, c.opts)), dotTolerance(ref(() => ops.conv3dBackwardInput(abs(dy), abs(w), c.x, c.opts)), kIn), `${c.label} dx`);
        const kW = want.size / c.w[4];
        expectClose(ops.conv3dBackwardFilter(x, dy, c.w, c.opts), ref(() => ops.conv3dBackwardFilter(x, dy, c.w, c.opts)), dotTolerance(ref(() => ops.conv3dBackwardFilter(abs(x), abs(dy), c.w, c.opts)), kW), `${c.label} dw`);
      }
      for (const [i, c] of poolCases.entries()) {
        const x = randomNormal(c.x, { seed: 500 + i });
        const dy = randomNormal(ops.pool3dOutputShape(c.x, c.opts), { seed: 600 + i });
        expect(Array.from(ops.maxPool3d(x, c.opts).data), c.label).toEqual(Array.from(ref(() => ops.maxPool3d(x, c.opts)).data));
        // overlapping windows sum several dy into one cell, in another order: k terms, k·u·Σ|dy|
        const k = t3(c.opts.poolSize).reduce((a, b) => a * b, 1);
        const routed = ref(() => ops.maxPool3dBackward(abs(dy), x, c.opts));
        expectClose(ops.maxPool3dBackward(dy, x, c.opts), ref(() => ops.maxPool3dBackward(dy, x, c.opts)), (j) => k * U32 * routed.data[j], `${c.label} max dx`);
        // a mean of k values, twice rounded per stage: (k + 2)·u·max|x| bounds it
        const big = Math.max(...abs(x).data);
        expectClose(ops.avgPool3d(x, c.opts), ref(() => ops.avgPool3d(x, c.opts)), (k + 2) * U32 * big, `${c.label} avg`);
        const spread = ref(() => ops.avgPool3dBackward(abs(dy), c.x, c.opts));
        expectClose(ops.avgPool3dBackward(dy, c.x, c.opts), ref(() => ops.avgPool3dBackward(dy, c.x, c.opts)), (j) => (k + 2) * U32 * spread.data[j] + 1e-30, `${c.label} avg dx`);
      }
    });
  }

  it('conv3dAsync gives conv3d\'s bits', async () => {
    const x = randomNormal([2, 6, 8, 8, 3], { seed: 1 });
    const w = randomNormal([3, 3, 3, 3, 8], { seed: 2 });
    const opts = { padding: 'same' as const, strides: [2, 1, 1] as [number, number, number] };
    expect(Array.from((await ops.conv3dAsync(x, w, opts)).data)).toEqual(Array.from(ops.conv3d(x, w, opts).data));
  });
});
