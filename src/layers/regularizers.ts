import { describe, fail } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { finiteNumber } from '../validate.js';

/** A weight penalty: added to the loss, and its gradient to the weight's gradient. */
export interface Regularizer {
  readonly className: string;
  penalty(w: Tensor): number;
  /** grad += d penalty / d w, in place. */
  addGradient(w: Tensor, grad: Tensor): void;
  getConfig(): { className: string; config: Record<string, number> };
}

/**
 * L2 penalty `l2 * sum(w²)` (Keras's definition; its gradient is `2 * l2 * w`).
 * @example layers.conv2d({ filters: 8, kernelSize: 3, kernelRegularizer: regularizers.l2({ l2: 1e-4 }) })
 * @throws ConvkitError for a negative or non-finite factor.
 */
export function l2(opts: { l2?: number } = {}): Regularizer {
  const factor = finiteNumber('l2', 'l2', opts.l2 ?? 0.01);
  if (factor < 0) fail('l2', 'a non-negative factor', describe(factor));
  return {
    className: 'l2',
    penalty(w) {
      let s = 0;
      for (let i = 0; i < w.size; i++) s += w.data[i] * w.data[i];
      return factor * s;
    },
    addGradient(w, grad) {
      for (let i = 0; i < w.size; i++) grad.data[i] += 2 * factor * w.data[i];
    },
    getConfig: () => ({ className: 'l2', config: { l2: factor } }),
  };
}

/** A regularizer from an instance or its saved config (undefined stays undefined). @throws ConvkitError for an unknown className. */
export function getRegularizer(where: string, spec: Regularizer | { className: string; config: { l2?: number } } | undefined): Regularizer | undefined {
  if (spec === undefined || spec === null) return undefined;
  if ('penalty' in spec) return spec;
  if (spec.className === 'l2') return l2(spec.config);
  return fail(where, "a regularizer (regularizers.l2) or its config {className: 'l2'}", describe(spec));
}
