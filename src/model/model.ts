/**
 * A model: a graph of layer applications from inputs to outputs (Keras's functional Model; Sequential is the
 * one-path case). It builds its layers once (weights seeded by the model's seed and each layer's position),
 * plans the graph once (engine/plan.ts), and runs the plan for every call; the training loop lives in
 * model/training.ts. Layers applied in several places share their weights.
 */
import type { Logs } from '../callbacks/index.js';
import { BufferPool, type MemoryStats } from '../engine/buffers.js';
import { backwardPlan, forwardPlan, type ForwardRun } from '../engine/execute.js';
import { planGraph, type Plan } from '../engine/plan.js';
import { ConvkitError, describe, fail } from '../errors.js';
import { deriveSeed } from '../initializers/seed.js';
import { InputLayer } from '../layers/input-layer.js';
import type { Layer, LayerConfig, Param, WeightSource } from '../layers/layer.js';
import type { LayerNode } from '../layers/symbolic.js';
import { SymbolicTensor } from '../layers/symbolic.js';
import { freshOutputs, runProgramAsync, runProgramSync, type OpProgram, type RunContext } from '../ops/index.js';
import type { Optimizer, OptimizerConfig } from '../optimizers/index.js';
import { Tensor, type DType } from '../tensor.js';
import { oneOf } from '../validate.js';
import { argmax } from './evaluation.js';
import { saveModel } from '../io/model-dir.js';
import { saveTfjsModel } from '../io/tfjs.js';
import { exportOnnx } from '../io/onnx.js';
import type { Loss } from '../losses/index.js';
import type { Labels } from '../losses/labels.js';
import { inferenceSession, type InferenceSession } from './session.js';
import * as training from './training.js';
import type { CompileArgs, Compiled, FitOptions, History, InferenceOptions, SyncInferenceOptions, TrainingConfig } from './training.js';

/** Inputs of a model: one tensor, an array in the model's input order, or an object keyed by input name. */
export type ModelInputs = Tensor | readonly Tensor[] | Readonly<Record<string, Tensor>>;
/** Targets of a model: as ModelInputs, per output. */
export type ModelTargets = Labels | readonly Labels[] | Readonly<Record<string, Labels>>;

export interface ModelArgs {
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  outputs: SymbolicTensor | readonly SymbolicTensor[];
  name?: string;
  /** Seeds the initializers, dropout masks, shuffling and augmentation. Default 1. */
  seed?: number;
}

/** Options of forward and forwardSync. */
export interface ForwardOptions {
  /** Training mode: batch statistics and dropout (default false). */
  training?: boolean;
  /** Picks the dropout masks; default the optimizer's step count. */
  step?: number;
}

/** How a graph model is saved: its layers and, per layer, the inputs of each of its applications. */
export interface ModelConfig {
  className: 'Sequential' | 'Functional';
  name: string;
  dtype: DType;
  seed: number;
  /** Sequential: the layers in order. Functional: every layer, inputs included, with `inboundNodes`. */
  layers: (LayerConfig & { inboundNodes?: NodeRef[][] })[];
  inputLayers?: NodeRef[];
  outputLayers?: NodeRef[];
}

/** [layer name, node index, tensor index]: Keras's way of naming a layer application's output. */
export type NodeRef = [string, number, number];

// Domain tags so the streams derived from one seed never coincide.
export const SEED_LAYER = 1;

let modelCount = 0;

/**
 * The nodes computing `outputs` from `inputs`, each after the nodes it reads (depth-first from the outputs,
 * in output order, inputs in their order): the order the model runs and builds them.
 * @throws ConvkitError when an output depends on a tensor that is not among the inputs.
 */
function collectNodes(where: string, inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[]): LayerNode[] {
  const given = new Set(inputs);
  const order: LayerNode[] = [];
  const state = new Map<LayerNode, 'visiting' | 'done'>();
  const visit = (t: SymbolicTensor, path: string[]): void => {
    const n = t.node;
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') fail(where, 'a graph without cycles', `a cycle through ${t.name}`);
    if (n.inputs.length === 0 && !given.has(t)) {
      fail(where, `every input the outputs depend on among its inputs (the graph is disconnected)`, `${t.name}, needed by ${[...path].reverse().join(' <- ')}`);
    }
    state.set(n, 'visiting');
    if (!given.has(t)) for (const x of n.inputs) visit(x, [...path, t.name]);
    state.set(n, 'done');
    order.push(n);
  };
  for (const t of inputs) visit(t, []);
  for (const t of outputs) visit(t, []);
  return order;
}

/**
 * A model from inputs to outputs. Keras's Model: summary, compile, fit, evaluate, predict, save; getLayer,
 * layers, inputs, outputs. The Promise methods run their programs with the kernels off the event loop, the
 * `...Sync` twins with the same kernels in the same order on the calling thread (bit for bit the same
 * numbers), holding the event loop until they return.
 */
export class Model<Out extends Tensor | Tensor[] = Tensor | Tensor[]> {
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
  /** The model's layers in the order they run (input layers first, as Keras lists a functional model's). */
  readonly layers: readonly Layer[];
  readonly name: string;
  readonly dtype: DType;
  readonly seed: number;
  /** Set by a callback to end fit after the current epoch. */
  stopTraining = false;
  /** Epochs trained so far, saved with the model so a resumed fit continues the count (and its shuffles). */
  epochsTrained = 0;
  /** @internal The nodes the model runs, in order, and its plan (engine/plan.ts). */
  readonly nodes: readonly LayerNode[];
  /** @internal */
  readonly plan: Plan;
  /** @internal The plan of forward passes no backward follows (predict, evaluate). */
  readonly inferencePlan: Plan;
  /** @internal Set by compile. */
  compiled: Compiled | undefined;
  /** @internal Concurrent runs each take their own pool. */
  readonly pools: BufferPool[] = [];
  /** @internal The last run's memory use, by kind. */
  readonly memory: { training?: MemoryStats; inference?: MemoryStats } = {};
  /** @internal A training step is running (steps on one model must not interleave). */
  stepping = false;
  private lastForward: ForwardRun | undefined;

  /**
   * `build.layers` (Sequential's) are the model's layers, in the order that seeds their weights; otherwise
   * every layer the graph uses, input layers first as they run. `build.weights` (loadModel's) supplies every
   * weight instead of the initializers.
   */
  constructor(args: ModelArgs, build: { layers?: readonly Layer[]; weights?: WeightSource } = {}) {
    const where = args?.name ? `model '${args.name}'` : 'model';
    if (!args || typeof args !== 'object') fail(where, '{ inputs, outputs }', describe(args));
    const list = (v: unknown, what: string): SymbolicTensor[] => {
      const items = Array.isArray(v) ? v : [v];
      if (items.length === 0 || items.some((t) => !(t instanceof SymbolicTensor))) fail(where, `${what} as symbolic tensors (from input() or layer.apply)`, describe(v));
      return items as SymbolicTensor[];
    };
    this.inputs = list(args.inputs, 'inputs');
    this.outputs = list(args.outputs, 'outputs');
    for (const t of this.inputs) if (!(t.node.layer instanceof InputLayer)) fail(where, 'inputs made by input()', t.name);
    if (new Set(this.inputs).size !== this.inputs.length) fail(where, 'distinct inputs', this.inputs.map((t) => t.name).join(', '));
    this.name = args.name ?? `model_${++modelCount}`;
    this.seed = args.seed ?? 1;
    if (!Number.isFinite(this.seed)) fail(where, 'a finite seed', describe(this.seed));
    this.dtype = this.inputs[0].dtype;
    if (this.inputs.some((t) => t.dtype !== this.dtype)) fail(where, 'inputs of one dtype', this.inputs.map((t) => t.dtype).join(', '));
    this.nodes = collectNodes(where, this.inputs, this.outputs);
    const layers = [...new Set(this.nodes.map((n) => n.layer))];
    const names = new Set<string>();
    for (const l of layers) {
      if (names.has(l.name)) fail(where, 'unique layer names', `'${l.name}' twice`);
      names.add(l.name);
    }
    // Weights are seeded by a layer's position among the model's computing layers (Sequential: its index).
    const seeded = build.layers ?? layers.filter((l) => !(l instanceof InputLayer));
    for (const n of this.nodes) {
      const l = n.layer;
      if (l.isBuilt) {
        if (l.modelDtype !== this.dtype) fail(where, `layers of dtype ${this.dtype}`, `${l.where}, built for ${l.modelDtype} by another model`);
        continue;
      }
      l.build(n.inputs.map((t) => t.shape), { dtype: this.dtype, seed: deriveSeed(this.seed, SEED_LAYER, seeded.indexOf(l)), weights: build.weights });
    }
    this.layers = build.layers ?? layers;
    this.plan = planGraph(this.nodes, this.inputs, this.outputs);
    this.inferencePlan = planGraph(this.nodes, this.inputs, this.outputs, true);
  }

  /** The input shape (no batch axis) of a single-input model. */
  get inputShape(): number[] {
    return [...this.inputs[0].shape];
  }
  /** The output shape (no batch axis) of a single-output model. */
  get outputShape(): number[] {
    return [...this.outputs[0].shape];
  }
  get inputNames(): string[] {
    return this.inputs.map((t) => t.node.layer.name);
  }
  get outputNames(): string[] {
    return this.outputs.map((t) => t.node.layer.name);
  }
  get optimizer(): Optimizer | undefined {
    return this.compiled?.optimizer;
  }
  /** The (first output's) loss, when compiled. */
  get loss(): Loss | undefined {
    return this.compiled?.losses[0];
  }

  /**
   * A layer by name, or by index into `layers`.
   * @throws ConvkitError naming what was asked when there is no such layer.
   */
  getLayer(nameOrIndex: string | number): Layer {
    const l = typeof nameOrIndex === 'number' ? this.layers[nameOrIndex] : this.layers.find((x) => x.name === nameOrIndex);
    if (!l) fail(`${this.name}.getLayer`, `a layer name (${this.layers.map((x) => x.name).join(', ')}) or an index below ${this.layers.length}`, describe(nameOrIndex));
    return l;
  }

  /** Every weight of every layer, in layer order (a shared layer's once). */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
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
    if (!Array.isArray(weights) || weights.length !== total) fail(`${this.name}.setWeights`, `${total} tensors`, describe(Array.isArray(weights) ? weights.length : weights));
    let at = 0;
    for (const l of this.layers) {
      const n = l.params().length;
      l.setWeights(weights.slice(at, at + n).map((w) => (w instanceof Tensor ? w.cast(this.dtype) : w)));
      at += n;
    }
  }

  /**
   * A Keras-style table of layers, output shapes, parameter counts and (for graphs) what each layer's input
   * comes from; printed with `print` and returned. After a training step or a predict batch it also gives the
   * memory those runs held at their peak against what they allocated in all.
   * @example model.summary()
   */
  summary(print: ((line: string) => void) | null = console.log): string {
    const graph = !this.isSequential();
    const ref = (t: SymbolicTensor): string => `${t.node.layer.name}[${t.node.index}][0]`;
    const rows: string[][] = [];
    for (const l of this.layers) {
      const mine = this.nodes.filter((n) => n.layer === l);
      const connected = mine.map((n) => n.inputs.map(ref).join(', ')).filter((s) => s !== '');
      const row = [`${l.name} (${l.className})`, `[null, ${mine[0].output.shape.join(', ')}]`, l.countParams().toLocaleString('en-US')];
      if (graph) row.push(connected[0] ?? '');
      rows.push(row);
      if (graph) for (const extra of connected.slice(1)) rows.push(['', '', '', extra]);
    }
    const head = ['Layer (type)', 'Output Shape', 'Param #', ...(graph ? ['Connected to'] : [])];
    const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)) + 3);
    const line = (r: string[]): string => r.map((cell, c) => (c < r.length - 1 ? cell.padEnd(w[c]) : cell)).join('');
    const total = w.reduce((a, b) => a + b, 0);
    const trainable = this.params().filter((p) => p.trainable).reduce((n, p) => n + p.value.size, 0);
    const all = this.countParams();
    const mib = (b: number): string => `${(b / 2 ** 20).toFixed(2)} MiB`;
    const memory = (['training', 'inference'] as const).flatMap((k) => {
      const m = this.memory[k];
      return m ? [`Memory, last ${k === 'training' ? 'training step' : 'inference batch'}: peak ${mib(m.peakBytes)} of ${mib(m.allocatedBytes)} allocated (${((100 * m.peakBytes) / Math.max(m.allocatedBytes, 1)).toFixed(0)}%)`] : [];
    });
    const text = [
      `Model: "${this.name}"`,
      '_'.repeat(total),
      line(head),
      '='.repeat(total),
      ...rows.flatMap((r, i) => [line(r), i < rows.length - 1 ? (rows[i + 1][0] === '' ? '' : '_'.repeat(total)) : '='.repeat(total)]).filter((s) => s !== ''),
      `Total params: ${all.toLocaleString('en-US')}`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Non-trainable params: ${(all - trainable).toLocaleString('en-US')}`,
      ...memory,
    ].join('\n');
    print?.(text);
    return text;
  }

  /**
   * What the last training step and the last inference batch held at their peak, against the sum of every
   * tensor they allocated (which is what they would hold with no buffer reused); undefined for a kind that has
   * not run yet. A buffer is reused as soon as no later op of the run reads the tensor in it.
   * @example await model.trainOnBatch(x, y); model.memoryPlan().training // { peakBytes, allocatedBytes }
   */
  memoryPlan(): { training?: MemoryStats; inference?: MemoryStats } {
    return { ...this.memory };
  }

  /**
   * Chooses the optimizer, losses and metrics for fit/evaluate: one loss for every output, or one per output
   * (an array in output order or an object keyed by output name), weighted by lossWeights. Recompiling
   * replaces the optimizer state.
   * @example model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] })
   * @throws ConvkitError for an unknown optimizer, loss or metric, or losses that do not match the outputs.
   */
  compile(args: CompileArgs): void {
    this.compiled = training.compile(this, args);
  }

  /** The compile arguments as JSON, or undefined when not compiled. */
  getTrainingConfig(): TrainingConfig | undefined {
    return this.compiled && training.trainingConfig(this.compiled, this.outputs.length);
  }

  /**
   * Runs the model on one batch; the kernels run off the event loop on the native backend. Training mode uses
   * batch statistics and dropout; `step` picks the dropout masks. Keeps what backward needs.
   * @example const logits = await model.forward(xBatch)
   * @throws ConvkitError when x does not fit the model's inputs.
   */
  async forward(x: ModelInputs, opts: ForwardOptions = {}): Promise<Out> {
    return this.single(await runProgramAsync(this.forwardProgram(freshOutputs, 'forward', x, opts)));
  }
  /** forward on the calling thread: the same result bit for bit. */
  forwardSync(x: ModelInputs, opts: ForwardOptions = {}): Out {
    return this.single(runProgramSync(this.forwardProgram(freshOutputs, 'forwardSync', x, opts)));
  }

  /**
   * Backpropagates dL/dy (one per output) from the last forward, filling every reached param's grad; returns
   * dL/dx per input unless `inputGradient` is false.
   */
  async backward(dy: Tensor | readonly Tensor[], opts: { inputGradient?: boolean } = {}): Promise<Tensor | Tensor[] | undefined> {
    return runProgramAsync(this.backwardProgram(freshOutputs, dy, opts.inputGradient ?? true));
  }
  /** backward on the calling thread, after a forward or forwardSync. */
  backwardSync(dy: Tensor | readonly Tensor[], opts: { inputGradient?: boolean } = {}): Tensor | Tensor[] | undefined {
    return runProgramSync(this.backwardProgram(freshOutputs, dy, opts.inputGradient ?? true));
  }

  /**
   * One optimizer step on one batch; resolves to that batch's loss (and metrics, measured in training mode).
   * @example const { loss } = await model.trainOnBatch(xBatch, yBatch)
   * @throws ConvkitError when not compiled or the shapes or labels do not fit.
   */
  async trainOnBatch(x: ModelInputs, y: ModelTargets): Promise<Logs> {
    return this.runAsync((run) => training.trainOnBatchProgram(this, run, 'trainOnBatch', x, y), { pipelined: true });
  }
  /**
   * trainOnBatch on the calling thread: the same step and the same weights bit for bit. There is no fitSync:
   * fit awaits its callbacks and honours an AbortSignal, neither of which can work while a call holds the
   * thread, so a synchronous script loops over batches itself.
   */
  trainOnBatchSync(x: ModelInputs, y: ModelTargets): Logs {
    return this.runSync((run) => training.trainOnBatchProgram(this, run, 'trainOnBatchSync', x, y));
  }

  /**
   * Trains for `epochs` epochs in batches, yielding to the event loop between batches.
   * @example const history = await model.fit(xTrain, yTrain, { batchSize: 64, epochs: 5, validationSplit: 0.1 })
   * @throws ConvkitError when not compiled, or for mismatched inputs/labels or bad options.
   */
  async fit(x: ModelInputs, y: ModelTargets, opts: FitOptions = {}): Promise<History> {
    return training.fit(this, x, y, opts);
  }

  /**
   * fit on batches from an async iterable of `{ x, y }` (data larger than memory, read or made as training
   * goes; data.imageFolderBatches streams a directory of images). Each epoch iterates it anew, or with
   * `batchesPerEpoch` takes that many batches and the next epoch continues the same iteration.
   * @example await model.fitDataset(data.imageFolderBatches('photos/train', { size: [96, 96], batchSize: 32 }), { epochs: 5 })
   * @throws ConvkitError when not compiled, a batch does not fit the model, or the dataset ends early.
   */
  async fitDataset(dataset: AsyncIterable<training.Batch>, opts: training.FitDatasetOptions = {}): Promise<History> {
    return training.fitDataset(this, dataset, opts);
  }

  /**
   * Loss (with any regularization penalty) and metrics over a dataset, in inference mode. The batches are read
   * from x in place: do not write x until the Promise settles.
   * @example const { loss, accuracy } = await model.evaluate(xTest, yTest)
   */
  async evaluate(x: ModelInputs, y: ModelTargets, opts: InferenceOptions = {}): Promise<Logs> {
    return this.runAsync((run) => training.evaluateProgram(this, run, 'evaluate', x, y, opts), { pipelined: true });
  }
  /** evaluate on the calling thread: the same numbers bit for bit. */
  evaluateSync(x: ModelInputs, y: ModelTargets, opts: SyncInferenceOptions = {}): Logs {
    return this.runSync((run) => training.evaluateProgram(this, run, 'evaluateSync', x, y, opts));
  }

  /**
   * The model's outputs for x (a Tensor, or one per output for several), computed in batches in inference
   * mode. The batches are read from x in place: do not write x until the Promise settles. A single sample
   * (the input's shape without the batch axis) gives its outputs without the batch axis.
   * @example const probs = await model.predict(xTest, { batchSize: 256 })
   */
  async predict(x: ModelInputs, opts: InferenceOptions = {}): Promise<Out> {
    const one = this.asBatch(x);
    const out = this.single(await this.runAsync((run) => training.predictProgram(this, run, 'predict', one?.x ?? x, opts), { pipelined: true }));
    return one ? this.unbatch(out) : out;
  }

  /**
   * The predicted class of each sample: the index of its largest output (a classifier's logits or
   * probabilities), for a model with one output of shape [classes].
   * @example const classes = await model.predictClasses(xTest) // Int32Array
   */
  async predictClasses(x: ModelInputs, opts: InferenceOptions = {}): Promise<Int32Array> {
    const model = this.singleOutput('predictClasses');
    if (model.outputs[0].shape.length !== 1) fail('predictClasses', 'a model whose output is [classes]', `[${model.outputs[0].shape.join(', ')}]`);
    const scores = await model.predict(x, opts);
    return argmax(scores.rank === 1 ? scores.reshape([1, scores.size]) : scores);
  }

  /** A single sample (each input's shape without the batch axis) as a batch of one; undefined for a batch. */
  private asBatch(x: ModelInputs): { x: ModelInputs } | undefined {
    const single = (t: unknown, i: number): boolean => t instanceof Tensor && t.rank === this.inputs[i].shape.length && t.shape.every((d, k) => d === this.inputs[i].shape[k]);
    const one = (t: Tensor): Tensor => t.reshape([1, ...t.shape]);
    if (x instanceof Tensor) return this.inputs.length === 1 && single(x, 0) ? { x: one(x) } : undefined;
    if (Array.isArray(x)) return x.length === this.inputs.length && x.every(single) ? { x: (x as Tensor[]).map(one) } : undefined;
    if (typeof x === 'object' && x !== null) {
      const named = this.inputNames.map((n) => (x as Record<string, Tensor>)[n]);
      return named.every(single) ? { x: Object.fromEntries(this.inputNames.map((n, i) => [n, one(named[i])])) } : undefined;
    }
    return undefined;
  }

  private unbatch(out: Out): Out {
    const drop = (t: Tensor): Tensor => t.reshape(t.shape.slice(1));
    return (Array.isArray(out) ? out.map(drop) : drop(out as Tensor)) as Out;
  }
  /** predict on the calling thread, for scripts: the same outputs bit for bit. */
  predictSync(x: ModelInputs, opts: SyncInferenceOptions = {}): Out {
    const one = this.asBatch(x);
    const out = this.single(this.runSync((run) => training.predictProgram(this, run, 'predictSync', one?.x ?? x, opts)));
    return one ? this.unbatch(out) : out;
  }

  /**
   * A copy of this model frozen for inference, whose weights the native kernels prepare once instead of on every
   * call (model/session.ts): the same outputs, bit for bit. Later changes to this model do not reach it.
   * @example const session = model.inferenceSession(); const probs = await session.predict(xTest)
   * @throws ConvkitError when the model cannot be rebuilt from its config (a layer class convkit does not know).
   */
  inferenceSession(): InferenceSession<Out> {
    return inferenceSession(this);
  }

  /** The layers' configs and how they connect: everything but weights needed to rebuild the model. */
  getConfig(): ModelConfig {
    const refOf = (t: SymbolicTensor): NodeRef => [t.node.layer.name, t.node.index, 0];
    return {
      className: 'Functional',
      name: this.name,
      dtype: this.dtype,
      seed: this.seed,
      layers: this.layers.map((l) => ({
        ...l.getConfig(),
        inboundNodes: this.nodes.filter((n) => n.layer === l && n.inputs.length > 0).map((n) => n.inputs.map(refOf)),
      })),
      inputLayers: this.inputs.map(refOf),
      outputLayers: this.outputs.map(refOf),
    };
  }

  /**
   * Writes model.json and a weights file into dir (created if needed), with the optimizer state so fit can
   * resume exactly after loadModel. A crash at any moment leaves dir holding the previous model or this one;
   * concurrent saves to one dir wait for each other (src/io/model-dir.ts). With `{ format: 'tfjs' }`, writes
   * a TF.js Layers model instead (topology and weights; TF.js's loadLayersModel reads it), or refuses, naming the
   * layer, what TF.js cannot express.
   * @example await model.save('out/net')
   */
  /**
   * Writes the model as an ONNX file (opset 17) for onnxruntime and other ONNX runtimes: inputs and outputs in
   * convkit's layouts (NHWC), the batch size free, batch normalization in inference mode, dropout left out.
   * @example await model.exportOnnx('out/net.onnx')
   * @throws ConvkitError naming the layer that has no ONNX export.
   */
  async exportOnnx(path: string): Promise<void> {
    await exportOnnx(this, path);
  }

  async save(dir: string, opts: { format?: 'convkit' | 'tfjs' } = {}): Promise<void> {
    const format = oneOf('save', 'format', opts?.format ?? 'convkit', ['convkit', 'tfjs'] as const);
    if (format === 'tfjs') await saveTfjsModel(this, dir);
    else await saveModel(this, dir);
  }


  /**
   * This model typed as having one output, for code that handles only those (the batcher, the CLI).
   * @throws ConvkitError naming `where` when the model has several outputs.
   */
  singleOutput(where: string): Model<Tensor> {
    if (this.outputs.length !== 1) fail(where, 'a model with one output', `${this.outputs.length} outputs (${this.outputNames.join(', ')})`);
    return this as unknown as Model<Tensor>;
  }

  /** @internal Whether this is a Sequential (its config and summary take the simpler form). */
  isSequential(): boolean {
    return false;
  }

  /** @internal Runs the forward pass on one batch of checked inputs. */
  *runForward(run: RunContext, xs: readonly Tensor[], opts: { training: boolean; step: number; keep: boolean; handedOver?: readonly boolean[] }): OpProgram<ForwardRun> {
    return yield* forwardPlan(opts.training || opts.keep ? this.plan : this.inferencePlan, xs, { ...opts, run });
  }

  /** @internal Checks inputs against the model's: each a Tensor of [N, ...shape] with one N. */
  checkInputs(where: string, x: ModelInputs): Tensor[] {
    const xs = training.byName(where, 'x', x, this.inputNames, (v): v is Tensor => v instanceof Tensor);
    let n: number | undefined;
    xs.forEach((t, i) => {
      const want = this.inputs[i].shape;
      const label = this.inputs.length > 1 ? `x['${this.inputNames[i]}']` : 'x';
      if (!(t instanceof Tensor)) fail(where, `${label} as a Tensor`, describe(t));
      if (t.rank !== want.length + 1 || t.shape.slice(1).some((d, k) => d !== want[k]) || t.shape[0] < 1) {
        fail(where, `${label} of shape [N, ${want.join(', ')}]`, `[${t.shape.join(', ')}]`);
      }
      if (n !== undefined && t.shape[0] !== n) fail(where, `${label} with ${n} samples, as the first input`, `${t.shape[0]}`);
      n = t.shape[0];
    });
    return xs;
  }

  private *forwardProgram(run: RunContext, where: string, x: ModelInputs, opts: ForwardOptions): OpProgram<Tensor[]> {
    // not cast: the first layer refuses an input of another dtype, naming itself
    const xs = this.checkInputs(where, x);
    const step = opts.step ?? this.compiled?.optimizer.iterations ?? 0;
    this.lastForward = yield* this.runForward(run, xs, { training: opts.training ?? false, step, keep: true });
    return this.lastForward.outputs;
  }

  private *backwardProgram(run: RunContext, dy: Tensor | readonly Tensor[], wantInput: boolean): OpProgram<Tensor | Tensor[] | undefined> {
    const fwd = this.lastForward;
    if (!fwd) throw new ConvkitError(`${this.name}: backward called before forward`, this.name);
    const dys = dy instanceof Tensor ? [dy] : [...dy];
    if (dys.length !== this.outputs.length) fail(`${this.name}.backward`, `${this.outputs.length} gradient(s), one per output`, `${dys.length}`);
    const r = yield* backwardPlan(this.plan, fwd, dys, { run, inputGrads: wantInput });
    for (const p of this.params()) p.grad = r.paramGrads.get(p);
    if (!wantInput) return undefined;
    return this.inputs.length === 1 ? r.inputGrads[0] : (r.inputGrads as Tensor[]);
  }

  /** One tensor for a single-output model, else one per output. */
  private single(outputs: Tensor[]): Out {
    return (this.outputs.length === 1 ? outputs[0] : outputs) as Out;
  }

  // Batch-wise programs take their outputs from one of the model's buffer pools, reused batch after batch;
  // concurrent runs each hold their own. After a run, param grads point into the pool and are overwritten by
  // the model's next run. CONVKIT_OUTPUT_ARENA=0 allocates every output afresh.
  private takePool(): BufferPool | undefined {
    if (process.env.CONVKIT_OUTPUT_ARENA === '0') return undefined;
    const pool = this.pools.pop() ?? new BufferPool();
    pool.batchEnd();
    return pool;
  }

  /** @internal Runs a batch program with one of the model's pools. */
  runSync<T>(program: (run: RunContext) => OpProgram<T>): T {
    const pool = this.takePool();
    try {
      return runProgramSync(program(pool ?? freshOutputs), pool);
    } finally {
      if (pool) this.pools.push(pool);
    }
  }

  /** @internal Runs a batch program with one of the model's pools, its kernels off the event loop (see runProgramAsync for `pipelined`). */
  async runAsync<T>(program: (run: RunContext) => OpProgram<T>, opts: { pipelined?: boolean } = {}): Promise<T> {
    const pool = this.takePool();
    try {
      return await runProgramAsync(program(pool ?? freshOutputs), pool, opts);
    } finally {
      if (pool) this.pools.push(pool);
    }
  }
}

/**
 * A graph model from inputs to outputs (Keras's functional API): several inputs or outputs, skip connections,
 * merges, layers shared between places.
 * @example
 * const x = input({ shape: [28, 28, 1] });
 * const h = layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
 * const y = layers.dense({ units: 10 }).apply(layers.globalAveragePooling2d().apply(layers.add().apply([h, h])));
 * const net = model({ inputs: x, outputs: y });
 * @throws ConvkitError when the outputs need an input that is not given, layer names repeat, or shapes do not fit.
 */
export function model<Out extends Tensor | Tensor[] = Tensor | Tensor[]>(args: ModelArgs): Model<Out> {
  return new Model<Out>(args);
}

