import { ConvkitError, describe, fail, NonFiniteError } from '../errors.js';
import type { Param } from '../layers/layer.js';
import type { OptimizerStepInfo } from '../backend/types.js';
import { request, runProgramSync, SETTLE, type OpProgram } from '../ops/index.js';
import { sharedArray, Tensor, type FloatArray } from '../tensor.js';
import { finiteNumber, nonNegativeNumber } from '../validate.js';
import { scheduleFromConfig, type LearningRateSchedule, type ScheduleConfig } from './schedules.js';

export type LearningRate = number | LearningRateSchedule;

/** What a rule contributes to a step (scale and decay are the base class's). */
export type RuleStep = Partial<Omit<OptimizerStepInfo, 'scale' | 'decay'>> & Pick<OptimizerStepInfo, 'rule' | 'lr'>;

const RULE_DEFAULTS = { momentum: 0, nesterov: false, beta1: 0, beta2: 0, rho: 0, epsilon: 0 };

/** Options every optimizer takes. */
export interface OptimizerArgs {
  learningRate?: LearningRate;
  /** Rescale each parameter's gradient so its L2 norm is at most this. */
  clipNorm?: number;
  /** Rescale all gradients together so their joint L2 norm is at most this. */
  globalClipNorm?: number;
  /** Decoupled weight decay: w -= lr · weightDecay · w before each update (AdamW's rule, for every optimizer). */
  weightDecay?: number;
}

export interface OptimizerConfig {
  className: string;
  config: Record<string, unknown>;
}

/**
 * The shared part of every optimizer: learning rate (or schedule), clipping, weight decay, the step counter
 * and per-parameter slots (momentum, moments, accumulators) keyed by parameter name, which is what makes the
 * state savable. Updates are in place on each param's value.
 */
export abstract class Optimizer {
  abstract readonly className: string;
  /** Names of the per-parameter state arrays the rule keeps, e.g. ['m', 'v'] for Adam. */
  protected abstract readonly slotNames: readonly string[];
  /** Optimizer steps taken so far (batches); schedules and Adam's bias correction read it. */
  iterations = 0;
  learningRate: LearningRate;
  readonly clipNorm: number | undefined;
  readonly globalClipNorm: number | undefined;
  readonly weightDecay: number;
  private readonly slots = new Map<string, FloatArray[]>();

  protected constructor(where: string, args: OptimizerArgs, defaultLearningRate: number) {
    this.learningRate = args.learningRate ?? defaultLearningRate;
    if (typeof this.learningRate === 'number') nonNegativeNumber(where, 'learningRate', this.learningRate);
    this.clipNorm = optionalPositive(where, 'clipNorm', args.clipNorm);
    this.globalClipNorm = optionalPositive(where, 'globalClipNorm', args.globalClipNorm);
    this.weightDecay = nonNegativeNumber(where, 'weightDecay', args.weightDecay ?? 0);
  }

  /** The learning rate this step uses. */
  currentLearningRate(): number {
    return this.learningRateAt(this.iterations);
  }

  /** The learning rate step `iteration` uses (0 for the first), with the current rate or schedule. */
  learningRateAt(iteration: number): number {
    return typeof this.learningRate === 'number' ? this.learningRate : this.learningRate.at(Math.max(0, iteration));
  }

  /** Value a slot starts at (Adagrad's accumulator starts above zero). */
  protected initialSlotValue(_slot: number): number {
    return 0;
  }

  /**
   * This step's rule and hyperparameters (lr is the scheduled learning rate, t the 1-based step number);
   * the kernel (ops.optimizerStep) applies them.
   */
  protected abstract ruleStep(lr: number, t: number): RuleStep;

  /**
   * Applies one step to every trainable param that has a gradient, then counts the step.
   * @throws ConvkitError when a gradient's size differs from its value's.
   */
  apply(params: Param[]): void {
    runProgramSync(this.applyProgram(params));
  }

  /**
   * apply as an OpProgram: its updates run off the event loop under the async driver (fit, trainOnBatch).
   * Unless `checkFinite` is false, an update that leaves a weight NaN or ±Inf throws a ConvkitError naming the
   * weight and the first bad index (the update is already applied: the weights in memory are no longer usable).
   * Clipping reads the gradients in JS, so a pipelined run yields SETTLE before this program.
   */
  *applyProgram(params: Param[], opts: { checkFinite?: boolean } = {}): OpProgram<void> {
    const live = params.filter((p) => p.trainable && p.grad !== undefined);
    for (const p of live) if (p.grad!.size !== p.value.size) fail(this.className, `a gradient of ${p.value.size} values for ${p.name}`, describe(p.grad!.size));
    const clipping = this.clipNorm !== undefined || this.globalClipNorm !== undefined;
    const norms = clipping ? live.map((p) => l2norm(p.grad!.data)) : [];
    const globalNorm = Math.sqrt(norms.reduce((s, n) => s + n * n, 0));
    const globalScale = this.globalClipNorm !== undefined && globalNorm > this.globalClipNorm ? this.globalClipNorm / globalNorm : 1;
    const lr = this.currentLearningRate();
    const t = this.iterations + 1;
    const checkFinite = opts.checkFinite ?? true;
    const info: OptimizerStepInfo = { ...RULE_DEFAULTS, ...this.ruleStep(lr, t), scale: 1, decay: this.weightDecay !== 0 ? lr * this.weightDecay : 0, checkFinite };
    for (const [i, p] of live.entries()) {
      const scale = globalScale * (this.clipNorm !== undefined && norms[i] > this.clipNorm ? this.clipNorm / norms[i] : 1);
      const slots = this.slotsFor(p).map((d) => new Tensor(d, p.value.shape));
      try {
        yield request.optimizerStep(p.value, p.grad!.reshape(p.value.shape), slots, { ...info, scale });
        yield SETTLE; // in a pipelined run, so that this step's failure is reported here, naming its weight
      } catch (e) {
        if (!(e instanceof NonFiniteError)) throw e;
        throw new ConvkitError(
          `${this.className}: step ${t} left the weight '${p.name}' non-finite (first at index ${e.index}, its gradient there ${p.grad!.data[e.index]}); ` +
            'training stopped, and the weights in memory are no longer usable: lower the learning rate, clip gradients (clipNorm), or check the data, and reload the last checkpoint',
          this.className,
        );
      }
    }
    this.iterations++;
  }

  private slotsFor(p: Param): FloatArray[] {
    let s = this.slots.get(p.name);
    if (!s || s[0]?.length !== p.value.size || s[0]?.constructor !== p.value.data.constructor) {
      s = this.slotNames.map((_, i) => sharedArray(p.value.dtype, p.value.size).fill(this.initialSlotValue(i)));
      this.slots.set(p.name, s);
    }
    return s;
  }

  /** The per-parameter state as named tensors `<param name>/<slot>`, for saving. */
  getSlotWeights(params: Param[]): { name: string; tensor: Tensor }[] {
    const out: { name: string; tensor: Tensor }[] = [];
    for (const p of params) {
      const s = this.slots.get(p.name);
      if (!s) continue;
      this.slotNames.forEach((slot, i) => out.push({ name: `${p.name}/${slot}`, tensor: new Tensor(s[i], p.value.shape) }));
    }
    return out;
  }

  /**
   * Restores state saved by getSlotWeights (values copied, cast to each param's dtype).
   * @throws ConvkitError naming the slot when it belongs to no param or has the wrong size.
   */
  setSlotWeights(params: Param[], weights: { name: string; tensor: Tensor }[]): void {
    const byName = new Map(weights.map((w) => [w.name, w.tensor]));
    const used = new Set<string>();
    for (const p of params) {
      const found = this.slotNames.map((slot) => byName.get(`${p.name}/${slot}`));
      if (found.every((t) => t === undefined)) continue;
      const arrays = found.map((t, i) => {
        const name = `${p.name}/${this.slotNames[i]}`;
        if (!t) fail(this.className, `optimizer state ${name}`, 'nothing');
        if (t.size !== p.value.size) fail(this.className, `optimizer state ${name} with ${p.value.size} values`, describe(t.size));
        used.add(name);
        const slot = sharedArray(p.value.dtype, t.size);
        slot.set(t.data);
        return slot;
      });
      this.slots.set(p.name, arrays);
    }
    const stray = weights.find((w) => !used.has(w.name));
    if (stray) fail(this.className, `optimizer state only for this model's parameters`, describe(stray.name));
  }

  getConfig(): OptimizerConfig {
    const lr = typeof this.learningRate === 'number' ? this.learningRate : this.learningRate.getConfig();
    return {
      className: this.className,
      config: { learningRate: lr, clipNorm: this.clipNorm, globalClipNorm: this.globalClipNorm, weightDecay: this.weightDecay, ...this.ruleConfig() },
    };
  }

  protected abstract ruleConfig(): Record<string, unknown>;
}

/** A learning rate from its saved form (a number or a schedule config). */
export function learningRateFromConfig(v: unknown): LearningRate | undefined {
  if (v === undefined || typeof v === 'number') return v;
  return scheduleFromConfig(v as ScheduleConfig);
}

function optionalPositive(where: string, name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!(finiteNumber(where, name, v) > 0)) fail(where, `${name} > 0`, describe(v));
  return v;
}

function l2norm(a: FloatArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}
