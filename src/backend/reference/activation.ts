import type { ActivationKind, UnaryKind } from '../types.js';
import { Tensor } from '../../tensor.js';
import { alloc } from './util.js';

export function activate(kind: ActivationKind, v: number, alpha: number): number {
  switch (kind) {
    case 'relu':
      return v > 0 ? v : 0;
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

/** f'(.) from x for relu/leakyRelu/elu, from y for sigmoid/tanh. */
function derivative(kind: UnaryKind, s: number, alpha: number): number {
  switch (kind) {
    case 'relu':
      return s > 0 ? 1 : 0;
    case 'leakyRelu':
      return s > 0 ? 1 : alpha;
    case 'elu':
      return s > 0 ? 1 : alpha * Math.exp(s);
    case 'sigmoid':
      return s * (1 - s);
    case 'tanh':
      return 1 - s * s;
  }
}

export function unary(kind: UnaryKind, x: Tensor, alpha: number): Tensor {
  const y = alloc(x, x.size);
  for (let i = 0; i < x.size; i++) y[i] = activate(kind, x.data[i], alpha);
  return new Tensor(y, x.shape);
}

export function unaryBackward(kind: UnaryKind, dy: Tensor, saved: Tensor, alpha: number): Tensor {
  const dx = alloc(dy, dy.size);
  for (let i = 0; i < dy.size; i++) dx[i] = dy.data[i] * derivative(kind, saved.data[i], alpha);
  return new Tensor(dx, dy.shape);
}
