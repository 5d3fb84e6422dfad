import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend, setBackend, type BackendName } from '../../src/backend/index.js';
import * as layers from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { sequential } from '../../src/model/sequential.js';
import { randomNormal } from '../../src/tensor.js';
import { checkModelGradients } from '../helpers/gradcheck-model.js';

// Each case: a layer (with inputShape) and optionally layers after it; the model is float64 on the reference backend.
const cases: [string, () => Layer[], number[]][] = [
  ['conv2d same relu', () => [layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [5, 5, 2] })], [5, 5, 2]],
  [
    'conv2d strided, grouped, elu',
    () => [layers.conv2d({ filters: 4, kernelSize: [3, 2], strides: 2, groups: 2, activation: 'elu', inputShape: [7, 6, 4] })],
    [7, 6, 4],
  ],
  [
    'conv2d dilated, explicit padding, sigmoid, no bias',
    () => [layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: [[1, 2], [2, 0]], activation: 'sigmoid', useBias: false, inputShape: [6, 6, 2] })],
    [6, 6, 2],
  ],
  ['conv2d leakyRelu', () => [layers.conv2d({ filters: 2, kernelSize: 2, activation: 'leakyRelu', alpha: 0.1, inputShape: [4, 4, 3] })], [4, 4, 3]],
  ['depthwiseConv2d', () => [layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'tanh', inputShape: [5, 5, 3] })], [5, 5, 3]],
  ['maxPooling2d', () => [layers.maxPooling2d({ poolSize: 2, inputShape: [6, 6, 3] })], [6, 6, 3]],
  ['averagePooling2d same', () => [layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', inputShape: [5, 5, 2] })], [5, 5, 2]],
  ['globalAveragePooling2d', () => [layers.globalAveragePooling2d({ inputShape: [4, 3, 5] })], [4, 3, 5]],
  ['globalMaxPooling2d', () => [layers.globalMaxPooling2d({ inputShape: [4, 3, 5] })], [4, 3, 5]],
  ['flatten + dense', () => [layers.flatten({ inputShape: [3, 3, 2] }), layers.dense({ units: 4, activation: 'tanh' })], [3, 3, 2]],
  ['dense on rank-3 input', () => [layers.dense({ units: 3, activation: 'relu', inputShape: [4, 5] })], [4, 5]],
  ['dense softmax', () => [layers.dense({ units: 5, activation: 'softmax', inputShape: [6] })], [6]],
  ['reshape', () => [layers.reshape({ targetShape: [2, -1], inputShape: [3, 4] }), layers.dense({ units: 2 })], [3, 4]],
  ...([
    'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'softmax', 'linear', 'relu6', 'hardSigmoid', 'hardSwish', 'swish', 'gelu', 'geluTanh', 'softplus',
    'softsign', 'selu', 'mish', 'exponential',
  ] as const).map(
    (a): [string, () => Layer[], number[]] => [`activation ${a}`, () => [layers.dense({ units: 4, inputShape: [3] }), layers.activation({ activation: a })], [3]],
  ),
  ['prelu', () => [layers.prelu({ inputShape: [3, 3, 4] })], [3, 3, 4]],
  ['conv2d relu6 (fused, from y)', () => [layers.conv2d({ filters: 3, kernelSize: 2, activation: 'relu6', kernelInitializer: { className: 'randomNormal', config: { stddev: 4 } }, inputShape: [3, 3, 2] })], [3, 3, 2]],
  ['conv2d swish (after the op, from x)', () => [layers.conv2d({ filters: 3, kernelSize: 2, activation: 'swish', inputShape: [3, 3, 2] })], [3, 3, 2]],
  ['dense hard_sigmoid (Keras spelling)', () => [layers.dense({ units: 4, activation: 'hard_sigmoid' as never, inputShape: [3] })], [3]],
  ['reLU layer (relu)', () => [layers.dense({ units: 4, inputShape: [3] }), layers.reLU()], [3]],
  ['reLU layer (maxValue 6: relu6)', () => [layers.dense({ units: 6, kernelInitializer: { className: 'randomNormal', config: { stddev: 5 } }, inputShape: [3] }), layers.reLU({ maxValue: 6 })], [3]],
  ['reLU layer (maxValue, negativeSlope, threshold)', () => [layers.dense({ units: 6, kernelInitializer: { className: 'randomNormal', config: { stddev: 3 } }, inputShape: [3] }), layers.reLU({ maxValue: 2.5, negativeSlope: 0.1, threshold: 0.5 })], [3]],
  ['leakyReLU layer', () => [layers.dense({ units: 4, inputShape: [3] }), layers.leakyReLU()], [3]],
  ['elu layer', () => [layers.dense({ units: 4, inputShape: [3] }), layers.elu({ alpha: 0.5 })], [3]],
  ['softmax layer', () => [layers.dense({ units: 4, inputShape: [3] }), layers.softmax()], [3]],
  ['layerNormalization (channels)', () => [layers.conv2d({ filters: 4, kernelSize: 1, inputShape: [3, 3, 2] }), layers.layerNormalization({ gammaInitializer: { className: 'randomNormal', config: { mean: 1, stddev: 0.3 } } })], [3, 3, 2]],
  ['layerNormalization (axis 1: the whole sample)', () => [layers.dense({ units: 3, inputShape: [2, 4] }), layers.layerNormalization({ axis: 1, betaInitializer: { className: 'randomNormal', config: {} } })], [2, 4]],
  ['layerNormalization without scale or centre', () => [layers.dense({ units: 5, inputShape: [3] }), layers.layerNormalization({ scale: false, center: false }), layers.dense({ units: 2 })], [3]],
  ['groupNormalization', () => [layers.conv2d({ filters: 6, kernelSize: 2, inputShape: [3, 3, 2] }), layers.groupNormalization({ groups: 3, gammaInitializer: { className: 'randomNormal', config: { mean: 1, stddev: 0.3 } } })], [3, 3, 2]],
  ['groupNormalization as instance normalization', () => [layers.conv2d({ filters: 2, kernelSize: 1, inputShape: [3, 2, 2] }), layers.groupNormalization({ groups: 2 })], [3, 2, 2]],
  ['dropout (training)', () => [layers.dense({ units: 8, inputShape: [5] }), layers.dropout({ rate: 0.5 })], [5]],
  ['batchNormalization nhwc', () => [layers.batchNormalization({ inputShape: [3, 3, 4] }), layers.dense({ units: 2, activation: 'tanh' })], [3, 3, 4]],
  ['batchNormalization 2-D', () => [layers.dense({ units: 3, inputShape: [4] }), layers.batchNormalization({ momentum: 0.9 }), layers.activation({ activation: 'tanh' })], [4]],
  ['conv1d same tanh', () => [layers.conv1d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh', inputShape: [7, 2] })], [7, 2]],
  ['conv1d causal dilated', () => [layers.conv1d({ filters: 2, kernelSize: 2, dilationRate: 2, padding: 'causal', inputShape: [6, 3] })], [6, 3]],
  ['conv1d strided grouped relu', () => [layers.conv1d({ filters: 4, kernelSize: 3, strides: 2, groups: 2, activation: 'relu', inputShape: [9, 4] })], [9, 4]],
  ['maxPooling1d + averagePooling1d same', () => [layers.maxPooling1d({ poolSize: 2, inputShape: [8, 3] }), layers.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same' })], [8, 3]],
  ['globalAveragePooling1d', () => [layers.conv1d({ filters: 3, kernelSize: 2, inputShape: [5, 2] }), layers.globalAveragePooling1d()], [5, 2]],
  ['globalMaxPooling1d', () => [layers.globalMaxPooling1d({ inputShape: [5, 3] })], [5, 3]],
  ['conv2dTranspose valid, stride 2', () => [layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, inputShape: [3, 3, 2] })], [3, 3, 2]],
  ['conv2dTranspose same, stride 2, relu', () => [layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', inputShape: [3, 4, 2] })], [3, 4, 2]],
  ['conv2dTranspose outputPadding, dilated, sigmoid', () => [layers.conv2dTranspose({ filters: 2, kernelSize: [2, 3], strides: [2, 3], outputPadding: [1, 2], padding: 'same', activation: 'sigmoid', inputShape: [2, 3, 2] })], [2, 3, 2]],
  ['conv2dTranspose dilated, no bias', () => [layers.conv2dTranspose({ filters: 2, kernelSize: 2, dilationRate: 2, useBias: false, inputShape: [3, 3, 1] })], [3, 3, 1]],
  ['separableConv2d', () => [layers.separableConv2d({ filters: 3, kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'tanh', inputShape: [5, 5, 2] })], [5, 5, 2]],
  ['separableConv2d strided, no bias', () => [layers.separableConv2d({ filters: 2, kernelSize: 2, strides: 2, useBias: false, inputShape: [6, 5, 3] })], [6, 5, 3]],
  ['zeroPadding2d + cropping2d', () => [layers.zeroPadding2d({ padding: [[1, 0], [2, 1]], inputShape: [3, 3, 2] }), layers.conv2d({ filters: 2, kernelSize: 2 }), layers.cropping2d({ cropping: [[0, 1], [1, 0]] })], [3, 3, 2]],
  ['upSampling2d nearest [2, 3]', () => [layers.upSampling2d({ size: [2, 3], inputShape: [2, 3, 2] }), layers.conv2d({ filters: 2, kernelSize: 2 })], [2, 3, 2]],
  ['upSampling2d bilinear', () => [layers.upSampling2d({ size: [3, 2], interpolation: 'bilinear', inputShape: [3, 2, 2] }), layers.conv2d({ filters: 2, kernelSize: 2 })], [3, 2, 2]],
  ['conv3d same relu', () => [layers.conv3d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [3, 3, 3, 2] })], [3, 3, 3, 2]],
  ['conv3d strided, dilated in depth, grouped, tanh', () => [layers.conv3d({ filters: 4, kernelSize: [2, 2, 1], strides: [2, 1, 2], dilationRate: [2, 1, 1], groups: 2, activation: 'tanh', inputShape: [5, 3, 3, 2] })], [5, 3, 3, 2]],
  ['maxPooling3d same', () => [layers.conv3d({ filters: 2, kernelSize: 1, inputShape: [3, 4, 3, 1] }), layers.maxPooling3d({ poolSize: [2, 2, 2], strides: [1, 2, 2], padding: 'same' })], [3, 4, 3, 1]],
  ['averagePooling3d', () => [layers.averagePooling3d({ poolSize: [2, 1, 2], inputShape: [4, 3, 4, 2] })], [4, 3, 4, 2]],
  ['globalAveragePooling3d', () => [layers.conv3d({ filters: 2, kernelSize: 2, inputShape: [3, 3, 3, 1] }), layers.globalAveragePooling3d()], [3, 3, 3, 1]],
  ['globalMaxPooling3d', () => [layers.globalMaxPooling3d({ inputShape: [2, 3, 2, 3] })], [2, 3, 2, 3]],
  ['spatialDropout2d (training)', () => [layers.conv2d({ filters: 6, kernelSize: 1, inputShape: [3, 3, 2] }), layers.spatialDropout2d({ rate: 0.5 })], [3, 3, 2]],
];

describe('layer gradients through the model API (reference, float64, central differences)', () => {
  let previous: BackendName;
  beforeAll(() => {
    previous = getBackend();
    setBackend('reference');
  });
  afterAll(() => setBackend(previous));

  it.each(cases)('%s', async (_, make, inputShape) => {
    const model = sequential(make(), { dtype: 'float64', seed: 5 });
    const x = randomNormal([3, ...inputShape], { seed: 11, dtype: 'float64' });
    const checked = await checkModelGradients(model, x);
    expect(checked).toEqual(['input', ...model.params().filter((p) => p.trainable).map((p) => p.name)]);
  });

  it('a wrong backward fails the check (the check can fail)', async () => {
    const model = sequential([layers.dense({ units: 3, inputShape: [4] })], { dtype: 'float64' });
    const x = randomNormal([2, 4], { seed: 1, dtype: 'float64' });
    const layer = model.layers[0];
    const original = layer.backwardProgram.bind(layer);
    layer.backwardProgram = function* (dy, ctx, state) {
      return yield* original(dy, { ...ctx, *grad(p, g) {
        if (p === layer.params()[0]) g.data[0] += 1e-3;
        yield* ctx.grad(p, g);
      } }, state);
    };
    await expect(checkModelGradients(model, x)).rejects.toThrow(/gradcheck dense_\d+\/kernel\[0\]/);
  });
});
