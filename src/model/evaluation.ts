/**
 * Looking at a classifier's results: class ids from scores, the confusion matrix, per-class precision, recall
 * and F1, and top-k accuracy. Labels are class ids or one-hot tensors (as fit takes them); predictions are
 * class ids or a [N, classes] score tensor (probabilities or logits: only their order matters).
 */
import { describe, fail } from '../errors.js';
import { argmaxRows, classIds, labelCount, type Labels } from '../losses/labels.js';
import { Tensor } from '../tensor.js';

/** The index of each row's largest score: [N, classes] -> N class ids. @example metrics.argmax(await model.predict(x)) */
export function argmax(scores: Tensor): Int32Array {
  if (!(scores instanceof Tensor) || scores.rank !== 2) fail('argmax', 'scores as a [N, classes] tensor', describe(scores instanceof Tensor ? scores.shape : scores));
  return argmaxRows(scores.data, scores.shape[0], scores.shape[1]);
}

/** Predictions (class ids or scores) and labels as class ids of one length, and the class count. */
function pairs(where: string, yTrue: Labels, yPred: Labels | Tensor, numClasses?: number): { t: Int32Array; p: Int32Array; k: number } {
  const p = yPred instanceof Tensor && yPred.rank === 2 ? argmax(yPred) : Int32Array.from(yPred as ArrayLike<number>);
  const n = p.length;
  const fromScores = yPred instanceof Tensor && yPred.rank === 2 ? yPred.shape[1] : 0;
  const trueMax = yTrue instanceof Tensor ? yTrue.shape[1] ?? 0 : Math.max(0, ...Array.from(yTrue as ArrayLike<number>, (v) => v + 1));
  const k = numClasses ?? Math.max(fromScores, trueMax, ...Array.from(p, (v) => v + 1));
  if (labelCount(where, yTrue) !== n) fail(where, `${n} labels (one per prediction)`, describe(labelCount(where, yTrue)));
  const t = classIds(where, yTrue, n, k);
  p.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= k) fail(where, `predictions[${i}] to be a class id in [0, ${k})`, describe(v));
  });
  return { t, p, k };
}

/**
 * The confusion matrix: rows are true classes, columns predicted ones (matrix[i][j] counts samples of class i
 * predicted as j).
 * @example const m = metrics.confusionMatrix(yTest, await model.predict(xTest))
 * @throws ConvkitError when the counts differ or a class id is out of range.
 */
export function confusionMatrix(yTrue: Labels, yPred: Labels | Tensor, numClasses?: number): number[][] {
  const { t, p, k } = pairs('confusionMatrix', yTrue, yPred, numClasses);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < t.length; i++) m[t[i]][p[i]]++;
  return m;
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Samples of the class. */
  support: number;
}

export interface ClassificationReport {
  perClass: ClassScores[];
  accuracy: number;
  /** The mean over classes. */
  macro: Omit<ClassScores, 'support'>;
  /** The mean over classes weighted by support. */
  weighted: Omit<ClassScores, 'support'>;
}

/**
 * Precision, recall and F1 per class (0 where undefined, as scikit-learn's zero_division=0), their macro and
 * support-weighted means, and accuracy.
 * @example const { perClass, accuracy } = metrics.classificationReport(yTest, await model.predict(xTest))
 */
export function classificationReport(yTrue: Labels, yPred: Labels | Tensor, numClasses?: number): ClassificationReport {
  const m = confusionMatrix(yTrue, yPred, numClasses);
  const n = m.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  const perClass = m.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = m.reduce((s, r) => s + r[c], 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    return { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, support };
  });
  const mean = (w: (s: ClassScores) => number): Omit<ClassScores, 'support'> => {
    const total = perClass.reduce((s, c) => s + w(c), 0) || 1;
    const avg = (key: 'precision' | 'recall' | 'f1'): number => perClass.reduce((s, c) => s + c[key] * w(c), 0) / total;
    return { precision: avg('precision'), recall: avg('recall'), f1: avg('f1') };
  };
  return { perClass, accuracy: n ? m.reduce((s, row, c) => s + row[c], 0) / n : 0, macro: mean(() => 1), weighted: mean((c) => c.support) };
}

/**
 * The fraction of samples whose true class is among the k highest scores (ties counted as Keras does: a class
 * is in the top k when fewer than k classes score higher).
 * @example metrics.topKAccuracy(yTest, await model.predict(xTest), 5)
 */
export function topKAccuracy(yTrue: Labels, scores: Tensor, k = 5): number {
  if (!(scores instanceof Tensor) || scores.rank !== 2) fail('topKAccuracy', 'scores as a [N, classes] tensor', describe(scores instanceof Tensor ? scores.shape : scores));
  const [n, c] = scores.shape;
  if (!Number.isInteger(k) || k < 1) fail('topKAccuracy', 'k to be a positive integer', describe(k));
  const t = classIds('topKAccuracy', yTrue, n, c);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const mine = scores.data[i * c + t[i]];
    let above = 0;
    for (let j = 0; j < c; j++) if (scores.data[i * c + j] > mine) above++;
    if (above < k) hits++;
  }
  return n ? hits / n : 0;
}
