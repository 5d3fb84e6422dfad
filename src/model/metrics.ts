import { describe, fail } from '../errors.js';
import { argmaxRows, classIds, denseTargets, type Labels } from '../losses/labels.js';
import { Tensor } from '../tensor.js';

export type MetricName = 'accuracy' | 'loss';

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
  if (!(yPred instanceof Tensor) || yPred.rank < 1) fail('accuracy', 'predictions as a Tensor [N, classes]', describe(yPred));
  const n = yPred.shape[0];
  const c = yPred.size / n;
  let right = 0;
  if (c === 1) {
    const t = denseTargets('accuracy', yTrue, [n, 1], yPred.dtype);
    for (let i = 0; i < n; i++) if (yPred.data[i] > threshold === t.data[i] > 0.5) right++;
    return right;
  }
  const want = classIds('accuracy', yTrue, n, c);
  const got = argmaxRows(yPred.data, n, c);
  for (let i = 0; i < n; i++) if (got[i] === want[i]) right++;
  return right;
}
