import { describe, expect, it } from 'vitest';
import { setBackend } from '../../src/backend/index.js';
import { mnistDigits } from '../../src/data/mnist.js';
import { digitsRecipe, lenet5 } from '../../src/model/architectures.js';
import { nativeAvailable, nativeSkipReason } from '../helpers/backends.js';

if (!nativeAvailable) console.warn(`e2e MNIST skipped: the native addon is not loadable (${nativeSkipReason})`);

// The demo's network, data split and recipe (npm run demo), trained on the native backend.
describe.skipIf(!nativeAvailable)('end to end: the demo network on the mnist package digits (native)', () => {
  it('reaches at least 97% on the 2,000 held-back digits', async () => {
    setBackend('native');
    const { xTrain, yTrain, xTest, yTest } = await mnistDigits({ train: 8000, test: 2000, seed: 1 });
    const model = lenet5({ seed: 1 });
    const recipe = digitsRecipe(xTrain.shape[0]);
    model.compile({ optimizer: recipe.optimizer, loss: recipe.loss, metrics: ['accuracy'] });
    const started = performance.now();
    await model.fit(xTrain, yTrain, { batchSize: recipe.batchSize, epochs: recipe.epochs, augment: recipe.augment, seed: 1, verbose: 0 });
    const { accuracy } = await model.evaluate(xTest, yTest);
    console.log(`e2e MNIST: test accuracy ${(accuracy * 100).toFixed(2)}% after ${((performance.now() - started) / 1000).toFixed(1)} s of training`);
    expect(accuracy).toBeGreaterThanOrEqual(0.97);
  }, 300_000);
});
