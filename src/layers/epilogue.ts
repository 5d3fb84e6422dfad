import type { InferenceEpilogue } from '../engine/plan.js';
import { zeros, type Tensor } from '../tensor.js';

/**
 * The scale and bias an op applies for a layer whose own bias is `bias` followed by the epilogue's affine map:
 * (z + bias) * scale + shift = z * scale + (bias * scale + shift), computed in float64, in bias's dtype.
 */
export function fusedEpilogue(ep: InferenceEpilogue, bias: Tensor | undefined, like: Tensor): { scale?: Tensor; bias?: Tensor } {
  if (!ep.affine) return { bias };
  const { scale, shift } = ep.affine;
  const s = zeros([scale.length], like.dtype);
  const t = zeros([scale.length], like.dtype);
  for (let k = 0; k < scale.length; k++) {
    s.data[k] = scale[k];
    t.data[k] = (bias ? bias.data[k] * scale[k] : 0) + shift[k];
  }
  return { scale: s, bias: t };
}
