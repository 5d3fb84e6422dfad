import { ConvkitError, describe, fail } from '../errors.js';
import { getInitializer, type Initializer, type InitializerSpec } from '../initializers/index.js';
import { deriveSeed } from '../initializers/seed.js';
import type { ActivationKind, ExplicitPadding, OpProgram, Pool2DOptions, RunContext } from '../ops/index.js';
import { Tensor, toShared, type DType, type Shape } from '../tensor.js';
import type { Regularizer } from './regularizers.js';
import { LayerNode, SymbolicTensor } from './symbolic.js';

/**
 * A weight of a layer. Optimizers update `value.data` in place; `grad` is set by the model's backward pass.
 * Non-trainable weights (BatchNorm's moving statistics) are saved and loaded but never get a gradient.
 */
export interface Param {
  /** `<layer name>/<weight name>`, unique within a model; the key in the weights file and in optimizer state. */
  readonly name: string;
  value: Tensor;
  grad: Tensor | undefined;
  readonly trainable: boolean;
  readonly regularizer?: Regularizer;
}

/** What every layer accepts. `inputShape` excludes the batch axis and is needed on a sequential model's first layer. */
export interface LayerArgs {
  name?: string;
  inputShape?: number[];
}

/**
 * Where a model being loaded takes its weights from instead of initializing them: the weight `name`
 * (`<layer>/<weight>`) of `shape`, in the model's dtype. The layer keeps the tensor returned (without a copy
 * when its storage is already a SharedArrayBuffer of its own).
 * @throws ConvkitError when the source has no such weight or another shape.
 */
export type WeightSource = (name: string, shape: Shape) => Tensor;

export interface BuildContext {
  dtype: DType;
  /** Base seed for this layer's initializers and dropout masks (derived from the model seed and layer index). */
  seed: number;
  /** Weights to take instead of initializing them (loadModel): nothing is allocated that the file cannot back. */
  weights?: WeightSource;
}

export interface ForwardContext {
  training: boolean;
  /** The optimizer step; dropout draws its mask from (seed, step) so a resumed run draws the same masks. */
  step: number;
  /** Where the run's outputs come from: a layer computing in TypeScript allocates its outputs here too. */
  run: RunContext;
  /** Whether a backward pass will follow (else a layer may skip keeping what only backward reads). */
  keep: boolean;
}

export interface BackwardContext {
  run: RunContext;
  /** Whether the gradient with respect to input i is wanted (a model's inputs need none in training). */
  needInputGrad(i?: number): boolean;
  /**
   * Sets a param's gradient for this backward pass; a layer applied at several places adds up its
   * gradients (the model does, with an add op).
   */
  grad(param: Param, g: Tensor): OpProgram<void>;
}

export interface LayerConfig {
  className: string;
  config: Record<string, unknown>;
}

const counters = new Map<string, number>();

/** Keras-style default names: conv2d_1, conv2d_2, ... */
function autoName(prefix: string): string {
  const n = (counters.get(prefix) ?? 0) + 1;
  counters.set(prefix, n);
  return `${prefix}_${n}`;
}

/**
 * The base of every layer. A layer is applied to symbolic tensors (`apply`) to describe a model, built once
 * by the model (creating its weights for the input shapes), and run by the model's executor: each place it is
 * applied (a node) runs `forwardProgram` with its own state S, in which it keeps what `backwardProgram` of
 * that same place needs, so a layer applied twice (shared weights) keeps two states. backwardProgram returns
 * dx and hands each param's gradient to ctx.grad. Weights and config give a JSON round trip.
 * Shapes here exclude the batch axis unless they are a tensor's shape.
 */
export abstract class Layer<S extends object = object> {
  /** The registry key in model.json; every concrete layer sets it. */
  static readonly className: string;
  readonly name: string;
  readonly declaredInputShape: number[] | undefined;
  /** Where this layer has been applied, in order (node i is `layer[i]` in a config's inbound nodes). */
  readonly nodes: LayerNode[] = [];
  protected built = false;
  protected dtype: DType = 'float32';
  protected seed = 0;
  private weightSource: WeightSource | undefined;
  private _inputShapes: number[][] = [];
  private _outputShape: number[] = [];
  private readonly weights: Param[] = [];

  constructor(args: LayerArgs, defaultPrefix: string) {
    if (args?.name !== undefined && (typeof args.name !== 'string' || args.name === '' || args.name.includes('/'))) {
      fail(`${defaultPrefix} layer`, "name to be a non-empty string without '/'", describe(args.name));
    }
    this.name = args?.name ?? autoName(defaultPrefix);
    if (args?.inputShape !== undefined) {
      if (!Array.isArray(args.inputShape) || args.inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
        fail(this.where, 'inputShape as an array of positive integers (without the batch axis)', describe(args.inputShape));
      }
      this.declaredInputShape = [...args.inputShape];
    }
  }

  get className(): string {
    return (this.constructor as typeof Layer).className;
  }
  /** How errors name this layer: `Conv2D 'conv2d_1'`. */
  get where(): string {
    return `${this.className} '${this.name}'`;
  }
  /** The input shape (no batch axis); for a layer with several inputs, the first's. */
  get inputShape(): number[] {
    return [...(this._inputShapes[0] ?? [])];
  }
  get inputShapes(): number[][] {
    return this._inputShapes.map((s) => [...s]);
  }
  get outputShape(): number[] {
    return [...this._outputShape];
  }
  get isBuilt(): boolean {
    return this.built;
  }
  get modelDtype(): DType {
    return this.dtype;
  }

  /** How many inputs the layer takes: 1, or for merge layers 'many' (two or more). */
  get arity(): 1 | 'many' {
    return 1;
  }

  /**
   * Applies the layer to symbolic tensors (from `input()` or other layers), recording where: this describes a
   * model, computing nothing. A layer applied at several places shares its weights.
   * @example const h = layers.dense({ units: 10 }).apply(x)
   * @throws ConvkitError when the input shapes do not fit the layer, or differ from an earlier application's.
   */
  apply(inputs: SymbolicTensor | readonly SymbolicTensor[]): SymbolicTensor {
    const list = Array.isArray(inputs) ? [...(inputs as readonly SymbolicTensor[])] : [inputs as SymbolicTensor];
    if (list.length === 0 || list.some((t) => !(t instanceof SymbolicTensor))) {
      fail(`${this.where}.apply`, this.arity === 1 ? 'a symbolic tensor (from input() or another layer)' : 'an array of symbolic tensors', describe(inputs));
    }
    if (this.arity === 1 && list.length !== 1) fail(`${this.where}.apply`, 'one input', `${list.length} inputs`);
    if (this.arity === 'many' && (!Array.isArray(inputs) || list.length < 2)) fail(`${this.where}.apply`, 'an array of at least two inputs', `${list.length} input(s)`);
    const shapes = list.map((t) => t.shape);
    const first = this.nodes[0];
    if (first) {
      const was = first.inputs.map((t) => t.shape);
      if (was.length !== shapes.length || was.some((s, i) => !sameShape(s, shapes[i]))) {
        fail(`${this.where}.apply`, `inputs of shape ${was.map((s) => `[N, ${s.join(', ')}]`).join(', ')} (as where it was applied first: a shared layer keeps its shapes)`, shapes.map((s) => `[N, ${s.join(', ')}]`).join(', '));
      }
    }
    if (this.declaredInputShape && (shapes.length !== 1 || !sameShape(this.declaredInputShape, shapes[0]))) {
      fail(this.where, `input shape [${this.declaredInputShape.join(', ')}] (its inputShape)`, shapes.map((s) => `[${s.join(', ')}]`).join(', '));
    }
    const dtype = list[0].dtype;
    if (list.some((t) => t.dtype !== dtype)) fail(`${this.where}.apply`, 'inputs of one dtype', list.map((t) => t.dtype).join(', '));
    const out = this.computeOutputShapes(shapes);
    const node = new LayerNode(this as Layer, this.nodes.length, list, out, dtype);
    this.nodes.push(node);
    return node.output;
  }

  /** The output of the layer's first application (Keras's layer.output). */
  get output(): SymbolicTensor {
    const n = this.nodes[0];
    if (!n) throw new ConvkitError(`${this.where}: not applied to anything yet, so it has no output`, this.where);
    return n.output;
  }
  /** The input of the layer's first application (the first one, for a layer of several inputs). */
  get input(): SymbolicTensor {
    const n = this.nodes[0];
    if (!n || n.inputs.length === 0) throw new ConvkitError(`${this.where}: not applied to anything yet, so it has no input`, this.where);
    return n.inputs[0];
  }

  /** Creates weights for inputs of these shapes (no batch axis); called once, by the first model that uses the layer. */
  build(inputShapes: readonly Shape[], ctx: BuildContext): void {
    if (this.built) throw new ConvkitError(`${this.where}: already built`, this.where);
    this.dtype = ctx.dtype;
    this.seed = ctx.seed;
    this._inputShapes = inputShapes.map((s) => [...s]);
    this._outputShape = this.computeOutputShapes(inputShapes);
    this.weightSource = ctx.weights;
    try {
      this.createWeights();
    } finally {
      this.weightSource = undefined;
    }
    this.built = true;
  }

  /** The output shape for these input shapes: a single-input layer checks there is one and asks computeOutputShape. */
  computeOutputShapes(inputShapes: readonly Shape[]): number[] {
    if (inputShapes.length !== 1) fail(this.where, 'one input', `${inputShapes.length}`);
    return this.computeOutputShape(inputShapes[0]);
  }

  /** The output shape (no batch axis) for an input shape; throws naming the layer when the input does not fit. */
  abstract computeOutputShape(inputShape: Shape): number[];

  /** Layers with weights override this and call addWeight. */
  protected createWeights(): void {}

  protected addWeight(name: string, shape: Shape, init: Initializer, trainable = true, regularizer?: Regularizer): Param {
    const full = `${this.name}/${name}`;
    const param: Param = {
      name: full,
      value: this.weightSource ? ownShared(this.weightSource(full, shape)) : toShared(init.init(shape, this.dtype, deriveSeed(this.seed, this.weights.length))),
      grad: undefined,
      trainable,
      regularizer,
    };
    this.weights.push(param);
    return param;
  }

  /** A fresh state for one application's forward and backward. */
  newState(): S {
    return {} as S;
  }

  /**
   * x (N, ...inputShape) -> y (N, ...outputShape), written once as an OpProgram (`yield ops.request.*`):
   * the model runs it with the async kernels (fit, predict) or the synchronous ones (predictSync). The layer
   * keeps in `state` what its backward needs.
   * @example *forwardProgram(x, ctx, state) { state.x = x; return yield ops.request.maxPool2d(x, { poolSize: 2 }); }
   */
  abstract forwardProgram(x: Tensor, ctx: ForwardContext, state: S): OpProgram<Tensor>;
  /**
   * dy (N, ...outputShape) -> dx (N, ...inputShape), from `state`; hands each trainable param's gradient to
   * ctx.grad. When ctx.needInputGrad() is false a layer may skip dx.
   */
  abstract backwardProgram(dy: Tensor, ctx: BackwardContext, state: S): OpProgram<Tensor | undefined>;

  /**
   * Whether this layer's programs (forward and backward) read or write tensor values in JS without yielding
   * ops.SETTLE first. Pipelined runs (predict, evaluate, fit, trainOnBatch) start ops without waiting for them,
   * so an op's output is not yet written when the program receives it; where this is true they run the layer
   * unpipelined: they wait for every op started before it, then for each of its own. True by default, so a layer
   * that does not say stays correct.
   */
  touchesValues(): boolean {
    return true;
  }

  /** The executor's entry: all inputs (one for most layers). */
  *callProgram(xs: readonly Tensor[], ctx: ForwardContext, state: S): OpProgram<Tensor> {
    this.checkInputs(xs);
    return yield* this.forwardProgram(xs[0], ctx, state);
  }
  /** The executor's entry: the gradients for every input (undefined where not wanted). */
  *callBackwardProgram(dy: Tensor, ctx: BackwardContext, state: S): OpProgram<(Tensor | undefined)[]> {
    return [yield* this.backwardProgram(dy, ctx, state)];
  }

  /**
   * Which tensors this layer's backward reads, so a model can free the rest as soon as the forward pass is
   * done with them: its inputs (a convolution's), its output (a sigmoid's), both, or neither (an addition's).
   */
  keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: true };
  }

  /** Fusion capability: a max pooling's options when this layer is one, which the op before it may run. */
  maxPoolOptions(): Pool2DOptions | undefined {
    return undefined;
  }

  /**
   * Fusion capability: whether this layer is, at inference, an affine map per channel (engine/plan.ts's
   * AffineAtInference), which the convolution or dense layer before it may apply in its op.
   */
  foldsAtInference(): boolean {
    return false;
  }

  /** Fusion capability: whether this layer adds its two inputs, which the op producing one of them may do. */
  isResidualAdd(): boolean {
    return false;
  }

  /**
   * Fusion capability: the rows and columns of zeros this layer adds around each image, [[top, bottom], [left,
   * right]], when that is all it does (ZeroPadding2D); the convolution after it may read them as padding of its
   * own (engine/plan.ts's PaddingAbsorber). Undefined otherwise.
   */
  zeroPadding(): ExplicitPadding | undefined {
    return undefined;
  }

  /** Fusion capability: the activation this layer is, which the op before it may apply at inference, or undefined. */
  epilogueActivation(): { activation: ActivationKind; alpha?: number } | undefined {
    return undefined;
  }

  /** All weights in creation order (the order of getWeights and of the weights file). */
  params(): Param[] {
    return this.weights;
  }

  countParams(): number {
    return this.weights.reduce((n, p) => n + p.value.size, 0);
  }

  /** Copies of the weights, in params() order. */
  getWeights(): Tensor[] {
    return this.weights.map((p) => p.value.clone());
  }

  /**
   * Replaces the weights (copied, cast to the model's dtype).
   * @throws ConvkitError naming the layer and weight when the count or a shape differs.
   */
  setWeights(weights: Tensor[]): void {
    if (!Array.isArray(weights) || weights.length !== this.weights.length) {
      fail(`${this.where}.setWeights`, `${this.weights.length} tensors`, describe(Array.isArray(weights) ? weights.length : weights));
    }
    weights.forEach((w, i) => {
      const p = this.weights[i];
      if (!(w instanceof Tensor)) fail(`${this.where}.setWeights`, `a Tensor for ${p.name}`, describe(w));
      if (!sameShape(w.shape, p.value.shape)) {
        fail(`${this.where}.setWeights`, `${p.name} of shape [${p.value.shape.join(', ')}]`, `[${w.shape.join(', ')}]`);
      }
    });
    weights.forEach((w, i) => this.weights[i].value.data.set(w.data));
  }

  /** The constructor arguments that rebuild this layer (JSON-safe). */
  getConfig(): LayerConfig {
    return { className: this.className, config: { name: this.name, inputShape: this.declaredInputShape, ...this.ownConfig() } };
  }

  protected abstract ownConfig(): Record<string, unknown>;

  /** Checks forward inputs against the built input shapes and dtype. */
  protected checkInputs(xs: readonly Tensor[]): void {
    if (!this.built) throw new ConvkitError(`${this.where}: not built; use it in a model first`, this.where);
    if (xs.length !== this._inputShapes.length) fail(this.where, `${this._inputShapes.length} input(s)`, `${xs.length}`);
    xs.forEach((x, i) => {
      const want = this._inputShapes[i];
      if (!(x instanceof Tensor)) fail(this.where, 'a Tensor', describe(x));
      if (x.rank !== want.length + 1 || !sameShape(x.shape.slice(1), want)) fail(this.where, `input of shape [N, ${want.join(', ')}]`, `[${x.shape.join(', ')}]`);
      if (x.dtype !== this.dtype) fail(this.where, `input of dtype ${this.dtype} (the model's)`, describe(x.dtype));
    });
  }

  /** Throws when backward runs before forward. */
  protected saved<T>(v: T | undefined): T {
    if (v === undefined) throw new ConvkitError(`${this.where}: backward called before forward`, this.where);
    return v;
  }
}

/** Whether two shapes have the same dimensions. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The layer's initializer argument, or `fallback` when it gave none. */
export function initializerOf(where: string, spec: InitializerSpec | undefined, fallback: InitializerSpec): Initializer {
  return getInitializer(where, spec ?? fallback);
}

/** t itself when its storage is a whole SharedArrayBuffer (a weight source's own), else a shared copy. */
function ownShared(t: Tensor): Tensor {
  const d = t.data;
  return d.buffer instanceof SharedArrayBuffer && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength ? t : toShared(t);
}
