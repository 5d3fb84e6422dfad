import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { setBackend } from '../../src/backend/index.js';
import { loadIdxDirectory } from '../../src/data/idx.js';
import { resnet } from '../../src/model/architectures.js';
import { sparseCategoricalCrossentropy } from '../../src/losses/index.js';
import { adam } from '../../src/optimizers/index.js';
import { nativeAvailable, onBestIsaRun } from '../helpers/backends.js';

// Debian's dataset-fashion-mnist (.ci/run installs it); the test says so and skips where it is missing.
const FASHION = '/usr/share/datasets/fashion-mnist';
const haveData = existsSync(FASHION);
if (!haveData) console.warn(`e2e Fashion-MNIST ResNet skipped: ${FASHION} is missing (apt-get install dataset-fashion-mnist)`);

// A residual network (the graph engine: adds, batch norm, projections on strided shortcuts) trained end to end.
describe.skipIf(!nativeAvailable || !haveData || !onBestIsaRun)('end to end: ResNet-8 on Fashion-MNIST (native)', () => {
  it('reaches at least 84% on 2,000 test images after 3 epochs on 12,000', async () => {
    setBackend('native');
    const { xTrain, yTrain, xTest, yTest } = await loadIdxDirectory(FASHION);
    const net = resnet({ depth: 8, width: 16, inputShape: [28, 28, 1], seed: 1 });
    net.compile({ optimizer: adam({ learningRate: 3e-3 }), loss: sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const started = performance.now();
    await net.fit(xTrain.slice(0, 12000), yTrain.subarray(0, 12000), { batchSize: 64, epochs: 3, seed: 1, verbose: 0 });
    const { accuracy } = await net.evaluate(xTest.slice(0, 2000), yTest.subarray(0, 2000));
    const { training } = net.memoryPlan();
    console.log(
      `e2e Fashion-MNIST ResNet-8: test accuracy ${(accuracy * 100).toFixed(2)}% after ${((performance.now() - started) / 1000).toFixed(1)} s of training; ` +
        `a training step peaks at ${(training!.peakBytes / 2 ** 20).toFixed(1)} of ${(training!.allocatedBytes / 2 ** 20).toFixed(1)} MiB allocated`,
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.84);
    expect(training!.peakBytes).toBeLessThanOrEqual(0.5 * training!.allocatedBytes);
  }, 300_000);
});
