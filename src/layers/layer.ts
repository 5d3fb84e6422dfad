import { ConvkitError, describe, fail } from '../errors.js';
import { getInitializer, type Initializer, type InitializerSpec } from '../initializers/index.js';
import { deriveSeed } from '../initializers/seed.js';
import { freshOutputs, runProgramAsync, type OpProgram, type RunContext } from '../ops/index.js';
import { Tensor, toShared, type DType, type Shape } from '../tensor.js';
import type { Regularizer } from './regularizers.js';

/**
 * A weight of a layer. Optimizers update `value.data` in place; `grad` is written by the layer's backward.
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

/** What every layer accepts. `inputShape` excludes the batch axis and is needed on a model's first layer. */
export interface LayerArgs {
  name?: string;
  inputShape?: number[];
}

/**
 * Where a model being loaded takes its weights from instead of initializing them: the weight `name`
 * (`<layer>/<weight>`) of `shape`, in the model's dtype.
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
 * The base of every layer: build (creates weights for an input shape), forward (keeps what backward needs),
 * backward (returns dx and fills each param's grad), weights and config for a JSON round trip.
 * Shapes here exclude the batch axis unless they are a tensor's shape.
 */
export abstract class Layer {
  /** The registry key in model.json; every concrete layer sets it. */
  static readonly className: string;
  readonly name: string;
  readonly declaredInputShape: number[] | undefined;
  protected built = false;
  protected dtype: DType = 'float32';
  protected seed = 0;
  private weightSource: WeightSource | undefined;
  private _inputShape: number[] = [];
  private _outputShape: number[] = [];
  private readonly weights: Param[] = [];

  constructor(args: LayerArgs, defaultPrefix: string) {
    if (args?.name !== undefined && (typeof args.name !== 'string' || args.name === '' || args.name.includes('/'))) {
      fail(`${defaultPrefix} layer`, "name to be a non-empty string without '/'", describe(args.name));
    }
    this.name = args?.name ?? autoName(defaultPrefix);
    if (args.inputShape !== undefined) {
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
  get inputShape(): number[] {
    return [...this._inputShape];
  }
  get outputShape(): number[] {
    return [...this._outputShape];
  }

  /** Creates weights for inputs of `inputShape` (no batch axis); called once by the model. */
  build(inputShape: Shape, ctx: BuildContext): void {
    if (this.built) throw new ConvkitError(`${this.where}: already built; a layer instance belongs to one model`, this.where);
    if (this.declaredInputShape && !sameShape(this.declaredInputShape, inputShape)) {
      fail(this.where, `input shape [${this.declaredInputShape.join(', ')}] (its inputShape)`, `[${inputShape.join(', ')}] from the layer before`);
    }
    this.dtype = ctx.dtype;
    this.seed = ctx.seed;
    this._inputShape = [...inputShape];
    this._outputShape = this.computeOutputShape(inputShape);
    this.weightSource = ctx.weights;
    try {
      this.createWeights();
    } finally {
      this.weightSource = undefined;
    }
    this.built = true;
  }

  /** The output shape (no batch axis) for an input shape; throws naming the layer when the input does not fit. */
  abstract computeOutputShape(inputShape: Shape): number[];

  /** Layers with weights override this and call addWeight. */
  protected createWeights(): void {}

  protected addWeight(name: string, shape: Shape, init: Initializer, trainable = true, regularizer?: Regularizer): Param {
    const full = `${this.name}/${name}`;
    const param: Param = {
      name: full,
      value: toShared(this.weightSource ? this.weightSource(full, shape) : init.init(shape, this.dtype, deriveSeed(this.seed, this.weights.length))),
      grad: undefined,
      trainable,
      regularizer,
    };
    this.weights.push(param);
    return param;
  }

  /**
   * x (N, ...inputShape) -> y (N, ...outputShape), written once as an OpProgram (`yield ops.request.*`):
   * the model runs it with the async kernels (forward, predict) or the synchronous ones (forwardSync,
   * predictSync). A layer keeps what its backward needs.
   * @example *forwardProgram(x) { this.checkInput(x); return yield ops.request.maxPool2d(x, { poolSize: 2 }); }
   */
  abstract forwardProgram(x: Tensor, ctx: ForwardContext): OpProgram<Tensor>;
  /**
   * dy (N, ...outputShape) -> dx (N, ...inputShape), from the state the last forward kept; fills each
   * trainable param's grad. With needInputGrad false a layer may skip dx (the model's first layer).
   */
  abstract backwardProgram(dy: Tensor, needInputGrad: boolean, run: RunContext): OpProgram<Tensor | undefined>;

  /** forwardProgram with the kernels off the event loop (native backend). */
  async forward(x: Tensor, ctx: Omit<ForwardContext, 'run'>): Promise<Tensor> {
    return runProgramAsync(this.forwardProgram(x, { ...ctx, run: freshOutputs }));
  }
  /** backwardProgram with the kernels off the event loop (native backend). */
  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | undefined> {
    return runProgramAsync(this.backwardProgram(dy, needInputGrad, freshOutputs));
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
      fail(`${this.where}.setWeights`, `${this.weights.length} tensors`, Array.isArray(weights) ? weights.length : weights);
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

  /** Checks a forward input against the built input shape. */
  protected checkInput(x: Tensor): void {
    if (!this.built) throw new ConvkitError(`${this.where}: not built; add it to a model (sequential) first`, this.where);
    if (!(x instanceof Tensor)) fail(this.where, 'a Tensor', describe(x));
    if (x.rank !== this._inputShape.length + 1 || !sameShape(x.shape.slice(1), this._inputShape)) {
      fail(this.where, `input of shape [N, ${this._inputShape.join(', ')}]`, `[${x.shape.join(', ')}]`);
    }
    if (x.dtype !== this.dtype) fail(this.where, `input of dtype ${this.dtype} (the model's)`, describe(x.dtype));
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
