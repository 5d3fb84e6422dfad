import { beforeAll, describe, expect, it } from 'vitest';
import { setBackend } from '../../src/backend/index.js';
import * as losses from '../../src/losses/index.js';
import { accuracy } from '../../src/model/metrics.js';
import * as ops from '../../src/ops/index.js';
import { randomNormal, randomUniform, tensor, type Tensor } from '../../src/tensor.js';

beforeAll(() => setBackend('reference'));

/** Central differences of a loss with respect to its predictions, in float64. */
function checkLossGradient(loss: losses.Loss, yPred: Tensor, yTrue: losses.Labels): void {
  const { grad } = loss.compute(yPred, yTrue);
  const h = 1e-6;
  for (let i = 0; i < yPred.size; i++) {
    const v = yPred.data[i];
    yPred.data[i] = v + h;
    const lp = loss.compute(yPred, yTrue).loss;
    yPred.data[i] = v - h;
    const lm = loss.compute(yPred, yTrue).loss;
    yPred.data[i] = v;
    expect(grad.data[i]).toBeCloseTo((lp - lm) / (2 * h), 7);
  }
}

const ids = Int32Array.from([0, 2, 1, 2]);

describe('losses', () => {
  it('gradients match central differences for every loss', () => {
    const logits = randomNormal([4, 3], { seed: 1, dtype: 'float64' });
    const probs = ops.softmax(logits);
    const onehot = tensor([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]], undefined, 'float64');
    checkLossGradient(losses.sparseCategoricalCrossentropy({ fromLogits: true }), logits, ids);
    checkLossGradient(losses.sparseCategoricalCrossentropy(), probs, ids);
    checkLossGradient(losses.categoricalCrossentropy({ fromLogits: true }), logits, onehot);
    checkLossGradient(losses.categoricalCrossentropy(), probs, onehot);
    const targets = randomUniform([4, 2], { seed: 2, dtype: 'float64' });
    checkLossGradient(losses.binaryCrossentropy({ fromLogits: true }), randomNormal([4, 2], { seed: 3, dtype: 'float64' }), targets);
    checkLossGradient(losses.binaryCrossentropy(), randomUniform([4, 2], { seed: 4, minval: 0.1, maxval: 0.9, dtype: 'float64' }), targets);
    checkLossGradient(losses.meanSquaredError(), logits, probs);
    checkLossGradient(losses.categoricalHinge(), logits, onehot);
  });

  it('values match hand computation', () => {
    const p = tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], undefined, 'float64');
    expect(losses.sparseCategoricalCrossentropy().compute(p, [0, 2]).loss).toBeCloseTo(-(Math.log(0.7) + Math.log(0.8)) / 2, 12);
    const logits = tensor([[2, 1, 0]], undefined, 'float64');
    const lse = Math.log(Math.exp(2) + Math.exp(1) + 1);
    expect(losses.sparseCategoricalCrossentropy({ fromLogits: true }).compute(logits, [1]).loss).toBeCloseTo(lse - 1, 12);
    expect(losses.meanSquaredError().compute(tensor([[1, 2]], undefined, 'float64'), tensor([[0, 4]])).loss).toBeCloseTo(2.5, 12);
    expect(losses.binaryCrossentropy({ fromLogits: true }).compute(tensor([[0]], undefined, 'float64'), [1]).loss).toBeCloseTo(Math.LN2, 12);
    // Hinge: pos = 1 (true score), neg = max other = 1.5 -> 1 + 1.5 - 1 = 1.5.
    expect(losses.categoricalHinge().compute(tensor([[1, 1.5, 0]], undefined, 'float64'), [0]).loss).toBeCloseTo(1.5, 12);
  });

  it('say which label form they want', () => {
    const p = tensor([[0.5, 0.5]]);
    expect(() => losses.sparseCategoricalCrossentropy().compute(p, tensor([[1, 0]]))).toThrow(/use categoricalCrossentropy for one-hot/);
    expect(() => losses.categoricalCrossentropy().compute(p, [1])).toThrow(/use sparseCategoricalCrossentropy for class ids/);
    expect(() => losses.getLoss('hingeish')).toThrow(/a loss, one of/);
  });
});

describe('metrics.accuracy', () => {
  it('argmax against ids or one-hot; threshold for one column', () => {
    const p = tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]);
    expect(accuracy(p, [1, 0, 0])).toBeCloseTo(2 / 3, 12);
    expect(accuracy(p, tensor([[0, 1], [1, 0], [0, 1]]))).toBe(1);
    expect(accuracy(tensor([[0.6], [0.4]]), [1, 1])).toBe(0.5);
    expect(accuracy(tensor([[-0.1], [0.4]]), [0, 1], { threshold: 0 })).toBe(1);
  });
});
