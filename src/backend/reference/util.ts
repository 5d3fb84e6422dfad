import { Tensor, type FloatArray, type Shape } from '../../tensor.js';

/** A zeroed array of the same dtype as `like`. */
export function alloc(like: Tensor, n: number): FloatArray {
  return like.data instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/** Wraps float64 accumulators into a tensor of like's dtype (rounding once, at the end). */
export function fromAccum(like: Tensor, acc: Float64Array, shape: Shape): Tensor {
  return new Tensor(like.data instanceof Float64Array ? acc : Float32Array.from(acc), shape);
}
