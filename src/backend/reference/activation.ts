import type { ActivationKind, UnaryKind } from '../types.js';
import { Rng } from '../../random.js';
import { Tensor } from '../../tensor.js';
import { alloc } from './util.js';

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const SQRT_2_OVER_PI = 0.7978845608028654;

/**
 * erfc in double: for 0 <= x < 3, 1 - erf(x) with erf from the series 2/sqrt(pi) e^(-x^2) sum (2x^2)^n x /
 * (2n+1)!!, whose terms are all positive (no cancellation; erfc(3) = 2e-5 loses only 5 of 16 digits to the
 * subtraction); beyond, its continued fraction, which converges fast there and keeps the tail's relative accuracy;
 * for x < 0, 2 - erfc(-x).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum);
  }
  if (x > 27) return 0;
  // erfc(x) = e^(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + ...))))), from the tail
  let f = x;
  for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

const sigmoid = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
const softplus = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

export function activate(kind: ActivationKind, v: number, alpha: number): number {
  switch (kind) {
    case 'relu':
      return v > 0 || Number.isNaN(v) ? v : 0;
    case 'leakyRelu':
      return v > 0 ? v : alpha * v;
    case 'elu':
      return v > 0 ? v : alpha * Math.expm1(v);
    case 'sigmoid':
      return sigmoid(v);
    case 'tanh':
      return Math.tanh(v);
    case 'relu6':
      return Number.isNaN(v) ? v : Math.min(6, Math.max(0, v));
    case 'hardSigmoid':
      return Number.isNaN(v) ? v : Math.min(1, Math.max(0, alpha * v + 0.5));
    case 'hardSwish':
      return Number.isNaN(v) ? v : (v * Math.min(6, Math.max(0, v + 3))) / 6;
    case 'swish':
      return v * sigmoid(v);
    case 'gelu':
      return 0.5 * v * erfc(-v / Math.SQRT2);
    case 'geluTanh':
      // (v / 2)(1 + tanh u) as v sigmoid(2u), which does not cancel in the left tail
      return v * sigmoid(2 * SQRT_2_OVER_PI * (v + 0.044715 * v * v * v));
    case 'softplus':
      return softplus(v);
    case 'softsign':
      return v / (1 + Math.abs(v));
    case 'selu':
      return SELU_SCALE * (v > 0 ? v : SELU_ALPHA * Math.expm1(v));
    case 'mish':
      return v * Math.tanh(softplus(v));
    case 'exponential':
      return Math.exp(v);
    case 'linear':
      return v;
  }
}

/**
 * dy * f'(.), from the saved output y for the kinds in FROM_OUTPUT, from the input x for the others. The
 * piecewise ones select a branch (so dy passes or is scaled, and a zero branch stays 0 even for an infinite
 * dy), as the kernels do.
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
    case 'relu6':
      return s > 0 && s < 6 ? dy : 0;
    case 'hardSigmoid':
      return s > 0 && s < 1 ? alpha * dy : 0;
    case 'hardSwish':
      return s < -3 ? 0 : s > 3 ? dy : dy * (s / 3 + 0.5);
    case 'swish': {
      const g = sigmoid(s);
      return dy * (g + s * g * (1 - g));
    }
    case 'gelu':
      return dy * (0.5 * erfc(-s / Math.SQRT2) + s * Math.exp(-0.5 * s * s) / Math.sqrt(2 * Math.PI));
    case 'geluTanh': {
      const u2 = 2 * SQRT_2_OVER_PI * (s + 0.044715 * s * s * s);
      const g = sigmoid(u2);
      return dy * (g + s * g * sigmoid(-u2) * 2 * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * s * s));
    }
    case 'softplus':
      return dy * sigmoid(s);
    case 'softsign':
      return dy / ((1 + Math.abs(s)) * (1 + Math.abs(s)));
    case 'selu':
      return SELU_SCALE * (s > 0 ? dy : dy * SELU_ALPHA * Math.exp(s));
    case 'mish': {
      const t = Math.tanh(softplus(s));
      return dy * (t + s * (1 - t * t) * sigmoid(s));
    }
    case 'exponential':
      return dy * s;
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
