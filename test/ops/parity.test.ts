// Native vs reference on seeded random shapes, under every ISA the CPU has and at 1 and 2 threads.
// Tolerances: sums of K float32 products get (2·sqrt(K) + 2)·u·Σ|a||b| per element (helpers/close.ts);
// elementwise transcendental results get 16 ulp relative plus u absolute (outputs are O(1)); selections
// (max pooling) and routing without overlap are exact.
import { describe, expect, it } from 'vitest';
import { ops, randomNormal, randomUniform, Tensor, withBackend } from '../../src/index.js';
import type { ActivationKind } from '../../src/backend/types.js';
import { abs, dotTolerance, expectClose, U32 } from '../helpers/close.js';
import { nativeAvailable, nativeSkipReason, nativeVariants, useNativeVariant } from '../helpers/backends.js';
import { convCases, matmulCases, poolCases } from '../helpers/configs.js';

const CASES = 60;
const ELEMENTWISE = (b: Tensor) => (i: number) => 2 ** -20 * Math.abs(b.data[i]) + U32;
const ACTS: ActivationKind[] = ['linear', 'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh'];

const ref = <T>(fn: () => T): T => withBackend('reference', fn);
const nat = <T>(fn: () => T): T => withBackend('native', fn);

function memo<T>(fn: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= fn());
}

const convs = convCases(CASES, 101).map((c, i) => {
  const x = randomNormal(c.xShape, { seed: 1000 + i });
  const w = randomNormal(c.fShape, { seed: 2000 + i, stddev: 0.5 });
  const act = ACTS[i % ACTS.length];
  const bias = randomNormal([c.fShape[3]], { seed: 3000 + i });
  const fused = { ...c.opts, bias, activation: act, alpha: 0.3 };
  const y = memo(() => ref(() => ops.conv2d(x, w, fused)));
  const dy = memo(() => randomNormal(y().shape, { seed: 4000 + i }));
  return {
    ...c, x, w, fused, dy,
    k: c.fShape[0] * c.fShape[1] * c.fShape[2],
    y,
    yScale: memo(() => ref(() => ops.conv2d(abs(x), abs(w), { ...c.opts, bias: abs(bias) }))),
    dx: memo(() => ref(() => ops.conv2dBackwardInput(dy(), w, x.shape, c.opts))),
    dxScale: memo(() => ref(() => ops.conv2dBackwardInput(abs(dy()), abs(w), x.shape, c.opts))),
    dw: memo(() => ref(() => ops.conv2dBackwardFilter(x, dy(), w.shape, c.opts))),
    dwScale: memo(() => ref(() => ops.conv2dBackwardFilter(abs(x), abs(dy()), w.shape, c.opts))),
  };
});

// Batches large enough for conv2dMaxPool to pool a few images per task (the convCases batches are small).
const fusedConvs = [
  { label: 'fused 3x3 same, 3 -> 20', xShape: [9, 12, 11, 3], fShape: [3, 3, 3, 20], opts: { padding: 'same' as const } },
  { label: 'fused 5x5 same, one channel', xShape: [10, 13, 13, 1], fShape: [5, 5, 1, 6], opts: { padding: 'same' as const } },
  { label: 'fused depthwise 3x3/2', xShape: [9, 9, 10, 8], fShape: [3, 3, 1, 8], opts: { padding: 'same' as const, strides: 2, groups: 8 } },
].map((c, i) => {
  const x = randomNormal(c.xShape, { seed: 9000 + i });
  const w = randomNormal(c.fShape, { seed: 9100 + i, stddev: 0.5 });
  return { ...c, x, w, fused: { ...c.opts, bias: randomNormal([c.fShape[3]], { seed: 9200 + i }), activation: ACTS[i + 1], alpha: 0.3 } };
});

const pools = poolCases(CASES, 202).map((c, i) => {
  const x = randomNormal(c.xShape, { seed: 5000 + i });
  const yShape = ops.pool2dOutputShape(c.xShape, c.opts);
  return { ...c, x, dy: randomNormal(yShape, { seed: 6000 + i }) };
});

const gemms = matmulCases(CASES, 303).map(([m, n, k], i) => {
  const tA = i % 2 === 1;
  const tB = i % 4 >= 2;
  const a = randomNormal(tA ? [k, m] : [m, k], { seed: 7000 + i });
  const b = randomNormal(tB ? [n, k] : [k, n], { seed: 8000 + i });
  return { label: `#${i} M${m} N${n} K${k} tA=${tA} tB=${tB}`, a, b, k, opts: { transposeA: tA, transposeB: tB } };
});

describe.skipIf(!nativeAvailable)(`native vs reference parity${nativeAvailable ? '' : ` (skipped: ${nativeSkipReason})`}`, () => {
  it('covers at least one ISA', () => {
    expect(nativeVariants().length).toBeGreaterThanOrEqual(2);
  });

  for (const v of nativeVariants()) {
    describe(v.label, () => {
      const run = <T>(fn: () => T): T => {
        useNativeVariant(v);
        return nat(fn);
      };

      it('dropout: the reference backend\'s masks and outputs, bit for bit; its backward (multiply) too', () => {
        for (const n of [1, 17, 1000, 65537])
          for (const rate of [0, 0.1, 0.5, 0.9])
            for (const seed of [0, 7, 4294967295]) {
              const x = randomNormal([n], { seed: n + 3 });
              const want = ref(() => ops.dropout(x, rate, seed));
              const got = run(() => ops.dropout(x, rate, seed));
              const what = `n=${n} rate=${rate} seed=${seed}`;
              expect(Array.from(got.mask.data), `${what} mask`).toEqual(Array.from(want.mask.data));
              expect(Array.from(got.y.data), `${what} y`).toEqual(Array.from(want.y.data));
              expect(Array.from(run(() => ops.multiply(x, got.mask)).data), `${what} multiply`).toEqual(Array.from(want.y.data));
            }
      });

      it(`matmul (${gemms.length} shapes, all transposes)`, () => {
        for (const g of gemms) {
          const want = ref(() => ops.matmul(g.a, g.b, g.opts));
          const scale = ref(() => ops.matmul(abs(g.a), abs(g.b), g.opts));
          expectClose(run(() => ops.matmul(g.a, g.b, g.opts)), want, dotTolerance(scale, g.k), g.label);
        }
      });

      it(`conv2d forward with fused bias + activation (${convs.length} configs)`, () => {
        for (const c of convs) {
          const want = c.y();
          const dot = dotTolerance(c.yScale(), c.k);
          const elem = ELEMENTWISE(want);
          expectClose(run(() => ops.conv2d(c.x, c.w, c.fused)), want, (i) => dot(i) + elem(i), c.label);
        }
      });

      it(`conv2d and matmul with a folded batch normalization (scale) and a residual in the epilogue (${convs.length} + ${gemms.length} configs)`, () => {
        for (const [i, c] of convs.entries()) {
          const oc = c.w.shape[3];
          const ep = { ...c.fused, scale: randomNormal([oc], { seed: 9300 + i }), residual: randomNormal(c.y().shape, { seed: 9400 + i }) };
          const want = ref(() => ops.conv2d(c.x, c.w, ep));
          const mag = ref(() => ops.conv2d(abs(c.x), abs(c.w), { ...c.opts, scale: abs(ep.scale), bias: abs(ep.bias), residual: abs(ep.residual) }));
          const dot = dotTolerance(mag, c.k);
          const elem = ELEMENTWISE(mag);
          expectClose(run(() => ops.conv2d(c.x, c.w, ep)), want, (j) => dot(j) + elem(j), `${c.label} scale + residual`);
        }
        for (const [i, g] of gemms.entries()) {
          const [m, n] = [g.opts.transposeA ? g.a.shape[1] : g.a.shape[0], g.opts.transposeB ? g.b.shape[0] : g.b.shape[1]];
          const ep = { ...g.opts, scale: randomNormal([n], { seed: 9500 + i }), bias: randomNormal([n], { seed: 9600 + i }), residual: randomNormal([m, n], { seed: 9700 + i }), activation: ACTS[i % ACTS.length], alpha: 0.3 };
          const mag = ref(() => ops.matmul(abs(g.a), abs(g.b), { ...g.opts, scale: abs(ep.scale), bias: abs(ep.bias), residual: abs(ep.residual) }));
          const dot = dotTolerance(mag, g.k);
          const elem = ELEMENTWISE(mag);
          expectClose(run(() => ops.matmul(g.a, g.b, ep)), ref(() => ops.matmul(g.a, g.b, ep)), (j) => dot(j) + elem(j), `${g.label} scale + residual`);
        }
      });

      it(`conv2dMaxPool: the bits of maxPool2d after conv2d (${convs.length + fusedConvs.length} configs)`, () => {
        for (const c of [...convs, ...fusedConvs]) {
          const [, oh, ow] = ref(() => ops.conv2dOutputShape(c.x.shape, c.w.shape, c.opts));
          const pool = oh >= 3 && ow >= 3 ? { poolSize: 3, strides: 2, padding: 'same' as const } : { poolSize: [Math.min(2, oh), Math.min(2, ow)] as [number, number] };
          const want = run(() => ops.maxPool2d(ops.conv2d(c.x, c.w, c.fused), pool));
          const got = run(() => ops.conv2dMaxPool(c.x, c.w, c.fused, pool));
          expect(got.shape, c.label).toEqual(want.shape);
          expect(Array.from(got.data), c.label).toEqual(Array.from(want.data));
          // keeping the convolution's output too (training)
          const z = run(() => ops.conv2d(c.x, c.w, c.fused));
          const kept = new Tensor(new Float32Array(z.size).fill(NaN), z.shape);
          expect(Array.from(run(() => ops.conv2dMaxPool(c.x, c.w, c.fused, pool, kept)).data), c.label).toEqual(Array.from(want.data));
          expect(Array.from(kept.data), `${c.label} convOutput`).toEqual(Array.from(z.data));
          // with a folded batch normalization's scale
          const scaled = { ...c.fused, scale: randomNormal([c.w.shape[3]], { seed: 9800 }) };
          expect(Array.from(run(() => ops.conv2dMaxPool(c.x, c.w, scaled, pool)).data), `${c.label} scale`).toEqual(Array.from(run(() => ops.maxPool2d(ops.conv2d(c.x, c.w, scaled), pool)).data));
        }
      });

      it(`conv2dBackwardInput (${convs.length} configs)`, () => {
        for (const c of convs) {
          const k = c.fShape[0] * c.fShape[1] * (c.fShape[3] / (c.opts.groups ?? 1));
          expectClose(run(() => ops.conv2dBackwardInput(c.dy(), c.w, c.xShape, c.opts)), c.dx(), dotTolerance(c.dxScale(), k), c.label);
        }
      });

      it(`conv2dBackwardFilter (${convs.length} configs)`, () => {
        for (const c of convs) {
          const [n, oh, ow] = c.dy().shape;
          expectClose(run(() => ops.conv2dBackwardFilter(c.x, c.dy(), c.fShape, c.opts)), c.dw(), dotTolerance(c.dwScale(), n * oh * ow), c.label);
        }
      });

      it(`bias add and bias gradient (${convs.length} shapes)`, () => {
        for (const c of convs) {
          const dy = c.dy();
          const [n, oh, ow, oc] = dy.shape;
          const bias = c.fused.bias;
          expectClose(run(() => ops.biasAdd(dy, bias)), ref(() => ops.biasAdd(dy, bias)), ELEMENTWISE(ref(() => ops.biasAdd(abs(dy), abs(bias)))), c.label);
          const scale = ref(() => ops.biasGrad(abs(dy)));
          expectClose(run(() => ops.biasGrad(dy)), ref(() => ops.biasGrad(dy)), dotTolerance(scale, n * oh * ow), `${c.label} oc=${oc}`);
        }
      });

      it(`max and average pooling, forward and backward (${pools.length} configs)`, () => {
        for (const p of pools) {
          const window = (Array.isArray(p.opts.poolSize) ? p.opts.poolSize[0] * p.opts.poolSize[1] : p.opts.poolSize ** 2);
          expectClose(run(() => ops.maxPool2d(p.x, p.opts)), ref(() => ops.maxPool2d(p.x, p.opts)), 0, `maxPool2d ${p.label}`);
          const mb = ref(() => ops.maxPool2dBackward(abs(p.dy), p.x, p.opts));
          expectClose(run(() => ops.maxPool2dBackward(p.dy, p.x, p.opts)), ref(() => ops.maxPool2dBackward(p.dy, p.x, p.opts)), dotTolerance(mb, window), `maxPool2dBackward ${p.label}`);
          // through the activation whose output x is: what activationBackward of the plain result gives, bit for bit
          // on the same backend (the same formula on the same values), and close to the reference
          for (const [activation, y] of [['relu', ops.activation('relu', p.x)], ['leakyRelu', ops.activation('leakyRelu', p.x, 0.3)], ['sigmoid', ops.activation('sigmoid', p.x)], ['tanh', ops.activation('tanh', p.x)]] as const) {
            const o = { ...p.opts, activation, alpha: 0.3 };
            const fused = run(() => ops.maxPool2dBackward(p.dy, y, o));
            const twoOps = run(() => ops.activationBackward(activation, ops.maxPool2dBackward(p.dy, y, p.opts), y, y, 0.3));
            expect(Array.from(fused.data), `maxPool2dBackward through ${activation} ${p.label}`).toEqual(Array.from(twoOps.data));
            expectClose(fused, ref(() => ops.maxPool2dBackward(p.dy, y, o)), dotTolerance(mb, window), `maxPool2dBackward through ${activation} ${p.label}`);
          }
          const as = ref(() => ops.avgPool2d(abs(p.x), p.opts));
          expectClose(run(() => ops.avgPool2d(p.x, p.opts)), ref(() => ops.avgPool2d(p.x, p.opts)), dotTolerance(as, window), `avgPool2d ${p.label}`);
          const ab = ref(() => ops.avgPool2dBackward(abs(p.dy), p.xShape, p.opts));
          expectClose(run(() => ops.avgPool2dBackward(p.dy, p.xShape, p.opts)), ref(() => ops.avgPool2dBackward(p.dy, p.xShape, p.opts)), dotTolerance(ab, window), `avgPool2dBackward ${p.label}`);
        }
      });

      it(`global pooling, forward and backward (${pools.length} shapes)`, () => {
        for (const p of pools) {
          const [n, h, w, c] = p.xShape;
          const dy = randomNormal([n, c], { seed: n * 131 + c });
          const gs = ref(() => ops.globalAvgPool2d(abs(p.x)));
          expectClose(run(() => ops.globalAvgPool2d(p.x)), ref(() => ops.globalAvgPool2d(p.x)), dotTolerance(gs, h * w), p.label);
          expectClose(run(() => ops.globalMaxPool2d(p.x)), ref(() => ops.globalMaxPool2d(p.x)), 0, p.label);
          expectClose(run(() => ops.globalAvgPool2dBackward(dy, p.xShape)), ref(() => ops.globalAvgPool2dBackward(dy, p.xShape)), ELEMENTWISE(ref(() => ops.globalAvgPool2dBackward(dy, p.xShape))), p.label);
          expectClose(run(() => ops.globalMaxPool2dBackward(dy, p.x)), ref(() => ops.globalMaxPool2dBackward(dy, p.x)), 0, p.label);
        }
      });

      it('activations forward and backward on 60 random sizes', () => {
        for (let i = 0; i < CASES; i++) {
          const n = 1 + ((i * 37) % 101);
          const x = randomNormal([n, 1 + (i % 17)], { seed: 9000 + i, stddev: 1 + (i % 5) * 3 });
          const dy = randomNormal(x.shape, { seed: 9500 + i });
          const alpha = 0.05 + (i % 7) * 0.1;
          const pairs: [string, (t: Tensor) => Tensor, (d: Tensor, t: Tensor, y: Tensor) => Tensor][] = [
            ['relu', ops.relu, (d, t) => ops.reluBackward(d, t)],
            ['leakyRelu', (t) => ops.leakyRelu(t, alpha), (d, t) => ops.leakyReluBackward(d, t, alpha)],
            ['elu', (t) => ops.elu(t, alpha), (d, t) => ops.eluBackward(d, t, alpha)],
            ['sigmoid', ops.sigmoid, (d, _t, y) => ops.sigmoidBackward(d, y)],
            ['tanh', ops.tanh, (d, _t, y) => ops.tanhBackward(d, y)],
            ['softmax', ops.softmax, (d, _t, y) => ops.softmaxBackward(d, y)],
            ...(['relu6', 'hardSigmoid', 'hardSwish', 'swish', 'gelu', 'geluTanh', 'softplus', 'softsign', 'selu', 'mish', 'exponential'] as const).map(
              (k): [string, (t: Tensor) => Tensor, (d: Tensor, t: Tensor, y: Tensor) => Tensor] => [
                k,
                (t) => ops.activation(k, t, k === 'hardSigmoid' ? alpha : undefined),
                (d, t, y) => ops.activationBackward(k, d, t, y, k === 'hardSigmoid' ? alpha : undefined),
              ],
            ),
          ];
          for (const [name, fwd, bwd] of pairs) {
            const want = ref(() => fwd(x));
            expectClose(run(() => fwd(x)), want, ELEMENTWISE(want), `${name} #${i} [${x.shape}]`);
            const wantD = ref(() => bwd(dy, x, want));
            // backward is dy·f'(.) with f' formed in float32 (1 - y², y(1 - y), ...): forming f' costs up to ~2u
            // of max(1, |f'|) (cancellation near |y| = 1), so 4u·|dy|·max(1, |f'|) on top of 16 ulp of the
            // result; softmax also subtracts a row dot product of width C.
            const rel = ELEMENTWISE(wantD);
            const slope = (j: number) => Math.max(1, Math.abs(wantD.data[j] / dy.data[j]) || 0);
            const tol = name === 'softmax' ? (j: number) => 4 * x.shape[1] * U32 * (Math.abs(dy.data[j]) + 1) : (j: number) => rel(j) + 4 * U32 * Math.abs(dy.data[j]) * slope(j);
            expectClose(run(() => bwd(dy, x, want)), wantD, tol, `${name}Backward #${i}`);
          }
        }
      });

      it('softmax cross-entropy, sparse and dense, including huge logits', () => {
        for (let i = 0; i < CASES; i++) {
          const n = 1 + (i % 9) * 7;
          const c = 2 + ((i * 13) % 30);
          const logits = randomNormal([n, c], { seed: 9900 + i, stddev: i % 10 === 0 ? 500 : 3 });
          const labels = Int32Array.from({ length: n }, (_, r) => (r * 7 + i) % c);
          const targets = ref(() => ops.softmax(randomUniform([n, c], { seed: 9950 + i, maxval: 4 })));
          for (const lab of [labels, targets]) {
            const want = ref(() => ops.softmaxCrossEntropy(logits, lab));
            const got = run(() => ops.softmaxCrossEntropy(logits, lab));
            // loss: a mean of log-sum-exp terms, each good to ~C ulp of its magnitude
            const lossTol = 4 * c * U32 * Math.max(1, Math.abs(want.loss) + 10);
            expect(Math.abs(got.loss - want.loss), `loss #${i}`).toBeLessThanOrEqual(lossTol);
            expectClose(got.grad, want.grad, (4 * c * U32) / n, `grad #${i}`);
          }
        }
      });
    });
  }

  it('results are bit-identical at 1 and 2 threads', () => {
    const [v1, v2] = nativeVariants();
    for (const c of convs.slice(-6)) {
      const go = (v: typeof v1) => {
        useNativeVariant(v);
        return nat(() => [ops.conv2d(c.x, c.w, c.fused), ops.conv2dBackwardInput(c.dy(), c.w, c.xShape, c.opts), ops.conv2dBackwardFilter(c.x, c.dy(), c.fShape, c.opts)]);
      };
      const a = go(v1);
      const b = go(v2);
      a.forEach((t, j) => expect(Array.from(b[j].data), `${c.label} output ${j}`).toEqual(Array.from(t.data)));
    }
  });
});

