/**
 * `convkit/queue`: batch inference and resumable training as BullMQ jobs on Redis (bullmq and ioredis are
 * optional peer dependencies: install them to use this entry).
 *
 * Inference: a worker process runs many jobs at once (`concurrency`), and their samples meet in one batcher, so
 * concurrent one-sample jobs run as batches. Results are written to a Redis hash keyed by job id (HSET: a job
 * retried after its worker died overwrites its own entry, never adds a second), and returned to BullMQ too.
 *
 * Training: a job carries a spec (a model config or path, the data, epochs, seed); the worker checkpoints the
 * model (weights and optimizer state) after every epoch to the job's checkpoint directory, through convkit's
 * crash-safe save, and a retried job resumes from the last checkpoint. convkit's resume is exact, so the
 * retried job ends with the weights an uninterrupted run would have (same thread count).
 *
 * A worker that dies mid-job leaves the job locked; BullMQ's stalled-job check gives it back to the queue once
 * the lock expires (`lockDurationMs`), and another worker (or the restarted one) runs it again.
 */
import { Queue, QueueEvents, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { data, loadModel, ops, Tensor, type FitOptions, type Model } from '../index.js';
import { ConvkitError, describe } from '../errors.js';
import { createBatcher } from '../serve/batcher.js';
import { modelFromConfig } from '../model/from-config.js';
import type { ModelConfig } from '../model/model.js';
import type { CompileArgs } from '../model/training.js';
import { setNativeThreads } from '../native.js';

export type { ConnectionOptions } from 'bullmq';

/** Where results of a queue's inference jobs are kept: a Redis hash of job id -> JSON. */
export const resultsKey = (queue: string): string => `convkit:results:${queue}`;

/**
 * An inference job's data: one sample (the model's input shape, flattened row-major) or several, as JSON
 * numbers; or (what submitInference sends) the Redis key of their float32 values, little-endian, stored as
 * binary beside the job (`inputsKey`): a job's data stays a few bytes, and no sample is ever text.
 */
export type InferenceJob = { samples: number[][] | number[] } | { inputKey: string; count: number };

/** Where submitInference stores a job's samples (binary float32), removed once the job's result is stored. */
export const inputsKey = (queue: string, jobId: string): string => `convkit:inputs:${queue}:${jobId}`;
/** Samples left by a producer that never collected their results expire after a day. */
const INPUTS_TTL_SECONDS = 24 * 3600;

export interface InferenceResult {
  /** One output row per sample, flattened. */
  outputs: number[][];
  /** The index of each output's largest entry. */
  classes: number[];
}

export interface WorkerTiming {
  /** How long a job's lock lasts without renewal: a dead worker's job returns to the queue after this (default 30 s). */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (default lockDurationMs / 2). */
  stalledIntervalMs?: number;
  /** How many times one job may be found stalled (its worker died) before it fails (default 20). */
  maxStalledCount?: number;
}

export interface InferenceWorkerOptions extends WorkerTiming {
  connection: ConnectionOptions;
  queue: string;
  /** The model, or a path loadModel reads (convkit, TF.js Layers, Keras). */
  model?: Model;
  modelPath?: string;
  /** Largest batch the samples of concurrent jobs are coalesced into (default 64). */
  batchSize?: number;
  /** Jobs one worker runs at once (default 64): their samples share batches. */
  concurrency?: number;
  /** Intra-op threads of this process (default: the pool's, all cores). Several workers on one machine divide the cores. */
  threads?: number;
}

function fail(where: string, what: string): never {
  throw new ConvkitError(`${where}: ${what}`, where);
}

function timing(t: WorkerTiming): { lockDuration: number; stalledInterval: number; maxStalledCount: number } {
  const lockDuration = t.lockDurationMs ?? 30_000;
  return { lockDuration, stalledInterval: t.stalledIntervalMs ?? Math.max(500, lockDuration / 2), maxStalledCount: t.maxStalledCount ?? 20 };
}

/** A job's samples (stored binary ones already fetched as `bytes`) as rows of the model's input size, each finite. */
function samplesOf(job: InferenceJob, size: number, bytes: Buffer | null): Float32Array[] {
  if (typeof (job as { inputKey?: unknown })?.inputKey === 'string') {
    const { inputKey, count } = job as { inputKey: string; count: number };
    if (bytes === null) fail('inference job', `its samples (${inputKey}) are gone: they expired, or the producer removed them`);
    if (!Number.isInteger(count) || count < 1 || bytes.length !== count * size * 4) fail('inference job', `expected ${count} samples of ${size} float32 values (${count * size * 4} bytes) but received ${bytes.length} bytes`);
    const all = new Float32Array(count * size);
    new Uint8Array(all.buffer).set(bytes);
    const bad = all.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail('inference job', `sample ${Math.floor(bad / size)} holds ${all[bad]} at index ${bad % size}`);
    return Array.from({ length: count }, (_, i) => all.subarray(i * size, (i + 1) * size));
  }
  const given = (job as { samples?: unknown })?.samples;
  if (!Array.isArray(given) || given.length === 0) fail('inference job', `expected samples as a non-empty array but received ${describe(given)}`);
  const rows = (typeof given[0] === 'number' ? [given] : given) as unknown[];
  return rows.map((r, i) => {
    if (!Array.isArray(r) || r.length !== size) fail('inference job', `expected sample ${i} to have ${size} values (the model's input size) but received ${Array.isArray(r) ? r.length : describe(r)}`);
    const bad = (r as unknown[]).findIndex((v) => typeof v !== 'number' || !Number.isFinite(v) || !Number.isFinite(Math.fround(v)));
    if (bad >= 0) fail('inference job', `sample ${i} holds ${describe(r[bad])} at index ${bad}`);
    return Float32Array.from(r as number[]);
  });
}

/**
 * A BullMQ worker that runs inference jobs with a model: each job's samples go through one shared batcher
 * (concurrent jobs' samples run together), the result is stored under the job's id and returned. A bad job
 * (wrong size, NaN, not an array) fails with a reason; the worker carries on.
 * @example const worker = await createInferenceWorker({ connection: { host: '127.0.0.1', port: 6379 }, queue: 'digits', modelPath: 'out/digits' })
 * @throws ConvkitError when the model cannot be loaded or has several inputs or outputs.
 */
export async function createInferenceWorker(opts: InferenceWorkerOptions): Promise<Worker> {
  const where = 'createInferenceWorker';
  if (opts.threads !== undefined) setNativeThreads(opts.threads);
  const loaded = opts.model ?? (typeof opts.modelPath === 'string' ? await loadModel(opts.modelPath) : fail(where, 'a model or a modelPath'));
  const model = loaded.singleOutput(where);
  if (model.inputs.length !== 1) fail(where, `a model with one input (this one has ${model.inputs.length})`);
  const inputShape = model.inputs[0].shape;
  const size = inputShape.reduce((a, b) => a * b, 1);
  const fromLogits = model.loss?.fromLogits ?? false;
  const batcher = createBatcher(model, { inputShape, maxBatchSize: opts.batchSize ?? 64, maxDelayMs: 2, maxQueue: 1 << 16 });
  const worker: Worker<InferenceJob, InferenceResult> = new Worker<InferenceJob, InferenceResult>(
    opts.queue,
    async (job: Job<InferenceJob>): Promise<InferenceResult> => {
      const client = (await worker.client) as unknown as Redis;
      // a retried job whose result was stored before its worker died: the same result, stored once
      const key = (job.data as { inputKey?: unknown })?.inputKey;
      const done = await client.hget(resultsKey(opts.queue), job.id!);
      if (done !== null) {
        if (typeof key === 'string') await client.del(key);
        return JSON.parse(done) as InferenceResult;
      }
      const rows = samplesOf(job.data, size, typeof key === 'string' ? await client.getBuffer(key) : null);
      // a job with a batch of its own runs as one; single samples of concurrent jobs meet in the batcher
      const outs = rows.length >= 16 ? unstack(await model.predict(stack(rows, inputShape))) : await Promise.all(rows.map((r) => batcher.predict(r)));
      const outputs = outs.map((t) => (fromLogits ? Array.from(ops.softmax(t.reshape([1, t.size])).data) : Array.from(t.data)));
      const result: InferenceResult = { outputs, classes: outputs.map((o) => o.indexOf(Math.max(...o))) };
      await client.hset(resultsKey(opts.queue), { [job.id!]: JSON.stringify(result) });
      if (typeof key === 'string') await client.del(key);
      return result;
    },
    { connection: opts.connection, concurrency: opts.concurrency ?? 64, ...timing(opts) },
  );
  worker.on('closed', () => void batcher.close());
  return worker;
}

/**
 * Enqueues one job per entry of `samples` (a sample, or with `perJob` that many samples per job) and yields each
 * job's result as it completes, in completion order (one listener for all jobs; results are read from the
 * results hash). Job ids are `${prefix}-${i}`: submitting the same ids again reuses the stored results.
 * @example for await (const { index, result } of submitInference(queue, images)) console.log(index, result.classes[0])
 * @throws the job's failure reason (an Error) when a job fails for good.
 */
export async function* submitInference(
  queue: Queue,
  samples: ArrayLike<number>[],
  opts: { prefix?: string; attempts?: number; perJob?: number } = {},
): AsyncGenerator<{ index: number; jobId: string; result: InferenceResult }> {
  const prefix = opts.prefix ?? `job-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const perJob = opts.perJob ?? 1;
  const count = Math.ceil(samples.length / perJob);
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const indexOf = new Map(ids.map((id, i) => [id, i]));
  const events = new QueueEvents(queue.name, { connection: queue.opts.connection });
  const done: { id: string; error?: string }[] = [];
  let wake: (() => void) | undefined;
  const push = (id: string, error?: string): void => {
    if (!indexOf.has(id)) return;
    done.push({ id, error });
    wake?.();
  };
  events.on('completed', ({ jobId }) => push(jobId));
  events.on('failed', ({ jobId, failedReason }) => push(jobId, failedReason));
  await events.waitUntilReady();
  const client = (await queue.client) as unknown as Redis;
  try {
    const jobs = ids.map((jobId, i) => {
      const part = samples.slice(i * perJob, (i + 1) * perJob);
      const values = new Float32Array(part.reduce((n, s) => n + s.length, 0));
      part.reduce((at, s) => (values.set(s, at), at + s.length), 0);
      const data: InferenceJob = { inputKey: inputsKey(queue.name, jobId), count: part.length };
      return { values, job: { name: 'infer', data, opts: { jobId, attempts: opts.attempts ?? 3, removeOnComplete: true, removeOnFail: { age: 3600 } } } };
    });
    for (let i = 0; i < jobs.length; i += 1000) {
      const chunk = jobs.slice(i, i + 1000);
      await Promise.all(chunk.map(({ values, job }) => client.setex(job.data.inputKey, INPUTS_TTL_SECONDS, Buffer.from(values.buffer, values.byteOffset, values.byteLength))));
      await queue.addBulk(chunk.map((c) => c.job));
    }
    // jobs that had finished before (a resubmission) or before the listener saw them
    const stored = await client.hmget(resultsKey(queue.name), ...ids);
    const seen = new Set<string>();
    stored.forEach((v, i) => v !== null && push(ids[i]));
    while (seen.size < count) {
      if (done.length === 0) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      for (const { id, error } of done.splice(0)) {
        if (seen.has(id)) continue;
        if (error !== undefined) throw new Error(`job ${id} failed: ${error}`);
        const text = await client.hget(resultsKey(queue.name), id);
        if (text === null) continue; // a completion of an earlier attempt; its stored result arrives with the retry
        seen.add(id);
        yield { index: indexOf.get(id)!, jobId: id, result: JSON.parse(text) as InferenceResult };
      }
    }
  } finally {
    await events.close();
  }
}

function stack(rows: Float32Array[], shape: readonly number[]): Tensor {
  const size = rows[0].length;
  const data = new Float32Array(rows.length * size);
  rows.forEach((r, i) => data.set(r, i * size));
  return new Tensor(data, [rows.length, ...shape]);
}

function unstack(t: Tensor): Tensor[] {
  const size = t.size / t.shape[0];
  return Array.from({ length: t.shape[0] }, (_, i) => new Tensor(t.data.subarray(i * size, (i + 1) * size), t.shape.slice(1)));
}

/** Where a training job's data comes from. */
export type TrainingData =
  | { kind: 'idx'; dir: string; offset?: number; limit?: number }
  | { kind: 'mnistDigits'; train: number; test?: number; seed?: number };

/** A training job: what to train, on what, how long, and where to keep its checkpoints. */
export interface TrainingJob {
  /** A model config (model.getConfig()) or a path loadModel reads. */
  model: ModelConfig | string;
  compile: CompileArgs;
  data: TrainingData;
  epochs: number;
  batchSize?: number;
  seed?: number;
  /** A directory every worker can reach (shared storage): the model is saved there after every epoch. */
  checkpointDir: string;
}

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  logs: Record<string, number>;
}

async function trainingData(d: TrainingData): Promise<{ x: Tensor; y: Int32Array }> {
  if (d?.kind === 'idx') {
    const s = await data.loadIdxDirectory(d.dir, { offset: d.offset, limit: d.limit });
    return { x: s.xTrain, y: s.yTrain };
  }
  if (d?.kind === 'mnistDigits') {
    const s = await data.mnistDigits({ train: d.train, test: d.test ?? 0, seed: d.seed ?? 1 });
    return { x: s.xTrain, y: s.yTrain };
  }
  return fail('training job', `expected data { kind: 'idx', dir } or { kind: 'mnistDigits', train } but received ${describe(d)}`);
}

/**
 * The model a training job trains: its last checkpoint when there is one (a retried job), else a new one from
 * the spec, compiled.
 */
async function jobModel(spec: TrainingJob): Promise<Model> {
  try {
    return await loadModel(spec.checkpointDir);
  } catch (e) {
    if (!(e instanceof ConvkitError) || !/model\.json: cannot read it: .*ENOENT/.test(e.message)) throw e;
  }
  const m = typeof spec.model === 'string' ? await loadModel(spec.model) : modelFromConfig(spec.model);
  m.compile(spec.compile);
  return m;
}

export interface TrainingWorkerOptions extends WorkerTiming {
  connection: ConnectionOptions;
  queue: string;
  /** Training jobs one worker runs at once (default 1: a training job uses every core it is given). */
  concurrency?: number;
  threads?: number;
}

/**
 * A BullMQ worker that runs training jobs: fit from the job's spec, a checkpoint after every epoch, progress
 * `{ epoch, epochs, logs }` after every epoch; a retried job resumes from its last checkpoint. Resolves the job
 * with the final epoch's logs and the checkpoint directory.
 * @example await createTrainingWorker({ connection, queue: 'train' })
 */
export async function createTrainingWorker(opts: TrainingWorkerOptions): Promise<Worker> {
  if (opts.threads !== undefined) setNativeThreads(opts.threads);
  return new Worker<TrainingJob, { logs: Record<string, number>; checkpointDir: string; epochsTrained: number }>(
    opts.queue,
    async (job) => {
      const spec = job.data;
      if (typeof spec?.checkpointDir !== 'string' || !Number.isInteger(spec.epochs) || spec.epochs < 1) fail('training job', `expected a checkpointDir and a positive epochs but received ${describe(spec)}`);
      const model = await jobModel(spec);
      const { x, y } = await trainingData(spec.data);
      const remaining = spec.epochs - model.epochsTrained;
      let logs: Record<string, number> = {};
      if (remaining > 0) {
        const fitOpts: FitOptions = {
          epochs: remaining,
          batchSize: spec.batchSize ?? 32,
          seed: spec.seed,
          verbose: 0,
          callbacks: [{
            onEpochEnd: async (epoch, l) => {
              logs = l;
              await model.save(spec.checkpointDir);
              await job.updateProgress({ epoch: epoch + 1, epochs: spec.epochs, logs: l } satisfies TrainingProgress);
            },
          }],
        };
        await model.fit(x, y, fitOpts);
      }
      return { logs, checkpointDir: spec.checkpointDir, epochsTrained: model.epochsTrained };
    },
    { connection: opts.connection, concurrency: opts.concurrency ?? 1, ...timing(opts) },
  );
}
