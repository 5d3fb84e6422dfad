// A worker_thread that imports convkit, runs ops.relu 200 times on a [64, 1000] tensor (and, with
// workerData.async, one async convolution), then exits.
import { workerData } from 'node:worker_threads';
import { ops, randomNormal } from '../../../dist/src/index.js';

const x = randomNormal([64, 1000], { seed: 1 });
for (let i = 0; i < 200; i++) ops.relu(x);
if (workerData.async) {
  await ops.conv2dAsync(randomNormal([4, 32, 32, 16], { seed: 2 }), randomNormal([3, 3, 16, 16], { seed: 3 }), { padding: 'same' });
}
