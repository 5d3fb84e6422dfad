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

/** An inference job's data: one sample (the model's input shape, flattened) or several, and an optional model. */
export interface InferenceJob {
  /** One sample flattened row-major, or several. */
  samples: number[][] | number[];
}

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

/** A job's samples as rows of the model's input size, each finite. */
function samplesOf(job: InferenceJob, size: number): Float32Array[] {
  const given = job?.samples;
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
  const worker = new Worker<InferenceJob, InferenceResult>(
    opts.queue,
    async (job: Job<InferenceJob>) => {
      const rows = samplesOf(job.data, size);
      const outs = await Promise.all(rows.map((r) => batcher.predict(r)));
      const outputs = outs.map((t) => (fromLogits ? Array.from(ops.softmax(t.reshape([1, t.size])).data) : Array.from(t.data)));
      const result: InferenceResult = { outputs, classes: outputs.map((o) => o.indexOf(Math.max(...o))) };
      const client = await worker.client;
      await client.hset(resultsKey(opts.queue), { [job.id!]: JSON.stringify(result) });
      await job.updateProgress(100);
      return result;
    },
    { connection: opts.connection, concurrency: opts.concurrency ?? 64, ...timing(opts) },
  );
  worker.on('closed', () => void batcher.close());
  return worker;
}

/**
 * Enqueues one job per sample (or per group of samples) and yields each job's result as it completes, in
 * completion order. Job ids are `${prefix}-${i}`, so submitting the same ids again reuses the stored results.
 * @example for await (const { index, result } of submitInference(queue, images)) console.log(index, result.classes[0])
 */
export async function* submitInference(queue: Queue, samples: (number[] | Float32Array)[], opts: { prefix?: string; attempts?: number } = {}): AsyncGenerator<{ index: number; jobId: string; result: InferenceResult }> {
  const prefix = opts.prefix ?? `job-${Date.now().toString(36)}`;
  const events = new QueueEvents(queue.name, { connection: queue.opts.connection });
  await events.waitUntilReady();
  try {
    const jobs = await queue.addBulk(samples.map((s, i) => ({ name: 'infer', data: { samples: Array.from(s) }, opts: { jobId: `${prefix}-${i}`, attempts: opts.attempts ?? 3, removeOnComplete: { age: 3600 } } })));
    const pending = jobs.map((job, index) => job.waitUntilFinished(events).then((result: InferenceResult) => ({ index, jobId: job.id!, result })));
    const racing = new Map(pending.map((p, i) => [i, p.then((v) => ({ ...v, slot: i }))]));
    while (racing.size > 0) {
      const next = await Promise.race(racing.values());
      racing.delete(next.slot);
      yield { index: next.index, jobId: next.jobId, result: next.result };
    }
  } finally {
    await events.close();
  }
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
