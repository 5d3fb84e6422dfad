import type { BinaryKind } from '../types.js';
import { Tensor, type Shape } from '../../tensor.js';
import { alloc } from './util.js';

const BINARY: Record<BinaryKind, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  max: Math.max, // NaN if either is
  min: Math.min,
};

export function binary(kind: BinaryKind, a: Tensor, b: Tensor): Tensor {
  const f = BINARY[kind];
  const y = alloc(a, a.size);
  for (let i = 0; i < a.size; i++) y[i] = f(a.data[i], b.data[i]);
  return new Tensor(y, a.shape);
}

/** da (returned) and db of max or min: a gives the result unless b beats it strictly (ties and NaNs go to a). */
export function binaryRoute(kind: 'max' | 'min', dy: Tensor, a: Tensor, b: Tensor, db: Tensor): Tensor {
  const da = alloc(dy, dy.size);
  for (let i = 0; i < dy.size; i++) {
    const bWins = kind === 'max' ? a.data[i] < b.data[i] : a.data[i] > b.data[i];
    da[i] = bWins ? 0 : dy.data[i];
    db.data[i] = bWins ? dy.data[i] : 0;
  }
  return new Tensor(da, dy.shape);
}

/** x * c, with c rounded to float32 for a float32 x (as the kernel takes it): one rounding of the same product. */
export function scale(x: Tensor, c: number): Tensor {
  const k = x.data instanceof Float32Array ? Math.fround(c) : c;
  const y = alloc(x, x.size);
  for (let i = 0; i < x.size; i++) y[i] = x.data[i] * k;
  return new Tensor(y, x.shape);
}

/** Elements before, along and after `axis`. */
function split(shape: Shape, axis: number): [number, number, number] {
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  return [outer, shape[axis], inner];
}

export function concat(xs: readonly Tensor[], axis: number, outShape: Shape): Tensor {
  const [outer, total, inner] = split(outShape, axis);
  const y = alloc(xs[0], outer * total * inner);
  let at = 0;
  for (const x of xs) {
    const [, n] = split(x.shape, axis);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < n * inner; k++) y[(o * total + at) * inner + k] = x.data[o * n * inner + k];
    }
    at += n;
  }
  return new Tensor(y, outShape);
}

export function slice(x: Tensor, axis: number, begin: number, outShape: Shape): Tensor {
  const [outer, total, inner] = split(x.shape, axis);
  const n = outShape[axis];
  const y = alloc(x, outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n * inner; k++) y[o * n * inner + k] = x.data[(o * total + begin) * inner + k];
  }
  return new Tensor(y, outShape);
}
