import type { ActivationKind, UnaryKind } from '../types.js';
import { Rng } from '../../random.js';
import { Tensor } from '../../tensor.js';
import { alloc } from './util.js';

export function activate(kind: ActivationKind, v: number, alpha: number): number {
  switch (kind) {
    case 'relu':
      return v > 0 || Number.isNaN(v) ? v : 0;
    case 'leakyRelu':
      return v > 0 ? v : alpha * v;
    case 'elu':
      return v > 0 ? v : alpha * Math.expm1(v);
    case 'sigmoid':
      return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    case 'tanh':
      return Math.tanh(v);
    case 'linear':
      return v;
  }
}

/**
 * dy * f'(.), from x for relu/leakyRelu/elu, from y for sigmoid/tanh. The piecewise ones select a branch on
 * x > 0 (so dy passes or is scaled, and relu's zero branch stays 0 even for an infinite dy), as the kernels do.
 */
function gradient(kind: UnaryKind, dy: number, s: number, alpha: number): number {
  switch (kind) {
    case 'relu':
      return s > 0 ? dy : 0;
    case 'leakyRelu':
      return s > 0 ? dy : alpha * dy;
    case 'elu':
      return s > 0 ? dy : dy * (alpha * Math.exp(s));
    case 'sigmoid':
      return dy * (s * (1 - s));
    case 'tanh':
      return dy * (1 - s * s);
  }
}

export function unary(kind: UnaryKind, x: Tensor, alpha: number): Tensor {
  const y = alloc(x, x.size);
  for (let i = 0; i < x.size; i++) y[i] = activate(kind, x.data[i], alpha);
  return new Tensor(y, x.shape);
}

export function unaryBackward(kind: UnaryKind, dy: Tensor, saved: Tensor, alpha: number): Tensor {
  const dx = alloc(dy, dy.size);
  for (let i = 0; i < dy.size; i++) dx[i] = gradient(kind, dy.data[i], saved.data[i], alpha);
  return new Tensor(dx, dy.shape);
}

export function dropout(x: Tensor, rate: number, seed: number, mask: Tensor): Tensor {
  const rng = new Rng(seed);
  // draw >= rate * 2^32, compared exactly (next() is nextUint32() / 2^32); the mask value rounded to x's dtype
  const keepFrom = rate * 4294967296;
  const values = x.data instanceof Float32Array ? Float32Array.of(0, 1 / (1 - rate)) : Float64Array.of(0, 1 / (1 - rate));
  const y = alloc(x, x.size);
  for (let i = 0; i < x.size; i++) {
    const m = values[Number(rng.nextUint32() >= keepFrom)];
    mask.data[i] = m;
    y[i] = x.data[i] * m;
  }
  return new Tensor(y, x.shape);
}
