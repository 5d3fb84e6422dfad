import { describe, fail } from '../errors.js';
import { finiteNumber, nonNegativeNumber, own } from '../validate.js';
import { learningRateFromConfig, Optimizer, type OptimizerArgs, type OptimizerConfig, type RuleStep } from './optimizer.js';
import { cosineDecay, exponentialDecay, stepDecay } from './schedules.js';

export { Optimizer, type LearningRate, type OptimizerArgs, type OptimizerConfig } from './optimizer.js';
export type { LearningRateSchedule } from './schedules.js';
/** Learning-rate schedules: pass one as `learningRate`. */
export const schedules = { stepDecay, exponentialDecay, cosineDecay };

function inUnit(where: string, name: string, v: number): number {
  if (!(finiteNumber(where, name, v) >= 0 && v < 1)) fail(where, `${name} in [0, 1)`, describe(v));
  return v;
}

export interface SgdArgs extends OptimizerArgs {
  momentum?: number;
  nesterov?: boolean;
  /** Keras's legacy time decay: lr_t = lr / (1 + decay · t). */
  decay?: number;
}

/**
 * Stochastic gradient descent, Keras's rule: v = momentum·v - lr·g; w += v, or with nesterov
 * w += momentum·v - lr·g. Without momentum, w -= lr·g. Default learningRate 0.01.
 * @example optimizers.sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true })
 * @throws ConvkitError for momentum outside [0, 1) or a non-finite rate.
 */
export class SGD extends Optimizer {
  readonly className = 'sgd';
  protected readonly slotNames: readonly string[];
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly decay: number;
  constructor(args: SgdArgs = {}) {
    super('sgd', args, 0.01);
    this.momentum = inUnit('sgd', 'momentum', args.momentum ?? 0);
    this.nesterov = args.nesterov ?? false;
    this.decay = nonNegativeNumber('sgd', 'decay', args.decay ?? 0);
    this.slotNames = this.momentum > 0 ? ['velocity'] : [];
  }
  override currentLearningRate(): number {
    return super.currentLearningRate() / (1 + this.decay * this.iterations);
  }
  protected ruleStep(lr: number): RuleStep {
    return { rule: 'sgd', lr, momentum: this.momentum, nesterov: this.nesterov };
  }
  protected ruleConfig(): Record<string, unknown> {
    return { momentum: this.momentum, nesterov: this.nesterov, decay: this.decay };
  }
}

export interface AdamArgs extends OptimizerArgs {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam with Keras's bias correction folded into the step: m = b1·m + (1-b1)·g, v = b2·v + (1-b2)·g²,
 * w -= lr·sqrt(1-b2^t)/(1-b1^t) · m / (sqrt(v) + epsilon). Defaults lr 0.001, b1 0.9, b2 0.999, epsilon 1e-7.
 * @example optimizers.adam({ learningRate: 1e-3 })
 */
export class Adam extends Optimizer {
  readonly className: string = 'adam';
  protected readonly slotNames = ['m', 'v'];
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  constructor(args: AdamArgs = {}, where = 'adam') {
    super(where, args, 0.001);
    this.beta1 = inUnit(where, 'beta1', args.beta1 ?? 0.9);
    this.beta2 = inUnit(where, 'beta2', args.beta2 ?? 0.999);
    this.epsilon = nonNegativeNumber(where, 'epsilon', args.epsilon ?? 1e-7);
  }
  protected ruleStep(lr: number, t: number): RuleStep {
    const { beta1: b1, beta2: b2, epsilon } = this;
    return { rule: 'adam', lr: (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t), beta1: b1, beta2: b2, epsilon };
  }
  protected ruleConfig(): Record<string, unknown> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/**
 * Adam with decoupled weight decay (default 0.004, Keras's): w -= lr·weightDecay·w, then the Adam step.
 * @example optimizers.adamW({ learningRate: 1e-3, weightDecay: 0.01 })
 */
export class AdamW extends Adam {
  override readonly className = 'adamW';
  constructor(args: AdamArgs = {}) {
    super({ ...args, weightDecay: args.weightDecay ?? 0.004 }, 'adamW');
  }
}

export interface RmspropArgs extends OptimizerArgs {
  rho?: number;
  momentum?: number;
  epsilon?: number;
}

/**
 * RMSprop: v = rho·v + (1-rho)·g²; step = lr·g / sqrt(v + epsilon); with momentum m = momentum·m + step and
 * w -= m, else w -= step. Defaults lr 0.001, rho 0.9, epsilon 1e-7.
 * @example optimizers.rmsprop({ learningRate: 1e-3 })
 */
export class RMSprop extends Optimizer {
  readonly className = 'rmsprop';
  protected readonly slotNames: readonly string[];
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  constructor(args: RmspropArgs = {}) {
    super('rmsprop', args, 0.001);
    this.rho = inUnit('rmsprop', 'rho', args.rho ?? 0.9);
    this.momentum = inUnit('rmsprop', 'momentum', args.momentum ?? 0);
    this.epsilon = nonNegativeNumber('rmsprop', 'epsilon', args.epsilon ?? 1e-7);
    this.slotNames = this.momentum > 0 ? ['velocity', 'momentum'] : ['velocity'];
  }
  protected ruleStep(lr: number): RuleStep {
    return { rule: 'rmsprop', lr, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon };
  }
  protected ruleConfig(): Record<string, unknown> {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon };
  }
}

export interface AdagradArgs extends OptimizerArgs {
  initialAccumulatorValue?: number;
  epsilon?: number;
}

/**
 * Adagrad: a += g²; w -= lr·g / sqrt(a + epsilon). Defaults lr 0.001, initial accumulator 0.1, epsilon 1e-7.
 * @example optimizers.adagrad({ learningRate: 0.01 })
 */
export class Adagrad extends Optimizer {
  readonly className = 'adagrad';
  protected readonly slotNames = ['accumulator'];
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;
  constructor(args: AdagradArgs = {}) {
    super('adagrad', args, 0.001);
    this.initialAccumulatorValue = nonNegativeNumber('adagrad', 'initialAccumulatorValue', args.initialAccumulatorValue ?? 0.1);
    this.epsilon = nonNegativeNumber('adagrad', 'epsilon', args.epsilon ?? 1e-7);
  }
  protected override initialSlotValue(): number {
    return this.initialAccumulatorValue;
  }
  protected ruleStep(lr: number): RuleStep {
    return { rule: 'adagrad', lr, epsilon: this.epsilon };
  }
  protected ruleConfig(): Record<string, unknown> {
    return { initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}

export interface AdadeltaArgs extends OptimizerArgs {
  rho?: number;
  epsilon?: number;
}

/**
 * Adadelta: a = rho·a + (1-rho)·g²; d = -sqrt(u + eps) / sqrt(a + eps) · g; u = rho·u + (1-rho)·d²;
 * w += lr·d. Defaults lr 0.001 (Keras's; 1.0 is the paper's), rho 0.95, epsilon 1e-7.
 * @example optimizers.adadelta({ learningRate: 1 })
 */
export class Adadelta extends Optimizer {
  readonly className = 'adadelta';
  protected readonly slotNames = ['accumulatedGrad', 'accumulatedDelta'];
  readonly rho: number;
  readonly epsilon: number;
  constructor(args: AdadeltaArgs = {}) {
    super('adadelta', args, 0.001);
    this.rho = inUnit('adadelta', 'rho', args.rho ?? 0.95);
    this.epsilon = nonNegativeNumber('adadelta', 'epsilon', args.epsilon ?? 1e-7);
  }
  protected ruleStep(lr: number): RuleStep {
    return { rule: 'adadelta', lr, rho: this.rho, epsilon: this.epsilon };
  }
  protected ruleConfig(): Record<string, unknown> {
    return { rho: this.rho, epsilon: this.epsilon };
  }
}

/**
 * Adamax, Adam with the infinity norm: m = b1·m + (1-b1)·g, u = max(b2·u, |g|),
 * w -= lr/(1-b1^t) · m / (u + epsilon). Defaults lr 0.001, b1 0.9, b2 0.999, epsilon 1e-7 (Keras's).
 * @example optimizers.adamax({ learningRate: 2e-3 })
 */
export class Adamax extends Adam {
  override readonly className = 'adamax';
  protected override readonly slotNames = ['m', 'u'];
  constructor(args: AdamArgs = {}) {
    super(args, 'adamax');
  }
  protected override ruleStep(lr: number, t: number): RuleStep {
    const { beta1, beta2, epsilon } = this;
    return { rule: 'adamax', lr: lr / (1 - beta1 ** t), beta1, beta2, epsilon };
  }
}

/**
 * Nadam, Adam with Nesterov momentum, on Keras 3's momentum schedule: u_t = b1·(1 - 0.5·0.96^t),
 * m = b1·m + (1-b1)·g, v = b2·v + (1-b2)·g², and
 * w -= lr · (u_{t+1}·m / (1 - u_1···u_{t+1}) + (1-u_t)·g / (1 - u_1···u_t)) / (sqrt(v / (1-b2^t)) + epsilon).
 * The running product is a function of the step count, so a resumed run continues it exactly.
 * Defaults lr 0.001, b1 0.9, b2 0.999, epsilon 1e-7.
 * @example optimizers.nadam({ learningRate: 2e-3 })
 */
export class Nadam extends Adam {
  override readonly className = 'nadam';
  /** u_1···u_t for the last t asked for, so each step multiplies once. */
  private product = { t: 0, value: 1 };
  constructor(args: AdamArgs = {}) {
    super(args, 'nadam');
  }
  private momentumAt(t: number): number {
    return this.beta1 * (1 - 0.5 * 0.96 ** t);
  }
  private productTo(t: number): number {
    if (this.product.t > t) this.product = { t: 0, value: 1 };
    while (this.product.t < t) this.product = { t: this.product.t + 1, value: this.product.value * this.momentumAt(this.product.t + 1) };
    return this.product.value;
  }
  protected override ruleStep(lr: number, t: number): RuleStep {
    const { beta1, beta2, epsilon } = this;
    const productT = this.productTo(t);
    const productNext = productT * this.momentumAt(t + 1);
    return {
      rule: 'nadam',
      lr,
      beta1,
      beta2,
      epsilon,
      mCoef: this.momentumAt(t + 1) / (1 - productNext),
      gCoef: (1 - this.momentumAt(t)) / (1 - productT),
      vCoef: 1 / (1 - beta2 ** t),
    };
  }
}

/** @example optimizers.sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true }) */
export const sgd = (args: SgdArgs = {}): SGD => new SGD(args);
/** @example optimizers.adam({ learningRate: 1e-3 }) */
export const adam = (args: AdamArgs = {}): Adam => new Adam(args);
/** @example optimizers.adamW({ weightDecay: 0.01 }) */
export const adamW = (args: AdamArgs = {}): AdamW => new AdamW(args);
/** @example optimizers.rmsprop({ learningRate: 1e-3 }) */
export const rmsprop = (args: RmspropArgs = {}): RMSprop => new RMSprop(args);
/** @example optimizers.adagrad({ learningRate: 0.01 }) */
export const adagrad = (args: AdagradArgs = {}): Adagrad => new Adagrad(args);
/** @example optimizers.adadelta({ learningRate: 1 }) */
export const adadelta = (args: AdadeltaArgs = {}): Adadelta => new Adadelta(args);

/** @example optimizers.adamax({ learningRate: 2e-3 }) */
export const adamax = (args: AdamArgs = {}): Adamax => new Adamax(args);
/** @example optimizers.nadam({ learningRate: 2e-3 }) */
export const nadam = (args: AdamArgs = {}): Nadam => new Nadam(args);

const REGISTRY: Record<string, (args: never) => Optimizer> = { sgd, adam, adamW, rmsprop, adagrad, adadelta, adamax, nadam };
/** Keras's spellings. */
const ALIASES: Readonly<Record<string, string>> = {
  adamw: 'adamW',
  RMSprop: 'rmsprop',
  SGD: 'sgd',
  Adam: 'adam',
  AdamW: 'adamW',
  Adagrad: 'adagrad',
  Adadelta: 'adadelta',
  Adamax: 'adamax',
  Nadam: 'nadam',
};

/**
 * An optimizer from an instance, a name ('adam') or a saved config.
 * @throws ConvkitError for an unknown name.
 */
export function getOptimizer(spec: Optimizer | OptimizerConfig | string): Optimizer {
  if (spec instanceof Optimizer) return spec;
  const [given, config] = typeof spec === 'string' ? [spec, {}] : [spec?.className, spec?.config ?? {}];
  const make = own(REGISTRY, own(ALIASES, given) ?? given);
  if (!make) fail('compile', `an optimizer, one of ${Object.keys(REGISTRY).join(', ')}`, describe(spec));
  const args = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined && v !== null));
  return make({ ...args, learningRate: learningRateFromConfig(args.learningRate) } as never);
}
