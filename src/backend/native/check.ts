import { ConvkitError, NonFiniteError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { defaultAlpha, type ActivationKind, type Epilogue } from '../types.js';

/** The tensor's data, which must be float32: the native kernels have no float64 path. */
export function f32(op: string, t: Tensor): Float32Array {
  if (!(t.data instanceof Float32Array)) {
    throw new ConvkitError(`${op}: the native backend supports float32 only; received ${t.dtype} (use the reference backend for float64)`, op);
  }
  return t.data;
}

/** A kernel's error as convkit's own: a non-finite update (code CONVKIT_NONFINITE) as a NonFiniteError. */
export function fromNativeError(e: unknown): unknown {
  const err = e as { code?: unknown; index?: unknown; message?: unknown };
  if (err?.code === 'CONVKIT_NONFINITE' && typeof err.index === 'number') return new NonFiniteError(String(err.message), 'optimizerStep', err.index);
  return e;
}


/** An Epilogue as the binding's (bias, activation, alpha) arguments. */
export function epilogueArgs(op: string, ep: Epilogue | undefined): [Float32Array | null, ActivationKind, number] {
  const activation = ep?.activation ?? 'linear';
  return [ep?.bias ? f32(op, ep.bias) : null, activation, ep?.alpha ?? defaultAlpha(activation)];
}

/** An Epilogue's scale and residual as the binding's (scale, residual) arguments. */
export function epilogueExtraArgs(op: string, ep: Epilogue | undefined): [Float32Array | null, Float32Array | null] {
  return [ep?.scale ? f32(op, ep.scale) : null, ep?.residual ? f32(op, ep.residual) : null];
}
