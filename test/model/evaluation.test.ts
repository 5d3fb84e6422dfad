// Evaluation helpers on hand-made cases: the confusion matrix, precision/recall/F1 (scikit-learn's
// definitions, zero where undefined), top-k accuracy with ties, predictClasses, and predict on one sample.
import { describe, expect, it } from 'vitest';
import { layers, metrics, sequential, Tensor } from '../../src/index.js';

describe('evaluation helpers', () => {
  const yTrue = [0, 0, 1, 1, 1, 2];
  const yPred = [0, 1, 1, 1, 0, 1];

  it('confusion matrix: rows true classes, columns predictions', () => {
    expect(metrics.confusionMatrix(yTrue, yPred)).toEqual([
      [1, 1, 0],
      [1, 2, 0],
      [0, 1, 0],
    ]);
    // from scores and one-hot labels
    const scores = new Tensor(Float32Array.from([0.9, 0.1, 0.2, 0.8]), [2, 2]);
    const oneHot = new Tensor(Float32Array.from([1, 0, 1, 0]), [2, 2]);
    expect(metrics.confusionMatrix(oneHot, scores)).toEqual([[1, 1], [0, 0]]);
    expect(() => metrics.confusionMatrix([0, 1], [0])).toThrow(/confusionMatrix: expected 1 labels/);
    expect(() => metrics.confusionMatrix([0, 1], [0, 3], 3)).toThrow(/predictions\[1\] to be a class id in \[0, 3\)/);
  });

  it('precision, recall, F1, their means and accuracy', () => {
    const r = metrics.classificationReport(yTrue, yPred);
    // class 0: tp 1, predicted 2, support 2; class 1: tp 2, predicted 4, support 3; class 2: none predicted
    expect(r.perClass[0]).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(r.perClass[1].precision).toBeCloseTo(0.5, 12);
    expect(r.perClass[1].recall).toBeCloseTo(2 / 3, 12);
    expect(r.perClass[1].f1).toBeCloseTo(4 / 7, 12);
    expect(r.perClass[2]).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(r.accuracy).toBeCloseTo(0.5, 12);
    expect(r.macro.recall).toBeCloseTo((0.5 + 2 / 3) / 3, 12);
    expect(r.weighted.recall).toBeCloseTo((2 * 0.5 + 3 * (2 / 3)) / 6, 12);
  });

  it('top-k accuracy counts a class as in the top k when fewer than k score higher', () => {
    // sample 1's class 0 ties class 1 (0.3) under 0.4: one class above it, so it is in the top 2
    const s = new Tensor(Float32Array.from([0.1, 0.5, 0.4, 0.3, 0.3, 0.4, 0.3, 0.2, 0.5]), [3, 3]);
    expect(metrics.topKAccuracy([2, 0, 1], s, 1)).toBeCloseTo(0, 12);
    expect(metrics.topKAccuracy([2, 0, 1], s, 2)).toBeCloseTo(2 / 3, 12);
    expect(metrics.topKAccuracy([2, 0, 1], s, 3)).toBe(1);
  });

  it('predictClasses and predict on one unbatched sample', async () => {
    const m = sequential([layers.dense({ units: 4, inputShape: [3], activation: 'softmax' })], { seed: 2 });
    const x = new Tensor(Float32Array.from([1, -2, 0.5, 0, 3, -1]), [2, 3]);
    const probs = (await m.predict(x)) as Tensor;
    expect(Array.from(await m.predictClasses(x))).toEqual(Array.from(metrics.argmax(probs)));
    const one = (await m.predict(new Tensor(Float32Array.from([0, 3, -1]), [3]))) as Tensor;
    expect(one.shape).toEqual([4]);
    expect(Array.from(one.data)).toEqual(Array.from(probs.data.subarray(4, 8)));
    expect(Array.from(await m.predictClasses(new Tensor(Float32Array.from([0, 3, -1]), [3])))).toEqual([metrics.argmax(probs)[1]]);
    expect((m.predictSync(new Tensor(Float32Array.from([0, 3, -1]), [3])) as Tensor).shape).toEqual([4]);
  });
});
