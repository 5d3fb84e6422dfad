// `out`: matmul and the conv2d passes write into a tensor the caller gives, returning it, with exactly the values
// of the call without it; an out of another shape or dtype, or sharing an input's memory, is refused by name.
import { describe, expect, it } from 'vitest';
import { ConvkitError, ops, randomNormal, setBackend, Tensor, zeros } from '../../src/index.js';
import { nativeAvailable } from '../helpers/backends.js';

const x = randomNormal([2, 9, 7, 5], { seed: 1 });
const w = randomNormal([3, 3, 5, 6], { seed: 2 });
const conv = { strides: 2, padding: 'same' as const };
const dy = randomNormal(ops.conv2dOutputShape(x.shape, w.shape, conv), { seed: 3 });
const a = randomNormal([18, 35], { seed: 4 });
const b = randomNormal([35, 6], { seed: 5 });
const bias = randomNormal([6], { seed: 6 });

type Call = (out?: Tensor) => Tensor;
const calls: [string, Call, Call][] = [
  ['matmul', (out) => ops.matmul(a, b, { bias, activation: 'relu', out }), (out) => ops.matmul(a, b, { bias, activation: 'relu', out })],
  ['conv2d', (out) => ops.conv2d(x, w, { ...conv, bias, activation: 'tanh', out }), (out) => ops.conv2d(x, w, { ...conv, bias, activation: 'tanh', out })],
  ['conv2dBackwardInput', (out) => ops.conv2dBackwardInput(dy, w, x.shape, { ...conv, out }), (out) => ops.conv2dBackwardInput(dy, w, x.shape, { ...conv, out })],
  ['conv2dBackwardFilter', (out) => ops.conv2dBackwardFilter(x, dy, w.shape, { ...conv, out }), (out) => ops.conv2dBackwardFilter(x, dy, w.shape, { ...conv, out })],
];
const asyncCalls: Record<string, (out: Tensor) => Promise<Tensor>> = {
  matmul: (out) => ops.matmulAsync(a, b, { bias, activation: 'relu', out }),
  conv2d: (out) => ops.conv2dAsync(x, w, { ...conv, bias, activation: 'tanh', out }),
  conv2dBackwardInput: (out) => ops.conv2dBackwardInputAsync(dy, w, x.shape, { ...conv, out }),
  conv2dBackwardFilter: (out) => ops.conv2dBackwardFilterAsync(x, dy, w.shape, { ...conv, out }),
};

describe('ops with out', () => {
  for (const backend of ['reference', 'native'] as const) {
    describe.skipIf(backend === 'native' && !nativeAvailable)(backend, () => {
      for (const [name, call] of calls) {
        it(`${name} writes into out, overwriting what was there, and returns it`, async () => {
          setBackend(backend);
          const want = call();
          const out = new Tensor(new Float32Array(want.size).fill(Number.NaN), want.shape);
          expect(call(out)).toBe(out);
          expect(Array.from(out.data)).toEqual(Array.from(want.data));
          out.data.fill(7);
          expect(await asyncCalls[name](out)).toBe(out);
          expect(Array.from(out.data)).toEqual(Array.from(want.data));
        });
      }
    });
  }

  it('refuses an out of another shape, another dtype, or not a tensor, naming the op and the field', () => {
    setBackend('reference');
    expect(() => ops.conv2d(x, w, { ...conv, out: zeros([2, 5, 4, 5]) })).toThrow(/conv2d: .*out/);
    expect(() => ops.matmul(a, b, { out: zeros([18, 6], 'float64') })).toThrow(/matmul: expected out of dtype float32 but received float64/);
    expect(() => ops.matmul(a, b, { out: new Float32Array(108) as unknown as Tensor })).toThrow(ConvkitError);
  });

  it('refuses an out that shares memory with an input: the kernel reads its inputs while it writes', () => {
    setBackend('reference');
    const storage = new Float32Array(18 * 35 + 18 * 6);
    const a2 = new Tensor(storage.subarray(0, 18 * 35), [18, 35]);
    a2.data.set(a.data);
    const apart = new Tensor(storage.subarray(18 * 35), [18, 6]);
    expect(ops.matmul(a2, b, { out: apart })).toBe(apart); // the same buffer, disjoint ranges: allowed
    const overlapping = new Tensor(storage.subarray(18 * 35 - 1, 18 * 35 - 1 + 108), [18, 6]);
    expect(() => ops.matmul(a2, b, { out: overlapping })).toThrow(/matmul: expected out sharing no memory with a/);
    const y = ops.conv2d(x, w, conv);
    expect(() => ops.conv2d(x, w, { ...conv, residual: y, out: y })).toThrow(/conv2d: expected out sharing no memory with residual/);
    expect(() => ops.conv2dBackwardFilter(x, dy, w.shape, { ...conv, out: w.reshape(w.shape) })).not.toThrow();
  });

  it.skipIf(!nativeAvailable)('an output of 32 MiB and more (advised to huge pages) holds what a small one does, every row of it', () => {
    setBackend('native');
    // 2 x 1024 x 1024 x 4 channels: 32 MiB exactly, the threshold; each image's rows are copies of one row
    const row = randomNormal([1, 1, 1024, 4], { seed: 7 });
    const big = new Tensor(new Float32Array(2 * 1024 * 1024 * 4), [2, 1024, 1024, 4]);
    for (let i = 0; i < 2 * 1024; i++) big.data.set(row.data, i * row.size);
    const k = randomNormal([1, 1, 4, 4], { seed: 8 });
    const y = ops.conv2d(big, k, { activation: 'relu' });
    expect(y.data.byteLength).toBe(32 << 20);
    const want = ops.conv2d(row, k, { activation: 'relu' }).data;
    for (let i = 0; i < 2 * 1024; i++) expect(y.data.subarray(i * want.length, (i + 1) * want.length)).toEqual(want);
  });
});
