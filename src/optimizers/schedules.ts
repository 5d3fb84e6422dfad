import { describe, fail } from '../errors.js';
import { finiteNumber, own, positiveInt } from '../validate.js';

export interface ScheduleConfig {
  className: string;
  config: Record<string, number | boolean>;
}

/** A learning rate as a function of the optimizer step (batches seen). */
export interface LearningRateSchedule {
  readonly className: string;
  at(step: number): number;
  getConfig(): ScheduleConfig;
}

function positive(where: string, name: string, v: unknown): number {
  const x = finiteNumber(where, name, v);
  if (x <= 0) fail(where, `${name} > 0`, describe(x));
  return x;
}

/**
 * lr = initialLearningRate · gamma^floor(step / stepSize).
 * @example optimizers.schedules.stepDecay({ initialLearningRate: 0.1, stepSize: 1000, gamma: 0.5 })
 */
export function stepDecay(opts: { initialLearningRate: number; stepSize: number; gamma?: number }): LearningRateSchedule {
  const where = 'stepDecay';
  const lr0 = positive(where, 'initialLearningRate', opts?.initialLearningRate);
  const stepSize = positiveInt(where, 'stepSize', opts.stepSize);
  const gamma = positive(where, 'gamma', opts.gamma ?? 0.1);
  return {
    className: where,
    at: (step) => lr0 * gamma ** Math.floor(step / stepSize),
    getConfig: () => ({ className: where, config: { initialLearningRate: lr0, stepSize, gamma } }),
  };
}

/**
 * lr = initialLearningRate · decayRate^(step / decaySteps), the exponent floored when `staircase`.
 * @example optimizers.schedules.exponentialDecay({ initialLearningRate: 0.01, decaySteps: 100, decayRate: 0.96 })
 */
export function exponentialDecay(opts: { initialLearningRate: number; decaySteps: number; decayRate: number; staircase?: boolean }): LearningRateSchedule {
  const where = 'exponentialDecay';
  const lr0 = positive(where, 'initialLearningRate', opts?.initialLearningRate);
  const decaySteps = positive(where, 'decaySteps', opts.decaySteps);
  const decayRate = positive(where, 'decayRate', opts.decayRate);
  const staircase = opts.staircase ?? false;
  return {
    className: where,
    at: (step) => lr0 * decayRate ** (staircase ? Math.floor(step / decaySteps) : step / decaySteps),
    getConfig: () => ({ className: where, config: { initialLearningRate: lr0, decaySteps, decayRate, staircase } }),
  };
}

/**
 * Cosine from initialLearningRate down to alpha · initialLearningRate over decaySteps, then flat.
 * @example optimizers.schedules.cosineDecay({ initialLearningRate: 0.05, decaySteps: 5000 })
 */
export function cosineDecay(opts: { initialLearningRate: number; decaySteps: number; alpha?: number }): LearningRateSchedule {
  const where = 'cosineDecay';
  const lr0 = positive(where, 'initialLearningRate', opts?.initialLearningRate);
  const decaySteps = positive(where, 'decaySteps', opts.decaySteps);
  const alpha = finiteNumber(where, 'alpha', opts.alpha ?? 0);
  return {
    className: where,
    at: (step) => {
      const cos = 0.5 * (1 + Math.cos((Math.PI * Math.min(step, decaySteps)) / decaySteps));
      return lr0 * ((1 - alpha) * cos + alpha);
    },
    getConfig: () => ({ className: where, config: { initialLearningRate: lr0, decaySteps, alpha } }),
  };
}

const REGISTRY: Record<string, (c: never) => LearningRateSchedule> = { stepDecay, exponentialDecay, cosineDecay };

/** A schedule from its saved config. @throws ConvkitError for an unknown className. */
export function scheduleFromConfig(config: ScheduleConfig): LearningRateSchedule {
  const make = own(REGISTRY, config?.className);
  if (!make) fail('scheduleFromConfig', `a schedule className (${Object.keys(REGISTRY).join(', ')})`, describe(config?.className));
  return make(config.config as never);
}
