import { describe, fail } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor, zeros } from '../tensor.js';
import { classIds, denseTargets, type Labels } from './labels.js';
import { own } from '../validate.js';

export type { Labels } from './labels.js';

export interface LossConfig {
  className: string;
  config: { fromLogits?: boolean };
}

/** A loss: the mean over the batch, and its gradient with respect to the predictions. */
export interface Loss {
  readonly className: string;
  readonly fromLogits: boolean;
  compute(yPred: Tensor, yTrue: Labels): { loss: number; grad: Tensor };
  getConfig(): LossConfig;
}

/** Keras clips probabilities to [eps, 1 - eps] before taking logs. */
const EPS = 1e-7;
const clip = (p: number): number => Math.min(Math.max(p, EPS), 1 - EPS);

function rows(where: string, yPred: Tensor): [number, number] {
  if (!(yPred instanceof Tensor) || yPred.rank !== 2) fail(where, 'predictions of shape [N, classes]', yPred instanceof Tensor ? `[${yPred.shape.join(', ')}]` : yPred);
  return [yPred.shape[0], yPred.shape[1]];
}

/** Cross-entropy over probabilities (after a softmax layer): -mean sum t log p. */
function crossEntropyFromProbabilities(yPred: Tensor, targets: Tensor): { loss: number; grad: Tensor } {
  const n = yPred.shape[0];
  const grad = zeros(yPred.shape, yPred.dtype);
  let loss = 0;
  for (let i = 0; i < yPred.size; i++) {
    const t = targets.data[i];
    if (t === 0) continue;
    const p = clip(yPred.data[i]);
    loss -= t * Math.log(p);
    grad.data[i] = -t / (p * n);
  }
  return { loss: loss / n, grad };
}

function loss(className: string, fromLogits: boolean, compute: Loss['compute']): Loss {
  return { className, fromLogits, compute, getConfig: () => ({ className, config: { fromLogits } }) };
}

/**
 * Cross-entropy with integer class ids. `fromLogits: true` when the model ends in a plain dense layer (the
 * softmax is fused in, stable for large logits); false when it ends in a softmax.
 * @example losses.sparseCategoricalCrossentropy({ fromLogits: true })
 * @throws ConvkitError (at compute) for a label count or range mismatch.
 */
export function sparseCategoricalCrossentropy(opts: { fromLogits?: boolean } = {}): Loss {
  const where = 'sparseCategoricalCrossentropy';
  const fromLogits = opts.fromLogits ?? false;
  return loss(where, fromLogits, (yPred, yTrue) => {
    const [n, c] = rows(where, yPred);
    if (yTrue instanceof Tensor) fail(where, 'class ids (Int32Array, Uint8Array, number[]); use categoricalCrossentropy for one-hot tensors', 'a Tensor');
    const ids = classIds(where, yTrue, n, c);
    return fromLogits ? ops.softmaxCrossEntropy(yPred, ids) : crossEntropyFromProbabilities(yPred, denseTargets(where, ids, [n, c], yPred.dtype));
  });
}

/**
 * Cross-entropy with one-hot (or soft) target tensors (N, C).
 * @example losses.categoricalCrossentropy({ fromLogits: true })
 * @throws ConvkitError (at compute) when the targets' shape differs from the predictions'.
 */
export function categoricalCrossentropy(opts: { fromLogits?: boolean } = {}): Loss {
  const where = 'categoricalCrossentropy';
  const fromLogits = opts.fromLogits ?? false;
  return loss(where, fromLogits, (yPred, yTrue) => {
    rows(where, yPred);
    if (!(yTrue instanceof Tensor)) fail(where, 'one-hot targets as a Tensor [N, classes]; use sparseCategoricalCrossentropy for class ids', describe(yTrue));
    const targets = denseTargets(where, yTrue, yPred.shape, yPred.dtype);
    return fromLogits ? ops.softmaxCrossEntropy(yPred, targets) : crossEntropyFromProbabilities(yPred, targets);
  });
}

/**
 * Binary cross-entropy, mean over every element; targets in [0, 1] (a tensor, or 0/1 labels for one output).
 * @example losses.binaryCrossentropy({ fromLogits: true })
 */
export function binaryCrossentropy(opts: { fromLogits?: boolean } = {}): Loss {
  const where = 'binaryCrossentropy';
  const fromLogits = opts.fromLogits ?? false;
  return loss(where, fromLogits, (yPred, yTrue) => {
    const t = denseTargets(where, yTrue, yPred.shape, yPred.dtype);
    const m = yPred.size;
    const grad = zeros(yPred.shape, yPred.dtype);
    let total = 0;
    for (let i = 0; i < m; i++) {
      const z = yPred.data[i];
      const y = t.data[i];
      if (fromLogits) {
        // log(1 + e^z) - z·y written so neither exp overflows.
        total += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
        grad.data[i] = (1 / (1 + Math.exp(-z)) - y) / m;
      } else {
        const p = clip(z);
        total -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
        grad.data[i] = (p - y) / (p * (1 - p) * m);
      }
    }
    return { loss: total / m, grad };
  });
}

/** Mean over every element of (yPred - yTrue)². @example losses.meanSquaredError() */
export function meanSquaredError(): Loss {
  const where = 'meanSquaredError';
  return loss(where, false, (yPred, yTrue) => {
    const t = denseTargets(where, yTrue, yPred.shape, yPred.dtype);
    const m = yPred.size;
    const grad = zeros(yPred.shape, yPred.dtype);
    let total = 0;
    for (let i = 0; i < m; i++) {
      const d = yPred.data[i] - t.data[i];
      total += d * d;
      grad.data[i] = (2 * d) / m;
    }
    return { loss: total / m, grad };
  });
}

/** Mean over every element of |yPred - yTrue| (its gradient at a tie is 0, as TF's sign). @example losses.meanAbsoluteError() */
export function meanAbsoluteError(): Loss {
  const where = 'meanAbsoluteError';
  return loss(where, false, (yPred, yTrue) => {
    const t = denseTargets(where, yTrue, yPred.shape, yPred.dtype);
    const m = yPred.size;
    const grad = zeros(yPred.shape, yPred.dtype);
    let total = 0;
    for (let i = 0; i < m; i++) {
      const d = yPred.data[i] - t.data[i];
      total += Math.abs(d);
      grad.data[i] = Math.sign(d) / m;
    }
    return { loss: total / m, grad };
  });
}

/**
 * Keras's categorical hinge: mean over rows of max(0, 1 + max_{j≠true} y_j - y_true), from raw scores.
 * @example losses.categoricalHinge()
 */
export function categoricalHinge(): Loss {
  const where = 'categoricalHinge';
  return loss(where, false, (yPred, yTrue) => {
    const [n, c] = rows(where, yPred);
    const t = denseTargets(where, yTrue, yPred.shape, yPred.dtype);
    const grad = zeros(yPred.shape, yPred.dtype);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let pos = 0;
      let neg = -Infinity;
      let negAt = 0;
      for (let j = 0; j < c; j++) {
        const v = yPred.data[i * c + j];
        const tv = t.data[i * c + j];
        pos += tv * v;
        if ((1 - tv) * v > neg) {
          neg = (1 - tv) * v;
          negAt = j;
        }
      }
      const margin = neg - pos + 1;
      if (margin > 0) {
        total += margin;
        for (let j = 0; j < c; j++) grad.data[i * c + j] -= t.data[i * c + j] / n;
        grad.data[i * c + negAt] += (1 - t.data[i * c + negAt]) / n;
      }
    }
    return { loss: total / n, grad };
  });
}

const REGISTRY: Record<string, (c: { fromLogits?: boolean }) => Loss> = {
  sparseCategoricalCrossentropy,
  categoricalCrossentropy,
  binaryCrossentropy,
  meanSquaredError: () => meanSquaredError(),
  meanAbsoluteError: () => meanAbsoluteError(),
  categoricalHinge: () => categoricalHinge(),
};

/** Keras's spellings of the same losses. */
const ALIASES: Readonly<Record<string, string>> = {
  sparse_categorical_crossentropy: 'sparseCategoricalCrossentropy',
  categorical_crossentropy: 'categoricalCrossentropy',
  binary_crossentropy: 'binaryCrossentropy',
  mean_squared_error: 'meanSquaredError',
  mse: 'meanSquaredError',
  mean_absolute_error: 'meanAbsoluteError',
  mae: 'meanAbsoluteError',
  categorical_hinge: 'categoricalHinge',
};

/**
 * A loss from an object, a name (Keras's spellings too: 'mse', 'categorical_crossentropy', ...) or a saved config.
 * @throws ConvkitError for an unknown name.
 */
export function getLoss(spec: Loss | LossConfig | string): Loss {
  if (typeof spec === 'object' && spec !== null && 'compute' in spec) return spec;
  const [given, config] = typeof spec === 'string' ? [spec, {}] : [spec?.className, spec?.config ?? {}];
  const name = own(ALIASES, given) ?? given;
  const make = own(REGISTRY, name);
  if (!make) fail('compile', `a loss, one of ${Object.keys(REGISTRY).join(', ')}`, describe(spec));
  return make(config);
}
