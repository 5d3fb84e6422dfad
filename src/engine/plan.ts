/**
 * The execution plan of a model graph, made once when the model is built: the order its nodes run in, which
 * pairs of nodes run as one op (fusions the layers declare they can do), and when each value is last needed,
 * forward and backward, so the executor can give its buffer back for reuse as early as possible.
 */
import type { Layer } from '../layers/layer.js';
import type { LayerNode, SymbolicTensor } from '../layers/symbolic.js';
import type { OpProgram, Pool2DOptions, PooledActivation } from '../ops/index.js';
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

/** One step of the plan: a node, or a producer node and the max pooling fused into its op. */
export interface PlanStep {
  /** The node (for a fused step, the producer; `pool` is the pooling). */
  readonly node: LayerNode;
  readonly pool?: LayerNode;
  /** Value ids the step reads, in the layer's input order. */
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
 * `inputs`. Fusion is decided by what layers declare (MaxPoolProducer, Layer.maxPoolOptions), never by class.
 */
export function planGraph(nodes: readonly LayerNode[], inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[]): Plan {
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

  const steps: PlanStep[] = [];
  const absorbed = new Set<LayerNode>();
  for (const n of nodes) {
    if (absorbed.has(n) || n.inputs.length === 0) continue;
    const next = readers.get(n.output);
    const pool = next?.length === 1 ? next[0] : undefined;
    const options = pool?.layer.maxPoolOptions();
    if (pool && options && !isOutput.has(n.output) && isMaxPoolProducer(n.layer)) {
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
