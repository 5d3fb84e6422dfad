/** Elementwise ops: dropout (its mask drawn from a seed, the same on both backends), multiply, and the finiteness scan. */
import { backend } from '../backend/index.js';
import { describe, fail } from '../errors.js';
import { Tensor, zeros } from '../tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor } from '../validate.js';
import { defineOp, kernelRequest, type OpRequest } from './program.js';

/** Inverted dropout of x with a mask tensor the kernel fills (see `dropout`). */
export const dropoutOp = defineOp((x: Tensor, rate: number, seed: number, mask: Tensor): OpRequest => {
  const where = 'dropout';
  checkTensor(where, 'x', x);
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) fail(where, 'rate in [0, 1)', describe(rate));
  if (!Number.isInteger(seed) || seed < 0 || seed >= 4294967296) fail(where, 'seed to be an integer in [0, 2^32)', describe(seed));
  checkTensor(where, 'mask', mask);
  checkSameDtype(where, x, mask, ['x', 'mask']);
  checkShapeEquals(where, 'mask', mask.shape, x.shape);
  return kernelRequest('dropout', [x, rate, seed, mask], { shape: x.shape, dtype: x.dtype });
});

/**
 * Inverted dropout of x: each element is kept with probability 1 - rate and scaled by 1 / (1 - rate), else
 * zeroed. The mask is drawn from Rng(seed) (src/random.ts), element i from the i-th draw: the same seed gives
 * the same mask on either backend. `mask` (x's shape and dtype; allocated when not given) receives it, for
 * dropout's backward: multiply(dy, mask).
 * @example const { y, mask } = ops.dropout(x, 0.4, seed)
 * @throws ConvkitError for a rate outside [0, 1), a seed not an integer in [0, 2^32), or a mismatched mask.
 */
export function dropout(x: Tensor, rate: number, seed: number, mask?: Tensor): { y: Tensor; mask: Tensor } {
  const m = mask ?? (x instanceof Tensor ? zeros(x.shape, x.dtype) : undefined);
  return { y: dropoutOp.now(x, rate, seed, m as Tensor), mask: m as Tensor };
}

/** a * b elementwise. @throws ConvkitError unless a and b have one shape and dtype. */
export const multiplyOp = defineOp((a: Tensor, b: Tensor): OpRequest => {
  checkTensor('multiply', 'a', a);
  checkTensor('multiply', 'b', b);
  checkSameDtype('multiply', a, b, ['a', 'b']);
  checkShapeEquals('multiply', 'b', b.shape, a.shape);
  return kernelRequest('multiply', [a, b], { shape: a.shape, dtype: a.dtype });
});

/**
 * The index of the first NaN or ±Inf in x (flat, row-major), or -1 when every value is finite: one
 * vectorized pass on the native backend.
 * @example if (ops.firstNonFinite(x) >= 0) throw new Error('bad pixels')
 */
export function firstNonFinite(x: Tensor): number {
  if (!(x instanceof Tensor)) fail('firstNonFinite', 'x to be a Tensor', describe(x));
  return x.size === 0 ? -1 : backend().firstNonFinite(x);
}
