import type { Callback, Logs, TrainParams } from '../callbacks/index.js';
import { progressBar } from '../callbacks/index.js';
import type { Augmenter } from '../data/augment.js';
import { ConvkitError, describe, fail } from '../errors.js';
import { deriveSeed } from '../initializers/seed.js';
import { Conv2D } from '../layers/conv2d.js';
import { layerFromConfig } from '../layers/index.js';
import { MaxPooling2D } from '../layers/pooling.js';
import type { Layer, LayerConfig, Param, WeightSource } from '../layers/layer.js';
import { sameShape } from '../layers/layer.js';
import { getLoss, type Loss, type LossConfig } from '../losses/index.js';
import { checkFinite, checkLabelValues, gatherLabels, gatherRows, labelCount, type Labels } from '../losses/labels.js';
import { OutputArena } from '../backend/arena.js';
import { freshOutputs, runProgramAsync, runProgramSync, type OpProgram, type RunContext } from '../ops/index.js';
import { getOptimizer, type Optimizer, type OptimizerConfig } from '../optimizers/index.js';
import { Rng } from '../random.js';
import { Tensor, zeros, type DType } from '../tensor.js';
import { saveModel } from '../io/model-dir.js';
import { correctCount, type MetricName } from './metrics.js';

export interface SequentialOptions {
  /** float32 (default) or float64 (for gradient checks on the reference backend). */
  dtype?: DType;
  /** Seeds the initializers, dropout masks, shuffling and augmentation. Default 1. */
  seed?: number;
  name?: string;
}

export interface ModelConfig {
  name: string;
  dtype: DType;
  seed: number;
  layers: LayerConfig[];
}

export interface CompileArgs {
  optimizer: Optimizer | OptimizerConfig | string;
  loss: Loss | LossConfig | string;
  metrics?: MetricName[];
  /**
   * Refuse NaN or ±Inf (default true): in the inputs and target tensors of fit, evaluate and trainOnBatch (one
   * vectorized pass over each), and in the weights after every optimizer step (checked inside the update).
   * A NaN pixel would otherwise turn every weight it reaches into NaN while the loss stays finite.
   */
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
  validationData?: [Tensor, Labels];
  callbacks?: Callback[];
  /** 0 silent, 1 progress bar on a TTY (a line per epoch otherwise), 2 a line per epoch. Default 1. */
  verbose?: 0 | 1 | 2;
  /** Default the model's seed. */
  seed?: number;
  /** Applied to each training batch with a generator seeded by (seed, epoch, batch). */
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

/** Options of forward and forwardSync. */
export interface ForwardOptions {
  /** Training mode: batch statistics and dropout (default false). */
  training?: boolean;
  /** Picks the dropout masks; default the optimizer's step count. */
  step?: number;
}

export interface History {
  /** Global epoch indices run by this call. */
  epoch: number[];
  history: Record<string, number[]>;
}

interface Compiled {
  optimizer: Optimizer;
  loss: Loss;
  metrics: MetricName[];
  checkFinite: boolean;
}

// Domain tags so the streams derived from one seed never coincide.
const SEED_LAYER = 1;
const SEED_SHUFFLE = 2;
const SEED_AUGMENT = 3;

let modelCount = 0;

/**
 * A stack of layers, each feeding the next. Keras's Sequential: summary, compile, fit, evaluate, predict,
 * save. Backprop is explicit per layer; forward/backward/params are public for custom training loops.
 * forward, backward, trainOnBatch, evaluate and predict are each written once as an OpProgram: the Promise
 * methods run it with the kernels off the event loop, their `...Sync` twins with the same kernels in the
 * same order on the calling thread, so both give the same numbers bit for bit, but a `...Sync` call holds
 * the event loop until it returns.
 */
export class Sequential {
  readonly layers: readonly Layer[];
  readonly dtype: DType;
  readonly seed: number;
  readonly name: string;
  /** Set by a callback to end fit after the current epoch. */
  stopTraining = false;
  /** Epochs trained so far, saved with the model so a resumed fit continues the count (and its shuffles). */
  epochsTrained = 0;
  private compiled: Compiled | undefined;
  private stepping = false;
  private readonly arenas: OutputArena[] = [];

  /** `weights` (loadModel's) supplies every weight instead of the initializers. */
  constructor(layers: Layer[], opts: SequentialOptions & { weights?: WeightSource } = {}) {
    if (!Array.isArray(layers) || layers.length === 0) fail('sequential', 'a non-empty array of layers', describe(layers));
    this.dtype = opts.dtype ?? 'float32';
    if (this.dtype !== 'float32' && this.dtype !== 'float64') fail('sequential', "dtype 'float32' or 'float64'", describe(this.dtype));
    this.seed = opts.seed ?? 1;
    if (!Number.isFinite(this.seed)) fail('sequential', 'a finite seed', describe(this.seed));
    this.name = opts.name ?? `sequential_${++modelCount}`;
    const names = new Set<string>();
    let shape = layers[0]?.declaredInputShape;
    if (!shape) fail('sequential', 'inputShape on the first layer (e.g. inputShape: [28, 28, 1])', 'none');
    layers.forEach((layer, i) => {
      if (!(layer && typeof layer.build === 'function')) fail('sequential', `a layer at index ${i}`, describe(layer));
      if (names.has(layer.name)) fail('sequential', 'unique layer names', `'${layer.name}' twice`);
      names.add(layer.name);
      layer.build(shape!, { dtype: this.dtype, seed: deriveSeed(this.seed, SEED_LAYER, i), weights: opts.weights });
      shape = layer.outputShape;
    });
    this.layers = [...layers];
  }

  /** Input shape without the batch axis. */
  get inputShape(): number[] {
    return this.layers[0].inputShape;
  }
  get outputShape(): number[] {
    return this.layers[this.layers.length - 1].outputShape;
  }
  get optimizer(): Optimizer | undefined {
    return this.compiled?.optimizer;
  }
  get loss(): Loss | undefined {
    return this.compiled?.loss;
  }

  /** Every weight of every layer, in layer order. */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
  }

  /**
   * A Keras-style table of layers, output shapes and parameter counts; printed with `print` and returned.
   * @example model.summary()
   */
  summary(print: ((line: string) => void) | null = console.log): string {
    const rows = this.layers.map((l) => [`${l.name} (${l.className})`, `[null, ${l.outputShape.join(', ')}]`, l.countParams().toLocaleString('en-US')]);
    const head = ['Layer (type)', 'Output Shape', 'Param #'];
    const w = [0, 1, 2].map((c) => Math.max(head[c].length, ...rows.map((r) => r[c].length)) + 3);
    const line = (r: string[]): string => r[0].padEnd(w[0]) + r[1].padEnd(w[1]) + r[2];
    const total = w[0] + w[1] + w[2];
    const trainable = this.params().filter((p) => p.trainable).reduce((n, p) => n + p.value.size, 0);
    const all = this.countParams();
    const text = [
      `Model: "${this.name}"`,
      '_'.repeat(total),
      line(head),
      '='.repeat(total),
      ...rows.flatMap((r, i) => [line(r), i < rows.length - 1 ? '_'.repeat(total) : '='.repeat(total)]),
      `Total params: ${all.toLocaleString('en-US')}`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Non-trainable params: ${(all - trainable).toLocaleString('en-US')}`,
    ].join('\n');
    print?.(text);
    return text;
  }

  /**
   * Chooses the optimizer, loss and metrics for fit/evaluate. Recompiling replaces the optimizer state.
   * @example model.compile({ optimizer: optimizers.adam(), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] })
   * @throws ConvkitError for an unknown optimizer, loss or metric.
   */
  compile(args: CompileArgs): void {
    if (!args || typeof args !== 'object') fail('compile', '{ optimizer, loss, metrics? }', describe(args));
    const metrics = args.metrics ?? [];
    for (const m of metrics) if (m !== 'accuracy' && m !== 'loss') fail('compile', "metrics from 'accuracy', 'loss'", describe(m));
    if (args.checkFinite !== undefined && typeof args.checkFinite !== 'boolean') fail('compile', 'checkFinite to be a boolean', describe(args.checkFinite));
    this.compiled = {
      optimizer: getOptimizer(args.optimizer),
      loss: getLoss(args.loss),
      metrics: metrics.filter((m) => m !== 'loss'),
      checkFinite: args.checkFinite ?? true,
    };
  }

  /**
   * Runs the layers on one batch; the kernels run off the event loop on the native backend. Training mode
   * uses batch statistics and dropout; `step` picks the dropout masks.
   * @example const logits = await model.forward(xBatch)
   * @throws ConvkitError when x does not have the model's input shape.
   */
  async forward(x: Tensor, opts: ForwardOptions = {}): Promise<Tensor> {
    return runProgramAsync(this.forwardProgram(freshOutputs, 'forward', x, opts));
  }

  /**
   * forward on the calling thread: the same result bit for bit, returned instead of a Promise.
   * @example const logits = model.forwardSync(xBatch)
   * @throws ConvkitError when x does not have the model's input shape.
   */
  forwardSync(x: Tensor, opts: ForwardOptions = {}): Tensor {
    return runProgramSync(this.forwardProgram(freshOutputs, 'forwardSync', x, opts));
  }

  /**
   * Backpropagates dL/dy from the last forward, filling every param's grad; returns dL/dx (the model input)
   * unless `inputGradient` is false (training skips the first layer's input gradient).
   */
  async backward(dy: Tensor, opts: { inputGradient?: boolean } = {}): Promise<Tensor | undefined> {
    return runProgramAsync(this.backwardProgram(freshOutputs, dy, opts.inputGradient ?? true));
  }

  /** backward on the calling thread, after a forward or forwardSync. */
  backwardSync(dy: Tensor, opts: { inputGradient?: boolean } = {}): Tensor | undefined {
    return runProgramSync(this.backwardProgram(freshOutputs, dy, opts.inputGradient ?? true));
  }

  /** Copies of every weight, in layer order (kernel then bias; BatchNorm's moving statistics included). */
  getWeights(): Tensor[] {
    return this.layers.flatMap((l) => l.getWeights());
  }

  /**
   * Replaces every weight (same order and shapes as getWeights).
   * @throws ConvkitError naming the layer and weight whose shape differs, or the count.
   */
  setWeights(weights: Tensor[]): void {
    const total = this.params().length;
    if (!Array.isArray(weights) || weights.length !== total) fail(`${this.name}.setWeights`, `${total} tensors`, Array.isArray(weights) ? weights.length : weights);
    let at = 0;
    for (const l of this.layers) {
      const n = l.params().length;
      l.setWeights(weights.slice(at, at + n).map((w) => (w instanceof Tensor ? w.cast(this.dtype) : w)));
      at += n;
    }
  }

  /**
   * One optimizer step on one batch; resolves to that batch's loss (and metrics, measured in training mode).
   * @example const { loss } = await model.trainOnBatch(xBatch, yBatch)
   * @throws ConvkitError when not compiled or the shapes or labels do not fit.
   */
  async trainOnBatch(x: Tensor, y: Labels): Promise<Logs> {
    return this.runAsync((run) => this.trainOnBatchProgram(run, 'trainOnBatch', x, y));
  }

  /**
   * trainOnBatch on the calling thread: the same step and the same weights bit for bit. There is no fitSync:
   * fit awaits its callbacks (modelCheckpoint writes files asynchronously) and honours an AbortSignal, neither
   * of which can work while a call holds the thread, so a synchronous script loops over batches itself.
   * @example for (const [xb, yb] of batches) model.trainOnBatchSync(xb, yb);
   * @throws ConvkitError when not compiled, the shapes or labels do not fit, or a trainOnBatch is in flight.
   */
  trainOnBatchSync(x: Tensor, y: Labels): Logs {
    return this.runSync((run) => this.trainOnBatchProgram(run, 'trainOnBatchSync', x, y));
  }

  /**
   * Trains for `epochs` epochs in batches, yielding to the event loop between batches.
   * @example const history = await model.fit(xTrain, yTrain, { batchSize: 64, epochs: 5, validationSplit: 0.1 })
   * @throws ConvkitError when not compiled, or for mismatched x/labels or bad options.
   */
  async fit(x: Tensor, y: Labels, opts: FitOptions = {}): Promise<History> {
    const { optimizer, metrics } = this.requireCompiled('fit');
    const batchSize = positive('fit', 'batchSize', opts.batchSize ?? 32);
    const epochs = positive('fit', 'epochs', opts.epochs ?? 1);
    const seed = opts.seed ?? this.seed;
    let xAll = this.checkX('fit', x).cast(this.dtype);
    this.checkLabels('fit', xAll, y);
    this.checkData('fit', xAll, y);
    let yAll = y;
    let validation = opts.validationData ? this.checkValidation(opts.validationData) : undefined;
    if (opts.validationSplit !== undefined) {
      const split = opts.validationSplit;
      if (!(split > 0 && split < 1)) fail('fit', 'validationSplit in (0, 1)', describe(split));
      const n = xAll.shape[0];
      const cut = Math.floor(n * (1 - split));
      if (cut < 1 || cut >= n) fail('fit', `a validationSplit leaving samples on both sides (${n} samples)`, describe(split));
      const range = (a: number, b: number): Int32Array => Int32Array.from({ length: b - a }, (_, i) => a + i);
      validation = [xAll.slice(cut, n), gatherLabels(yAll, range(cut, n))];
      yAll = gatherLabels(yAll, range(0, cut));
      xAll = xAll.slice(0, cut);
    }
    const n = xAll.shape[0];
    const steps = Math.ceil(n / batchSize);
    const initialEpoch = this.epochsTrained;
    const callbacks = [...(opts.callbacks ?? [])];
    const verbose = opts.verbose ?? 1;
    if (verbose !== 0) callbacks.push(progressBar({ verbose }));
    for (const cb of callbacks) cb.setModel?.(this);
    const params: TrainParams = { epochs, initialEpoch, stepsPerEpoch: steps, samples: n };
    for (const cb of callbacks) await cb.onTrainBegin?.(params);
    const history: History = { epoch: [], history: {} };
    this.stopTraining = false;
    let logs: Logs = {};
    for (let epoch = initialEpoch; epoch < initialEpoch + epochs && !this.stopTraining; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      const order = Int32Array.from({ length: n }, (_, i) => i);
      if (opts.shuffle ?? true) new Rng(deriveSeed(seed, SEED_SHUFFLE, epoch)).shuffle(order);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < steps; b++) {
        opts.signal?.throwIfAborted();
        const idx = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, n));
        let xb = gatherRows(xAll, idx);
        if (opts.augment) xb = opts.augment.apply(xb, new Rng(deriveSeed(seed, SEED_AUGMENT, epoch, b)));
        const r = await this.runAsync((run) => this.trainStep(run, xb, gatherLabels(yAll, idx), optimizer));
        lossSum += r.loss * idx.length;
        correct += r.correct;
        seen += idx.length;
        const batchLogs: Logs = { loss: lossSum / seen };
        if (metrics.includes('accuracy')) batchLogs.accuracy = correct / seen;
        for (const cb of callbacks) await cb.onBatchEnd?.(b, batchLogs);
        logs = batchLogs;
      }
      if (validation) {
        const v = await this.evaluate(validation[0], validation[1], { batchSize: Math.max(batchSize, 128), signal: opts.signal });
        for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val;
      }
      this.epochsTrained = epoch + 1;
      history.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    }
    for (const cb of callbacks) await cb.onTrainEnd?.(logs);
    return history;
  }

  /**
   * Loss (with any regularization penalty) and metrics over a dataset, in inference mode. The batches are read
   * from x in place: do not write x until the Promise settles.
   * @example const { loss, accuracy } = await model.evaluate(xTest, yTest)
   * @throws ConvkitError when not compiled or x and the labels disagree.
   */
  async evaluate(x: Tensor, y: Labels, opts: InferenceOptions = {}): Promise<Logs> {
    return this.runAsync((run) => this.evaluateProgram(run, 'evaluate', x, y, opts));
  }

  /**
   * evaluate on the calling thread: the same numbers bit for bit.
   * @example const { loss, accuracy } = model.evaluateSync(xTest, yTest, { batchSize: 256 })
   * @throws ConvkitError when not compiled or x and the labels disagree.
   */
  evaluateSync(x: Tensor, y: Labels, opts: SyncInferenceOptions = {}): Logs {
    return this.runSync((run) => this.evaluateProgram(run, 'evaluateSync', x, y, opts));
  }

  /**
   * The model's outputs for x, computed in batches in inference mode. The batches are read from x in place:
   * do not write x until the Promise settles.
   * @example const probs = await model.predict(xTest, { batchSize: 256 })
   * @throws ConvkitError when x does not have the model's input shape.
   */
  async predict(x: Tensor, opts: InferenceOptions = {}): Promise<Tensor> {
    return this.runAsync((run) => this.predictProgram(run, 'predict', x, opts));
  }

  /**
   * predict on the calling thread, for scripts: the same outputs bit for bit, but the event loop waits
   * until it returns (a server should use predict).
   * @example const probs = model.predictSync(xTest, { batchSize: 256 })
   * @throws ConvkitError when x does not have the model's input shape.
   */
  predictSync(x: Tensor, opts: SyncInferenceOptions = {}): Tensor {
    return this.runSync((run) => this.predictProgram(run, 'predictSync', x, opts));
  }

  /**
   * A new, uncompiled model of layers [0, k) with copies of their weights: the features a trained network
   * computes at layer k, e.g. as input to another classifier.
   * @example const features = await model.truncate(6).predict(x)
   * @throws ConvkitError for k outside [1, layers.length].
   */
  truncate(k: number): Sequential {
    if (!Number.isInteger(k) || k < 1 || k > this.layers.length) fail('truncate', `a layer count in [1, ${this.layers.length}]`, describe(k));
    const kept = this.layers.slice(0, k);
    const copy = new Sequential(
      kept.map((l, i) => layerFromConfig(withInputShape(l.getConfig(), i === 0 ? l.inputShape : undefined))),
      { dtype: this.dtype, seed: this.seed, name: `${this.name}_features` },
    );
    copy.setWeights(kept.flatMap((l) => l.getWeights()));
    return copy;
  }

  /** The layers' configs: everything but weights needed to rebuild the model. */
  getConfig(): ModelConfig {
    return { name: this.name, dtype: this.dtype, seed: this.seed, layers: this.layers.map((l) => l.getConfig()) };
  }

  /** The compile arguments as JSON, or undefined when not compiled. */
  getTrainingConfig(): { optimizer: OptimizerConfig; loss: LossConfig; metrics: MetricName[]; checkFinite?: boolean } | undefined {
    const c = this.compiled;
    return c && { optimizer: c.optimizer.getConfig(), loss: c.loss.getConfig(), metrics: c.metrics, ...(c.checkFinite ? {} : { checkFinite: false }) };
  }

  /**
   * Writes model.json and a weights file into dir (created if needed), with the optimizer state so fit can
   * resume exactly after loadModel. A crash at any moment leaves dir holding the previous model or this one;
   * concurrent saves to one dir wait for each other (src/io/model-dir.ts).
   * @example await model.save('out/digits')
   * @throws Error from the file system, or when another process holds dir's save lock for 30 s; the previous
   * model in dir stays as it was.
   */
  async save(dir: string): Promise<void> {
    await saveModel(this, dir);
  }

  // Batch-wise programs (steps, predict and evaluate batches) take their op outputs from one of the model's
  // arenas, reused batch after batch; concurrent runs each hold their own. After a run, param grads point into
  // the arena and are overwritten by the model's next run. CONVKIT_OUTPUT_ARENA=0 allocates every output.
  private takeArena(): OutputArena | undefined {
    if (process.env.CONVKIT_OUTPUT_ARENA === '0') return undefined;
    const arena = this.arenas.pop() ?? new OutputArena();
    arena.batchEnd();
    return arena;
  }

  private runSync<T>(program: (run: RunContext) => OpProgram<T>): T {
    const arena = this.takeArena();
    try {
      return runProgramSync(program(arena ?? freshOutputs), arena);
    } finally {
      if (arena) this.arenas.push(arena);
    }
  }

  private async runAsync<T>(program: (run: RunContext) => OpProgram<T>): Promise<T> {
    const arena = this.takeArena();
    try {
      return await runProgramAsync(program(arena ?? freshOutputs), arena);
    } finally {
      if (arena) this.arenas.push(arena);
    }
  }

  /**
   * A Conv2D followed by MaxPooling2D runs as one op (ops.conv2dMaxPool), with the values of the two: the
   * pooling reads the convolution's output from cache. With `fuse` (predict and evaluate, after which no
   * backward pass runs) the convolution's output is not written at all and the layers keep no forward state;
   * otherwise it is written too, and both layers keep what their own forward passes would.
   */
  private *forwardProgram(run: RunContext, where: string, x: Tensor, opts: ForwardOptions, fuse = false): OpProgram<Tensor> {
    const ctx = { training: opts.training ?? false, step: opts.step ?? this.compiled?.optimizer.iterations ?? 0, run };
    let y = this.checkX(where, x);
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i], next = this.layers[i + 1];
      if (layer instanceof Conv2D && next instanceof MaxPooling2D && layer.fusesMaxPool()) {
        y = yield* layer.forwardMaxPoolProgram(y, next.poolOptions(), run, fuse && !ctx.training ? undefined : next);
        i++;
        continue;
      }
      y = yield* layer.forwardProgram(y, ctx);
    }
    return y;
  }

  /**
   * A MaxPooling2D after a Conv2D whose activation gives its derivative from its output (relu, sigmoid, ...)
   * applies that activation's backward in its own op (ops.maxPool2dBackward's activation): the same values,
   * without a pass over the convolution's output-sized gradient.
   */
  private *backwardProgram(run: RunContext, dy: Tensor, wantInput: boolean): OpProgram<Tensor | undefined> {
    let g: Tensor | undefined = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i], prev = this.layers[i - 1];
      const through = layer instanceof MaxPooling2D && prev instanceof Conv2D ? prev.pooledActivation() : undefined;
      if (through) {
        const dz: Tensor = yield* (layer as MaxPooling2D).backwardThroughProgram(g!, through);
        g = yield* (prev as Conv2D).backwardFromActivationInput(dz, i > 1 || wantInput);
        i--;
        continue;
      }
      g = yield* layer.backwardProgram(g!, i > 0 || wantInput, run);
    }
    return g;
  }

  private *trainOnBatchProgram(run: RunContext, where: string, x: Tensor, y: Labels): OpProgram<Logs> {
    const { optimizer, metrics } = this.requireCompiled(where);
    const xb = this.checkX(where, x).cast(this.dtype);
    this.checkLabels(where, xb, y);
    this.checkData(where, xb, y);
    const r = yield* this.trainStep(run, xb, y, optimizer);
    return metrics.includes('accuracy') ? { loss: r.loss, accuracy: r.correct / xb.shape[0] } : { loss: r.loss };
  }

  private *evaluateProgram(run: RunContext, where: string, x: Tensor, y: Labels, opts: InferenceOptions): OpProgram<Logs> {
    const { loss, metrics } = this.requireCompiled(where);
    const xs = this.checkX(where, x);
    this.checkLabels(where, xs, y);
    this.checkData(where, xs, y);
    const batchSize = positive(where, 'batchSize', opts.batchSize ?? 128);
    const n = xs.shape[0];
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < n; start += batchSize) {
      opts.signal?.throwIfAborted();
      const end = Math.min(start + batchSize, n);
      const idx = Int32Array.from({ length: end - start }, (_, i) => start + i);
      const out = yield* this.forwardProgram(run, where, batchRows(xs, start, end, this.dtype), { training: false }, true);
      const yb = gatherLabels(y, idx);
      lossSum += loss.compute(out, yb).loss * (end - start);
      if (metrics.includes('accuracy')) correct += correctCount(out, yb, this.accuracyThreshold());
      yield; // a batch boundary
    }
    const logs: Logs = { loss: lossSum / n + this.regularizationPenalty() };
    if (metrics.includes('accuracy')) logs.accuracy = correct / n;
    return logs;
  }

  private *predictProgram(run: RunContext, where: string, x: Tensor, opts: InferenceOptions): OpProgram<Tensor> {
    const xs = this.checkX(where, x);
    const batchSize = positive(where, 'batchSize', opts.batchSize ?? 128);
    const n = xs.shape[0];
    const out = zeros([n, ...this.outputShape], this.dtype);
    const row = out.size / n;
    for (let start = 0; start < n; start += batchSize) {
      opts.signal?.throwIfAborted();
      const end = Math.min(start + batchSize, n);
      out.data.set((yield* this.forwardProgram(run, where, batchRows(xs, start, end, this.dtype), {}, true)).data, start * row);
      yield; // a batch boundary
    }
    return out;
  }

  /** One optimizer step, then a batch boundary (a bare yield: the async driver lets the event loop run). */
  private *trainStep(run: RunContext, x: Tensor, y: Labels, optimizer: Optimizer): OpProgram<{ loss: number; correct: number }> {
    // Layers keep their forward state for backward, so two steps interleaving between kernels would mix them.
    if (this.stepping) throw new ConvkitError(`${this.name}: a training step is already running; fit and trainOnBatch calls on one model must not overlap`, this.name);
    this.stepping = true;
    let result: { loss: number; correct: number };
    try {
      result = yield* this.trainStepNow(run, x, y, optimizer);
    } finally {
      this.stepping = false;
    }
    yield;
    return result;
  }

  private *trainStepNow(run: RunContext, x: Tensor, y: Labels, optimizer: Optimizer): OpProgram<{ loss: number; correct: number }> {
    const { loss, metrics } = this.compiled!;
    const out = yield* this.forwardProgram(run, 'forward', x, { training: true, step: optimizer.iterations });
    const r = loss.compute(out, y);
    if (!Number.isFinite(r.loss)) {
      throw new ConvkitError(`fit: the loss became ${r.loss} at step ${optimizer.iterations}; lower the learning rate or check the data`, 'fit');
    }
    yield* this.backwardProgram(run, r.grad, false);
    let penalty = 0;
    for (const p of this.params()) {
      if (!p.regularizer || !p.grad) continue;
      penalty += p.regularizer.penalty(p.value);
      p.regularizer.addGradient(p.value, p.grad);
    }
    yield* optimizer.applyProgram(this.params(), { checkFinite: this.compiled!.checkFinite });
    return { loss: r.loss + penalty, correct: metrics.includes('accuracy') ? correctCount(out, y, this.accuracyThreshold()) : 0 };
  }

  private regularizationPenalty(): number {
    return this.params().reduce((s, p) => s + (p.regularizer ? p.regularizer.penalty(p.value) : 0), 0);
  }

  /** Binary accuracy thresholds logits at 0 and probabilities at 0.5. */
  private accuracyThreshold(): number {
    const loss = this.compiled?.loss;
    return loss?.className === 'binaryCrossentropy' && loss.fromLogits ? 0 : 0.5;
  }

  private requireCompiled(where: string): Compiled {
    if (!this.compiled) throw new ConvkitError(`${where}: the model is not compiled; call model.compile({ optimizer, loss }) first`, where);
    return this.compiled;
  }

  private checkX(where: string, x: Tensor): Tensor {
    if (!(x instanceof Tensor)) fail(where, 'x as a Tensor', describe(x));
    if (!sameShape(x.shape.slice(1), this.inputShape) || x.shape[0] < 1) {
      fail(where, `x of shape [N, ${this.inputShape.join(', ')}]`, `[${x.shape.join(', ')}]`);
    }
    return x;
  }

  private checkLabels(where: string, x: Tensor, y: Labels): void {
    const n = labelCount(where, y);
    if (n !== x.shape[0]) fail(where, `${x.shape[0]} labels (one per sample of x)`, describe(n));
  }

  private checkValidation(v: [Tensor, Labels]): [Tensor, Labels] {
    if (!Array.isArray(v) || v.length !== 2) fail('fit', 'validationData as [x, y]', describe(v));
    this.checkLabels('fit validationData', this.checkX('fit validationData', v[0]), v[1]);
    this.checkData('fit validationData', v[0], v[1]);
    return v;
  }

  /** Label values, and unless compiled with checkFinite: false, that x and target tensors hold no NaN or ±Inf. */
  private checkData(where: string, x: Tensor, y: Labels): void {
    const finite = this.compiled?.checkFinite ?? true;
    if (finite) checkFinite(where, 'x', x);
    checkLabelValues(where, y, finite);
  }
}

function positive(where: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) fail(where, `${name} to be a positive integer`, describe(v));
  return v;
}

function withInputShape(c: LayerConfig, inputShape: number[] | undefined): LayerConfig {
  return { className: c.className, config: { ...c.config, inputShape } };
}

/**
 * A model from a list of layers; the first needs `inputShape` (no batch axis).
 * @example
 * const model = sequential([
 *   layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
 *   layers.flatten(),
 *   layers.dense({ units: 10 }),
 * ], { seed: 1 });
 * @throws ConvkitError when a layer's input does not fit (the message names the layer and both shapes).
 */
export function sequential(layers: Layer[], opts: SequentialOptions = {}): Sequential {
  return new Sequential(layers, opts);
}

/** Rows [start, end) of x's first axis as dtype: a view when x already has it (inference only reads its input). */
function batchRows(x: Tensor, start: number, end: number, dtype: DType): Tensor {
  if (x.dtype !== dtype) return x.slice(start, end).cast(dtype);
  const row = x.size / x.shape[0];
  return new Tensor(x.data.subarray(start * row, end * row), [end - start, ...x.shape.slice(1)]);
}
