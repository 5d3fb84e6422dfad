import { ConvkitError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import type { ActivationKind, Epilogue } from '../types.js';

/** The tensor's data, which must be float32: the native kernels have no float64 path. */
export function f32(op: string, t: Tensor): Float32Array {
  if (!(t.data instanceof Float32Array)) {
    throw new ConvkitError(`${op}: the native backend supports float32 only; received ${t.dtype} (use the reference backend for float64)`, op);
  }
  return t.data;
}


/** The slope / alpha an activation uses when the caller gives none: leakyRelu 0.2, elu 1. */
export function defaultAlpha(kind: ActivationKind, alpha: number | undefined): number {
  return alpha ?? (kind === 'leakyRelu' ? 0.2 : 1);
}

/** An Epilogue as the binding's (bias, activation, alpha) arguments. */
export function epilogueArgs(op: string, ep: Epilogue | undefined): [Float32Array | null, ActivationKind, number] {
  const activation = ep?.activation ?? 'linear';
  return [ep?.bias ? f32(op, ep.bias) : null, activation, defaultAlpha(activation, ep?.alpha)];
}
