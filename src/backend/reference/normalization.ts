import type { GroupNormInfo } from '../types.js';
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

/**
 * Group normalization in double (two passes per group), rounded once into y's dtype; xhat and the statistics
 * written into the given tensors.
 */
export function groupNormForward(x: Tensor, gamma: Tensor | undefined, beta: Tensor | undefined, info: GroupNormInfo, xhat: Tensor | undefined, stats: Tensor): Tensor {
  const { n, s, g, k, epsilon } = info;
  const c = g * k;
  const y = alloc(x, x.size);
  const count = s * k;
  for (let i = 0; i < n; i++)
    for (let gi = 0; gi < g; gi++) {
      const at = (p: number, j: number): number => (i * s + p) * c + gi * k + j;
      let m = 0;
      for (let p = 0; p < s; p++) for (let j = 0; j < k; j++) m += x.data[at(p, j)];
      m /= count;
      let v = 0;
      for (let p = 0; p < s; p++) for (let j = 0; j < k; j++) v += (x.data[at(p, j)] - m) ** 2;
      const inv = 1 / Math.sqrt(v / count + epsilon);
      stats.data[i * g + gi] = m;
      stats.data[n * g + i * g + gi] = inv;
      for (let p = 0; p < s; p++)
        for (let j = 0; j < k; j++) {
          const h = (x.data[at(p, j)] - m) * inv;
          if (xhat) xhat.data[at(p, j)] = h;
          y[at(p, j)] = h * (gamma ? gamma.data[gi * k + j] : 1) + (beta ? beta.data[gi * k + j] : 0);
        }
    }
  return new Tensor(y, x.shape);
}

/** dx = inv (gamma dy - mean(gamma dy) - xhat mean(gamma dy xhat)) per group; paramSums = [sum dy, sum dy xhat] per channel. */
export function groupNormBackward(dy: Tensor, xhat: Tensor, gamma: Tensor | undefined, invStd: Tensor, info: GroupNormInfo, paramSums: Tensor | undefined): Tensor {
  const { n, s, g, k } = info;
  const c = g * k;
  const dx = alloc(dy, dy.size);
  const count = s * k;
  if (paramSums) paramSums.data.fill(0);
  for (let i = 0; i < n; i++)
    for (let gi = 0; gi < g; gi++) {
      const at = (p: number, j: number): number => (i * s + p) * c + gi * k + j;
      const gm = (j: number): number => (gamma ? gamma.data[gi * k + j] : 1);
      let m1 = 0;
      let m2 = 0;
      for (let p = 0; p < s; p++)
        for (let j = 0; j < k; j++) {
          const d = dy.data[at(p, j)];
          const h = xhat.data[at(p, j)];
          m1 += gm(j) * d;
          m2 += gm(j) * d * h;
          if (paramSums) {
            paramSums.data[gi * k + j] += d;
            paramSums.data[c + gi * k + j] += d * h;
          }
        }
      const inv = invStd.data[i * g + gi];
      for (let p = 0; p < s; p++)
        for (let j = 0; j < k; j++) dx[at(p, j)] = inv * (gm(j) * dy.data[at(p, j)] - m1 / count - xhat.data[at(p, j)] * (m2 / count));
    }
  return new Tensor(dx, dy.shape);
}
