import { beforeAll, describe, expect, it } from 'vitest';
import { setBackend } from '../../src/backend/index.js';
import { ConvkitError } from '../../src/errors.js';
import * as layers from '../../src/layers/index.js';
import { layerFromConfig } from '../../src/layers/index.js';
import { sequential } from '../../src/model/sequential.js';
import { randomNormal, tensor, zeros } from '../../src/tensor.js';

beforeAll(() => setBackend('reference'));

describe('BatchNormalization', () => {
  it('training normalizes with batch statistics and moves the averages; inference uses the averages', async () => {
    const bn = layers.batchNormalization({ momentum: 0.5, epsilon: 1e-3, inputShape: [2] });
    const model = sequential([bn], { dtype: 'float64' });
    const x = tensor([[1, 10], [3, 30], [5, 20]], undefined, 'float64');
    const y = await model.forward(x, { training: true });
    // Channel 0: mean 3, biased variance 8/3.
    const inv0 = 1 / Math.sqrt(8 / 3 + 1e-3);
    expect(y.get(0, 0)).toBeCloseTo(-2 * inv0, 12);
    expect(y.get(2, 0)).toBeCloseTo(2 * inv0, 12);
    const [, , movingMean, movingVar] = bn.getWeights();
    expect([...movingMean.data]).toEqual([0.5 * 0 + 0.5 * 3, 0.5 * 0 + 0.5 * 20]);
    expect(movingVar.data[0]).toBeCloseTo(0.5 * 1 + 0.5 * (8 / 3), 12);

    const yi = await model.forward(x, { training: false });
    expect(yi.get(0, 0)).toBeCloseTo((1 - 1.5) / Math.sqrt(movingVar.data[0] + 1e-3), 12);
    // Inference leaves the averages alone.
    expect([...bn.getWeights()[2].data]).toEqual([...movingMean.data]);
  });

  it('gamma and beta scale and shift, and its 4 weights count in the summary as 2 trainable + 2 not', async () => {
    const model = sequential([layers.batchNormalization({ inputShape: [4, 4, 3] })], { dtype: 'float64' });
    model.setWeights([tensor([2, 2, 2]), tensor([1, 1, 1]), zeros([3]), tensor([1, 1, 1])]);
    const x = randomNormal([2, 4, 4, 3], { seed: 1, dtype: 'float64' });
    const y = await model.forward(x, { training: false });
    expect(y.data[5]).toBeCloseTo((2 * x.data[5]) / Math.sqrt(1 + 1e-3) + 1, 12);
    const text = model.summary(null);
    expect(text).toMatch(/Trainable params: 6\nNon-trainable params: 6/);
  });
});

describe('Dropout', () => {
  it('zeroes about `rate` of the inputs in training and scales the rest by 1/(1-rate)', async () => {
    const model = sequential([layers.dropout({ rate: 0.25, inputShape: [1000] })], { dtype: 'float64' });
    const x = zeros([4, 1000], 'float64');
    x.data.fill(2);
    const y = await model.forward(x, { training: true, step: 0 });
    const kept = [...y.data].filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([2 / 0.75]));
    expect(kept.length / y.size).toBeGreaterThan(0.72);
    expect(kept.length / y.size).toBeLessThan(0.78);
    // The mask depends on the step only: same step, same mask; another step, another mask.
    expect([...(await model.forward(x, { training: true, step: 0 })).data]).toEqual([...y.data]);
    expect([...(await model.forward(x, { training: true, step: 1 })).data]).not.toEqual([...y.data]);
  });

  it('passes inputs through unchanged at inference, and backward is the identity there', async () => {
    const model = sequential([layers.dropout({ rate: 0.5, inputShape: [3] })]);
    const x = tensor([[1, 2, 3]]);
    expect(await model.forward(x)).toBe(x);
    const dy = tensor([[4, 5, 6]]);
    expect(await model.backward(dy)).toBe(dy);
  });
});

describe('shape inference and errors', () => {
  it('infers output shapes layer by layer', async () => {
    const model = sequential([
      layers.conv2d({ filters: 6, kernelSize: 5, padding: 'same', inputShape: [28, 28, 1] }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.conv2d({ filters: 16, kernelSize: 5, strides: 2 }),
      layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
      layers.globalAveragePooling2d(),
      layers.dense({ units: 10 }),
    ]);
    expect(model.layers.map((l) => l.outputShape)).toEqual([[28, 28, 6], [14, 14, 6], [5, 5, 16], [5, 5, 32], [32], [10]]);
    expect(model.countParams()).toBe(6 * 25 + 6 + 16 * 150 + 16 + 9 * 32 + 32 + 32 * 10 + 10);
  });

  it('names the layer and both shapes when an input does not fit', async () => {
    expect(() => sequential([layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [28, 28] })])).toThrow(
      /Conv2D 'conv2d_\d+': expected input of shape \[N, height, width, channels\] \(nhwc\) but received \[N, 28, 28\]/,
    );
    expect(() => sequential([layers.conv2d({ filters: 2, kernelSize: 7, inputShape: [4, 4, 1] })])).toThrow(/Conv2D '.*': expected an input that fits/);
    expect(() => sequential([layers.dense({ units: 3, inputShape: [4] }), layers.maxPooling2d()])).toThrow(/MaxPooling2D 'max_pooling2d_\d+'.*\[N, 3\]/);
    expect(() => sequential([layers.reshape({ targetShape: [5], inputShape: [2, 3] })])).toThrow(/Reshape .*targetShape with 6 values/);
    const model = sequential([layers.dense({ units: 3, inputShape: [4], name: 'head' })]);
    await expect(model.forward(zeros([2, 5]))).rejects.toThrow(ConvkitError);
    await expect(model.forward(zeros([2, 5]))).rejects.toThrow(/forward: expected x of shape \[N, 4\] but received \[2, 5\]/);
    expect(() => model.setWeights([zeros([4, 2]), zeros([3])])).toThrow(/Dense 'head'.setWeights: expected head\/kernel of shape \[4, 3\] but received \[4, 2\]/);
    expect(() => sequential([layers.dense({ units: 2 })])).toThrow(/inputShape on the first layer/);
    expect(() => layers.dropout({ rate: 1 })).toThrow(/rate in \[0, 1\)/);
  });

  it('round-trips every layer through getConfig and the registry', async () => {
    const made = [
      layers.conv2d({ filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same', dilationRate: 1, groups: 2, activation: 'elu', alpha: 0.5, inputShape: [8, 8, 2] }),
      layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
      layers.batchNormalization({ momentum: 0.9 }),
      layers.prelu(),
      layers.averagePooling2d({ poolSize: 2 }),
      layers.maxPooling2d({ poolSize: [2, 1], strides: 1 }),
      layers.activation({ activation: 'leakyRelu', alpha: 0.3 }),
      layers.flatten(),
      layers.reshape({ targetShape: [-1, 4] }),
      layers.flatten(),
      layers.dropout({ rate: 0.3, seed: 9 }),
      layers.dense({ units: 3, activation: 'softmax', useBias: false }),
    ];
    const a = sequential(made, { seed: 3 });
    const b = sequential(a.layers.map((l) => layerFromConfig(JSON.parse(JSON.stringify(l.getConfig())))), { seed: 3 });
    expect(b.layers.map((l) => l.getConfig())).toEqual(a.layers.map((l) => l.getConfig()));
    // Same seed and config: same initial weights.
    expect(b.getWeights().map((w) => [...w.data])).toEqual(a.getWeights().map((w) => [...w.data]));
    expect(() => layerFromConfig({ className: 'Nope', config: {} })).toThrow(/known layer className/);
  });
});
