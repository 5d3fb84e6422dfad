import { Tensor } from '../../tensor.js';
import { alloc } from './util.js';

/** A rounding to x's dtype: float32 arithmetic done in double, each result rounded as the kernels round it. */
const rounder = (x: Tensor): ((v: number) => number) => (x.data instanceof Float32Array ? Math.fround : (v) => v);

export function channelMoments(x: Tensor): Tensor {
  const c = x.shape[x.rank - 1];
  const rows = x.size / c;
  const out = new Float64Array(2 * c);
  for (let i = 0; i < x.size; i++) out[i % c] += x.data[i];
  for (let k = 0; k < c; k++) out[k] /= rows;
  for (let i = 0; i < x.size; i++) {
    const d = x.data[i] - out[i % c];
    out[c + (i % c)] += d * d;
  }
  for (let k = 0; k < c; k++) out[c + k] /= rows;
  return new Tensor(out, [2, c]);
}

export function channelSums(a: Tensor, b: Tensor | undefined): Tensor {
  const c = a.shape[a.rank - 1];
  const out = new Float64Array(2 * c);
  for (let i = 0; i < a.size; i++) {
    out[i % c] += a.data[i];
    if (b) out[c + (i % c)] += a.data[i] * b.data[i];
  }
  return new Tensor(out, [2, c]);
}

export function channelAffine(x: Tensor, s: Tensor, t: Tensor): Tensor {
  const r = rounder(x);
  const c = s.size;
  const y = alloc(x, x.size);
  for (let i = 0; i < x.size; i++) y[i] = r(r(x.data[i] * s.data[i % c]) + t.data[i % c]);
  return new Tensor(y, x.shape);
}

export function channelAffine2(a: Tensor, b: Tensor, sa: Tensor, sb: Tensor, t: Tensor): Tensor {
  const r = rounder(a);
  const c = sa.size;
  const y = alloc(a, a.size);
  for (let i = 0; i < a.size; i++) y[i] = r(r(r(a.data[i] * sa.data[i % c]) + r(b.data[i] * sb.data[i % c])) + t.data[i % c]);
  return new Tensor(y, a.shape);
}
