import { expect } from 'vitest';
import { Tensor, randomNormal } from '../../src/tensor.js';

/**
 * Central-difference gradient check in float64. L(inputs) = sum(f(inputs) * r) for a fixed random r,
 * so dL/doutput = r; `analytic` must return dL/dinput for that upstream gradient. Every element is
 * perturbed by ±h; with h = 1e-5 in float64 the truncation error is O(h²) ≈ 1e-10 and the rounding
 * error ≈ 1e-16/h ≈ 1e-11, so a relative tolerance of 1e-6 fails any real mistake and nothing else.
 */
export function gradcheck(
  f: (x: Tensor) => Tensor,
  x: Tensor,
  analytic: (x: Tensor, dy: Tensor) => Tensor,
  opts: { seed?: number; h?: number; tol?: number } = {},
): void {
  if (x.dtype !== 'float64') throw new Error('gradcheck: inputs must be float64');
  const h = opts.h ?? 1e-5;
  const tol = opts.tol ?? 1e-6;
  const y0 = f(x);
  const r = randomNormal(y0.shape, { seed: opts.seed ?? 7, dtype: 'float64' });
  const loss = (t: Tensor): number => {
    const y = f(t);
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i] * r.data[i];
    return s;
  };
  const dx = analytic(x, r);
  expect(dx.shape).toEqual(x.shape);
  let checked = 0;
  for (let i = 0; i < x.size; i++) {
    const save = x.data[i];
    x.data[i] = save + h;
    const lp = loss(x);
    x.data[i] = save - h;
    const lm = loss(x);
    x.data[i] = save;
    const numeric = (lp - lm) / (2 * h);
    const a = dx.data[i];
    const err = Math.abs(a - numeric) / Math.max(1, Math.abs(a), Math.abs(numeric));
    if (err > tol) throw new Error(`gradcheck: element ${i}: analytic ${a}, numeric ${numeric} (rel err ${err.toExponential(2)})`);
    checked++;
  }
  expect(checked).toBe(x.size);
}

/** float64 values at least `gap` apart and at least gap/4 from 0, so ±h never flips a max or crosses relu's kink. */
export function distinctValues(shape: number[], seed: number, gap = 1e-3): Tensor {
  const t = randomNormal(shape, { seed, dtype: 'float64' });
  const n = t.size;
  const order = Array.from(t.data.keys()).sort((i, j) => t.data[i] - t.data[j]);
  order.forEach((idx, rank) => {
    t.data[idx] = (rank - (n - 1) / 2 + 0.25) * gap;
  });
  return t;
}
