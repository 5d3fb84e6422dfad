// ONNX export, run by onnxruntime-node (its CPU provider) and compared with convkit's predict on the same
// inputs. Tolerance: onnxruntime computes in float32 with its own kernels (and folds batch normalization into
// the convolution before it, and fuses activations), so sums are ordered otherwise; differences measured on
// these networks stay under 2e-6 of the output's largest magnitude, and 2e-5 of it leaves room while a wrong
// layout, padding or weight order moves outputs by 1e-2 or more.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { architectures, input, layers, losses, model, optimizers, randomNormal, randomUniform, sequential, Tensor, type Model } from '../../src/index.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ort: any = require('onnxruntime-node');

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'convkit-onnx-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const TOL = 2e-5;
let files = 0;

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}

/** Exports m, runs it in onnxruntime on xs (convkit's layouts, batch `n`), and returns max relative difference per output. */
async function compare(m: Model, xs: Tensor[]): Promise<number[]> {
  const path = join(root, `m${files++}.onnx`);
  await m.exportOnnx(path);
  const session = await ort.InferenceSession.create(path);
  expect(session.inputNames).toEqual(m.inputNames);
  expect(session.outputNames).toEqual(m.outputNames);
  const feeds = Object.fromEntries(m.inputNames.map((n, i) => [n, new ort.Tensor('float32', Float32Array.from(xs[i].data), [...xs[i].shape])]));
  const r = await session.run(feeds);
  const want = await m.predict(xs.length === 1 ? xs[0] : xs);
  const outs = Array.isArray(want) ? want : [want];
  return m.outputNames.map((n, i) => {
    expect(r[n].dims).toEqual([...outs[i].shape]);
    return relDiff(r[n].data as Float32Array, outs[i].data);
  });
}

describe('ONNX export runs in onnxruntime and predicts what convkit predicts', () => {
  it('a trained ResNet-8 (residual adds, batch norm with learned statistics), at two batch sizes', async () => {
    const net = architectures.resnet({ depth: 8, inputShape: [16, 16, 3], numClasses: 4, seed: 2 });
    net.compile({ optimizer: optimizers.sgd({ learningRate: 0.05, momentum: 0.9 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    await net.fit(randomUniform([32, 16, 16, 3], { seed: 3 }), Int32Array.from({ length: 32 }, (_, i) => i % 4), { epochs: 2, batchSize: 8, verbose: 0 });
    for (const n of [1, 5]) expect((await compare(net, [randomNormal([n, 16, 16, 3], { seed: n })]))[0]).toBeLessThan(TOL);
  });

  it('a graph of every exportable 2-D layer kind and activation', async () => {
    const x = input({ shape: [12, 12, 3] });
    let h = layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu6' }).apply(x);
    h = layers.batchNormalization({ betaInitializer: { className: 'randomNormal', config: { stddev: 0.5 } } }).apply(h);
    const d = layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'swish' }).apply(h);
    const cropped = layers.cropping2d({ cropping: [[1, 1], [0, 2]] }).apply(layers.zeroPadding2d({ padding: [[1, 1], [2, 0]] }).apply(h));
    const s = layers.separableConv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'gelu' }).apply(cropped);
    const u = layers.conv2dTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'hardSwish' }).apply(s);
    const up = layers.upSampling2d({ size: 2, interpolation: 'bilinear' }).apply(s);
    const near = layers.upSampling2d({ size: 2 }).apply(layers.conv2d({ filters: 4, kernelSize: 1, activation: 'mish' }).apply(s));
    let m = layers.concatenate().apply([d, u, up, near]);
    m = layers.groupNormalization({ groups: 4 }).apply(m);
    m = layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(m);
    m = layers.averagePooling2d({ poolSize: 2, padding: 'same' }).apply(m);
    m = layers.layerNormalization().apply(m);
    m = layers.prelu({ alphaInitializer: { className: 'randomUniform', config: { minval: 0, maxval: 0.5 } } }).apply(m);
    m = layers.reLU({ maxValue: 2, negativeSlope: 0.1, threshold: -0.5 }).apply(m);
    const branches = [
      layers.activation({ activation: 'geluTanh' }), layers.activation({ activation: 'softplus' }), layers.activation({ activation: 'selu' }),
      layers.activation({ activation: 'hardSigmoid' }), layers.leakyReLU(), layers.elu({ alpha: 0.5 }), layers.activation({ activation: 'softsign' }),
    ].map((a) => a.apply(m));
    const mixed = layers.add().apply([layers.multiply().apply([branches[0], branches[1]]), layers.subtract().apply([branches[2], branches[3]]), layers.maximum().apply([branches[4], branches[5]]), layers.average().apply([branches[6], m])]);
    const g = layers.globalMaxPooling2d().apply(mixed);
    const f = layers.dense({ units: 5, activation: 'softmax' }).apply(layers.flatten().apply(layers.minimum().apply([mixed, m])));
    const r = layers.dense({ units: 5, activation: 'exponential' }).apply(layers.reshape({ targetShape: [9, 36] }).apply(mixed));
    const out = layers.add().apply([layers.dense({ units: 5 }).apply(g), f]);
    const net = model({ inputs: x, outputs: [out, r, layers.softmax().apply(mixed)], seed: 3 });
    const diffs = await compare(net, [randomNormal([2, 12, 12, 3], { seed: 1 })]);
    for (const d of diffs) expect(d).toBeLessThan(TOL);
  });

  it('1-D (causal) and 3-D convolutions and poolings, and a model with two inputs', async () => {
    const seq1 = sequential([
      layers.conv1d({ filters: 6, kernelSize: 3, padding: 'causal', dilationRate: 2, activation: 'relu', inputShape: [20, 3] }),
      layers.maxPooling1d({ poolSize: 2 }),
      layers.conv1d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', groups: 2 }),
      layers.averagePooling1d({ poolSize: 3, strides: 1, padding: 'same' }),
      layers.globalAveragePooling1d(),
      layers.dense({ units: 3 }),
    ], { seed: 1 });
    expect((await compare(seq1, [randomNormal([3, 20, 3], { seed: 1 })]))[0]).toBeLessThan(TOL);
    const seq3 = sequential([
      layers.conv3d({ filters: 4, kernelSize: 3, padding: 'same', strides: [1, 2, 2], activation: 'tanh', inputShape: [5, 8, 8, 2] }),
      layers.maxPooling3d({ poolSize: [2, 2, 2], padding: 'same' }),
      layers.averagePooling3d({ poolSize: [1, 2, 2] }),
      layers.conv3d({ filters: 3, kernelSize: [2, 1, 1] }),
      layers.globalMaxPooling3d(),
    ], { seed: 2 });
    expect((await compare(seq3, [randomNormal([2, 5, 8, 8, 2], { seed: 2 })]))[0]).toBeLessThan(TOL);
    const a = input({ shape: [6, 6, 2], name: 'left' });
    const b = input({ shape: [6, 6, 2], name: 'right' });
    const shared = layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu' });
    const joined = layers.concatenate({ axis: 1 }).apply([shared.apply(a), shared.apply(b)]);
    const two = model({ inputs: [a, b], outputs: [layers.globalAveragePooling2d().apply(joined), joined], seed: 3 });
    for (const d of await compare(two, [randomNormal([2, 6, 6, 2], { seed: 3 }), randomNormal([2, 6, 6, 2], { seed: 4 })])) expect(d).toBeLessThan(TOL);
  });

  it('refuses a layer with no ONNX form, and leaves no file behind', async () => {
    class Custom extends layers.Dense {}
    (Custom as unknown as { className: string }).className = 'Custom';
    const m = sequential([layers.spatialDropout2d({ rate: 0.1, inputShape: [4, 4, 2] }), layers.flatten(), new Custom({ units: 2 })], { seed: 1 });
    const dir = await mkdtemp(join(root, 'refused-'));
    await expect(m.exportOnnx(join(dir, 'x.onnx'))).rejects.toThrow(/exportOnnx: layer 'dense_\d+': Custom has no ONNX export/);
    expect(await readdir(dir)).toEqual([]);
  });
});
