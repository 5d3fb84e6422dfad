import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as callbacks from '../../src/callbacks/index.js';
import { imageAugmenter } from '../../src/data/augment.js';
import { oneHot } from '../../src/data/preprocessing.js';
import * as layers from '../../src/layers/index.js';
import { getRegularizer, l1, l1l2, l2 } from '../../src/layers/regularizers.js';
import * as losses from '../../src/losses/index.js';
import { architecture, lenet5 } from '../../src/model/architectures.js';
import { sequential, type Sequential } from '../../src/model/sequential.js';
import { model as graphModel } from '../../src/model/model.js';
import * as optimizers from '../../src/optimizers/index.js';
import { randomUniform, type Tensor } from '../../src/tensor.js';
import { nativeAvailable } from '../helpers/backends.js';

/** A learnable toy task: class = which quadrant of the 6×6 image is brightest. */
function quadrants(n: number, seed: number): { x: Tensor; y: Int32Array } {
  const x = randomUniform([n, 6, 6, 1], { seed, maxval: 0.3 });
  const y = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const q = (s * 5 + seed) % 4;
    y[s] = q;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) x.data[s * 36 + ((q >> 1) * 3 + i) * 6 + (q & 1) * 3 + j] += 0.7;
  }
  return { x, y };
}

function model(seed = 1, opts: { dropout?: boolean } = {}): Sequential {
  const m = sequential(
    [
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [6, 6, 1] }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      ...(opts.dropout ? [layers.dropout({ rate: 0.2 })] : []),
      layers.dense({ units: 4 }),
    ],
    { seed },
  );
  m.compile({ optimizer: optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  return m;
}

const { x, y } = quadrants(96, 1);
const weightBits = (m: Sequential): number[][] => m.getWeights().map((w) => [...new Uint32Array(Float32Array.from(w.data).buffer)]);

describe('fit, evaluate, predict', () => {
  it('learns a toy task and reports a per-epoch history with validation metrics', async () => {
    const m = model();
    const history = await m.fit(x, y, { batchSize: 16, epochs: 8, validationSplit: 0.25, verbose: 0 });
    expect(history.epoch).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Object.keys(history.history).sort()).toEqual(['accuracy', 'loss', 'lr', 'val_accuracy', 'val_loss']);
    expect(history.history.loss[7]).toBeLessThan(history.history.loss[0]);
    const test = quadrants(40, 2);
    const { accuracy, loss } = await m.evaluate(test.x, test.y);
    expect(accuracy).toBeGreaterThan(0.9);
    expect(loss).toBeLessThan(0.5);
    const probs = await m.predict(test.x, { batchSize: 7 });
    expect(probs.shape).toEqual([40, 4]);
    // predict's last batch of 5 rows (< the GEMM's row tile) takes the GEMV path, which sums in another order
    // than one forward of all 40: equal up to float32 reassociation, 1e-5 of the outputs' scale
    const whole = (await m.forward(test.x)).data;
    const scale = Math.max(...Array.from(whole, Math.abs));
    probs.data.forEach((v, i) => expect(Math.abs(v - whole[i]), `output ${i}`).toBeLessThanOrEqual(1e-5 * scale));
  });

  it('two runs with the same seed give bit-identical weights; another seed does not', async () => {
    const opts = { batchSize: 16, epochs: 2, verbose: 0 as const, augment: imageAugmenter({ rotationRange: 15, heightShiftRange: 0.1, horizontalFlip: true }) };
    const a = model(7, { dropout: true });
    const b = model(7, { dropout: true });
    const c = model(8, { dropout: true });
    await a.fit(x, y, opts);
    await b.fit(x, y, opts);
    await c.fit(x, y, opts);
    expect(weightBits(a)).toEqual(weightBits(b));
    expect(weightBits(c)).not.toEqual(weightBits(a));
  });

  it('yields to the event loop between batches', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await model().fit(x, y, { batchSize: 4, epochs: 1, verbose: 0 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
  });

  it.skipIf(!nativeAvailable)('on native, timers keep firing while a single large batch computes', async () => {
    const big = sequential([layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', inputShape: [64, 64, 32] })]);
    const input = randomUniform([24, 64, 64, 32], { seed: 1 }); // about 3.6 GFLOP in one forward
    let ticks = 0;
    let last = performance.now();
    let longest = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      ticks++;
    }, 1);
    const started = performance.now();
    await big.predict(input, { batchSize: 24 });
    const ms = performance.now() - started;
    clearInterval(timer);
    // A blocking forward would let the timer fire at most once or twice (after the batch).
    expect(ticks).toBeGreaterThan(Math.min(5, ms / 10));
    // Copying the 12 MiB input and the 24 MiB output in one piece held the loop for 38-52 ms on first touches
    // of fresh memory (2 Zen 5 cores, a VM); in slices between turns the longest wait read 5-7 ms.
    expect(longest).toBeLessThan(25);
  });

  it('accepts one-hot tensors with categoricalCrossentropy and matches sparse labels', async () => {
    const sparse = model(3);
    const dense = model(3);
    dense.compile({ optimizer: optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }), loss: losses.categoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const h1 = await sparse.fit(x, y, { batchSize: 32, epochs: 1, verbose: 0 });
    const h2 = await dense.fit(x, oneHot(y, 4), { batchSize: 32, epochs: 1, verbose: 0 });
    expect(h2.history.loss[0]).toBeCloseTo(h1.history.loss[0], 5);
    expect(h2.history.accuracy).toEqual(h1.history.accuracy);
  });

  it('trainOnBatch takes one step and returns the batch loss', async () => {
    const m = model();
    const first = await m.trainOnBatch(x.slice(0, 16), y.subarray(0, 16));
    for (let i = 0; i < 10; i++) await m.trainOnBatch(x.slice(0, 16), y.subarray(0, 16));
    const last = await m.trainOnBatch(x.slice(0, 16), y.subarray(0, 16));
    expect(m.optimizer!.iterations).toBe(12);
    expect(last.loss).toBeLessThan(first.loss);
    expect(last.accuracy).toBeGreaterThanOrEqual(0);
  });

  it('truncate(k) returns a model whose outputs are layer k-1 activations (features)', async () => {
    const m = model();
    await m.fit(x, y, { batchSize: 16, epochs: 1, verbose: 0 });
    const features = m.truncate(3);
    expect(features.outputShape).toEqual([36]);
    // the same features from a graph model that shares m's layers
    const shared = graphModel<Tensor>({ inputs: m.inputs, outputs: m.layers[2].output });
    const h = await shared.predict(x);
    expect([...(await features.predict(x)).data]).toEqual([...h.data]);
    expect(() => m.truncate(0)).toThrow(/truncate: expected a layer count in \[1, 4\]/);
  });

  it('an L2 kernel regularizer adds l2·sum(w²) to the loss and 2·l2·w to the gradient', async () => {
    const make = (reg: boolean): Sequential => {
      const m = sequential([layers.flatten({ inputShape: [6, 6, 1] }), layers.dense({ units: 4, kernelRegularizer: reg ? l2({ l2: 0.01 }) : undefined })], { seed: 2 });
      m.compile({ optimizer: optimizers.sgd({ learningRate: 0.5 }), loss: { className: 'sparseCategoricalCrossentropy', config: { fromLogits: true } } });
      return m;
    };
    const plain = make(false);
    const reg = make(true);
    const kernel = reg.getWeights()[0];
    let sq = 0;
    for (const v of kernel.data) sq += v * v;
    const before = (await reg.evaluate(x, y)).loss;
    expect(before).toBeCloseTo((await plain.evaluate(x, y)).loss + 0.01 * sq, 5);
    // One SGD step: the regularized kernel also moves by lr · 2 · l2 · w.
    await plain.trainOnBatch(x, y);
    await reg.trainOnBatch(x, y);
    const wPlain = plain.getWeights()[0].data;
    const wReg = reg.getWeights()[0].data;
    for (let i = 0; i < kernel.size; i++) expect(wReg[i]).toBeCloseTo(wPlain[i] - 0.5 * 2 * 0.01 * kernel.data[i], 6);
  });

  it('l1 and l1l2 add l1·sum(|w|) (+ l2·sum(w²)) to the loss and l1·sign(w) (+ 2·l2·w) to the gradient', async () => {
    const make = (reg?: ReturnType<typeof l1>): Sequential => {
      const m = sequential([layers.flatten({ inputShape: [6, 6, 1] }), layers.dense({ units: 4, kernelRegularizer: reg })], { seed: 2 });
      m.compile({ optimizer: optimizers.sgd({ learningRate: 0.5 }), loss: { className: 'sparseCategoricalCrossentropy', config: { fromLogits: true } } });
      return m;
    };
    for (const [reg, a, b] of [[l1({ l1: 0.02 }), 0.02, 0], [l1l2({ l1: 0.02, l2: 0.01 }), 0.02, 0.01]] as const) {
      const plain = make();
      const m = make(reg);
      const k = m.getWeights()[0];
      const abs = k.data.reduce((s, v) => s + Math.abs(v), 0);
      const sq = k.data.reduce((s, v) => s + v * v, 0);
      expect((await m.evaluate(x, y)).loss).toBeCloseTo((await plain.evaluate(x, y)).loss + a * abs + b * sq, 5);
      await plain.trainOnBatch(x, y);
      await m.trainOnBatch(x, y);
      const [wPlain, wReg] = [plain.getWeights()[0].data, m.getWeights()[0].data];
      for (let i = 0; i < k.size; i++) expect(wReg[i]).toBeCloseTo(wPlain[i] - 0.5 * (a * Math.sign(k.data[i]) + 2 * b * k.data[i]), 6);
      // saved and restored through the layer config
      expect(getRegularizer('test', JSON.parse(JSON.stringify(reg.getConfig())))!.getConfig()).toEqual(reg.getConfig());
    }
  });

  it('the preset architectures have the documented sizes', () => {
    expect(lenet5().countParams()).toBe(61_706);
    expect(architecture('tutorial').countParams()).toBe(3_274_634);
    expect(architecture('lenet5', { inputShape: [32, 32, 3], numClasses: 4 }).outputShape).toEqual([4]);
    expect(() => architecture('vgg')).toThrow(/expected one of lenet5, tutorial/);
  });

  it('refuses overlapping training calls on one model', async () => {
    const m = model();
    const first = m.fit(x, y, { batchSize: 8, epochs: 1, verbose: 0 });
    await expect(m.trainOnBatch(x.slice(0, 8), y.subarray(0, 8))).rejects.toThrow(/a training step is already running/);
    await first;
  });

  it('explains misuse: not compiled, label count, x shape', async () => {
    const m = sequential([layers.dense({ units: 2, inputShape: [3] })]);
    await expect(m.fit(x, y)).rejects.toThrow(/not compiled/);
    const c = model();
    await expect(c.fit(x, y.subarray(0, 5), { verbose: 0 })).rejects.toThrow(/fit: expected 96 labels \(one per sample of x\) but received 5/);
    await expect(c.predict(randomUniform([2, 5, 5, 1], { seed: 1 }))).rejects.toThrow(/predict: expected x of shape \[N, 6, 6, 1\]/);
    await expect(c.fit(x, Int32Array.from(y, () => 9), { verbose: 0 })).rejects.toThrow(/labels\[0\] to be a class id in \[0, 4\)/);
  });
});

describe('callbacks', () => {
  it('plain objects see every batch and epoch; earlyStopping stops when the monitor stalls', async () => {
    const seen = { batches: 0, epochs: [] as number[] };
    const m = model();
    const history = await m.fit(x, y, {
      batchSize: 32,
      epochs: 10,
      verbose: 0,
      callbacks: [
        { onBatchEnd: () => void seen.batches++, onEpochEnd: (e) => void seen.epochs.push(e) },
        callbacks.earlyStopping({ monitor: 'loss', minDelta: 100, patience: 1 }),
      ],
    });
    expect(history.epoch).toEqual([0, 1]);
    expect(seen.epochs).toEqual([0, 1]);
    expect(seen.batches).toBe(6);
  });

  it('earlyStopping with restoreBestWeights puts back the weights of the best epoch', async () => {
    const m = model();
    let epoch0: number[][] = [];
    // mode 'max' on the (falling) loss makes epoch 0 the best, so the stop at epoch 1 restores it.
    const history = await m.fit(x, y, {
      batchSize: 32,
      epochs: 5,
      verbose: 0,
      callbacks: [
        { onEpochEnd: (e) => void (e === 0 && (epoch0 = weightBits(m))) },
        callbacks.earlyStopping({ monitor: 'loss', mode: 'max', patience: 1, restoreBestWeights: true }),
      ],
    });
    expect(history.epoch).toEqual([0, 1]);
    expect(history.history.loss[1]).toBeLessThan(history.history.loss[0]);
    expect(weightBits(m)).toEqual(epoch0);
  });

  it('earlyStopping names a monitor that is not logged', async () => {
    await expect(model().fit(x, y, { verbose: 0, callbacks: [callbacks.earlyStopping({ monitor: 'val_accuracy' })] })).rejects.toThrow(
      /earlyStopping: expected monitor 'val_accuracy' among the epoch logs \(loss, accuracy, lr\)/,
    );
  });

  it('learningRateScheduler sets the rate each epoch; modelCheckpoint saves each epoch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'convkit-ckpt-'));
    try {
      const rates: number[] = [];
      const m = model();
      await m.fit(x, y, {
        batchSize: 48,
        epochs: 3,
        verbose: 0,
        callbacks: [
          callbacks.learningRateScheduler((epoch) => 0.1 / (epoch + 1)),
          { onEpochEnd: () => void rates.push(m.optimizer!.currentLearningRate()) },
          callbacks.modelCheckpoint({ dir: join(dir, 'epoch-{epoch}') }),
        ],
      });
      expect(rates).toEqual([0.1, 0.05, 0.1 / 3]);
      expect((await readdir(dir)).sort()).toEqual(['epoch-1', 'epoch-2', 'epoch-3']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('progress: one plain line per epoch when the stream is not a TTY; a bar with ETA on a TTY', async () => {
    const plain: string[] = [];
    await model().fit(x, y, { batchSize: 32, epochs: 2, verbose: 0, callbacks: [callbacks.progressBar({ stream: { write: (s: string) => plain.push(s) } })] });
    expect(plain).toHaveLength(2);
    expect(plain[0]).toMatch(/^Epoch 1\/2 - [\d.]+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - lr: [\d.e-]+\n$/);
    const tty: string[] = [];
    await model().fit(x, y, { batchSize: 32, epochs: 1, verbose: 0, callbacks: [callbacks.progressBar({ stream: { isTTY: true, columns: 200, write: (s: string) => tty.push(s) } })] });
    expect(tty[0]).toBe('Epoch 1/1\n');
    expect(tty.join('')).toMatch(/\r3\/3 \[={30}\] - [\d.]+s - \d+ samples\/s - loss: \d\.\d{4} - accuracy: \d\.\d{4}/);
  });
});
