/**
 * The training loop and the batched inference of a model, outside the model class: compile settings (a loss,
 * weight and metrics per output), fit (epochs, shuffling, augmentation, validation, callbacks), one training
 * step, evaluate and predict. Steps and batches are OpPrograms the model runs with either driver.
 */
import { progressBar, type Callback, type Logs, type TrainParams } from '../callbacks/index.js';
import type { Augmenter } from '../data/augment.js';
import { ConvkitError, describe, fail } from '../errors.js';
import { deriveSeed } from '../initializers/seed.js';
import { getLoss, type Loss, type LossConfig } from '../losses/index.js';
import { checkFinite, checkLabelValues, gatherLabels, gatherRows, labelCount, type Labels } from '../losses/labels.js';
import * as ops from '../ops/index.js';
import type { OpProgram, RunContext } from '../ops/index.js';
import { getOptimizer, type Optimizer, type OptimizerConfig } from '../optimizers/index.js';
import { Rng } from '../random.js';
import { Tensor, type DType } from '../tensor.js';
import { BufferPool } from '../engine/buffers.js';
import { backwardPlan, type ForwardRun } from '../engine/execute.js';
import { metricName, metricTotals, type MetricName } from './metrics.js';
import type { Model, ModelInputs, ModelTargets } from './model.js';

const SEED_SHUFFLE = 2;
const SEED_AUGMENT = 3;

type PerOutput<T> = T | readonly T[] | Readonly<Record<string, T>>;

export interface CompileArgs {
  optimizer: Optimizer | OptimizerConfig | string;
  /** One loss for every output, or one per output (in output order, or keyed by output name). */
  loss: PerOutput<Loss | LossConfig | string>;
  /** How much each output's loss counts in the total (default 1 each). */
  lossWeights?: readonly number[] | Readonly<Record<string, number>>;
  /**
   * Metrics for every output, or per output (an array of arrays in output order, or keyed by output name):
   * 'accuracy', 'binaryAccuracy', 'categoricalAccuracy', 'sparseCategoricalAccuracy', 'topKCategoricalAccuracy'
   * (k = 5), 'sparseTopKCategoricalAccuracy', 'meanAbsoluteError', 'meanSquaredError', or Keras's spellings
   * ('acc', 'mae', 'mse', 'top_k_categorical_accuracy', ...); logs carry them under these names.
   */
  metrics?: readonly (MetricName | string)[] | readonly (readonly (MetricName | string)[])[] | Readonly<Record<string, readonly (MetricName | string)[]>>;
  /**
   * Refuse NaN or ±Inf (default true): in the inputs and target tensors of fit, evaluate and trainOnBatch (one
   * vectorized pass over each), and in the weights after every optimizer step (checked inside the update).
   * A NaN pixel would otherwise turn every weight it reaches into NaN while the loss stays finite.
   */
  checkFinite?: boolean;
}

/** @internal A model's compile settings, per output in output order. */
export interface Compiled {
  optimizer: Optimizer;
  losses: Loss[];
  lossWeights: number[];
  metrics: MetricName[][];
  checkFinite: boolean;
}

/** The compile settings as JSON; a single-output model's take the single-loss form. */
export interface TrainingConfig {
  optimizer: OptimizerConfig;
  loss: LossConfig | LossConfig[];
  lossWeights?: number[];
  metrics: MetricName[] | MetricName[][];
  checkFinite?: boolean;
}

export interface FitOptions {
  /** Default 32. */
  batchSize?: number;
  /** Epochs to run in this call (a loaded model continues its epoch count). Default 1. */
  epochs?: number;
  /** Reshuffle the training samples every epoch, seeded by (seed, epoch). Default true. */
  shuffle?: boolean;
  /** Fraction of the samples, taken from the end before shuffling (as Keras does), held out for validation. */
  validationSplit?: number;
  validationData?: [ModelInputs, ModelTargets];
  callbacks?: Callback[];
  /** 0 silent, 1 progress bar on a TTY (a line per epoch otherwise), 2 a line per epoch. Default 1. */
  verbose?: 0 | 1 | 2;
  /** Default the model's seed. */
  seed?: number;
  /** Applied to each training batch (every input) with a generator seeded by (seed, epoch, batch). */
  augment?: Augmenter;
  /** Stops training at the next batch boundary, rejecting with the signal's reason; weights keep every completed step. */
  signal?: AbortSignal;
}

/** Options of evaluate and predict. */
export interface InferenceOptions {
  /** Default 128. */
  batchSize?: number;
  /** Stops at the next batch boundary, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of evaluateSync and predictSync: no signal, as nothing could abort while they hold the thread. */
export type SyncInferenceOptions = Pick<InferenceOptions, 'batchSize'>;

export interface History {
  /** Global epoch indices run by this call. */
  epoch: number[];
  history: Record<string, number[]>;
}

/**
 * v as one value per name (in `names` order): v itself for a single name, an array in name order, or an object
 * keyed by name (a name it leaves out takes `missing`, when given). `isItem` tells one value from an array of
 * them (class ids are arrays too).
 */
export function byName<T>(where: string, what: string, v: unknown, names: readonly string[], isItem: (x: unknown) => x is T, missing?: () => T): T[] {
  if (names.length === 1 && isItem(v)) return [v];
  if (Array.isArray(v) && (names.length > 1 || v.every((e) => isItem(e) && !(typeof e === 'number')))) {
    if (v.length !== names.length) fail(where, `${what} as ${names.length} values, one per ${names.join(', ')}`, `${v.length}`);
    return v as T[];
  }
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof Tensor) && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => !names.includes(k));
    if (extra !== undefined) fail(where, `${what} keyed by ${names.map((n) => `'${n}'`).join(', ')}`, `a key '${extra}'`);
    return names.map((n) => {
      if (Object.hasOwn(o, n)) return o[n] as T;
      return missing ? missing() : fail(where, `${what}['${n}']`, 'nothing');
    });
  }
  if (names.length === 1) return [v as T];
  return fail(where, `${what} as an array or an object keyed by ${names.map((n) => `'${n}'`).join(', ')}`, describe(v));
}

const isLabels = (v: unknown): v is Labels =>
  v instanceof Tensor || v instanceof Int32Array || v instanceof Uint8Array || v instanceof Uint16Array || (Array.isArray(v) && v.every((e) => typeof e === 'number'));

/** @internal The checked compile settings. */
export function compile(model: Model, args: CompileArgs): Compiled {
  if (!args || typeof args !== 'object') fail('compile', '{ optimizer, loss, metrics? }', describe(args));
  const names = model.outputNames;
  const isLoss = (v: unknown): v is Loss | LossConfig | string => typeof v === 'string' || (typeof v === 'object' && v !== null && ('compute' in v || 'className' in v));
  const lossSpecs = isLoss(args.loss) ? names.map(() => args.loss as Loss | LossConfig | string) : byName('compile', 'loss', args.loss, names, isLoss);
  // as Keras: an output a lossWeights or metrics object leaves out has weight 1 and no metrics
  const weights = args.lossWeights === undefined ? names.map(() => 1) : byName('compile', 'lossWeights', args.lossWeights, names, (v): v is number => typeof v === 'number', () => 1);
  weights.forEach((w, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) fail('compile', `lossWeights for '${names[i]}' to be a finite number >= 0`, describe(w));
  });
  const isNameList = (v: unknown): v is string[] => Array.isArray(v) && v.every((m) => typeof m === 'string');
  const m = args.metrics ?? [];
  const metrics = (isNameList(m) ? names.map(() => [...m]) : byName('compile', 'metrics', m, names, isNameList, () => [])).map((list) => list.map((name) => metricName('compile', name)));
  if (args.checkFinite !== undefined && typeof args.checkFinite !== 'boolean') fail('compile', 'checkFinite to be a boolean', describe(args.checkFinite));
  return {
    optimizer: getOptimizer(args.optimizer),
    losses: lossSpecs.map(getLoss),
    lossWeights: weights,
    metrics: metrics.map((list) => list.filter((x) => x !== 'loss')),
    checkFinite: args.checkFinite ?? true,
  };
}

/** @internal */
export function trainingConfig(c: Compiled, outputs: number): TrainingConfig {
  const single = outputs === 1;
  return {
    optimizer: c.optimizer.getConfig(),
    loss: single ? c.losses[0].getConfig() : c.losses.map((l) => l.getConfig()),
    ...(c.lossWeights.every((w) => w === 1) ? {} : { lossWeights: c.lossWeights }),
    metrics: single ? c.metrics[0] : c.metrics,
    ...(c.checkFinite ? {} : { checkFinite: false }),
  };
}

function requireCompiled(model: Model, where: string): Compiled {
  if (!model.compiled) throw new ConvkitError(`${where}: the model is not compiled; call model.compile({ optimizer, loss }) first`, where);
  return model.compiled;
}

function positive(where: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) fail(where, `${name} to be a positive integer`, describe(v));
  return v;
}

/** A dataset checked against the model: inputs and targets in model order, all of one sample count. */
interface Data {
  xs: Tensor[];
  ys: Labels[];
  n: number;
}

function checkData(model: Model, where: string, x: ModelInputs, y: ModelTargets): Data {
  const xs = model.checkInputs(where, x);
  const n = xs[0].shape[0];
  const ys = byName(where, 'y', y, model.outputNames, isLabels);
  const finite = model.compiled?.checkFinite ?? true;
  ys.forEach((labels, i) => {
    const what = ys.length > 1 ? `y['${model.outputNames[i]}']` : 'labels';
    const count = labelCount(where, labels);
    if (count !== n) fail(where, `${n} ${what} (one per sample of x)`, describe(count));
    checkLabelValues(where, labels, finite);
  });
  if (finite) xs.forEach((t, i) => checkFinite(where, xs.length > 1 ? `x['${model.inputNames[i]}']` : 'x', t));
  return { xs, ys, n };
}

function rows(data: Data, idx: Int32Array, dtype: DType): { xs: Tensor[]; ys: Labels[] } {
  return { xs: data.xs.map((t) => gatherRows(t.cast(dtype), idx)), ys: data.ys.map((y) => gatherLabels(y, idx)) };
}

/** Binary accuracy thresholds logits at 0 and probabilities at 0.5. */
function accuracyThreshold(loss: Loss): number {
  return loss.className === 'binaryCrossentropy' && loss.fromLogits ? 0 : 0.5;
}

function regularizationPenalty(model: Model): number {
  return model.params().reduce((s, p) => s + (p.regularizer ? p.regularizer.penalty(p.value) : 0), 0);
}

/** Per output, per metric: [sum, count] (metrics.ts's metricTotals), added up over batches. */
type MetricSums = [number, number][][];

/** Per output: the loss and the metric totals of one batch; and the regularization penalty. */
interface StepResult {
  losses: number[];
  metrics: MetricSums;
  penalty: number;
}

/** Each output's metric totals for one batch of its predictions. */
function batchMetrics(c: Compiled, outputs: readonly Tensor[], ys: readonly Labels[]): MetricSums {
  return outputs.map((out, i) => c.metrics[i].map((name) => metricTotals(name as Exclude<MetricName, 'loss'>, out, ys[i], accuracyThreshold(c.losses[i]))));
}

function addMetrics(into: MetricSums, batch: MetricSums): void {
  batch.forEach((list, i) => list.forEach(([s, k], j) => {
    into[i][j][0] += s;
    into[i][j][1] += k;
  }));
}

const noMetrics = (c: Compiled): MetricSums => c.metrics.map((list) => list.map((): [number, number] => [0, 0]));

/** Logs from per-output sums over `n` samples: loss (weighted total), then each output's own where there are several. */
function logsOf(c: Compiled, names: readonly string[], lossSums: number[], metrics: MetricSums, n: number, penalty: number): Logs {
  const total = lossSums.reduce((s, l, i) => s + c.lossWeights[i] * l, 0) / n + penalty;
  const logs: Logs = { loss: total };
  const multi = names.length > 1;
  names.forEach((name, i) => {
    if (multi) logs[`${name}_loss`] = lossSums[i] / n;
    c.metrics[i].forEach((metric, j) => (logs[multi ? `${name}_${metric}` : metric] = metrics[i][j][0] / metrics[i][j][1]));
  });
  return logs;
}

/** One optimizer step, then a batch boundary (a bare yield: the async driver lets the event loop run). */
function* trainStep(model: Model, run: RunContext, xs: Tensor[], ys: Labels[]): OpProgram<StepResult> {
  // A step's nodes keep their states until its backward, so two steps interleaving between kernels would mix them.
  if (model.stepping) throw new ConvkitError(`${model.name}: a training step is already running; fit and trainOnBatch calls on one model must not overlap`, model.name);
  model.stepping = true;
  let result: StepResult;
  try {
    result = yield* trainStepNow(model, run, xs, ys);
  } finally {
    model.stepping = false;
  }
  yield;
  return result;
}

function* trainStepNow(model: Model, run: RunContext, xs: Tensor[], ys: Labels[]): OpProgram<StepResult> {
  const c = model.compiled!;
  const optimizer = c.optimizer;
  const fwd = yield* model.runForward(run, xs, { training: true, step: optimizer.iterations, keep: true });
  yield ops.SETTLE; // the losses read the outputs
  const losses: number[] = [];
  const dys: (Tensor | undefined)[] = [];
  for (const [i, out] of fwd.outputs.entries()) {
    const w = c.lossWeights[i];
    const r = c.losses[i].compute(out, ys[i]);
    if (!Number.isFinite(r.loss)) {
      const which = fwd.outputs.length > 1 ? ` of output '${model.outputNames[i]}'` : '';
      throw new ConvkitError(`fit: the loss${which} became ${r.loss} at step ${optimizer.iterations}; lower the learning rate or check the data`, 'fit');
    }
    losses.push(r.loss);
    dys.push(w === 0 ? undefined : w === 1 ? r.grad : yield ops.request.scale(r.grad, w));
  }
  const { paramGrads } = yield* backwardPlan(model.plan, fwd, dys, { run, inputGrads: false });
  yield ops.SETTLE; // the regularizers and the optimizer's clipping read the gradients in JS
  const params = model.params();
  for (const p of params) p.grad = paramGrads.get(p);
  let penalty = 0;
  for (const p of params) {
    if (!p.regularizer || !p.grad) continue;
    penalty += p.regularizer.penalty(p.value);
    p.regularizer.addGradient(p.value, p.grad);
  }
  yield* optimizer.applyProgram(params, { checkFinite: c.checkFinite });
  if (run instanceof BufferPool) model.memory.training = run.takeStats();
  return { losses, penalty, metrics: batchMetrics(c, fwd.outputs, ys) };
}

/** @internal trainOnBatch's program. */
export function* trainOnBatchProgram(model: Model, run: RunContext, where: string, x: ModelInputs, y: ModelTargets): OpProgram<Logs> {
  const c = requireCompiled(model, where);
  const data = checkData(model, where, x, y);
  const r = yield* trainStep(model, run, data.xs.map((t) => t.cast(model.dtype)), data.ys);
  return logsOf(c, model.outputNames, r.losses, r.metrics, 1, r.penalty);
}

/** Rows [start, end) of x's first axis as dtype: a view when x already has it (inference only reads its input). */
function batchRows(x: Tensor, start: number, end: number, dtype: DType): Tensor {
  if (x.dtype !== dtype) return x.slice(start, end).cast(dtype);
  const row = x.size / x.shape[0];
  return new Tensor(x.data.subarray(start * row, end * row), [end - start, ...x.shape.slice(1)]);
}

// Below this, a kernel's staging copy holds the event loop for 4 ms at most, and one that runs on this thread
// (a small layer) reads the rows without any copy.
const STAGED_INPUT_BYTES = 1 << 20;

/**
 * An inference batch's input rows, and whether they were staged. Large rows of a plain buffer (yours) are copied
 * into the run's shared arena in slices between turns of the event loop: a kernel would stage (copy) them in one
 * piece when it starts, and a large batch's first touches of that memory held the loop for 30 ms (8 MiB). The
 * pass reads shared storage in place, and frees the staged copy after its last reader.
 */
function* batchInput(run: RunContext, x: Tensor, start: number, end: number, dtype: DType): OpProgram<{ rows: Tensor; staged: boolean }> {
  const rows = batchRows(x, start, end, dtype);
  const stage = run instanceof BufferPool && dtype === 'float32' && rows.data.byteLength >= STAGED_INPUT_BYTES;
  if (!stage || rows.data.buffer instanceof SharedArrayBuffer) return { rows, staged: false };
  const copy = run.alloc(rows.shape, dtype);
  yield* ops.copyInTurns(copy.data, rows.data);
  return { rows: copy, staged: true };
}

/** A forward pass over rows [start, end) of the inputs, in inference mode. */
function* inferBatch(model: Model, run: RunContext, xs: readonly Tensor[], start: number, end: number): OpProgram<ForwardRun> {
  const inputs: Tensor[] = [];
  const handedOver: boolean[] = [];
  for (const x of xs) {
    const { rows, staged } = yield* batchInput(run, x, start, end, model.dtype);
    inputs.push(rows);
    handedOver.push(staged);
  }
  return yield* model.runForward(run, inputs, { training: false, step: 0, keep: false, handedOver });
}

/** @internal evaluate's program: batch after batch, in inference mode. */
export function* evaluateProgram(model: Model, run: RunContext, where: string, x: ModelInputs, y: ModelTargets, opts: InferenceOptions): OpProgram<Logs> {
  const c = requireCompiled(model, where);
  const data = checkData(model, where, x, y);
  const batchSize = positive(where, 'batchSize', opts.batchSize ?? 128);
  const { n } = data;
  const lossSums = data.ys.map(() => 0);
  const metrics = noMetrics(c);
  for (let start = 0; start < n; start += batchSize) {
    opts.signal?.throwIfAborted();
    const end = Math.min(start + batchSize, n);
    const idx = Int32Array.from({ length: end - start }, (_, i) => start + i);
    const fwd = yield* inferBatch(model, run, data.xs, start, end);
    yield ops.SETTLE; // the losses and metrics read the outputs
    const ybs = data.ys.map((y) => gatherLabels(y, idx));
    fwd.outputs.forEach((out, i) => (lossSums[i] += c.losses[i].compute(out, ybs[i]).loss * (end - start)));
    addMetrics(metrics, batchMetrics(c, fwd.outputs, ybs));
    if (run instanceof BufferPool) model.memory.inference = run.takeStats();
    yield; // a batch boundary
  }
  return logsOf(c, model.outputNames, lossSums, metrics, n, regularizationPenalty(model));
}

/** @internal predict's program: the outputs, one tensor per model output, batch after batch. */
export function* predictProgram(model: Model, run: RunContext, where: string, x: ModelInputs, opts: InferenceOptions): OpProgram<Tensor[]> {
  const xs = model.checkInputs(where, x);
  const batchSize = positive(where, 'batchSize', opts.batchSize ?? 128);
  const n = xs[0].shape[0];
  // every row is written below, batch by batch: no zero-filling first (see ops.freshOutputs)
  const outs = model.outputs.map((t) => ops.freshOutputs.alloc([n, ...t.shape], model.dtype));
  for (let start = 0; start < n; start += batchSize) {
    opts.signal?.throwIfAborted();
    const end = Math.min(start + batchSize, n);
    const fwd = yield* inferBatch(model, run, xs, start, end);
    yield ops.SETTLE;
    for (const [i, y] of fwd.outputs.entries()) yield* ops.copyInTurns(outs[i].data, y.data, start * (outs[i].size / n));
    if (run instanceof BufferPool) model.memory.inference = run.takeStats();
    yield; // a batch boundary
  }
  return outs;
}

/** One training batch of a dataset (fitDataset): its inputs and targets, as fit takes them. */
export interface Batch {
  x: ModelInputs;
  y: ModelTargets;
}

/** Options of fitDataset: fit's, but batches come from the dataset (no batchSize, shuffle, validationSplit). */
export interface FitDatasetOptions extends Omit<FitOptions, 'batchSize' | 'shuffle' | 'validationSplit'> {
  /**
   * Batches per epoch. Without it an epoch is one pass over the dataset (iterated anew each epoch); with it, each
   * epoch takes that many batches and the next epoch continues where it stopped (for endless streams).
   */
  batchesPerEpoch?: number;
  /** Samples per epoch, for the progress bar's rate (default: counted as batches arrive). */
  samplesPerEpoch?: number;
}

/** Validation data of fit's options, checked. */
function validationOf(model: Model, v: FitOptions['validationData']): [ModelInputs, ModelTargets] | undefined {
  if (!v) return undefined;
  if (!Array.isArray(v) || v.length !== 2) fail('fit', 'validationData as [x, y]', describe(v));
  checkData(model, 'fit validationData', v[0], v[1]);
  return v;
}

type EpochBatch = { xs: Tensor[]; ys: Labels[]; n: number };
/**
 * How an epoch loop gets each epoch's batches (checked inputs and labels, in the model's dtype): fit's come
 * synchronously, so its first step starts (and claims the model) within the fit call, as trainOnBatch's does.
 */
type EpochBatches = (epoch: number) => Iterable<EpochBatch> | AsyncIterable<EpochBatch>;

/** The epochs, steps, validation and callbacks fit and fitDataset share. */
async function runEpochs(model: Model, c: Compiled, opts: FitDatasetOptions, params: TrainParams, batches: EpochBatches, validation: [ModelInputs, ModelTargets] | undefined, validationBatch: number): Promise<History> {
  const callbacks = [...(opts.callbacks ?? [])];
  const verbose = opts.verbose ?? 1;
  if (verbose !== 0) callbacks.push(progressBar({ verbose }));
  for (const cb of callbacks) cb.setModel?.(model);
  for (const cb of callbacks) await cb.onTrainBegin?.(params);
  const history: History = { epoch: [], history: {} };
  model.stopTraining = false;
  let logs: Logs = {};
  for (let epoch = params.initialEpoch; epoch < params.initialEpoch + params.epochs && !model.stopTraining; epoch++) {
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
    const lossSums = model.outputs.map(() => 0);
    const metrics = noMetrics(c);
    let penaltySum = 0;
    let seen = 0;
    const source = batches(epoch);
    const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
    for (let b = 0; ; b++) {
      const pulled = iterator.next();
      const next = pulled instanceof Promise ? await pulled : pulled;
      if (next.done) break;
      const batch = next.value;
      opts.signal?.throwIfAborted();
      const r = await model.runAsync((run) => trainStep(model, run, batch.xs, batch.ys), { pipelined: true });
      r.losses.forEach((l, i) => (lossSums[i] += l * batch.n));
      addMetrics(metrics, r.metrics);
      penaltySum += r.penalty * batch.n;
      seen += batch.n;
      const batchLogs = logsOf(c, model.outputNames, lossSums, metrics, seen, penaltySum / seen);
      for (const cb of callbacks) await cb.onBatchEnd?.(b, batchLogs);
      logs = batchLogs;
    }
    if (seen === 0) fail('fitDataset', 'an epoch with at least one batch', 'none (the dataset ended)');
    if (validation) {
      const v = await model.evaluate(validation[0], validation[1], { batchSize: validationBatch, signal: opts.signal });
      for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val;
    }
    // the rate of the epoch's last step (a schedule's, or one a callback set)
    logs.lr = c.optimizer.learningRateAt(c.optimizer.iterations - 1);
    model.epochsTrained = epoch + 1;
    history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
    for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(logs);
  return history;
}

/** @internal fit: epochs of shuffled, augmented batches, validation, callbacks. */
export async function fit(model: Model, x: ModelInputs, y: ModelTargets, opts: FitOptions): Promise<History> {
  const c = requireCompiled(model, 'fit');
  const batchSize = positive('fit', 'batchSize', opts.batchSize ?? 32);
  const epochs = positive('fit', 'epochs', opts.epochs ?? 1);
  const seed = opts.seed ?? model.seed;
  let data = checkData(model, 'fit', x, y);
  data = { ...data, xs: data.xs.map((t) => t.cast(model.dtype)) };
  let validation = validationOf(model, opts.validationData);
  if (opts.validationSplit !== undefined) {
    const split = opts.validationSplit;
    if (!(split > 0 && split < 1)) fail('fit', 'validationSplit in (0, 1)', describe(split));
    const cut = Math.floor(data.n * (1 - split));
    if (cut < 1 || cut >= data.n) fail('fit', `a validationSplit leaving samples on both sides (${data.n} samples)`, describe(split));
    const range = (a: number, b: number): Int32Array => Int32Array.from({ length: b - a }, (_, i) => a + i);
    validation = [data.xs.map((t) => t.slice(cut, data.n)), data.ys.map((l) => gatherLabels(l, range(cut, data.n)))];
    data = { xs: data.xs.map((t) => t.slice(0, cut)), ys: data.ys.map((l) => gatherLabels(l, range(0, cut))), n: cut };
  }
  const { n } = data;
  const steps = Math.ceil(n / batchSize);
  function* batches(epoch: number): Generator<EpochBatch> {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    if (opts.shuffle ?? true) new Rng(deriveSeed(seed, SEED_SHUFFLE, epoch)).shuffle(order);
    for (let b = 0; b < steps; b++) {
      const idx = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, n));
      const batch = rows(data, idx, model.dtype);
      if (opts.augment) {
        const augment = opts.augment;
        batch.xs = batch.xs.map((t, k) => augment.apply(t, new Rng(k === 0 ? deriveSeed(seed, SEED_AUGMENT, epoch, b) : deriveSeed(seed, SEED_AUGMENT, epoch, b, k))));
      }
      yield { ...batch, n: idx.length };
    }
  }
  const params: TrainParams = { epochs, initialEpoch: model.epochsTrained, stepsPerEpoch: steps, samples: n };
  return runEpochs(model, c, opts, params, batches, validation, Math.max(batchSize, 128));
}

/**
 * @internal fitDataset: fit on batches an async iterable yields (data larger than memory, or made on the fly).
 * Each batch is checked as fit checks its data; augmentation applies per batch as in fit.
 */
export async function fitDataset(model: Model, dataset: AsyncIterable<Batch>, opts: FitDatasetOptions): Promise<History> {
  const c = requireCompiled(model, 'fitDataset');
  if (typeof (dataset as { [Symbol.asyncIterator]?: unknown })?.[Symbol.asyncIterator] !== 'function') fail('fitDataset', 'an async iterable of { x, y } batches', describe(dataset));
  const epochs = positive('fitDataset', 'epochs', opts.epochs ?? 1);
  const perEpoch = opts.batchesPerEpoch === undefined ? undefined : positive('fitDataset', 'batchesPerEpoch', opts.batchesPerEpoch);
  const seed = opts.seed ?? model.seed;
  let stream: AsyncIterator<Batch> | undefined;
  async function* batches(epoch: number): AsyncGenerator<EpochBatch> {
    if (perEpoch === undefined || !stream) stream = dataset[Symbol.asyncIterator]();
    for (let b = 0; perEpoch === undefined || b < perEpoch; b++) {
      const next = await stream.next();
      if (next.done) {
        if (perEpoch !== undefined) fail('fitDataset', `${perEpoch} batches per epoch`, `a dataset that ended after ${b} in epoch ${epoch}`);
        return;
      }
      const v = next.value as Batch;
      const data = checkData(model, `fitDataset (batch ${b} of epoch ${epoch})`, v?.x, v?.y);
      let xs = data.xs.map((t) => t.cast(model.dtype));
      if (opts.augment) {
        const augment = opts.augment;
        xs = xs.map((t, k) => augment.apply(t, new Rng(k === 0 ? deriveSeed(seed, SEED_AUGMENT, epoch, b) : deriveSeed(seed, SEED_AUGMENT, epoch, b, k))));
      }
      yield { xs, ys: data.ys, n: data.n };
    }
  }
  const params: TrainParams = { epochs, initialEpoch: model.epochsTrained, stepsPerEpoch: perEpoch ?? 0, samples: opts.samplesPerEpoch ?? 0 };
  return runEpochs(model, c, opts, params, batches, validationOf(model, opts.validationData), 128);
}
