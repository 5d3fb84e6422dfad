/**
 * The execution plans of a model graph, made once when the model is built: the order its nodes run in, which
 * nodes run as one op (fusions the layers declare they can do), and when each value is last needed, forward
 * and backward, so the executor can give its buffer back for reuse as early as possible. A model has two:
 * one for training (and any forward a backward may follow), and one for inference, which also folds what
 * only holds there (a batch normalization's moving statistics) into the op before it.
 */
import type { Layer } from '../layers/layer.js';
import type { LayerNode, SymbolicTensor } from '../layers/symbolic.js';
import type { ActivationKind, ExplicitPadding, OpProgram, Pool2DOptions, PooledActivation } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { BackwardContext, ForwardContext } from '../layers/layer.js';

/**
 * A layer that can run a following max pooling inside its own op (Conv2D with an activation its kernel
 * applies). The planner fuses it with a max pooling that is its output's only reader.
 */
export interface MaxPoolProducer {
  fusesMaxPool(): boolean;
  forwardMaxPoolProgram(x: Tensor, pool: Pool2DOptions, ctx: ForwardContext, state: object, keep?: { layer: Layer; state: { x?: Tensor } }): OpProgram<Tensor>;
  /** The activation the pooling's backward can apply, or undefined. */
  pooledActivation(): PooledActivation | undefined;
  backwardFromActivationInput(dz: Tensor, ctx: BackwardContext, state: object): OpProgram<Tensor | undefined>;
}

/** A max pooling that can hand its gradient through the producer's activation (MaxPooling2D). */
export interface MaxPoolConsumer {
  backwardThroughProgram(dy: Tensor, state: { x?: Tensor }, activation: PooledActivation): OpProgram<Tensor>;
}

function isMaxPoolProducer(layer: Layer): layer is Layer & MaxPoolProducer {
  return typeof (layer as Partial<MaxPoolProducer>).fusesMaxPool === 'function' && (layer as Layer & MaxPoolProducer).fusesMaxPool();
}

/**
 * What an inference step fuses into its producer's op: zeros around its input (a zero padding before it), and
 * on its result, in this order, an affine map per channel, a residual, an activation.
 */
export interface InferenceEpilogue {
  /** [[top, bottom], [left, right]] rows and columns of zeros the input is read with, besides the op's own padding. */
  inputPadding?: ExplicitPadding;
  /** y * scale + shift per channel (a batch normalization's, at inference). */
  affine?: ChannelAffine;
  residual?: Tensor;
  activation?: ActivationKind;
  alpha?: number;
}

/** y = x * scale + shift, per channel (the last axis), in float64. */
export interface ChannelAffine {
  scale: Float64Array;
  shift: Float64Array;
}

/**
 * A layer whose op can apply an InferenceEpilogue to its result (Conv2D and Dense, their own activation
 * linear). The inference planner fuses into it what follows: a layer that is an affine map per channel at
 * inference (Layer.foldsAtInference, AffineAtInference), then an addition of two inputs (Layer.isResidualAdd),
 * then an activation (Layer.epilogueActivation), each the only reader of the value before it.
 */
export interface EpilogueProducer {
  takesEpilogue(): boolean;
  forwardEpilogueProgram(x: Tensor, ep: InferenceEpilogue, ctx: ForwardContext, state: object): OpProgram<Tensor>;
}

/**
 * A layer that can read its input through zeros around it besides its own padding (2-D convolutions): both
 * planners fuse into it a zero padding (Layer.zeroPadding) whose output only it reads, instead of that layer
 * copying the input into a larger tensor. Its backward then gives the gradient of the unpadded input.
 */
export interface PaddingAbsorber {
  absorbsPadding(): boolean;
  forwardPaddedProgram(x: Tensor, padding: ExplicitPadding, ctx: ForwardContext, state: object): OpProgram<Tensor>;
}

/** A layer that is, at inference, y = x * scale + shift per channel (BatchNormalization, with its moving statistics). */
export interface AffineAtInference {
  inferenceAffine(): ChannelAffine;
}

function isEpilogueProducer(layer: Layer): layer is Layer & EpilogueProducer {
  return typeof (layer as Partial<EpilogueProducer>).takesEpilogue === 'function' && (layer as Layer & EpilogueProducer).takesEpilogue();
}

function absorbsPadding(layer: Layer): boolean {
  return typeof (layer as Partial<PaddingAbsorber>).absorbsPadding === 'function' && (layer as Layer & PaddingAbsorber).absorbsPadding();
}

/** The nodes an inference step fuses into its producer's op; `residual` is the Add whose other input it adds. */
export interface EpilogueNodes {
  readonly affine?: LayerNode;
  readonly residual?: LayerNode;
  readonly activation?: LayerNode;
}

/** One step of the plan: a node, or a producer node and the max pooling or the epilogue nodes fused into its op. */
export interface PlanStep {
  /** The node (for a fused step, the producer; `pool` is the pooling). */
  readonly node: LayerNode;
  readonly pool?: LayerNode;
  /** A zero padding the node reads its input through (PaddingAbsorber): the step reads the padding's input. */
  readonly padding?: LayerNode;
  /** Inference plans: the nodes whose work the producer's op does too. */
  readonly epilogue?: EpilogueNodes;
  /** Value ids the step reads, in the layer's input order (an epilogue's residual last). */
  readonly inputs: readonly number[];
  /** The value id it produces (a fused step: the pooling's output). */
  readonly output: number;
  /** A fused step: the producer's output, written only when a backward pass will follow. */
  readonly inner?: number;
}

export interface Plan {
  /** Value id -> the symbolic tensor it computes. */
  readonly values: readonly SymbolicTensor[];
  readonly steps: readonly PlanStep[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** Value id -> the last step reading it in the forward pass (-1 if none). */
  readonly lastRead: readonly number[];
  /** Value id -> whether some backward reads it: its producer keeps its output or a reader keeps its inputs. */
  readonly keptForBackward: readonly boolean[];
  /** Value ids the model was given (its inputs' values are produced by no step). */
  readonly isModelInput: readonly boolean[];
}

/**
 * Plans `nodes` (in an order where every node comes after the nodes it reads) computing `outputs` from
 * `inputs`; `inference` plans a forward pass no backward follows. Fusion is decided by what layers declare
 * (MaxPoolProducer, Layer.maxPoolOptions; EpilogueProducer and the Layer capabilities it names; PaddingAbsorber,
 * Layer.zeroPadding), never by class.
 */
export function planGraph(nodes: readonly LayerNode[], inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[], inference = false): Plan {
  const values: SymbolicTensor[] = [];
  const id = new Map<SymbolicTensor, number>();
  const idOf = (t: SymbolicTensor): number => {
    let v = id.get(t);
    if (v === undefined) {
      v = values.length;
      values.push(t);
      id.set(t, v);
    }
    return v;
  };
  inputs.forEach(idOf);
  const readers = new Map<SymbolicTensor, LayerNode[]>();
  for (const n of nodes) for (const t of n.inputs) readers.set(t, [...(readers.get(t) ?? []), n]);
  const isOutput = new Set(outputs);

  const absorbed = new Set<LayerNode>();
  /** The node that alone reads t, unless t is a model output (then it must be stored as it is) or it is fused already. */
  const soleReader = (t: SymbolicTensor): LayerNode | undefined => {
    const r = readers.get(t);
    return r?.length === 1 && !isOutput.has(t) && !absorbed.has(r[0]) ? r[0] : undefined;
  };

  const steps: PlanStep[] = [];
  // An epilogue step runs where its last node would have: by then the residual (read by that node) exists.
  const pending = new Map<LayerNode, PlanStep>();
  // a zero padding the producer reading it absorbs: producer -> the padding
  const paddedBy = new Map<LayerNode, LayerNode>();
  for (const n of nodes) {
    const waiting = pending.get(n);
    if (waiting) steps.push(waiting);
    if (absorbed.has(n) || n.inputs.length === 0) continue;
    if (n.layer.zeroPadding()) {
      const r = soleReader(n.output);
      if (r && absorbsPadding(r.layer)) {
        absorbed.add(n);
        paddedBy.set(r, n);
        continue;
      }
    }
    const padding = paddedBy.get(n);
    const chain = inference ? epilogueChain(n, soleReader) : undefined;
    const pool = soleReader(n.output);
    const options = pool?.layer.maxPoolOptions();
    const reads = padding ? padding.inputs : n.inputs;
    if (chain) {
      const { last, epilogue, residual } = chain;
      for (const m of [epilogue.affine, epilogue.residual, epilogue.activation]) if (m) absorbed.add(m);
      pending.set(last, { node: n, epilogue, padding, inputs: [...reads, ...(residual ? [residual] : [])].map(idOf), output: idOf(last.output) });
    } else if (padding) {
      steps.push({ node: n, padding, inputs: reads.map(idOf), output: idOf(n.output) });
    } else if (pool && options && isMaxPoolProducer(n.layer)) {
      absorbed.add(pool);
      steps.push({ node: n, pool, inputs: n.inputs.map(idOf), inner: idOf(n.output), output: idOf(pool.output) });
    } else {
      steps.push({ node: n, inputs: n.inputs.map(idOf), output: idOf(n.output) });
    }
  }
  outputs.forEach(idOf);

  const lastRead = values.map(() => -1);
  const kept = values.map(() => false);
  steps.forEach((s, i) => {
    for (const v of s.inputs) lastRead[v] = i;
    const keeps = s.node.layer.keeps();
    if (keeps.inputs) for (const v of s.inputs) kept[v] = true;
    if (s.pool) {
      kept[s.inner!] = true; // the pooling's input, which its backward routes by
      if (s.pool.layer.keeps().output) kept[s.output] = true;
    } else if (keeps.output) {
      kept[s.output] = true;
    }
  });
  const isModelInput = values.map((_, v) => inputs.some((t) => id.get(t) === v));
  return { values, steps, inputs: inputs.map(idOf), outputs: outputs.map(idOf), lastRead, keptForBackward: kept, isModelInput };
}

/**
 * What an inference step can fuse into producer n's op: an affine layer reading its output, then an addition
 * of that and one other value, then an activation, each optional but in this order and each the only reader
 * of the value before it. Undefined when n takes no epilogue or nothing follows that fits.
 */
function epilogueChain(n: LayerNode, soleReader: (t: SymbolicTensor) => LayerNode | undefined): { last: LayerNode; epilogue: EpilogueNodes; residual?: SymbolicTensor } | undefined {
  if (!isEpilogueProducer(n.layer)) return undefined;
  let last = n;
  const epilogue: { affine?: LayerNode; residual?: LayerNode; activation?: LayerNode } = {};
  let residual: SymbolicTensor | undefined;
  let r = soleReader(last.output);
  if (r?.layer.foldsAtInference()) {
    epilogue.affine = last = r;
    r = soleReader(last.output);
  }
  if (r?.layer.isResidualAdd() && r.inputs.length === 2) {
    const other = r.inputs[0] === last.output ? r.inputs[1] : r.inputs[0];
    if (other !== last.output) {
      epilogue.residual = last = r;
      residual = other;
      r = soleReader(last.output);
    }
  }
  if (r?.layer.epilogueActivation()) epilogue.activation = last = r;
  return last === n ? undefined : { last, epilogue, residual };
}
