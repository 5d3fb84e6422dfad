// NaN and ±Inf go through every elementwise op, pooling, fused epilogue and loss the same way on both
// backends: the same positions are NaN, the same are +Inf or -Inf, and finite values agree within a loose
// bound (the vector exp saturates where the reference's underflows to a subnormal). A NaN propagates: an
// activation of NaN is NaN (relu included), so a NaN anywhere cannot hide behind a finite loss.
import { describe, expect, it } from 'vitest';
import { ops, Tensor, withBackend } from '../../src/index.js';
import type { UnaryKind } from '../../src/backend/types.js';
import { coords } from '../helpers/close.js';
import { nativeAvailable, nativeVariants, useNativeVariant } from '../helpers/backends.js';

const ref = <T>(fn: () => T): T => withBackend('reference', fn);
const nat = <T>(fn: () => T): T => withBackend('native', fn);

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -2.5, 30, -30, 100, -100, 1e-40, -1e-40];
const t = (values: number[], shape = [values.length]) => new Tensor(Float32Array.from(values), shape);
/** Every special value at every position of a 17-wide row (past one AVX-512 vector, with a tail). */
const row17 = (offset: number) => t(Array.from({ length: 17 }, (_, i) => SPECIALS[(i + offset) % SPECIALS.length]));

function expectSameNonFinite(got: Tensor, want: Tensor, what: string): void {
  expect(got.shape, what).toEqual(want.shape);
  for (let i = 0; i < want.size; i++) {
    const a = got.data[i];
    const b = want.data[i];
    const same = Number.isNaN(b) ? Number.isNaN(a) : !Number.isFinite(b) ? a === b : Math.abs(a - b) <= 1e-6 + 1e-5 * Math.abs(b);
    if (!same) throw new Error(`${what}: element ${i} at [${coords(want.shape, i)}] is ${a} natively, ${b} on the reference backend`);
  }
}

const KINDS: UnaryKind[] = ['relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh'];

describe.skipIf(!nativeAvailable)('NaN and ±Inf: native and reference agree', () => {
  for (const v of nativeVariants()) {
    describe(v.label, () => {
      const both = (what: string, fn: () => Tensor) => {
        const want = ref(fn);
        useNativeVariant(v);
        expectSameNonFinite(nat(fn), want, what);
      };

      it('activations propagate NaN (relu(NaN) is NaN, not 0) and saturate at ±Inf', () => {
        for (const kind of KINDS) for (const off of [0, 5]) both(`${kind}(x)`, () => ops.activation(kind, row17(off), 0.3));
        expect(nat(() => ops.relu(t([NaN]))).data[0]).toBeNaN();
        expect(ref(() => ops.relu(t([NaN]))).data[0]).toBeNaN();
      });

      it('activation gradients, every special dy against every special saved value', () => {
        const n = SPECIALS.length;
        const dy = t(Array.from({ length: n * n }, (_, i) => SPECIALS[Math.floor(i / n)]));
        const saved = t(Array.from({ length: n * n }, (_, i) => SPECIALS[i % n]));
        for (const kind of KINDS) both(`${kind} backward`, () => ops.activationBackward(kind, dy, saved, saved, 0.3));
      });

      it('softmax and its backward, rows with NaN or ±Inf and clean rows', () => {
        const rows = t([...row17(0).data, ...row17(3).data, ...Array.from({ length: 17 }, (_, i) => i - 8), ...[...row17(9).data].map((x) => (Number.isFinite(x) ? x : 1))], [4, 17]);
        both('softmax', () => ops.softmax(rows));
        both('softmaxBackward', () => ops.softmaxBackward(rows, ref(() => ops.softmax(rows))));
        const logits = t([...rows.data], [4, 17]);
        both('softmaxCrossEntropy grad', () => ops.softmaxCrossEntropy(logits, [0, 1, 2, 3]).grad);
        const loss = (b: 'native' | 'reference') => withBackend(b, () => ops.softmaxCrossEntropy(logits, [0, 1, 2, 3]).loss);
        expect(loss('native')).toBeNaN();
        expect(loss('reference')).toBeNaN();
      });

      it('biasAdd, multiply and dropout', () => {
        const x = t([...row17(0).data, ...row17(7).data], [2, 17]);
        const bias = row17(11);
        both('biasAdd', () => ops.biasAdd(x, bias));
        both('multiply', () => ops.multiply(x, t([...row17(4).data, ...row17(2).data], [2, 17])));
        both('dropout', () => ops.dropout(x, 0.5, 3).y);
      });

      it('matmul and conv2d with every fused activation', () => {
        // no large finite values: with them, where a sum overflows would depend on the order of the terms
        const vals = [NaN, Infinity, -Infinity, 0, 1, -1, 0.5, -2.5];
        const a = t(Array.from({ length: 5 * 19 }, (_, i) => (i % 7 === 0 ? vals[(i / 7) % vals.length] : ((i * 37) % 11) - 5)), [5, 19]);
        const b = t(Array.from({ length: 19 * 18 }, (_, i) => (i % 29 === 0 ? vals[(i / 29) % vals.length] : ((i * 13) % 7) - 3)), [19, 18]);
        for (const activation of [...KINDS, 'linear'] as const) {
          both(`matmul ${activation}`, () => ops.matmul(a, b, { activation, bias: row17(0).data.length ? t(Array.from({ length: 18 }, (_, i) => vals[i % vals.length])) : undefined }));
        }
        const x = t(Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => (i % 13 === 0 ? vals[(i / 13) % vals.length] : ((i * 7) % 5) - 2)), [2, 6, 6, 3]);
        const w = t(Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => ((i * 5) % 9) - 4), [3, 3, 3, 4]);
        for (const activation of [...KINDS, 'linear'] as const) both(`conv2d ${activation}`, () => ops.conv2d(x, w, { padding: 'same', activation }));
      });

      it('max, average and global pooling, forward and backward', () => {
        const x = t(Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => SPECIALS[(i * 7) % SPECIALS.length]), [2, 5, 5, 3]);
        const pool = { poolSize: 2, strides: 1, padding: 'same' as const };
        both('maxPool2d', () => ops.maxPool2d(x, pool));
        both('avgPool2d', () => ops.avgPool2d(x, pool));
        both('globalMaxPool2d', () => ops.globalMaxPool2d(x));
        both('globalAvgPool2d', () => ops.globalAvgPool2d(x));
        const dy = t(Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => SPECIALS[(i * 3) % SPECIALS.length]), [2, 5, 5, 3]);
        both('maxPool2dBackward', () => ops.maxPool2dBackward(dy, x, pool));
        both('avgPool2dBackward', () => ops.avgPool2dBackward(dy, x.shape, pool));
      });
    });
  }
});
