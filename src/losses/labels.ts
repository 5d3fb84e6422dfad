import { describe, fail } from '../errors.js';
import { firstNonFinite, type Labels } from '../ops/index.js';
import { sizeOf, Tensor, zeros, type DType } from '../tensor.js';

export type { Labels };

/** How many samples a label set describes. */
export function labelCount(where: string, y: Labels): number {
  if (y instanceof Tensor) return y.shape[0];
  if (Array.isArray(y) || y instanceof Int32Array || y instanceof Uint8Array || y instanceof Uint16Array) return y.length;
  return fail(where, 'labels as class ids (Int32Array, Uint8Array, number[]) or a Tensor (one-hot or targets)', describe(y));
}

/**
 * Checks label values before they are gathered into batches (an Int32Array copy would truncate 0.5 to 0):
 * class ids must be non-negative integers (soft or probability targets go in a Tensor), and a target tensor
 * must be finite unless `finite` is false.
 * @throws ConvkitError naming the first bad label and its value.
 */
export function checkLabelValues(where: string, y: Labels, finite: boolean): void {
  if (y instanceof Tensor) {
    if (finite) checkFinite(where, 'labels', y);
    return;
  }
  if (y instanceof Uint8Array || y instanceof Uint16Array) return;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!Number.isInteger(v) || v < 0) fail(where, `labels[${i}] to be a class id (a non-negative integer; soft targets go in a Tensor)`, describe(v));
  }
}

/**
 * Throws unless every value of t is finite, naming the tensor, the first bad element's coordinates and value.
 * @throws ConvkitError `fit: expected x to be finite but received NaN at x[12, 3, 4, 0] ...`
 */
export function checkFinite(where: string, name: string, t: Tensor): void {
  const bad = firstNonFinite(t);
  if (bad < 0) return;
  const at: number[] = [];
  for (let d = t.rank - 1, rest = bad; d >= 0; d--) {
    at.unshift(rest % t.shape[d]);
    rest = Math.floor(rest / t.shape[d]);
  }
  fail(where, `${name} to be finite`, `${t.data[bad]} at ${name}[${at.join(', ')}] (clean the data, or compile with checkFinite: false to skip this check)`);
}

/** The labels of samples `indices` (rows of a tensor, entries of an id array), as a copy. */
export function gatherLabels(y: Labels, indices: ArrayLike<number>): Labels {
  if (y instanceof Tensor) return gatherRows(y, indices);
  const out = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = y[indices[i]];
  return out;
}

/** Rows `indices` of the first axis of x, as a new tensor. */
export function gatherRows(x: Tensor, indices: ArrayLike<number>): Tensor {
  const row = x.size / x.shape[0];
  const out = zeros([indices.length, ...x.shape.slice(1)], x.dtype);
  for (let i = 0; i < indices.length; i++) out.data.set(x.data.subarray(indices[i] * row, (indices[i] + 1) * row), i * row);
  return out;
}

/** Class ids from an id array or a one-hot (N,C) tensor (its argmax). */
export function classIds(where: string, y: Labels, n: number, classes: number): Int32Array {
  if (labelCount(where, y) !== n) fail(where, `${n} labels (one per prediction row)`, describe(labelCount(where, y)));
  if (y instanceof Tensor) {
    if (y.size !== n * classes) fail(where, `one-hot labels of shape [${n}, ${classes}]`, `[${y.shape.join(', ')}]`);
    return argmaxRows(y.data, n, classes);
  }
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes) fail(where, `labels[${i}] to be a class id in [0, ${classes})`, describe(v));
    ids[i] = v;
  }
  return ids;
}

/**
 * Targets as a tensor of `shape` and `dtype`: a tensor (of that size, n rows) is checked and cast; class ids
 * become one-hot rows (for predictions of shape [n, c] or [n]).
 */
export function denseTargets(where: string, y: Labels, shape: readonly number[], dtype: DType): Tensor {
  const n = shape[0];
  const c = shape.length > 1 ? shape[shape.length - 1] : 1;
  if (y instanceof Tensor) {
    if (y.size !== sizeOf(shape) || y.shape[0] !== n) fail(where, `targets of shape [${shape.join(', ')}]`, `[${y.shape.join(', ')}]`);
    return y.cast(dtype).reshape(shape);
  }
  if (shape.length > 2) fail(where, `targets as a tensor of shape [${shape.join(', ')}] (class ids label rows of [N, classes] predictions)`, 'class ids');
  const t = zeros(shape, dtype);
  if (c === 1) {
    if (labelCount(where, y) !== n) fail(where, `${n} labels`, describe(labelCount(where, y)));
    for (let i = 0; i < n; i++) t.data[i] = y[i];
    return t;
  }
  const ids = classIds(where, y, n, c);
  for (let i = 0; i < n; i++) t.data[i * c + ids[i]] = 1;
  return t;
}

/** The index of the largest value of each row of an (n, c) array (the first on ties). */
export function argmaxRows(data: ArrayLike<number>, n: number, c: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (data[i * c + j] > data[i * c + best]) best = j;
    out[i] = best;
  }
  return out;
}
