import { NonFiniteError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import type { OptimizerStepInfo } from '../types.js';

/**
 * One optimizer step in place: the rules as plain loops, in float64 arithmetic, storing into the tensors'
 * own typed arrays (so float32 weights round there; the native kernel rounds at the same points).
 */
export function optimizerStep(w: Tensor, g: Tensor, slots: readonly Tensor[], s: OptimizerStepInfo): Tensor {
  const ws = w.data, gs = g.data;
  const [a, b] = [slots[0]?.data, slots[1]?.data];
  const { lr, scale, decay, momentum: mu, rho, epsilon } = s;
  if (decay !== 0) for (let i = 0; i < ws.length; i++) ws[i] -= decay * ws[i];
  switch (s.rule) {
    case 'sgd': // v = mu·v - lr·g; w += v (nesterov: w += mu·v - lr·g); without momentum w -= lr·g
      for (let i = 0; i < ws.length; i++) {
        const gi = gs[i] * scale;
        if (!a) {
          ws[i] -= lr * gi;
        } else {
          a[i] = mu * a[i] - lr * gi;
          ws[i] += s.nesterov ? mu * a[i] - lr * gi : a[i];
        }
      }
      break;
    case 'adam': // m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²; w -= lr·m / (sqrt(v) + epsilon)
      for (let i = 0; i < ws.length; i++) {
        const gi = gs[i] * scale;
        a![i] = s.beta1 * a![i] + (1 - s.beta1) * gi;
        b![i] = s.beta2 * b![i] + (1 - s.beta2) * gi * gi;
        ws[i] -= (lr * a![i]) / (Math.sqrt(b![i]) + epsilon);
      }
      break;
    case 'rmsprop': // v = rho·v + (1-rho)·g²; step = lr·g / sqrt(v + epsilon); with momentum m = mu·m + step; w -= m or step
      for (let i = 0; i < ws.length; i++) {
        const gi = gs[i] * scale;
        a![i] = rho * a![i] + (1 - rho) * gi * gi;
        const step = (lr * gi) / Math.sqrt(a![i] + epsilon);
        if (b) {
          b[i] = mu * b[i] + step;
          ws[i] -= b[i];
        } else {
          ws[i] -= step;
        }
      }
      break;
    case 'adagrad': // a += g²; w -= lr·g / sqrt(a + epsilon)
      for (let i = 0; i < ws.length; i++) {
        const gi = gs[i] * scale;
        a![i] += gi * gi;
        ws[i] -= (lr * gi) / Math.sqrt(a![i] + epsilon);
      }
      break;
    case 'adadelta': // a = rho·a + (1-rho)·g²; d = -sqrt(u + eps) / sqrt(a + eps)·g; u = rho·u + (1-rho)·d²; w += lr·d
      for (let i = 0; i < ws.length; i++) {
        const gi = gs[i] * scale;
        a![i] = rho * a![i] + (1 - rho) * gi * gi;
        const d = (-Math.sqrt(b![i] + epsilon) / Math.sqrt(a![i] + epsilon)) * gi;
        b![i] = rho * b![i] + (1 - rho) * d * d;
        ws[i] += lr * d;
      }
      break;
    case 'adamax': // m = b1·m + (1-b1)·g; u = max(b2·u, |g|); w -= lr·m / (u + epsilon)
      for (let i = 0; i < ws.length; i++) {
        const gi = gs[i] * scale;
        a![i] = s.beta1 * a![i] + (1 - s.beta1) * gi;
        b![i] = Math.max(s.beta2 * b![i], Math.abs(gi));
        ws[i] -= (lr * a![i]) / (b![i] + epsilon);
      }
      break;
    case 'nadam': { // m, v as adam's; w -= lr·(mCoef·m + gCoef·g) / (sqrt(vCoef·v) + epsilon)
      const [mc, gc, vc] = [s.mCoef ?? 0, s.gCoef ?? 0, s.vCoef ?? 0];
      for (let i = 0; i < ws.length; i++) {
        const gi = gs[i] * scale;
        a![i] = s.beta1 * a![i] + (1 - s.beta1) * gi;
        b![i] = s.beta2 * b![i] + (1 - s.beta2) * gi * gi;
        ws[i] -= (lr * (mc * a![i] + gc * gi)) / (Math.sqrt(b![i] * vc) + epsilon);
      }
      break;
    }
  }
  if (s.checkFinite !== false) {
    const bad = firstNonFinite(ws);
    if (bad >= 0) throw new NonFiniteError(`optimizerStep: the update left w non-finite (NaN or ±Infinity first at index ${bad})`, 'optimizerStep', bad);
  }
  return w;
}

/** The index of the first NaN or ±Inf in a, or -1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

