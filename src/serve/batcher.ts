import { ConvkitError, describe, fail } from '../errors.js';
import { Tensor, sizeOf, type Shape } from '../tensor.js';

/** What the batcher needs of a model: an async batched predict and the shape of one sample. */
export interface BatchPredictor {
  predict(x: Tensor, opts?: { batchSize?: number }): Promise<Tensor>;
}

export interface BatcherOptions {
  /** Shape of one sample, without the batch axis, e.g. [28, 28, 1]. */
  inputShape: Shape;
  /** Largest batch sent to the model (default 64). */
  maxBatchSize?: number;
  /** How long the first request of a batch may wait for company (default 2 ms). */
  maxDelayMs?: number;
  /** Requests allowed to wait; one more is rejected at once with an overload error (default 1024). */
  maxQueue?: number;
}

export interface Batcher {
  /** Resolves with this sample's output row (batch axis of size 1 removed). */
  predict(input: Tensor | Float32Array | number[], opts?: { signal?: AbortSignal }): Promise<Tensor>;
  /** Requests waiting, not counting the batch being computed. */
  readonly queued: number;
  /** Rejects everything still waiting and refuses new requests; resolves when the batch in flight settles. */
  close(): Promise<void>;
}

interface Pending {
  data: Float32Array;
  resolve: (t: Tensor) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Coalesces concurrent single-sample predictions into batches: a batch leaves when it is full or when its
 * first request has waited maxDelayMs, one batch computes at a time, and every caller gets its own row
 * back, in arrival order. Past maxQueue waiting requests, predict rejects at once instead of growing memory.
 * @example
 * const batcher = createBatcher(model, { inputShape: [28, 28, 1], maxBatchSize: 64, maxDelayMs: 2 });
 * const probs = await batcher.predict(image); // shape [10]
 * @throws ConvkitError (from predict) for a wrong input size, overload, or after close().
 */
export function createBatcher(model: BatchPredictor, opts: BatcherOptions): Batcher {
  const where = 'createBatcher';
  if (!model || typeof model.predict !== 'function') fail(where, 'a model with predict()', describe(model));
  const sampleShape = [...opts.inputShape];
  const sampleSize = sizeOf(sampleShape);
  if (sampleSize <= 0 || sampleShape.some((d) => !Number.isInteger(d) || d < 1)) fail(where, 'inputShape of positive integers', describe(sampleShape));
  const maxBatchSize = positive(where, 'maxBatchSize', opts.maxBatchSize ?? 64);
  const maxQueue = positive(where, 'maxQueue', opts.maxQueue ?? 1024);
  const maxDelayMs = opts.maxDelayMs ?? 2;
  if (!(maxDelayMs >= 0)) fail(where, 'maxDelayMs >= 0', describe(maxDelayMs));

  const queue: Pending[] = [];
  // One batch computes at a time and predict reads its input only until it settles, so every batch can be
  // gathered into the same buffer (grown to the largest batch seen): no new 200 KiB per batch of LeNet-5 for
  // the garbage collector to chase.
  let gathered = new Float32Array(0);
  // Each request's copy of its sample goes back here once its batch is gathered, for a later request: a new
  // 3 KiB Float32Array per request cost more than filling one.
  const spare: Float32Array[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let closed = false;

  const schedule = (): void => {
    if (inFlight || queue.length === 0) return;
    if (queue.length >= maxBatchSize) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      inFlight = runBatch();
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = undefined;
        if (!inFlight) inFlight = runBatch();
      }, maxDelayMs);
    }
  };

  const runBatch = async (): Promise<void> => {
    const batch = queue.splice(0, maxBatchSize);
    for (const p of batch) p.signal?.removeEventListener('abort', p.onAbort!);
    try {
      if (gathered.length < batch.length * sampleSize) gathered = new Float32Array(batch.length * sampleSize);
      const x = gathered.subarray(0, batch.length * sampleSize);
      batch.forEach((p, i) => {
        x.set(p.data, i * sampleSize);
        spare.push(p.data);
      });
      const y = await model.predict(new Tensor(x, [batch.length, ...sampleShape]), { batchSize: batch.length });
      const rowShape = y.shape.slice(1);
      const row = sizeOf(rowShape);
      batch.forEach((p, i) => p.resolve(new Tensor(y.data.slice(i * row, (i + 1) * row), rowShape)));
    } catch (e) {
      for (const p of batch) p.reject(e);
    } finally {
      inFlight = undefined;
      schedule();
    }
  };

  return {
    get queued() {
      return queue.length;
    },
    predict(input, callOpts = {}) {
      return new Promise<Tensor>((resolve, reject) => {
        if (closed) return reject(new ConvkitError('batcher.predict: the batcher is closed', 'batcher.predict'));
        const data = toSample(input, sampleShape, sampleSize, spare.pop());
        if (queue.length >= maxQueue) {
          return reject(new ConvkitError(`batcher.predict: overloaded: ${queue.length} requests already waiting (maxQueue ${maxQueue})`, 'batcher.predict'));
        }
        const { signal } = callOpts;
        if (signal?.aborted) return reject(signal.reason);
        const p: Pending = { data, resolve, reject, signal };
        if (signal) {
          p.onAbort = () => {
            const i = queue.indexOf(p);
            if (i >= 0) {
              queue.splice(i, 1);
              spare.push(data);
            }
            reject(signal.reason);
          };
          signal.addEventListener('abort', p.onAbort, { once: true });
        }
        queue.push(p);
        schedule();
      });
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const p of queue.splice(0)) p.reject(new ConvkitError('batcher.predict: the batcher was closed before this request ran', 'batcher.predict'));
      await inFlight;
    },
  };
}

function positive(where: string, arg: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) fail(where, `${arg} to be a positive integer`, describe(v));
  return v;
}

/**
 * One sample as float32 (into `out` when given), from a tensor of the sample shape (or with a batch axis of 1)
 * or a flat array; every value must be finite once rounded to float32.
 */
function toSample(input: Tensor | Float32Array | number[], sampleShape: number[], size: number, out: Float32Array = new Float32Array(size)): Float32Array {
  const where = 'batcher.predict';
  const data = input instanceof Tensor ? input.data : input;
  if (!(data instanceof Float32Array || data instanceof Float64Array || Array.isArray(data))) fail(where, 'a Tensor, Float32Array or number[]', describe(input));
  if (data.length !== size) fail(where, `${size} values (one sample of shape [${sampleShape.join(', ')}])`, `${data.length}`);
  if (Array.isArray(data)) {
    // typed-array set() would turn '3' into 3 and true into 1
    const i = data.findIndex((v) => typeof v !== 'number');
    if (i >= 0) fail(where, `numbers (input[${i}])`, describe(data[i]));
  }
  out.set(data);
  let check = 0; // v * 0 is 0 for a finite v and NaN for NaN or +-Infinity: one pass without a branch per value
  for (let i = 0; i < size; i++) check += out[i] * 0;
  if (check !== 0) {
    const i = out.findIndex((v) => !Number.isFinite(v));
    fail(where, 'finite input values', `${data[i]} at index ${i}`);
  }
  return out;
}
