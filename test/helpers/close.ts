import { Tensor } from '../../src/tensor.js';

/** float32 unit roundoff. */
export const U32 = 2 ** -24;

/**
 * Asserts |actual - expected| <= tol(i) element by element and, on failure, names the worst element by
 * index and coordinates. `tol` is a number (the same bound everywhere) or a per-element bound.
 */
export function expectClose(actual: Tensor, expected: Tensor, tol: number | ((i: number) => number), what = ''): void {
  const shape = expected.shape.join(',');
  if (actual.shape.join(',') !== shape) throw new Error(`${what}: shape [${actual.shape}] != expected [${shape}]`);
  let worst = -1;
  let worstRatio = 1;
  for (let i = 0; i < expected.size; i++) {
    const a = actual.data[i];
    const b = expected.data[i];
    const t = typeof tol === 'number' ? tol : tol(i);
    const d = Math.abs(a - b);
    if (!(d <= t)) {
      const ratio = Number.isNaN(d) ? Infinity : d / t;
      if (ratio >= worstRatio) {
        worstRatio = ratio;
        worst = i;
      }
    }
  }
  if (worst >= 0) {
    const t = typeof tol === 'number' ? tol : tol(worst);
    throw new Error(
      `${what}: element ${worst} at [${coords(expected.shape, worst)}] is ${actual.data[worst]}, expected ${expected.data[worst]} ` +
        `(|diff| ${Math.abs(actual.data[worst] - expected.data[worst]).toExponential(3)} > tol ${t.toExponential(3)}, ${worstRatio.toFixed(1)}x)`,
    );
  }
}

export function coords(shape: readonly number[], flat: number): number[] {
  const out: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    out.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return out;
}

/**
 * Bound for a float32 result that is a sum of K products: (2·sqrt(K) + 2)·u·Σ|a||b|, where `absScale`
 * holds Σ|a||b| per element (the same op applied to absolute values, in float64). A float32 sum of K terms
 * in any order errs by at most K·u·Σ|terms| in the worst case and by about sqrt(K)·u·Σ|terms| for
 * rounding errors of random sign; the +2 covers the final rounding of each operand and result.
 */
export function dotTolerance(absScale: Tensor, k: number): (i: number) => number {
  const f = (2 * Math.sqrt(k) + 2) * U32;
  return (i) => f * absScale.data[i] + 1e-30;
}

/** |t|, in t's dtype (exact: only the sign changes). */
export function abs(t: Tensor): Tensor {
  return new Tensor(t.data.map(Math.abs), t.shape);
}
