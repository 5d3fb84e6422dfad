/**
 * Inference sessions: a model frozen for serving. A session is its own copy of the model's layers and weights,
 * taken when it is made and never changed, so every weight can be held fixed (backend/fixed-weights.ts): the
 * native kernels prepare each one once in the form they read (a dense layer's matrix as the GEMM microkernel's
 * panels, a convolution's filter as those panels or as its Winograd transform) instead of on every call.
 */
import { fail } from '../errors.js';
import { holdFixed } from '../backend/fixed-weights.js';
import type { Tensor } from '../tensor.js';
import { modelFromConfig } from './from-config.js';
import type { Model, ModelInputs } from './model.js';
import type { InferenceOptions, SyncInferenceOptions } from './training.js';

/**
 * A model frozen for inference (`model.inferenceSession()`): the model's outputs, bit for bit, with its weights
 * prepared once. Training the model or setting its weights afterwards does not reach the session; make a new one.
 */
export class InferenceSession<Out extends Tensor | Tensor[] = Tensor | Tensor[]> {
  readonly #model: Model<Out>;

  /** @internal made by Model.inferenceSession */
  constructor(model: Model<Out>) {
    this.#model = model;
  }

  get inputShape(): number[] {
    return this.#model.inputShape;
  }
  get outputShape(): number[] {
    return this.#model.outputShape;
  }
  get inputNames(): string[] {
    return this.#model.inputNames;
  }
  get outputNames(): string[] {
    return this.#model.outputNames;
  }

  /** As Model.predict. @example const probs = await session.predict(xTest, { batchSize: 256 }) */
  predict(x: ModelInputs, opts: InferenceOptions = {}): Promise<Out> {
    return this.#model.predict(x, opts);
  }

  /** As Model.predictSync. */
  predictSync(x: ModelInputs, opts: SyncInferenceOptions = {}): Out {
    return this.#model.predictSync(x, opts);
  }

  /** As Model.predictClasses. */
  predictClasses(x: ModelInputs, opts: InferenceOptions = {}): Promise<Int32Array> {
    return this.#model.predictClasses(x, opts);
  }
}

/** The session of a model: its config rebuilt with copies of its weights, each held fixed. */
export function inferenceSession<Out extends Tensor | Tensor[]>(model: Model<Out>): InferenceSession<Out> {
  const weights = new Map(model.params().map((p) => [p.name, p.value]));
  const copy = modelFromConfig(model.getConfig(), (name) => {
    const w = weights.get(name);
    if (!w) fail('inferenceSession', `weight '${name}' in the model`, 'none of that name');
    return w.clone();
  }) as Model<Out>;
  for (const p of copy.params()) holdFixed(p.value);
  return new InferenceSession(copy);
}
