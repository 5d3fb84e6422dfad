import type { Tensor } from '../../tensor.js';
import type { NativeAddon } from '../../native.js';
import type { Epilogue } from '../types.js';
import { epilogueArgs, f32 } from './check.js';
import { takeOutput } from '../arena.js';

/** a (M,K) or (K,M), b (K,N) or (N,K) -> (M,N), then the epilogue. */
export function matmul(addon: NativeAddon, a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean, ep?: Epilogue): Tensor {
  const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const n = transposeB ? b.shape[0] : b.shape[1];
  const y = takeOutput([m, n]);
  addon.matmul(f32('matmul', a), f32('matmul', b), y.data as Float32Array, m, k, n, transposeA, transposeB, ...epilogueArgs('matmul', ep));
  return y;
}

/** x (..., C) + bias (C). */
export function biasAdd(addon: NativeAddon, x: Tensor, bias: Tensor): Tensor {
  const y = takeOutput(x.shape);
  addon.biasAdd(f32('biasAdd', x), f32('biasAdd', bias), y.data as Float32Array);
  return y;
}

/** dy (..., C) -> (C). */
export function biasGrad(addon: NativeAddon, dy: Tensor): Tensor {
  const db = takeOutput([dy.shape[dy.rank - 1]]);
  addon.biasGrad(f32('biasGrad', dy), db.data as Float32Array);
  return db;
}
