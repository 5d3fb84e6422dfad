// Metrics by hand-computed values, Keras's spellings in compile, and the learning rate in fit's logs.
import { describe, expect, it } from 'vitest';
import { layers, optimizers, randomNormal, sequential, Tensor } from '../../src/index.js';
import { metricName, metricTotals } from '../../src/model/metrics.js';
import { schedules } from '../../src/optimizers/index.js';

const t = (rows: number[][]) => new Tensor(Float32Array.from(rows.flat()), [rows.length, rows[0].length]);

describe('metric values', () => {
  // 3 rows of 6 class scores; true classes 2, 5 and 0
  const scores = t([
    [0.1, 0.2, 0.9, 0.0, 0.3, 0.4],
    [0.6, 0.5, 0.4, 0.3, 0.2, 0.1], // class 5 is the smallest: outside the top 5
    [0.5, 0.9, 0.1, 0.2, 0.3, 0.4], // class 0 is second
  ]);
  const ids = Int32Array.of(2, 5, 0);

  it('accuracies count rows; top-k counts a class with fewer than k larger scores', () => {
    expect(metricTotals('accuracy', scores, ids, 0.5)).toEqual([1, 3]);
    expect(metricTotals('sparseCategoricalAccuracy', scores, ids, 0.5)).toEqual([1, 3]);
    expect(metricTotals('sparseTopKCategoricalAccuracy', scores, ids, 0.5)).toEqual([2, 3]);
    const oneHot = t([[0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0]]);
    expect(metricTotals('categoricalAccuracy', scores, oneHot, 0.5)).toEqual([1, 3]);
    expect(metricTotals('topKCategoricalAccuracy', scores, oneHot, 0.5)).toEqual([2, 3]);
  });

  it('binary accuracy counts elements at 0.5; the errors sum over elements', () => {
    const p = t([[0.2, 0.7], [0.6, 0.4]]);
    const y = t([[0, 1], [0, 0]]);
    expect(metricTotals('binaryAccuracy', p, y, 0.5)).toEqual([3, 4]);
    const [ae, n] = metricTotals('meanAbsoluteError', p, y, 0.5);
    expect(n).toBe(4);
    expect(ae).toBeCloseTo(0.2 + 0.3 + 0.6 + 0.4, 6);
    expect(metricTotals('meanSquaredError', p, y, 0.5)[0]).toBeCloseTo(0.04 + 0.09 + 0.36 + 0.16, 6);
  });

  it("Keras's spellings name the same metrics; anything else is refused", () => {
    expect(['acc', 'mae', 'mse', 'top_k_categorical_accuracy', 'binary_accuracy'].map((m) => metricName('compile', m))).toEqual([
      'accuracy', 'meanAbsoluteError', 'meanSquaredError', 'topKCategoricalAccuracy', 'binaryAccuracy',
    ]);
    expect(() => metricName('compile', 'f1')).toThrow(/compile: expected metrics from 'accuracy'.*received 'f1'/);
  });
});

describe('metrics and the learning rate in training logs', () => {
  it('compile takes aliases; evaluate and fit log each metric over all samples; lr follows the schedule', async () => {
    const m = sequential([layers.dense({ units: 6, inputShape: [4] })], { seed: 2 });
    const lr = schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 });
    m.compile({ optimizer: optimizers.sgd({ learningRate: lr }), loss: 'sparseCategoricalCrossentropy', metrics: ['acc', 'sparse_top_k_categorical_accuracy'] });
    const x = randomNormal([10, 4], { seed: 3 });
    const y = Int32Array.from({ length: 10 }, (_, i) => i % 6);
    const logs = await m.evaluate(x, y, { batchSize: 3 });
    const probs = (await m.predict(x)) as Tensor;
    expect(logs.accuracy).toBeCloseTo(metricTotals('accuracy', probs, y, 0.5)[0] / 10, 10);
    expect(logs.sparseTopKCategoricalAccuracy).toBeCloseTo(metricTotals('sparseTopKCategoricalAccuracy', probs, y, 0.5)[0] / 10, 10);
    // 2 batches per epoch: epoch 1's last step is step 1 (rate 0.1 / 2), epoch 2's is step 3 (0.1 / 8)
    const history = await m.fit(x, y, { batchSize: 5, epochs: 2, verbose: 0 });
    expect(history.history.lr).toEqual([0.05, 0.0125]);
    expect(Object.keys(history.history).sort()).toEqual(['accuracy', 'loss', 'lr', 'sparseTopKCategoricalAccuracy']);
  });
});

describe("Keras's spellings of losses and optimizers", () => {
  it('compile accepts them and saves convkit names', () => {
    const m = sequential([layers.dense({ units: 2, inputShape: [3] })]);
    for (const [loss, name] of [['mse', 'meanSquaredError'], ['mae', 'meanAbsoluteError'], ['categorical_crossentropy', 'categoricalCrossentropy'], ['binary_crossentropy', 'binaryCrossentropy']]) {
      m.compile({ optimizer: 'adamw', loss });
      expect(m.loss?.className).toBe(name);
      expect(m.optimizer?.className).toBe('adamW');
    }
    expect(() => m.compile({ optimizer: 'sgd', loss: 'huberish' })).toThrow(/compile: expected a loss, one of/);
  });

  it('meanAbsoluteError: the mean of |difference|, its gradient the sign over N', async () => {
    const { getLoss } = await import('../../src/losses/index.js');
    const r = getLoss('mae').compute(t([[1, -2], [0.5, 3]]), t([[0, 0], [1, 3]]));
    expect(r.loss).toBeCloseTo((1 + 2 + 0.5 + 0) / 4, 7);
    expect([...r.grad.data]).toEqual([0.25, -0.25, -0.25, 0]);
  });
});
