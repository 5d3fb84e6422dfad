/**
 * Weights held fixed for inference (an InferenceSession's own copies). A native op given one as its matrix or
 * filter prepares it once in each form its kernel asks for (GEMM micropanels, a Winograd transform) and passes
 * that instead of repacking the weights on every call. No other tensor is ever prepared: weights that training
 * or a user may still change are read as they are.
 */
import { nativeIsaSwitches, type WeightsForm } from '../native.js';
import type { Tensor } from '../tensor.js';

interface Prepared {
  /** By the op's geometry (and the ISA it ran under): what it was given, null when it reads the weights as they are. */
  byGeometry: Map<string, Float32Array | null>;
  /** By form key: geometries that take the same form share one copy. */
  byForm: Map<string, Float32Array>;
}

const held = new WeakMap<Tensor, Prepared>();

/** Holds w fixed from now on: ops prepare it on first use, and keep what they made as long as w lives. */
export function holdFixed(w: Tensor): void {
  if (!held.has(w)) held.set(w, { byGeometry: new Map(), byForm: new Map() });
}

/**
 * w prepared for an op of this geometry (a key naming the op's shape, made only for held weights), in the form
 * `form()` names, made by `fill` the first time (in a SharedArrayBuffer, so an async kernel reads it in place);
 * null when w is not held fixed or the op reads its weights as they are. `form` is asked once per geometry and
 * ISA.
 */
export function fixedWeights(w: Tensor, geometry: () => string, form: () => WeightsForm | null, fill: (dst: Float32Array) => void): Float32Array | null {
  const prepared = held.get(w);
  if (!prepared) return null;
  const at = `${nativeIsaSwitches()}:${geometry()}`;
  let weights = prepared.byGeometry.get(at);
  if (weights === undefined) {
    const f = form();
    weights = f ? (prepared.byForm.get(f.key) ?? null) : null;
    if (f && !weights) {
      weights = new Float32Array(new SharedArrayBuffer(4 * f.length));
      fill(weights);
      prepared.byForm.set(f.key, weights);
    }
    prepared.byGeometry.set(at, weights);
  }
  return weights;
}
