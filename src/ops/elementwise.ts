/**
 * Elementwise and layout ops: dropout (its mask drawn from a seed, the same on both backends), the binary ops of
 * merge layers and their gradients, scaling, concatenation and slicing along an axis, and the finiteness scan.
 */
import { backend } from '../backend/index.js';
import { describe, fail } from '../errors.js';
import { Tensor, zeros } from '../tensor.js';
import type { BinaryKind } from '../backend/types.js';
import { checkSameDtype, checkShapeEquals, checkTensor, finiteNumber } from '../validate.js';
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

function binaryRequest(kind: BinaryKind, where: string, a: Tensor, b: Tensor): OpRequest {
  checkTensor(where, 'a', a);
  checkTensor(where, 'b', b);
  checkSameDtype(where, a, b, ['a', 'b']);
  checkShapeEquals(where, 'b', b.shape, a.shape);
  return kernelRequest('binary', [kind, a, b], { shape: a.shape, dtype: a.dtype });
}

/** a + b elementwise. @throws ConvkitError unless a and b have one shape and dtype. */
export const addOp = defineOp((a: Tensor, b: Tensor) => binaryRequest('add', 'add', a, b));
/** a - b elementwise. */
export const subtractOp = defineOp((a: Tensor, b: Tensor) => binaryRequest('sub', 'subtract', a, b));
/** a * b elementwise. */
export const multiplyOp = defineOp((a: Tensor, b: Tensor) => binaryRequest('mul', 'multiply', a, b));
/** max(a, b) elementwise, NaN where either is. */
export const maximumOp = defineOp((a: Tensor, b: Tensor) => binaryRequest('max', 'maximum', a, b));
/** min(a, b) elementwise, NaN where either is. */
export const minimumOp = defineOp((a: Tensor, b: Tensor) => binaryRequest('min', 'minimum', a, b));

/**
 * The gradient of maximum(a, b) (kind 'max') or minimum: returns da, dy where a gave the result (ties and
 * NaNs included) and 0 elsewhere, and writes db, dy where b did.
 */
export const routeOp = defineOp((kind: 'max' | 'min', dy: Tensor, a: Tensor, b: Tensor, db: Tensor): OpRequest => {
  const where = kind === 'max' ? 'maximumBackward' : 'minimumBackward';
  for (const [t, name] of [[dy, 'dy'], [a, 'a'], [b, 'b'], [db, 'db']] as const) {
    checkTensor(where, name, t);
    checkSameDtype(where, dy, t, ['dy', name]);
    checkShapeEquals(where, name, t.shape, dy.shape);
  }
  return kernelRequest('binaryRoute', [kind, dy, a, b, db], { shape: dy.shape, dtype: dy.dtype });
});

/** The gradients of maximum(a, b) with respect to a and b: dy routed to whichever gave each result. */
export function maximumBackward(dy: Tensor, a: Tensor, b: Tensor): { da: Tensor; db: Tensor } {
  const db = zeros(dy.shape, dy.dtype);
  return { da: routeOp.now('max', dy, a, b, db), db };
}
/** The gradients of minimum(a, b) with respect to a and b. */
export function minimumBackward(dy: Tensor, a: Tensor, b: Tensor): { da: Tensor; db: Tensor } {
  const db = zeros(dy.shape, dy.dtype);
  return { da: routeOp.now('min', dy, a, b, db), db };
}

/** x * c elementwise. */
export const scaleOp = defineOp((x: Tensor, c: number): OpRequest => {
  checkTensor('scale', 'x', x);
  return kernelRequest('scale', [x, finiteNumber('scale', 'c', c)], { shape: x.shape, dtype: x.dtype });
});

/** axis (negative counts from the end) as an index into a shape of `rank`. */
export function normalizeAxis(where: string, axis: unknown, rank: number): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -rank || axis >= rank) fail(where, `axis to be an integer in [${-rank}, ${rank})`, describe(axis));
  return axis < 0 ? axis + rank : axis;
}

/**
 * The tensors joined along `axis` (default the last): their shapes must be equal except there.
 * @example ops.concatenate([a, b], -1) // channels of a, then channels of b
 * @throws ConvkitError for fewer than one tensor, mixed ranks or dtypes, or shapes that differ elsewhere.
 */
export const concatenateOp = defineOp((xs: readonly Tensor[], axis = -1): OpRequest => {
  const where = 'concatenate';
  if (!Array.isArray(xs) || xs.length === 0) fail(where, 'a non-empty array of tensors', describe(xs));
  xs.forEach((x, i) => checkTensor(where, `xs[${i}]`, x));
  const rank = xs[0].rank;
  const a = normalizeAxis(where, axis, rank);
  const shape = [...xs[0].shape];
  for (let i = 1; i < xs.length; i++) {
    const x = xs[i];
    checkSameDtype(where, xs[0], x, ['xs[0]', `xs[${i}]`]);
    if (x.rank !== rank || x.shape.some((d: number, k: number) => k !== a && d !== shape[k])) {
      fail(where, `xs[${i}] of shape [${shape.map((d, k) => (k === a ? '*' : d)).join(', ')}] (all equal but along axis ${a})`, `[${x.shape.join(', ')}]`);
    }
    shape[a] += x.shape[a];
  }
  return kernelRequest('concat', [xs, a], { shape, dtype: xs[0].dtype });
});

/** x's entries [begin, begin + size) along `axis`: the backward of concatenate. */
export const sliceAxisOp = defineOp((x: Tensor, axis: number, begin: number, size: number): OpRequest => {
  const where = 'sliceAxis';
  checkTensor(where, 'x', x);
  const a = normalizeAxis(where, axis, x.rank);
  if (!Number.isInteger(begin) || !Number.isInteger(size) || begin < 0 || size < 1 || begin + size > x.shape[a]) {
    fail(where, `begin >= 0 and size >= 1 with begin + size <= ${x.shape[a]} (x's size along axis ${a})`, `begin ${describe(begin)}, size ${describe(size)}`);
  }
  const shape = [...x.shape];
  shape[a] = size;
  return kernelRequest('slice', [x, a, begin], { shape, dtype: x.dtype });
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
