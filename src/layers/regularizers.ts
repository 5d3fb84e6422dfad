import { describe, fail } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { finiteNumber, own } from '../validate.js';

/** A weight penalty: added to the loss, and its gradient to the weight's gradient. */
export interface Regularizer {
  readonly className: string;
  penalty(w: Tensor): number;
  /** grad += d penalty / d w, in place. */
  addGradient(w: Tensor, grad: Tensor): void;
  getConfig(): { className: string; config: Record<string, number> };
}

/**
 * `l1 * sum(|w|) + l2 * sum(w²)` (Keras's L1L2; the L1 part's gradient is l1 * sign(w), 0 at 0 as TF's sign).
 * @example layers.dense({ units: 64, kernelRegularizer: regularizers.l1l2({ l1: 1e-5, l2: 1e-4 }) })
 * @throws ConvkitError for a negative or non-finite factor.
 */
export function l1l2(opts: { l1?: number; l2?: number } = {}): Regularizer {
  return penalty('l1l2', opts.l1 ?? 0.01, opts.l2 ?? 0.01);
}

/**
 * L1 penalty `l1 * sum(|w|)`, which drives weights to exactly 0.
 * @example layers.conv2d({ filters: 8, kernelSize: 3, kernelRegularizer: regularizers.l1({ l1: 1e-5 }) })
 * @throws ConvkitError for a negative or non-finite factor.
 */
export function l1(opts: { l1?: number } = {}): Regularizer {
  return penalty('l1', opts.l1 ?? 0.01, 0);
}

/**
 * L2 penalty `l2 * sum(w²)` (Keras's definition; its gradient is `2 * l2 * w`).
 * @example layers.conv2d({ filters: 8, kernelSize: 3, kernelRegularizer: regularizers.l2({ l2: 1e-4 }) })
 * @throws ConvkitError for a negative or non-finite factor.
 */
export function l2(opts: { l2?: number } = {}): Regularizer {
  return penalty('l2', 0, opts.l2 ?? 0.01);
}

function penalty(className: 'l1' | 'l2' | 'l1l2', a: number, b: number): Regularizer {
  for (const [name, v] of [['l1', a], ['l2', b]] as const) {
    finiteNumber(className, name, v);
    if (v < 0) fail(className, `a non-negative ${name} factor`, describe(v));
  }
  const config: Record<string, number> = className === 'l1' ? { l1: a } : className === 'l2' ? { l2: b } : { l1: a, l2: b };
  return {
    className,
    penalty(w) {
      let abs = 0;
      let sq = 0;
      for (let i = 0; i < w.size; i++) {
        abs += Math.abs(w.data[i]);
        sq += w.data[i] * w.data[i];
      }
      return a * abs + b * sq;
    },
    addGradient(w, grad) {
      for (let i = 0; i < w.size; i++) grad.data[i] += a * Math.sign(w.data[i]) + 2 * b * w.data[i];
    },
    getConfig: () => ({ className, config }),
  };
}

const REGULARIZERS: Record<string, (config: Record<string, number>) => Regularizer> = { l1, l2, l1l2, l1_l2: l1l2 };

/** A regularizer from an instance or its saved config (undefined stays undefined). @throws ConvkitError for an unknown className. */
export function getRegularizer(where: string, spec: Regularizer | { className: string; config: Record<string, number> } | undefined): Regularizer | undefined {
  if (spec === undefined || spec === null) return undefined;
  if ('penalty' in spec) return spec;
  const make = own(REGULARIZERS, spec.className);
  return make ? make(spec.config ?? {}) : fail(where, "a regularizer (regularizers.l1, l2, l1l2) or its config {className: 'l2', config: {...}}", describe(spec));
}
