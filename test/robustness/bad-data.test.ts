// Bad data is refused with a ConvkitError naming the tensor and the first bad element, before it can ruin a
// model: a NaN pixel (relu(NaN) was 0, so the loss stayed finite while every weight it reached became NaN),
// NaN targets, fractional class ids (an Int32Array copy truncated 0.5 to 0), and an update that overflows the
// weights. compile({ checkFinite: false }) skips the finiteness checks.
import { describe, expect, it } from 'vitest';
import { architectures, ConvkitError, layers, losses, ops, optimizers, randomUniform, sequential, setBackend, Tensor, withBackend } from '../../src/index.js';
import { NonFiniteError } from '../../src/errors.js';
import { nativeAvailable, nativeVariants, useNativeVariant } from '../helpers/backends.js';

function digitsModel(opts: { checkFinite?: boolean; learningRate?: number } = {}) {
  const model = architectures.lenet5({ seed: 1 });
  model.compile({
    optimizer: optimizers.sgd({ learningRate: opts.learningRate ?? 0.01 }),
    loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }),
    checkFinite: opts.checkFinite,
  });
  return model;
}

const labels = Int32Array.from({ length: 16 }, (_, i) => i % 10);
const withNaN = (): Tensor => {
  const x = randomUniform([16, 28, 28, 1], { seed: 1 });
  x.data[(5 * 28 + 13) * 28 + 7] = NaN; // sample 5, row 13, column 7
  return x;
};

describe('bad data is refused before it ruins a model', () => {
  for (const backend of ['reference', 'native'] as const) {
    describe.skipIf(backend === 'native' && !nativeAvailable)(backend, () => {
      it('one NaN pixel: fit, trainOnBatch and evaluate reject, naming x and the pixel; the weights stay as they were', async () => {
        setBackend(backend);
        const model = digitsModel();
        const before = model.getWeights();
        const message = /fit: expected x to be finite but received NaN at x\[5, 13, 7, 0\]/;
        await expect(model.fit(withNaN(), labels, { verbose: 0, batchSize: 8 })).rejects.toThrow(message);
        await expect(model.trainOnBatch(withNaN(), labels)).rejects.toThrow(/trainOnBatch: expected x to be finite but received NaN at x\[5, 13, 7, 0\]/);
        expect(() => model.trainOnBatchSync(withNaN(), labels)).toThrow(ConvkitError);
        await expect(model.evaluate(withNaN(), labels)).rejects.toThrow(/evaluate: expected x to be finite/);
        const x = randomUniform([16, 28, 28, 1], { seed: 2 });
        await expect(model.fit(x, labels, { verbose: 0, validationData: [withNaN(), labels] })).rejects.toThrow(/fit validationData: expected x to be finite/);
        model.getWeights().forEach((w, i) => expect(w.data).toEqual(before[i].data));
      });

      it('without the check a NaN pixel now shows: relu(NaN) is NaN, so the loss is NaN and fit stops', async () => {
        setBackend(backend);
        const model = digitsModel({ checkFinite: false });
        await expect(model.fit(withNaN(), labels, { verbose: 0, batchSize: 16 })).rejects.toThrow(/fit: the loss became NaN/);
      });

      it('targets: NaN in a target tensor and fractional or negative class ids are refused', async () => {
        setBackend(backend);
        const model = sequential([layers.dense({ units: 3, inputShape: [4] })]);
        model.compile({ optimizer: 'sgd', loss: losses.categoricalCrossentropy({ fromLogits: true }) });
        const x = randomUniform([2, 4], { seed: 3 });
        await expect(model.trainOnBatch(x, new Tensor(Float32Array.of(1, 0, 0, 0, NaN, 0), [2, 3]))).rejects.toThrow(/expected labels to be finite but received NaN at labels\[1, 1\]/);
        await expect(model.trainOnBatch(x, [0, 0.5])).rejects.toThrow(/expected labels\[1\] to be a class id \(a non-negative integer; soft targets go in a Tensor\) but received 0.5/);
        await expect(model.fit(x, [1, -1], { verbose: 0 })).rejects.toThrow(/expected labels\[1\] to be a class id/);
      });

      it('an update that overflows the weights stops training, naming the weight and the index', async () => {
        setBackend(backend);
        const model = sequential([layers.dense({ units: 3, inputShape: [4], name: 'd' })]);
        model.compile({ optimizer: optimizers.sgd({ learningRate: 1e38 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
        const x = new Tensor(Float32Array.of(1e3, 2e3, 3e3, 4e3, -1e3, 5e3, 2e3, 1e3), [2, 4]);
        await expect(model.trainOnBatch(x, [0, 1])).rejects.toThrow(/sgd: step 1 left the weight 'd\/kernel' non-finite \(first at index \d+, its gradient there/);
      });
    });
  }

  it('ops.firstNonFinite finds the first NaN or ±Inf at every position, on both backends and every ISA', () => {
    const sizes = [1, 7, 16, 17, 63, 64, 65, 16383, 16384, 16385, 40000];
    const check = (label: string) => {
      for (const n of sizes) {
        const x = new Tensor(new Float32Array(n).fill(1.5), [n]);
        expect(ops.firstNonFinite(x), `${label} n=${n} clean`).toBe(-1);
        for (const at of new Set([0, n >> 1, n - 1])) {
          for (const bad of [NaN, Infinity, -Infinity]) {
            x.data[at] = bad;
            if (at + 1 < n) x.data[n - 1] = NaN; // a later bad value must not win
            expect(ops.firstNonFinite(x), `${label} n=${n} ${bad} at ${at}`).toBe(at);
            x.data.fill(1.5);
          }
        }
      }
    };
    withBackend('reference', () => check('reference'));
    for (const v of nativeVariants()) {
      useNativeVariant(v);
      withBackend('native', () => check(v.label));
    }
  });

  it('ops.optimizerStep: both backends throw a NonFiniteError with the same index, unless checkFinite is false', () => {
    const info = { rule: 'sgd' as const, lr: 1e38, scale: 1, decay: 0, momentum: 0, nesterov: false, beta1: 0, beta2: 0, rho: 0, epsilon: 0 };
    const run = () => {
      const w = new Tensor(Float32Array.from({ length: 40000 }, (_, i) => (i === 20000 ? -3e38 : 1)), [40000]);
      const g = new Tensor(Float32Array.from({ length: 40000 }, (_, i) => (i >= 20000 ? 5 : 0)), [40000]);
      try {
        ops.optimizerStep(w, g, [], info);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const want = withBackend('reference', run) as NonFiniteError;
    expect(want).toBeInstanceOf(NonFiniteError);
    expect(want.index).toBe(20000);
    for (const v of nativeVariants()) {
      useNativeVariant(v);
      const got = withBackend('native', run) as NonFiniteError;
      expect(got, v.label).toBeInstanceOf(NonFiniteError);
      expect(got.message).toBe(want.message);
      expect(got.index).toBe(20000);
    }
    const w = new Tensor(Float32Array.of(-3e38), [1]);
    withBackend('reference', () => ops.optimizerStep(w, new Tensor(Float32Array.of(1), [1]), [], { ...info, checkFinite: false }));
    expect(w.data[0]).toBe(-Infinity);
  });
});
