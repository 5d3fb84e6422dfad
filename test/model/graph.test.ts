// Graph models: the functional API (input, apply, model), merge layers, shared layers, several inputs and
// outputs. Gradients through every kind of graph are checked by central differences (float64, reference);
// training, saving and loading work for graphs as for sequential models; the memory plan reuses buffers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend, setBackend, type BackendName } from '../../src/backend/index.js';
import { ConvkitError, input, layers, loadModel, losses, model, optimizers, randomNormal, randomUniform, Tensor, type Model, type SymbolicTensor } from '../../src/index.js';
import { checkModelGradients } from '../helpers/gradcheck-model.js';
import { nativeAvailable } from '../helpers/backends.js';

const f64 = { dtype: 'float64' as const };
const bits = (t: Tensor): number[] => [...new Uint32Array(Float32Array.from(t.data).buffer)];

/** Graphs for the gradient checks: each a model builder (float64) and its inputs. */
const graphs: [string, () => Model, () => Tensor[]][] = [
  [
    'zero paddings read through convolutions (strided, depthwise, dilated, own activation)',
    () => {
      const x = input({ shape: [7, 6, 2], ...f64 });
      const s = layers.conv2d({ filters: 3, kernelSize: 3, strides: 2 }).apply(layers.zeroPadding2d({ padding: [[0, 1], [2, 1]] }).apply(x));
      const dw = layers.depthwiseConv2d({ kernelSize: 3, activation: 'tanh' }).apply(layers.zeroPadding2d({ padding: 1 }).apply(s));
      const d = layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same' }).apply(layers.zeroPadding2d({ padding: [[1, 0], [0, 3]] }).apply(dw));
      return model({ inputs: x, outputs: d, seed: 3 });
    },
    () => [randomNormal([2, 7, 6, 2], { seed: 2, ...f64 })],
  ],
  [
    'residual block (conv, add, relu)',
    () => {
      const x = input({ shape: [5, 5, 3], ...f64 });
      const h = layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(x);
      const r = layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(h);
      const y = layers.activation({ activation: 'relu' }).apply(layers.add().apply([r, x]));
      return model({ inputs: x, outputs: layers.dense({ units: 2 }).apply(layers.globalAveragePooling2d().apply(y)), seed: 3 });
    },
    () => [randomNormal([2, 5, 5, 3], { seed: 1, ...f64 })],
  ],
  [
    'concatenate of two branches, one through max pooling',
    () => {
      const x = input({ shape: [6, 6, 2], ...f64 });
      const a = layers.conv2d({ filters: 2, kernelSize: 1, activation: 'sigmoid' }).apply(x);
      const b = layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
      const pa = layers.maxPooling2d({ poolSize: 2 }).apply(a);
      const pb = layers.averagePooling2d({ poolSize: 2 }).apply(b);
      const c = layers.concatenate().apply([pa, pb]);
      return model({ inputs: x, outputs: layers.dense({ units: 3 }).apply(layers.flatten().apply(c)), seed: 4 });
    },
    () => [randomNormal([2, 6, 6, 2], { seed: 2, ...f64 })],
  ],
  [
    'a layer shared by two inputs, merged by subtract, multiply, average, maximum and minimum',
    () => {
      const a = input({ shape: [4], name: 'a', ...f64 });
      const b = input({ shape: [4], name: 'b', ...f64 });
      const shared = layers.dense({ units: 3, activation: 'tanh' });
      const sa = shared.apply(a);
      const sb = shared.apply(b);
      const merged = [layers.subtract(), layers.multiply(), layers.average(), layers.maximum(), layers.minimum()].map((m) => m.apply([sa, sb]));
      return model({ inputs: [a, b], outputs: layers.dense({ units: 2 }).apply(layers.concatenate().apply(merged)), seed: 5 });
    },
    () => [randomNormal([3, 4], { seed: 3, ...f64 }), randomNormal([3, 4], { seed: 4, ...f64 })],
  ],
  [
    'two inputs, two outputs, a tensor read by three layers, three-way add',
    () => {
      const img = input({ shape: [4, 4, 2], name: 'img', ...f64 });
      const meta = input({ shape: [3], name: 'meta', ...f64 });
      const h = layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'elu' }).apply(img);
      const g = layers.globalMaxPooling2d().apply(h);
      const m = layers.dense({ units: 2, activation: 'sigmoid' }).apply(meta);
      const sum = layers.add().apply([g, m, layers.dense({ units: 2 }).apply(g)]);
      const out1 = layers.dense({ units: 3, name: 'cls' }).apply(sum);
      const out2 = layers.dense({ units: 1, name: 'reg' }).apply(layers.concatenate().apply([g, m]));
      return model({ inputs: [img, meta], outputs: [out1, out2], seed: 6 });
    },
    () => [randomNormal([2, 4, 4, 2], { seed: 5, ...f64 }), randomNormal([2, 3], { seed: 6, ...f64 })],
  ],
  [
    'batch norm and dropout inside a residual branch (training mode)',
    () => {
      const x = input({ shape: [6], ...f64 });
      const h = layers.dense({ units: 6 }).apply(x);
      const bn = layers.batchNormalization().apply(h);
      const d = layers.dropout({ rate: 0.3 }).apply(layers.activation({ activation: 'relu' }).apply(bn));
      return model({ inputs: x, outputs: layers.dense({ units: 2 }).apply(layers.add().apply([d, x])), seed: 7 });
    },
    () => [randomNormal([4, 6], { seed: 7, ...f64 })],
  ],
];

describe('gradients through graphs (reference, float64, central differences)', () => {
  let previous: BackendName;
  beforeAll(() => {
    previous = getBackend();
    setBackend('reference');
  });
  afterAll(() => setBackend(previous));

  it.each(graphs)('%s', async (_, make, xs) => {
    const m = make();
    const inputs = xs();
    const checked = await checkModelGradients(m, inputs);
    const inputNames = inputs.length === 1 ? ['input'] : inputs.map((__, k) => `input ${k}`);
    expect(checked).toEqual([...inputNames, ...m.params().filter((p) => p.trainable).map((p) => p.name)]);
  });
});

/** A small two-input, two-output net with a residual add, a shared layer and a concatenation. */
function twoHeads(seed = 1): Model {
  const img = input({ shape: [8, 8, 1], name: 'img' });
  const meta = input({ shape: [4], name: 'meta' });
  const c1 = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }).apply(img);
  const c2 = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c2' }).apply(c1);
  const res = layers.activation({ activation: 'relu' }).apply(layers.add().apply([c1, c2]));
  const pooled = layers.globalAveragePooling2d({ name: 'gap' }).apply(layers.maxPooling2d({ poolSize: 2 }).apply(res));
  const m = layers.dense({ units: 4, activation: 'relu', name: 'meta_dense' }).apply(meta);
  const joined = layers.concatenate({ name: 'joined' }).apply([pooled, m]);
  const cls = layers.dense({ units: 3, name: 'cls' }).apply(joined);
  const reg = layers.dense({ units: 1, name: 'reg' }).apply(joined);
  return model({ inputs: [img, meta], outputs: [cls, reg], seed, name: 'two_heads' });
}

const n = 24;
const img = randomUniform([n, 8, 8, 1], { seed: 11 });
const meta = randomUniform([n, 4], { seed: 12 });
const cls = Int32Array.from({ length: n }, (_, i) => (i * 7) % 3);
const reg = new Tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i)), [n, 1]);

function compiled(seed = 1): Model {
  const m = twoHeads(seed);
  m.compile({
    optimizer: optimizers.adam({ learningRate: 0.01 }),
    loss: { cls: losses.sparseCategoricalCrossentropy({ fromLogits: true }), reg: 'meanSquaredError' },
    lossWeights: { cls: 1, reg: 0.5 },
    metrics: { cls: ['accuracy'], reg: [] },
  });
  return m;
}

describe('the functional API', () => {
  it('layers, getLayer, inputs, outputs, and a summary with a Connected to column', () => {
    const m = twoHeads();
    expect(m.layers.map((l) => l.name).slice(0, 4)).toEqual(['img', 'meta', 'c1', 'c2']);
    expect(m.getLayer('cls').outputShape).toEqual([3]);
    expect(m.getLayer(0).className).toBe('InputLayer');
    expect(m.inputNames).toEqual(['img', 'meta']);
    expect(m.outputNames).toEqual(['cls', 'reg']);
    const text = m.summary(null);
    expect(text).toMatch(/Connected to/);
    expect(text).toMatch(/add_\d+ \(Add\)\s+\[null, 8, 8, 4\]\s+0\s+c1\[0\]\[0\], c2\[0\]\[0\]/);
    expect(text).toMatch(/joined \(Concatenate\)\s+\[null, 8\]\s+0\s+gap\[0\]\[0\], meta_dense\[0\]\[0\]/);
    expect(() => m.getLayer('nope')).toThrow(/getLayer: expected a layer name/);
  });

  it('refuses disconnected graphs, mismatched merges and shared layers applied to other shapes', () => {
    const a = input({ shape: [3] });
    const b = input({ shape: [3] });
    const y = layers.add().apply([a, b]);
    expect(() => model({ inputs: a, outputs: y })).toThrow(/the graph is disconnected.*input_\d+, needed by add_\d+/);
    expect(() => layers.add().apply([a, input({ shape: [4] })])).toThrow(/Add 'add_\d+': expected inputs of one shape: input 1 of shape \[N, 3\] but received \[N, 4\]/);
    expect(() => layers.concatenate().apply([input({ shape: [2, 3] }), input({ shape: [4, 5] })])).toThrow(/Concatenate 'concatenate_\d+': expected input 1 of shape \[N, 2, \*\]/);
    expect(() => layers.subtract().apply([a, b, a])).toThrow(/expected exactly two inputs/);
    const d = layers.dense({ units: 2 });
    d.apply(a);
    expect(() => d.apply(input({ shape: [5] }))).toThrow(/expected inputs of shape \[N, 3\] \(as where it was applied first/);
    expect(() => layers.add().apply(a)).toThrow(ConvkitError);
  });

  it('fits two outputs from two inputs given by name, with loss weights and per-output metrics; sync and async agree bit for bit', async () => {
    const a = compiled();
    const b = compiled();
    const hist = await a.fit({ img, meta }, { cls, reg }, { batchSize: 8, epochs: 3, verbose: 0 });
    for (let e = 0; e < 3; e++) for (let s = 0; s < 3; s++) b.trainOnBatchSync([img.slice(s * 8, s * 8 + 8), meta.slice(s * 8, s * 8 + 8)], [cls.subarray(s * 8, s * 8 + 8), reg.slice(s * 8, s * 8 + 8)]);
    expect(Object.keys(hist.history).sort()).toEqual(['cls_accuracy', 'cls_loss', 'loss', 'lr', 'reg_loss']);
    const [l0, l2] = [hist.history.loss[0], hist.history.loss[2]];
    expect(l2).toBeLessThan(l0);
    const logs = await a.evaluate([img, meta], [cls, reg]);
    expect(logs.loss).toBeCloseTo(logs.cls_loss + 0.5 * logs.reg_loss, 10);
    const [p, q] = (await a.predict({ img, meta })) as Tensor[];
    expect([p.shape, q.shape]).toEqual([[n, 3], [n, 1]]);
    // b saw the batches in order, a shuffled them: compare a with a model run the same way instead
    const c = compiled();
    await c.fit({ img, meta }, { cls, reg }, { batchSize: 8, epochs: 3, verbose: 0 });
    expect(c.getWeights().map(bits)).toEqual(a.getWeights().map(bits));
    expect(b.getWeights().map(bits)).not.toEqual(a.getWeights().map(bits));
  });

  it('a feature extractor from a layer of a trained model shares its weights', async () => {
    const m = compiled();
    await m.fit([img, meta], [cls, reg], { batchSize: 12, epochs: 1, verbose: 0 });
    const features = model<Tensor>({ inputs: m.inputs, outputs: m.getLayer('joined').output });
    const f = await features.predict([img, meta]);
    expect(f.shape).toEqual([n, 8]);
    const head = m.getLayer('cls');
    const [w, bias] = head.getWeights();
    const manual = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) for (let j = 0; j < 3; j++) {
      let s = bias.data[j];
      for (let k = 0; k < 8; k++) s += f.data[i * 8 + k] * w.data[k * 3 + j];
      manual[i * 3 + j] = s;
    }
    const [p] = (await m.predict([img, meta])) as Tensor[];
    p.data.forEach((v, i) => expect(v).toBeCloseTo(manual[i], 4));
    // the weights are the same objects: training m moves the extractor's output
    await m.fit([img, meta], [cls, reg], { batchSize: 12, epochs: 1, verbose: 0 });
    expect(bits(await features.predict([img, meta]))).not.toEqual(bits(f));
  });

  it('saves and loads a graph model; resuming continues exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'convkit-graph-'));
    try {
      const straight = compiled();
      await straight.fit([img, meta], [cls, reg], { batchSize: 8, epochs: 2, verbose: 0 });
      const first = compiled();
      await first.fit([img, meta], [cls, reg], { batchSize: 8, epochs: 1, verbose: 0 });
      await first.save(dir);
      const again = await loadModel(dir);
      expect(again.getConfig()).toEqual(first.getConfig());
      expect(again.getTrainingConfig()).toEqual(first.getTrainingConfig());
      expect(((await again.predict([img, meta])) as Tensor[]).map(bits)).toEqual(((await first.predict([img, meta])) as Tensor[]).map(bits));
      await again.fit([img, meta], [cls, reg], { batchSize: 8, epochs: 1, verbose: 0 });
      expect(again.epochsTrained).toBe(2);
      expect(again.getWeights().map(bits)).toEqual(straight.getWeights().map(bits));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lossWeights and metrics objects may leave outputs out (weight 1, no metrics), as in Keras', async () => {
    const m = twoHeads(4);
    m.compile({ optimizer: 'sgd', loss: { cls: losses.sparseCategoricalCrossentropy({ fromLogits: true }), reg: 'meanSquaredError' }, lossWeights: { reg: 0.5 }, metrics: { cls: ['accuracy'] } });
    const logs = await m.evaluate([img, meta], [cls, reg]);
    expect(Object.keys(logs).sort()).toEqual(['cls_accuracy', 'cls_loss', 'loss', 'reg_loss']);
    expect(logs.loss).toBeCloseTo(logs.cls_loss + 0.5 * logs.reg_loss, 10);
    expect(() => m.compile({ optimizer: 'sgd', loss: { cls: 'meanSquaredError' } })).toThrow(/compile: expected loss\['reg'\] but received nothing/);
  });

  it('bad inputs and targets are refused naming the input or output', async () => {
    const m = compiled();
    await expect(m.fit({ img }, { cls, reg }, { verbose: 0 })).rejects.toThrow(/fit: expected x\['meta'\]/);
    await expect(m.fit([img, meta.slice(0, 3)], [cls, reg], { verbose: 0 })).rejects.toThrow(/x\['meta'\] with 24 samples, as the first input/);
    await expect(m.fit([img, meta], { cls, other: reg }, { verbose: 0 })).rejects.toThrow(/y keyed by 'cls', 'reg' but received a key 'other'/);
    await expect(m.evaluate([img, meta], [cls.subarray(0, 5), reg])).rejects.toThrow(/expected 24 y\['cls'\] \(one per sample of x\) but received 5/);
    expect(() => m.compile({ optimizer: 'sgd', loss: ['mse'] as never })).toThrow(/compile: expected loss as 2 values, one per cls, reg/);
  });
});

describe('memory plan', () => {
  /** A ResNet-like stack: blocks of conv, batch norm, relu, conv, batch norm, add, relu. */
  function resnetLike(blocks: number): Model {
    const x = input({ shape: [16, 16, 8] });
    let h: SymbolicTensor = x;
    for (let b = 0; b < blocks; b++) {
      const c1 = layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false }).apply(h);
      const r1 = layers.activation({ activation: 'relu' }).apply(layers.batchNormalization().apply(c1));
      const c2 = layers.batchNormalization().apply(layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false }).apply(r1));
      h = layers.activation({ activation: 'relu' }).apply(layers.add().apply([c2, h]));
    }
    const m = model({ inputs: x, outputs: layers.dense({ units: 4 }).apply(layers.globalAveragePooling2d().apply(h)), seed: 2 });
    m.compile({ optimizer: 'sgd', loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    return m;
  }

  it('a training step holds at most half of what it allocates; inference three activations at once', async () => {
    const m = resnetLike(6);
    const x = randomUniform([16, 16, 16, 8], { seed: 3 });
    const y = Int32Array.from({ length: 16 }, (_, i) => i % 4);
    await m.trainOnBatch(x, y);
    const plan = m.memoryPlan();
    expect(plan.training!.peakBytes).toBeLessThanOrEqual(0.5 * plan.training!.allocatedBytes);
    await m.predict(x, { batchSize: 16 });
    // each block's convolutions take the batch norms, the add and the relus into their ops, so at inference a
    // block holds its input (its residual), its middle and its output: three activations
    const inference = m.memoryPlan().inference!;
    expect(inference.peakBytes).toBeLessThanOrEqual(3 * x.size * 4);
    expect(m.summary(null)).toMatch(/Memory, last training step: peak [\d.]+ MiB of [\d.]+ MiB allocated/);
  });

  it('reusing buffers within a step changes nothing: the same weights as with fresh outputs', async () => {
    const run = async (arena: boolean): Promise<number[][]> => {
      process.env.CONVKIT_OUTPUT_ARENA = arena ? '1' : '0';
      try {
        const m = resnetLike(2);
        const x = randomUniform([8, 16, 16, 8], { seed: 3 });
        for (let i = 0; i < 3; i++) await m.trainOnBatch(x, Int32Array.from({ length: 8 }, (_, k) => k % 4));
        return [...m.getWeights().map(bits), bits((await m.predict(x)) as Tensor)];
      } finally {
        delete process.env.CONVKIT_OUTPUT_ARENA;
      }
    };
    expect(await run(true)).toEqual(await run(false));
  });
});

describe('inference plan: batch norm, residual adds and activations in the op before them', () => {
  /**
   * Every fusion and every reason not to: conv+bn+relu, conv+bn+add(projection)+relu, a dense + bn + elu head,
   * a conv whose output the model returns (stored as it is), a batch norm without scale or center, a conv with
   * an activation of its own (nothing fuses), and a batch norm whose input has two readers.
   */
  function fusable(dtype: 'float32' | 'float64'): Model {
    const x = input({ shape: [8, 8, 3], dtype });
    const c0 = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x);
    const a0 = layers.activation({ activation: 'relu' }).apply(layers.batchNormalization().apply(c0));
    const c1 = layers.batchNormalization({ scale: false }).apply(layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: false }).apply(a0));
    const proj = layers.batchNormalization({ center: false }).apply(layers.conv2d({ filters: 6, kernelSize: 1, strides: 2 }).apply(a0));
    const r = layers.activation({ activation: 'relu' }).apply(layers.add().apply([c1, proj]));
    const side = layers.conv2d({ filters: 2, kernelSize: 1, name: 'side' }).apply(r);
    const own = layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(r);
    const twoReaders = layers.conv2d({ filters: 6, kernelSize: 1 }).apply(own);
    const bn = layers.batchNormalization().apply(twoReaders);
    const merged = layers.add().apply([bn, twoReaders]);
    const d = layers.dense({ units: 5 }).apply(layers.globalAveragePooling2d().apply(merged));
    const head = layers.activation({ activation: 'elu' }).apply(layers.batchNormalization().apply(d));
    const m = model({ inputs: x, outputs: [head, side], seed: 5 });
    m.compile({ optimizer: optimizers.sgd({ learningRate: 0.2 }), loss: [losses.meanSquaredError(), losses.meanSquaredError()] });
    return m;
  }
  const trained = async (dtype: 'float32' | 'float64'): Promise<{ m: Model; x: Tensor }> => {
    const m = fusable(dtype);
    const x = randomNormal([6, 8, 8, 3], { seed: 7, dtype });
    // a few steps, so the moving statistics, gammas and betas are no longer their initial values
    for (let i = 0; i < 4; i++) await m.trainOnBatch(x, [randomNormal([6, 5], { seed: 8, dtype }), randomNormal([6, 4, 4, 2], { seed: 9, dtype })]);
    return { m, x };
  };

  it('fuses what it can and nothing else', () => {
    const m = fusable('float32');
    const fused = m.inferencePlan.steps.filter((s) => s.epilogue);
    const describeStep = (s: (typeof fused)[number]) => [s.node.layer.constructor.name, s.epilogue!.affine?.layer.constructor.name, s.epilogue!.residual?.layer.constructor.name, s.epilogue!.activation?.layer.constructor.name];
    expect(fused.map(describeStep)).toEqual([
      ['Conv2D', 'BatchNormalization', undefined, 'Activation'],
      ['Conv2D', 'BatchNormalization', undefined, undefined], // the projection: its bn's output feeds the add the other branch fused
      ['Conv2D', 'BatchNormalization', 'Add', 'Activation'],
      ['Dense', 'BatchNormalization', undefined, 'Activation'],
    ]);
    // the side conv (a model output), the tanh conv, and the conv whose output two layers read run alone
    expect(m.inferencePlan.steps.length).toBe(m.plan.steps.length - 8);
  });

  it('predicts what the unfused layers compute (float64 reference: to rounding)', async () => {
    const previous = getBackend();
    setBackend('reference');
    try {
      const { m, x } = await trained('float64');
      const fusedOut = (await m.predict(x)) as Tensor[];
      const plain = m.forwardSync(x, { training: false }) as Tensor[];
      fusedOut.forEach((t, i) => t.data.forEach((v, k) => expect(Math.abs(v - plain[i].data[k])).toBeLessThan(1e-12 * (1 + Math.abs(plain[i].data[k])))));
    } finally {
      setBackend(previous);
    }
  });

  it.skipIf(!nativeAvailable)('predicts what the unfused layers compute (native float32: within a few ulp per op)', async () => {
    const previous = getBackend();
    setBackend('native');
    try {
      const { m, x } = await trained('float32');
      const fusedOut = (await m.predict(x)) as Tensor[];
      const plain = m.forwardSync(x, { training: false }) as Tensor[];
      // each fused op rounds its sum times scale plus shift once where the unfused ops rounded it two or three
      // times: a few float32 ulps (6e-8) of the magnitudes involved per op, through six ops: below 1e-5 of them
      fusedOut.forEach((t, i) => {
        const scale = Math.max(...plain[i].data.map(Math.abs));
        t.data.forEach((v, k) => expect(Math.abs(v - plain[i].data[k])).toBeLessThan(1e-5 * scale));
      });
      const inference = m.memoryPlan().inference!;
      expect(inference.peakBytes).toBeGreaterThan(0);
    } finally {
      setBackend(previous);
    }
  });
});

describe('a zero padding read through the convolution after it', () => {
  /**
   * MobileNet's stem (pad, stride-2 conv, bn, relu6), a padded depthwise convolution whose output two layers
   * read, ResNet's 7x7 stem, pads wider than half the kernel on top of 'same' padding, a dilated kernel, a conv
   * with an activation of its own, and the reasons not to fuse: a padding two layers read, a pooling after a
   * padding. `apart` puts an identity activation after every padding, so nothing is fused: the same model.
   */
  function padded(dtype: 'float32' | 'float64', apart = false): Model {
    const pad = (padding: number | [[number, number], [number, number]], t: SymbolicTensor, name?: string) => {
      const p = layers.zeroPadding2d({ padding, name }).apply(t);
      return apart ? layers.activation({ activation: 'linear' }).apply(p) : p;
    };
    const x = input({ shape: [15, 14, 3], dtype });
    const stem = pad([[0, 1], [0, 1]], x);
    const s = layers.activation({ activation: 'relu6' }).apply(layers.batchNormalization().apply(layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, useBias: false }).apply(stem)));
    const dw = layers.depthwiseConv2d({ kernelSize: 3, strides: 2 }).apply(pad(1, s));
    const a = layers.activation({ activation: 'relu' }).apply(dw);
    const b = layers.conv2d({ filters: 8, kernelSize: 7, strides: 2 }).apply(pad(3, dw));
    const c = layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(pad([[3, 0], [2, 4]], a));
    const d = layers.conv2d({ filters: 8, kernelSize: 3, dilationRate: 2 }).apply(pad(2, a));
    const own = layers.conv2d({ filters: 8, kernelSize: 3, activation: 'tanh' }).apply(pad(1, a));
    const twice = pad(1, a, 'read_twice');
    const e = layers.add().apply([layers.conv2d({ filters: 8, kernelSize: 3 }).apply(twice), layers.conv2d({ filters: 8, kernelSize: 3 }).apply(twice)]);
    const pool = layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(pad(1, a, 'pooled'));
    const flat = [b, c, d, own, e, pool].map((t) => layers.globalAveragePooling2d().apply(t));
    const m = model({ inputs: x, outputs: [layers.dense({ units: 3 }).apply(layers.concatenate().apply(flat)), c], seed: 11 });
    m.compile({ optimizer: optimizers.sgd({ learningRate: 0.1 }), loss: [losses.meanSquaredError(), losses.meanSquaredError()] });
    return m;
  }

  it('absorbs the paddings it can, in both plans, and no other', () => {
    const m = padded('float32');
    const absorbed = (steps: typeof m.plan.steps) => steps.filter((s) => s.padding).map((s) => [s.node.layer.constructor.name, s.padding!.layer.zeroPadding()]);
    const want = [
      ['Conv2D', [[0, 1], [0, 1]]],
      ['DepthwiseConv2D', [[1, 1], [1, 1]]],
      ['Conv2D', [[3, 3], [3, 3]]],
      ['Conv2D', [[3, 0], [2, 4]]],
      ['Conv2D', [[2, 2], [2, 2]]],
      ['Conv2D', [[1, 1], [1, 1]]], // the tanh conv
    ];
    expect(absorbed(m.plan.steps)).toEqual(want);
    expect(absorbed(m.inferencePlan.steps)).toEqual(want);
    expect(m.inferencePlan.steps.find((s) => s.padding)!.epilogue?.affine?.layer.constructor.name).toBe('BatchNormalization');
    for (const plan of [m.plan, m.inferencePlan]) expect(plan.steps.filter((s) => s.node.layer.zeroPadding()).map((s) => s.node.layer.name)).toEqual(['read_twice', 'pooled']);
  });

  /** Both models trained two steps from the same weights on the same batch: predictions and weights after. */
  async function trainedApartAndFused(dtype: 'float32' | 'float64'): Promise<{ fused: Tensor[]; apart: Tensor[] }[]> {
    const [fused, apart] = [padded(dtype), padded(dtype, true)];
    apart.setWeights(fused.getWeights());
    const x = randomNormal([3, 15, 14, 3], { seed: 4, dtype });
    const y = [randomNormal([3, 3], { seed: 5, dtype }), randomNormal([3, 7, 10, 8], { seed: 6, dtype })];
    for (const m of [fused, apart]) for (let i = 0; i < 2; i++) await m.trainOnBatch(x, y);
    const [pf, pa] = [(await fused.predict(x)) as Tensor[], (await apart.predict(x)) as Tensor[]];
    return [{ fused: pf, apart: pa }, { fused: fused.getWeights(), apart: apart.getWeights() }];
  }

  // float64 reference: the padded zeros add exact zeros, so only rounding differs (1e-12). Native float32: the
  // padded and unpadded inputs can take different kernels (direct or lowered), which sum the same products in
  // other orders: a sum of up to 392 products (7x7x8) rounds differently by about sqrt(392) = 20 float32 ulps of
  // its magnitude (1.2e-6); two SGD steps at rate 0.1 carry that into the weights, and each tensor is compared
  // against its largest magnitude. 1e-5 leaves room over that (measured: 2e-7).
  for (const [backend, dtype, tol] of [['reference', 'float64', 1e-12], ['native', 'float32', 1e-5]] as const) {
    it.skipIf(backend === 'native' && !nativeAvailable)(`trains and predicts as the same layers apart (${backend}, ${dtype})`, async () => {
      const previous = getBackend();
      setBackend(backend);
      try {
        for (const { fused, apart } of await trainedApartAndFused(dtype)) {
          fused.forEach((t, i) => {
            const scale = Math.max(...apart[i].data.map(Math.abs));
            expect(scale).toBeGreaterThan(0);
            t.data.forEach((v, k) => expect(Math.abs(v - apart[i].data[k])).toBeLessThanOrEqual(tol * scale));
          });
        }
      } finally {
        setBackend(previous);
      }
    });
  }

  it('names the layer when a padded input has the wrong shape', () => {
    const m = padded('float32');
    const conv = m.plan.steps.find((s) => s.padding)!.node.layer as unknown as { forwardPaddedProgram: (x: Tensor, pad: unknown, ctx: object, state: object) => Generator };
    const bad = randomNormal([2, 15, 15, 3], { seed: 1 });
    expect(() => conv.forwardPaddedProgram(bad, [[0, 1], [0, 1]], {}, { act: {} }).next()).toThrow(/once padded by \[\[0, 1\], \[0, 1\]\]/);
  });
});

describe.skipIf(!nativeAvailable)('graph models on the native backend', () => {
  it('a training step of the two-headed net matches the reference backend', async () => {
    const step = async (backend: BackendName) => {
      const previous = getBackend();
      setBackend(backend);
      try {
        const m = compiled(9);
        const logs = await m.trainOnBatch([img, meta], [cls, reg]);
        return { logs, weights: m.getWeights() };
      } finally {
        setBackend(previous);
      }
    };
    const [nat, ref] = [await step('native'), await step('reference')];
    expect(nat.logs.loss).toBeCloseTo(ref.logs.loss, 5);
    nat.weights.forEach((w, i) => w.data.forEach((v, k) => expect(Math.abs(v - ref.weights[i].data[k])).toBeLessThan(1e-4 + 1e-4 * Math.abs(ref.weights[i].data[k]))));
  });
});
