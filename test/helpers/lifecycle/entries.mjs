// Every async entry point of the public API, each as a function that runs it once on inputs built here:
// large enough that each kernel goes to the addon's compute thread and takes milliseconds, so a worker
// terminated at a random moment is usually in the middle of one.
import * as ck from '../../../dist/src/index.js';

const { ops, randomNormal, randomUniform, architectures, losses, optimizers, createBatcher } = ck;

export function buildEntries() {
  const x = randomNormal([8, 48, 48, 32], { seed: 1 });
  const w = randomNormal([3, 3, 32, 32], { seed: 2, stddev: 0.05 });
  const conv = { padding: 'same', strides: 1 };
  const pool = { poolSize: 2 };
  const pooled = ops.maxPool2d(x, pool);
  const a = randomNormal([256, 512], { seed: 3 });
  const b = randomNormal([512, 256], { seed: 4 });
  const bias = randomNormal([32], { seed: 5 });
  const g = randomNormal([8, 32], { seed: 6 });
  const wOpt = randomNormal([1 << 20], { seed: 7 });
  const gOpt = randomNormal([1 << 20], { seed: 8 });
  const slots = [ck.zeros([1 << 20]), ck.zeros([1 << 20])];
  const vol = randomNormal([2, 8, 24, 24, 16], { seed: 10 });
  const w3 = randomNormal([3, 3, 3, 16, 16], { seed: 11, stddev: 0.05 });
  const adam = { rule: 'adam', lr: 1e-3, scale: 1, decay: 0, momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.999, rho: 0, epsilon: 1e-7 };

  const model = architectures.tutorial({ seed: 1 });
  model.compile({ optimizer: optimizers.adam({ learningRate: 1e-3 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
  const xs = randomUniform([256, 28, 28, 1], { seed: 9 });
  const ys = Int32Array.from({ length: 256 }, (_, i) => i % 10);
  const batcher = createBatcher(model, { inputShape: [28, 28, 1], maxBatchSize: 64, maxDelayMs: 1 });

  const opEntries = {
    matmulAsync: () => ops.matmulAsync(a, b, { activation: 'relu' }),
    biasAddAsync: () => ops.biasAddAsync(x, bias),
    biasGradAsync: () => ops.biasGradAsync(x),
    conv2dAsync: () => ops.conv2dAsync(x, w, { ...conv, bias, activation: 'relu' }),
    conv2dMaxPoolAsync: () => ops.conv2dMaxPoolAsync(x, w, { ...conv, activation: 'relu' }, pool),
    conv2dBackwardInputAsync: () => ops.conv2dBackwardInputAsync(x, w, x.shape, conv),
    conv2dBackwardFilterAsync: () => ops.conv2dBackwardFilterAsync(x, x, w.shape, conv),
    conv3dAsync: () => ops.conv3dAsync(vol, w3, { padding: 'same', bias: bias.slice(0, 16), activation: 'relu' }),
    conv3dBackwardInputAsync: () => ops.conv3dBackwardInputAsync(vol, w3, vol.shape, { padding: 'same' }),
    conv3dBackwardFilterAsync: () => ops.conv3dBackwardFilterAsync(vol, vol, w3.shape, { padding: 'same' }),
    maxPool3dAsync: () => ops.maxPool3dAsync(vol, pool),
    avgPool3dAsync: () => ops.avgPool3dAsync(vol, pool),
    maxPool2dAsync: () => ops.maxPool2dAsync(x, pool),
    avgPool2dAsync: () => ops.avgPool2dAsync(x, pool),
    maxPool2dBackwardAsync: () => ops.maxPool2dBackwardAsync(pooled, x, pool),
    avgPool2dBackwardAsync: () => ops.avgPool2dBackwardAsync(pooled, x.shape, pool),
    globalAvgPool2dAsync: () => ops.globalAvgPool2dAsync(x),
    globalMaxPool2dAsync: () => ops.globalMaxPool2dAsync(x),
    globalAvgPool2dBackwardAsync: () => ops.globalAvgPool2dBackwardAsync(g, x.shape),
    globalMaxPool2dBackwardAsync: () => ops.globalMaxPool2dBackwardAsync(g, x),
    activationAsync: () => ops.activationAsync('tanh', x),
    activationBackwardAsync: () => ops.activationBackwardAsync('sigmoid', x, x, x),
    optimizerStepAsync: () => ops.optimizerStepAsync(wOpt, gOpt, slots, adam),
    addAsync: () => ops.addAsync(x, x),
    concatenateAsync: () => ops.concatenateAsync([x, x, x], -1),
  };
  const modelEntries = {
    predict: () => model.predict(xs, { batchSize: 64 }),
    evaluate: () => model.evaluate(xs, ys, { batchSize: 64 }),
    fit: () => model.fit(xs, ys, { batchSize: 64, epochs: 1, verbose: 0 }),
    trainOnBatch: () => model.trainOnBatch(xs.slice(0, 64), ys.subarray(0, 64)),
    forwardBackward: async () => {
      const y = await model.forward(xs.slice(0, 64), { training: true });
      await model.backward(y);
    },
    batcher: () => Promise.all(Array.from({ length: 64 }, (_, i) => batcher.predict(xs.data.subarray(i * 784, (i + 1) * 784)))),
  };
  return { opEntries, modelEntries };
}

/** Names of every `...Async` export of ops, which opEntries must cover. */
export const asyncOpNames = Object.keys(ops).filter((k) => k.endsWith('Async') && k !== 'runProgramAsync');
