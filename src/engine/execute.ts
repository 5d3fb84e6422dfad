/**
 * Runs a plan: the forward pass over its steps, and the backward pass in reverse, as OpPrograms (so either
 * driver runs them, with the async kernels or the synchronous ones). Each node keeps its own state, so a layer
 * applied at several places backpropagates through each. With a BufferPool, every value holds a reference on
 * its buffer while it lives: in inference a value dies after its last reader; in training, when no backward
 * reads it, after its last reader, and otherwise once its producer's backward has run; temporaries a step
 * allocates die with the step (inference) or with its backward (training).
 */
import type { BackwardContext, ForwardContext, Param } from '../layers/layer.js';
import * as ops from '../ops/index.js';
import type { OpProgram, RunContext } from '../ops/index.js';
import { Tensor } from '../tensor.js';
import type { BufferPool } from './buffers.js';
import type { AffineAtInference, EpilogueProducer, InferenceEpilogue, MaxPoolConsumer, MaxPoolProducer, PaddingAbsorber, Plan, PlanStep } from './plan.js';

export interface ForwardOptions {
  training: boolean;
  /** The optimizer step, for dropout masks. */
  step: number;
  run: RunContext;
  /** Keep what a backward pass needs (training, and a custom loop's forward). */
  keep: boolean;
  /** Per input: whether its buffer is the run's pool's and the pass takes over its reference (dies after its last reader). */
  handedOver?: readonly boolean[];
}

/** What a forward pass leaves for its backward. */
export interface ForwardRun {
  readonly values: (Tensor | undefined)[];
  /** Value id -> whether it still holds a reference on its buffer. */
  readonly held: boolean[];
  /** Per node (by plan step; a fused step's pooling state is `poolStates`). */
  readonly states: object[];
  readonly poolStates: (object | undefined)[];
  /** Per step: the temporaries it allocated, alive until its backward (training). */
  readonly created: Tensor[][];
  readonly outputs: Tensor[];
}

const pooled = (run: RunContext): BufferPool | undefined => ('retain' in run ? (run as BufferPool) : undefined);

/** The forward pass: inputs in the plan's input order -> outputs in its output order. */
export function* forwardPlan(plan: Plan, inputs: readonly Tensor[], opts: ForwardOptions): OpProgram<ForwardRun> {
  const pool = pooled(opts.run);
  const values: (Tensor | undefined)[] = new Array(plan.values.length);
  const held = values.map(() => false);
  plan.inputs.forEach((v, i) => {
    values[v] = inputs[i];
    held[v] = !!pool && !!opts.handedOver?.[i];
  });
  const hold = (v: number): void => {
    pool!.retain(values[v]!);
    held[v] = true;
  };
  const states: object[] = [];
  const poolStates: (object | undefined)[] = [];
  const created: Tensor[][] = [];
  const ctx: ForwardContext = { training: opts.training, step: opts.step, run: opts.run, keep: opts.keep };
  pool?.takeCreated();
  for (const [i, s] of plan.steps.entries()) {
    const run = settledIf(s);
    const xs = s.inputs.map((v) => values[v]!);
    const state = s.node.layer.newState();
    let y: Tensor;
    if (s.epilogue) {
      const e = s.epilogue;
      const ep: InferenceEpilogue = {
        inputPadding: s.padding?.layer.zeroPadding(),
        affine: e.affine && (e.affine.layer as unknown as AffineAtInference).inferenceAffine(),
        residual: e.residual && xs[xs.length - 1],
        ...e.activation?.layer.epilogueActivation(),
      };
      y = yield* run((s.node.layer as unknown as EpilogueProducer).forwardEpilogueProgram(xs[0], ep, ctx, state));
      poolStates.push(undefined);
    } else if (s.pool) {
      const poolState = s.pool.layer.newState() as { x?: Tensor };
      const producer = s.node.layer as unknown as MaxPoolProducer;
      const keep = opts.keep ? { layer: s.pool.layer, state: poolState } : undefined;
      y = yield* run(producer.forwardMaxPoolProgram(xs[0], s.pool.layer.maxPoolOptions()!, ctx, state, keep));
      if (keep) values[s.inner!] = poolState.x;
      poolStates.push(poolState);
    } else if (s.padding) {
      y = yield* run((s.node.layer as unknown as PaddingAbsorber).forwardPaddedProgram(xs[0], s.padding.layer.zeroPadding()!, ctx, state));
      poolStates.push(undefined);
    } else {
      y = yield* run(s.node.layer.callProgram(xs, ctx, state));
      poolStates.push(undefined);
    }
    values[s.output] = y;
    states.push(state);
    const temps = pool?.takeCreated() ?? [];
    if (pool) {
      // the step's values hold their buffers; then the step lets go of what it allocated
      hold(s.output);
      if (s.inner !== undefined && values[s.inner]) hold(s.inner);
      // what the step's state holds lives until its backward; the rest of what it allocated dies now
      const inState = opts.keep ? buffersIn(state, s.pool ? [poolStates[i]] : []) : new Set<ArrayBufferLike>();
      created.push(temps.filter((t) => inState.has(t.data.buffer)));
      for (const t of temps) if (!inState.has(t.data.buffer)) pool.release(t);
      for (const v of new Set(s.inputs)) {
        if (plan.lastRead[v] !== i || plan.outputs.includes(v) || (opts.keep && plan.keptForBackward[v]) || !held[v]) continue;
        pool.release(values[v]!);
        held[v] = false;
      }
    }
  }
  return { values, held, states, poolStates, created, outputs: plan.outputs.map((v) => values[v]!) };
}

/** How step s's programs run: as they are, or unpipelined where its layers touch tensor values in JS (see Layer.touchesValues). */
function settledIf(s: PlanStep): <T>(program: OpProgram<T>) => OpProgram<T> {
  const touches = s.node.layer.touchesValues() || !!s.pool?.layer.touchesValues();
  return (program) => (touches ? ops.unpipelined(program) : program);
}

/** The buffers of the tensors and typed arrays a layer's state holds (in fields, arrays, and objects of them). */
function buffersIn(state: object, more: readonly (object | undefined)[]): Set<ArrayBufferLike> {
  const out = new Set<ArrayBufferLike>();
  const walk = (v: unknown, depth: number): void => {
    if (v instanceof Tensor) out.add(v.data.buffer);
    else if (ArrayBuffer.isView(v)) out.add(v.buffer);
    else if (depth < 4 && Array.isArray(v)) for (const e of v) walk(e, depth + 1);
    else if (depth < 4 && v !== null && typeof v === 'object') for (const e of Object.values(v)) walk(e, depth + 1);
  };
  walk(state, 0);
  for (const m of more) if (m) walk(m, 0);
  return out;
}

export interface BackwardResult {
  /** dL/d(input) per model input, where wanted. */
  inputGrads: (Tensor | undefined)[];
  /** The gradient of every trainable param the pass reached. */
  paramGrads: Map<Param, Tensor>;
}

/**
 * The backward pass from dL/d(output) per model output (undefined: that output does not enter the loss).
 * Input gradients are computed only when `inputGrads` is true (a custom loop's backward); training skips them.
 */
export function* backwardPlan(plan: Plan, fwd: ForwardRun, dys: readonly (Tensor | undefined)[], opts: { run: RunContext; inputGrads: boolean }): OpProgram<BackwardResult> {
  const pool = pooled(opts.run);
  const grads = new Map<number, Tensor>();
  const paramGrads = new Map<Param, Tensor>();
  const accumulate = function* (v: number, g: Tensor): OpProgram<void> {
    const had = grads.get(v);
    if (!had) {
      grads.set(v, g);
      pool?.retain(g);
      return;
    }
    const sum = yield ops.request.add(had, g);
    pool?.retain(sum);
    pool?.release(had);
    grads.set(v, sum);
  };
  plan.outputs.forEach((v, i) => {
    const dy = dys[i];
    if (dy) {
      grads.set(v, dy);
      pool?.retain(dy);
    }
  });
  const paramGrad = function* (p: Param, g: Tensor): OpProgram<void> {
    const had = paramGrads.get(p);
    if (!had) {
      pool?.retain(g);
      paramGrads.set(p, g);
      return;
    }
    const sum = yield ops.request.add(had, g);
    pool?.retain(sum);
    pool?.release(had);
    paramGrads.set(p, sum);
  };
  pool?.takeCreated();
  for (let i = plan.steps.length - 1; i >= 0; i--) {
    const s = plan.steps[i];
    const dy = grads.get(s.output);
    if (dy) {
      const need = (k: number): boolean => !plan.isModelInput[s.inputs[k]] || opts.inputGrads;
      const ctx: BackwardContext = { run: opts.run, needInputGrad: (k = 0) => need(k), grad: paramGrad };
      const run = settledIf(s);
      const dxs = yield* run(backwardStep(s, dy, ctx, fwd.states[i], fwd.poolStates[i]));
      for (const [k, dx] of dxs.entries()) if (dx && need(k)) yield* accumulate(s.inputs[k], dx);
    }
    if (pool) {
      for (const t of pool.takeCreated()) pool.release(t);
      for (const t of fwd.created[i] ?? []) pool.release(t);
      if (dy) pool.release(dy);
      grads.delete(s.output);
      for (const v of [s.output, s.inner]) {
        if (v === undefined || !fwd.held[v] || plan.outputs.includes(v)) continue;
        pool.release(fwd.values[v]!);
        fwd.held[v] = false;
      }
    }
  }
  return { inputGrads: plan.inputs.map((v) => grads.get(v)), paramGrads };
}

function* backwardStep(s: PlanStep, dy: Tensor, ctx: BackwardContext, state: object, poolState: object | undefined): OpProgram<(Tensor | undefined)[]> {
  if (!s.pool) return yield* s.node.layer.callBackwardProgram(dy, ctx, state);
  const producer = s.node.layer as unknown as MaxPoolProducer;
  const through = producer.pooledActivation();
  if (through) {
    const dz = yield* (s.pool.layer as unknown as MaxPoolConsumer).backwardThroughProgram(dy, poolState as { x?: Tensor }, through);
    return [yield* producer.backwardFromActivationInput(dz, ctx, state)];
  }
  const poolCtx: BackwardContext = { ...ctx, needInputGrad: () => true };
  const [g] = yield* s.pool.layer.callBackwardProgram(dy, poolCtx, poolState!);
  return yield* s.node.layer.callBackwardProgram(g!, ctx, state);
}
