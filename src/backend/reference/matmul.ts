import type { Epilogue } from '../types.js';
import { Tensor } from '../../tensor.js';
import { activate } from './activation.js';
import { fromAccum } from './util.js';

/** a (M,K) [or (K,M) if tA] x b (K,N) [or (N,K) if tB] -> (M,N), float64 accumulation. */
export function matmul(a: Tensor, b: Tensor, tA: boolean, tB: boolean, ep?: Epilogue): Tensor {
  const m = tA ? a.shape[1] : a.shape[0];
  const k = tA ? a.shape[0] : a.shape[1];
  const n = tB ? b.shape[0] : b.shape[1];
  const A = a.data;
  const B = b.data;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A[tA ? p * m + i : i * k + p] * B[tB ? j * k + p : p * n + j];
      out[i * n + j] = s;
    }
  }
  return applyEpilogue(fromAccum(a, out, [m, n]), ep);
}

/** y = act(y * scale + bias + residual) over the last axis, in place on a fresh result. */
export function applyEpilogue(y: Tensor, ep?: Epilogue): Tensor {
  if (!ep) return y;
  const c = y.shape[y.rank - 1];
  const scale = ep.scale?.data;
  const bias = ep.bias?.data;
  const residual = ep.residual?.data;
  const act = ep.activation ?? 'linear';
  const d = y.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] * (scale ? scale[i % c] : 1) + (bias ? bias[i % c] : 0) + (residual ? residual[i] : 0);
    d[i] = activate(act, v, ep.alpha ?? 0);
  }
  return y;
}

export function biasAdd(x: Tensor, bias: Tensor): Tensor {
  return applyEpilogue(x.clone(), { bias });
}

export function biasGrad(dy: Tensor): Tensor {
  const c = dy.shape[dy.rank - 1];
  const acc = new Float64Array(c);
  for (let i = 0; i < dy.size; i++) acc[i % c] += dy.data[i];
  return fromAccum(dy, acc, [c]);
}
