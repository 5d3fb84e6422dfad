import { describe, expect, it } from 'vitest';
import type { Param } from '../../src/layers/layer.js';
import * as optimizers from '../../src/optimizers/index.js';
import { getOptimizer } from '../../src/optimizers/index.js';
import { tensor } from '../../src/tensor.js';

/** One float64 parameter [w0, w1] whose gradient we set by hand before each step. */
function param(w: number[]): Param {
  return { name: 'layer/kernel', value: tensor(w, undefined, 'float64'), grad: undefined, trainable: true };
}

function run(opt: optimizers.Optimizer, w0: number[], grads: number[][]): number[][] {
  const p = param(w0);
  return grads.map((g) => {
    p.grad = tensor(g, undefined, 'float64');
    opt.apply([p]);
    return [...p.value.data];
  });
}

const close = (got: number[][], want: number[][]): void => {
  expect(got.length).toBe(want.length);
  got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 12)));
};

describe('optimizer update rules against hand-computed steps', () => {
  it('sgd without momentum: w -= lr g', () => {
    close(run(optimizers.sgd({ learningRate: 0.1 }), [1, -2], [[0.5, 1], [1, -1]]), [[0.95, -2.1], [0.85, -2.0]]);
  });

  it('sgd momentum: v = mu v - lr g; w += v', () => {
    // v1 = -0.1*1 = -0.1, w = 0.9; v2 = 0.9*-0.1 - 0.1*2 = -0.29, w = 0.61
    close(run(optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }), [1], [[1], [2]]), [[0.9], [0.61]]);
  });

  it('sgd nesterov: w += mu v - lr g', () => {
    // v1 = -0.1, w = 1 + 0.9*-0.1 - 0.1 = 0.81; v2 = -0.29, w = 0.81 + 0.9*-0.29 - 0.2 = 0.349
    close(run(optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }), [1], [[1], [2]]), [[0.81], [0.349]]);
  });

  it('sgd decay: lr_t = lr / (1 + decay t)', () => {
    // step 1 lr 0.1, step 2 lr 0.1/1.5
    close(run(optimizers.sgd({ learningRate: 0.1, decay: 0.5 }), [0], [[1], [1]]), [[-0.1], [-0.1 - 0.1 / 1.5]]);
  });

  it('adam with bias correction (the first step moves each weight by lr against the sign of g)', () => {
    const [b1, b2, lr, eps] = [0.9, 0.999, 0.01, 1e-7];
    const g1 = 0.5;
    const g2 = -0.2;
    const m1 = (1 - b1) * g1;
    const v1 = (1 - b2) * g1 * g1;
    const w1 = 1 - ((lr * Math.sqrt(1 - b2)) / (1 - b1)) * (m1 / (Math.sqrt(v1) + eps));
    const m2 = b1 * m1 + (1 - b1) * g2;
    const v2 = b2 * v1 + (1 - b2) * g2 * g2;
    const w2 = w1 - ((lr * Math.sqrt(1 - b2 ** 2)) / (1 - b1 ** 2)) * (m2 / (Math.sqrt(v2) + eps));
    const got = run(optimizers.adam({ learningRate: lr }), [1], [[g1], [g2]]);
    close(got, [[w1], [w2]]);
    expect(got[0][0]).toBeCloseTo(1 - lr, 6);
  });

  it('adamW decays the weight by lr·wd·w before the Adam step', () => {
    const lr = 0.01;
    const got = run(optimizers.adamW({ learningRate: lr, weightDecay: 0.1 }), [2], [[1]]);
    const decayed = 2 - lr * 0.1 * 2;
    close(got, [[decayed - (lr * Math.sqrt(1 - 0.999) / 0.1) * (0.1 / (Math.sqrt(0.001) + 1e-7))]]);
  });

  it('rmsprop: v = rho v + (1-rho) g²; w -= lr g / sqrt(v + eps)', () => {
    const v1 = 0.1 * 4;
    const v2 = 0.9 * v1 + 0.1 * 1;
    const w1 = 1 - (0.01 * 2) / Math.sqrt(v1 + 1e-7);
    close(run(optimizers.rmsprop({ learningRate: 0.01 }), [1], [[2], [1]]), [[w1], [w1 - 0.01 / Math.sqrt(v2 + 1e-7)]]);
  });

  it('adagrad: a += g² from 0.1; w -= lr g / sqrt(a + eps)', () => {
    const a1 = 0.1 + 4;
    close(run(optimizers.adagrad({ learningRate: 0.1 }), [1], [[2]]), [[1 - (0.1 * 2) / Math.sqrt(a1 + 1e-7)]]);
  });

  it('adadelta: the first step is -sqrt(eps)/sqrt(a + eps) g scaled by lr', () => {
    const a1 = 0.05 * 4;
    const d1 = (-Math.sqrt(1e-7) / Math.sqrt(a1 + 1e-7)) * 2;
    const u1 = 0.05 * d1 * d1;
    const a2 = 0.95 * a1 + 0.05 * 1;
    const d2 = (-Math.sqrt(u1 + 1e-7) / Math.sqrt(a2 + 1e-7)) * 1;
    close(run(optimizers.adadelta({ learningRate: 1 }), [1], [[2], [1]]), [[1 + d1], [1 + d1 + d2]]);
  });

  it('adamax: u = max(b2 u, |g|); w -= lr/(1-b1^t) · m / (u + eps)', () => {
    const [m1, u1] = [0.1 * 2, 2];
    const w1 = 1 - (0.01 / 0.1) * (m1 / (u1 + 1e-7));
    const [m2, u2] = [0.9 * m1 + 0.1 * 1, Math.max(0.999 * u1, 1)];
    const w2 = w1 - (0.01 / (1 - 0.81)) * (m2 / (u2 + 1e-7));
    close(run(optimizers.adamax({ learningRate: 0.01 }), [1], [[2], [1]]), [[w1], [w2]]);
  });

  it("nadam: Keras 3's momentum schedule u_t = b1 (1 - 0.5·0.96^t) and bias corrections", () => {
    const u = (t: number) => 0.9 * (1 - 0.5 * 0.96 ** t);
    const lr = 0.01;
    let [w, m, v, prod] = [1, 0, 0, 1];
    const want: number[][] = [];
    for (const [t, g] of [[1, 2], [2, -1], [3, 0.5]]) {
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      prod *= u(t);
      const mHat = (u(t + 1) * m) / (1 - prod * u(t + 1)) + ((1 - u(t)) * g) / (1 - prod);
      w -= (lr * mHat) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-7);
      want.push([w]);
    }
    close(run(optimizers.nadam({ learningRate: lr }), [1], [[2], [-1], [0.5]]), want);
  });

  it('nadam resumed from its saved state takes the steps an uninterrupted run takes, bit for bit', () => {
    const grads = [[0.3, -0.1], [0.2, 0.4], [-0.5, 0.1], [0.05, 0.05]];
    const straight = optimizers.nadam({ learningRate: 0.01 });
    const p = param([1, 2]);
    for (const g of grads) {
      p.grad = tensor(g, undefined, 'float64');
      straight.apply([p]);
    }
    const first = optimizers.nadam({ learningRate: 0.01 });
    const q = param([1, 2]);
    for (const g of grads.slice(0, 2)) {
      q.grad = tensor(g, undefined, 'float64');
      first.apply([q]);
    }
    const resumed = getOptimizer(JSON.parse(JSON.stringify(first.getConfig())));
    expect(resumed).toBeInstanceOf(optimizers.Nadam);
    resumed.iterations = first.iterations;
    resumed.setSlotWeights([q], first.getSlotWeights([q]));
    for (const g of grads.slice(2)) {
      q.grad = tensor(g, undefined, 'float64');
      resumed.apply([q]);
    }
    expect([...q.value.data]).toEqual([...p.value.data]);
  });

  it('clipNorm rescales a gradient to the norm; globalClipNorm rescales all together', () => {
    // g = [3, 4] has norm 5; clipped to 1 -> [0.6, 0.8].
    close(run(optimizers.sgd({ learningRate: 1, clipNorm: 1 }), [0, 0], [[3, 4]]), [[-0.6, -0.8]]);
    const a = param([0]);
    const b = { ...param([0]), name: 'other/kernel' };
    a.grad = tensor([3], undefined, 'float64');
    b.grad = tensor([4], undefined, 'float64');
    optimizers.sgd({ learningRate: 1, globalClipNorm: 2.5 }).apply([a, b]);
    expect(a.value.data[0]).toBeCloseTo(-1.5, 12);
    expect(b.value.data[0]).toBeCloseTo(-2, 12);
  });

  it('schedules: step, exponential and cosine decay by optimizer step', () => {
    const step = optimizers.schedules.stepDecay({ initialLearningRate: 0.1, stepSize: 2, gamma: 0.5 });
    expect([0, 1, 2, 3, 4].map((s) => step.at(s))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    const exp = optimizers.schedules.exponentialDecay({ initialLearningRate: 1, decaySteps: 10, decayRate: 0.5 });
    expect(exp.at(5)).toBeCloseTo(Math.SQRT1_2, 12);
    const cos = optimizers.schedules.cosineDecay({ initialLearningRate: 1, decaySteps: 10, alpha: 0.1 });
    expect(cos.at(0)).toBeCloseTo(1, 12);
    expect(cos.at(5)).toBeCloseTo(0.55, 12);
    expect(cos.at(20)).toBeCloseTo(0.1, 12);
    // The optimizer reads the schedule at its own step count.
    close(run(optimizers.sgd({ learningRate: step }), [0], [[1], [1], [1]]), [[-0.1], [-0.2], [-0.25]]);
  });

  it('state (slots and config) round-trips so a restored optimizer takes the same next step', () => {
    const opt = optimizers.adam({ learningRate: optimizers.schedules.exponentialDecay({ initialLearningRate: 0.01, decaySteps: 3, decayRate: 0.9 }) });
    const p = param([1, 2]);
    p.grad = tensor([0.3, -0.1], undefined, 'float64');
    opt.apply([p]);
    const copy = getOptimizer(JSON.parse(JSON.stringify(opt.getConfig())));
    copy.iterations = opt.iterations;
    copy.setSlotWeights([p], opt.getSlotWeights([p]));
    const q = param([...p.value.data]);
    q.grad = tensor([0.2, 0.4], undefined, 'float64');
    p.grad = q.grad;
    opt.apply([p]);
    copy.apply([q]);
    expect([...q.value.data]).toEqual([...p.value.data]);
    expect(() => copy.setSlotWeights([p], [{ name: 'ghost/kernel/m', tensor: tensor([1]) }])).toThrow(/ghost\/kernel\/m/);
  });

  it('rejects bad hyperparameters with a message naming them', () => {
    expect(() => optimizers.sgd({ momentum: 1.5 })).toThrow(/sgd: expected momentum in \[0, 1\)/);
    expect(() => getOptimizer('lbfgs')).toThrow(/one of sgd, adam, adamW, rmsprop, adagrad, adadelta, adamax, nadam/);
    expect(getOptimizer('Nadam').className).toBe('nadam');
    expect(getOptimizer('Adamax').className).toBe('adamax');
  });
});
