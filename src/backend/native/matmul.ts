import type { Tensor } from '../../tensor.js';
import type { NativeAddon } from '../../native.js';
import type { Epilogue } from '../types.js';
import { fixedWeights } from '../fixed-weights.js';
import { epilogueArgs, epilogueExtraArgs, f32 } from './check.js';

/** a (M,K) or (K,M), b (K,N) or (N,K) -> out (M,N), then the epilogue. */
export function matmul(addon: NativeAddon, a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean, ep: Epilogue | undefined, out: Tensor): Tensor {
  const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const n = transposeB ? b.shape[0] : b.shape[1];
  const prepared = fixedWeights(b, () => `matmul:${k}:${n}:${transposeB}`, () => addon.matmulWeightsForm(k, n, transposeB), (dst) => addon.prepareMatmulWeights(f32('matmul', b), k, n, dst));
  addon.matmul(f32('matmul', a), f32('matmul', b), f32('matmul', out), m, k, n, transposeA, transposeB, ...epilogueArgs('matmul', ep), ...epilogueExtraArgs('matmul', ep), prepared);
  return out;
}

/** x (..., C) + bias (C). */
export function biasAdd(addon: NativeAddon, x: Tensor, bias: Tensor, out: Tensor): Tensor {
  addon.biasAdd(f32('biasAdd', x), f32('biasAdd', bias), f32('biasAdd', out));
  return out;
}

/** dy (..., C) -> out (C). */
export function biasGrad(addon: NativeAddon, dy: Tensor, out: Tensor): Tensor {
  addon.biasGrad(f32('biasGrad', dy), f32('biasGrad', out));
  return out;
}
