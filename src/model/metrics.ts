import { describe, fail } from '../errors.js';
import { argmaxRows, classIds, denseTargets, type Labels } from '../losses/labels.js';
import { Tensor } from '../tensor.js';
import { own } from '../validate.js';

export type MetricName =
  | 'accuracy' | 'binaryAccuracy' | 'categoricalAccuracy' | 'sparseCategoricalAccuracy' | 'topKCategoricalAccuracy'
  | 'sparseTopKCategoricalAccuracy' | 'meanAbsoluteError' | 'meanSquaredError' | 'loss';

/** The k of the top-k accuracies (Keras's default). */
const TOP_K = 5;

/**
 * The fraction of rows predicted right: the argmax against the class id (or the one-hot's argmax); for a
 * single output column, `prediction > threshold` against a 0/1 target.
 * @example metrics.accuracy(probs, yTest) // 0.981
 * @throws ConvkitError when the label count differs from the prediction rows.
 */
export function accuracy(yPred: Tensor, yTrue: Labels, opts: { threshold?: number } = {}): number {
  return correctCount(yPred, yTrue, opts.threshold ?? 0.5) / yPred.shape[0];
}

/** How many rows are right (accuracy × N); the model sums these over batches. */
export function correctCount(yPred: Tensor, yTrue: Labels, threshold: number): number {
  const [n, c] = rowsOf('accuracy', yPred);
  if (c === 1) return binaryHits('accuracy', yPred, yTrue, threshold);
  return topKHits('accuracy', yPred, classIds('accuracy', yTrue, n, c), 1);
}

function rowsOf(where: string, yPred: Tensor): [number, number] {
  if (!(yPred instanceof Tensor) || yPred.rank < 1) fail(where, 'predictions as a Tensor [N, ...]', describe(yPred));
  const n = yPred.shape[0];
  return [n, yPred.size / n];
}

/** Elements with (prediction > threshold) equal to (target > 0.5). */
function binaryHits(where: string, yPred: Tensor, yTrue: Labels, threshold: number): number {
  const t = denseTargets(where, yTrue, yPred.shape, yPred.dtype);
  let right = 0;
  for (let i = 0; i < yPred.size; i++) if (yPred.data[i] > threshold === t.data[i] > 0.5) right++;
  return right;
}

/** Rows whose class is among their k largest predictions (ties counted against: a class needs fewer than k larger). */
function topKHits(where: string, yPred: Tensor, ids: Int32Array, k: number): number {
  const [n, c] = rowsOf(where, yPred);
  if (k === 1) {
    const got = argmaxRows(yPred.data, n, c);
    return got.reduce((s, g, i) => s + (g === ids[i] ? 1 : 0), 0);
  }
  let right = 0;
  for (let i = 0; i < n; i++) {
    const v = yPred.data[i * c + ids[i]];
    let larger = 0;
    for (let j = 0; j < c; j++) if (yPred.data[i * c + j] > v) larger++;
    if (larger < k) right++;
  }
  return right;
}

function absoluteOrSquared(where: string, yPred: Tensor, yTrue: Labels, square: boolean): number {
  const t = denseTargets(where, yTrue, yPred.shape, yPred.dtype);
  let s = 0;
  for (let i = 0; i < yPred.size; i++) {
    const d = yPred.data[i] - t.data[i];
    s += square ? d * d : Math.abs(d);
  }
  return s;
}

/**
 * One batch's contribution to a metric, as [sum, count]: the metric over several batches is the sum of sums
 * over the sum of counts (rows for accuracies, elements for binary accuracy and the errors). `threshold` is
 * what 'accuracy' compares single-column predictions with (0 for logits, 0.5 for probabilities).
 * @internal
 */
export function metricTotals(name: Exclude<MetricName, 'loss'>, yPred: Tensor, yTrue: Labels, threshold: number): [number, number] {
  const [n, c] = rowsOf(name, yPred);
  switch (name) {
    case 'accuracy':
      return [correctCount(yPred, yTrue, threshold), n];
    case 'binaryAccuracy':
      return [binaryHits(name, yPred, yTrue, 0.5), yPred.size];
    case 'categoricalAccuracy':
    case 'sparseCategoricalAccuracy':
      return [topKHits(name, yPred, classIds(name, yTrue, n, c), 1), n];
    case 'topKCategoricalAccuracy':
    case 'sparseTopKCategoricalAccuracy':
      return [topKHits(name, yPred, classIds(name, yTrue, n, c), TOP_K), n];
    case 'meanAbsoluteError':
      return [absoluteOrSquared(name, yPred, yTrue, false), yPred.size];
    case 'meanSquaredError':
      return [absoluteOrSquared(name, yPred, yTrue, true), yPred.size];
  }
}

const NAMES: readonly MetricName[] = [
  'accuracy', 'binaryAccuracy', 'categoricalAccuracy', 'sparseCategoricalAccuracy', 'topKCategoricalAccuracy', 'sparseTopKCategoricalAccuracy',
  'meanAbsoluteError', 'meanSquaredError', 'loss',
];

/** Keras's spellings of the same metrics. */
const ALIASES: Readonly<Record<string, MetricName>> = {
  acc: 'accuracy',
  binary_accuracy: 'binaryAccuracy',
  categorical_accuracy: 'categoricalAccuracy',
  sparse_categorical_accuracy: 'sparseCategoricalAccuracy',
  top_k_categorical_accuracy: 'topKCategoricalAccuracy',
  sparse_top_k_categorical_accuracy: 'sparseTopKCategoricalAccuracy',
  mae: 'meanAbsoluteError',
  mean_absolute_error: 'meanAbsoluteError',
  mse: 'meanSquaredError',
  mean_squared_error: 'meanSquaredError',
};

/**
 * A metric name, Keras's spellings ('acc', 'mae', 'top_k_categorical_accuracy', ...) included, as convkit's.
 * @throws ConvkitError naming `where` for an unknown one.
 */
export function metricName(where: string, name: unknown): MetricName {
  if (typeof name === 'string' && (NAMES as readonly string[]).includes(name)) return name as MetricName;
  const alias = typeof name === 'string' ? own(ALIASES, name) : undefined;
  return alias ?? fail(where, `metrics from ${NAMES.map((m) => `'${m}'`).join(', ')} (or Keras's spellings: ${Object.keys(ALIASES).join(', ')})`, describe(name));
}
export { argmax, classificationReport, confusionMatrix, topKAccuracy, type ClassificationReport, type ClassScores } from './evaluation.js';
