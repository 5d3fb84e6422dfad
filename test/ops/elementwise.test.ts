// The elementwise and layout ops of merge layers (add, subtract, multiply, maximum, minimum and their
// gradients, scale, concatenate, sliceAxis): native against reference on randomized shapes under every ISA and
// thread count, exactly (each output element is one rounding of the same float32 operation, or a copy), hand
// anchors, async twins, and bad arguments.
import { describe, expect, it } from 'vitest';
import { ConvkitError, ops, randomNormal, Rng, Tensor, withBackend } from '../../src/index.js';
import { nativeAvailable, nativeVariants, useNativeVariant } from '../helpers/backends.js';

const ref = <T>(fn: () => T): T => withBackend('reference', fn);
const nat = <T>(fn: () => T): T => withBackend('native', fn);
const bits = (t: Tensor): number[] => Array.from(t.data);

const rng = new Rng(77);
const shapes = Array.from({ length: 12 }, () => {
  const rank = 1 + Math.floor(rng.uniform(0, 4));
  return Array.from({ length: rank }, () => 1 + Math.floor(rng.uniform(0, 9)));
});

describe('elementwise and layout ops', () => {
  it('hand anchors: concatenate, sliceAxis, maximum with NaN, routes, scale', () => {
    for (const b of ['reference', ...(nativeAvailable ? ['native' as const] : [])] as const) {
      withBackend(b, () => {
        const a = new Tensor(Float32Array.of(1, 2, 3, 4), [2, 2]);
        const c = new Tensor(Float32Array.of(5, 6), [2, 1]);
        expect(bits(ops.concatenate([a, c], -1))).toEqual([1, 2, 5, 3, 4, 6]);
        expect(bits(ops.concatenate([a, a], 0))).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
        expect(bits(ops.sliceAxis(ops.concatenate([a, c], 1), 1, 2, 1))).toEqual([5, 6]);
        const m = ops.maximum(new Tensor(Float32Array.of(1, NaN, 3, 2), [4]), new Tensor(Float32Array.of(2, 1, NaN, 2), [4]));
        expect(bits(m)).toEqual([2, NaN, NaN, 2]);
        const { da, db } = ops.maximumBackward(new Tensor(Float32Array.of(1, 1, 1, 1), [4]), new Tensor(Float32Array.of(1, 5, 3, 2), [4]), new Tensor(Float32Array.of(2, 1, 3, NaN), [4]));
        expect([bits(da), bits(db)]).toEqual([[0, 1, 1, 1], [1, 0, 0, 0]]); // ties and NaNs go to a
        expect(bits(ops.scale(a, -0.5))).toEqual([-0.5, -1, -1.5, -2]);
      });
    }
  });

  for (const v of nativeVariants()) {
    it(`native equals reference exactly (${v.label})`, async () => {
      useNativeVariant(v);
      for (const [i, shape] of shapes.entries()) {
        const a = randomNormal(shape, { seed: 10 + i });
        const b = randomNormal(shape, { seed: 30 + i });
        b.data[0] = a.data[0]; // a tie
        const dy = randomNormal(shape, { seed: 50 + i });
        for (const op of ['add', 'subtract', 'multiply', 'maximum', 'minimum'] as const) {
          expect(bits(nat(() => ops[op](a, b))), `${op} ${shape}`).toEqual(bits(ref(() => ops[op](a, b))));
        }
        for (const back of ['maximumBackward', 'minimumBackward'] as const) {
          const want = ref(() => ops[back](dy, a, b));
          const got = nat(() => ops[back](dy, a, b));
          expect([bits(got.da), bits(got.db)], `${back} ${shape}`).toEqual([bits(want.da), bits(want.db)]);
        }
        expect(bits(nat(() => ops.scale(a, 0.37))), `scale ${shape}`).toEqual(bits(ref(() => ops.scale(a, 0.37))));
        for (let axis = 0; axis < shape.length; axis++) {
          const other = [...shape];
          other[axis] = 1 + ((i + axis) % 5);
          const c = randomNormal(other, { seed: 70 + i });
          const want = ref(() => ops.concatenate([a, c, b], axis));
          expect(bits(nat(() => ops.concatenate([a, c, b], axis))), `concat ${shape} axis ${axis}`).toEqual(bits(want));
          expect(bits(await nat(() => ops.concatenateAsync([a, c, b], axis))), `concatAsync ${shape} axis ${axis}`).toEqual(bits(want));
          const back = nat(() => ops.sliceAxis(want, axis, shape[axis], other[axis]));
          expect(bits(back), `slice ${shape} axis ${axis}`).toEqual(bits(c));
          expect(bits(back)).toEqual(bits(ref(() => ops.sliceAxis(want, axis, shape[axis], other[axis]))));
        }
        expect(bits(await nat(() => ops.addAsync(a, b))), `addAsync ${shape}`).toEqual(bits(ref(() => ops.add(a, b))));
      }
    });
  }

  it('bad arguments are ConvkitErrors naming the op and argument', () => {
    const a = randomNormal([2, 3], { seed: 1 });
    const expectError = (fn: () => unknown, msg: RegExp) => {
      expect(fn).toThrow(ConvkitError);
      expect(fn).toThrow(msg);
    };
    expectError(() => ops.add(a, randomNormal([3, 2], { seed: 2 })), /^add: expected b of shape \[2, 3\] but received \[3, 2\]/);
    expectError(() => ops.concatenate([a, randomNormal([3, 3], { seed: 2 })], 1), /^concatenate: expected xs\[1\] of shape \[2, \*\] \(all equal but along axis 1\) but received \[3, 3\]/);
    expectError(() => ops.concatenate([a], 2), /^concatenate: expected axis to be an integer in \[-2, 2\) but received 2/);
    expectError(() => ops.concatenate([], 0), /^concatenate: expected a non-empty array of tensors/);
    expectError(() => ops.sliceAxis(a, 1, 2, 2), /^sliceAxis: expected begin >= 0 and size >= 1 with begin \+ size <= 3/);
  });
});
