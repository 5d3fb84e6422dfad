import { fail } from '../errors.js';
import * as layers from '../layers/index.js';
import { sparseCategoricalCrossentropy, type Loss } from '../losses/index.js';
import { adam, schedules, type Optimizer } from '../optimizers/index.js';
import { Sequential, type SequentialOptions } from './sequential.js';

export interface ArchitectureArgs extends SequentialOptions {
  /** Default [28, 28, 1]. */
  inputShape?: number[];
  /** Default 10. */
  numClasses?: number;
}

/**
 * LeNet-5 as most CNN courses build it today: conv 6@5×5 ('same') → max-pool 2 → conv 16@5×5 → max-pool 2 →
 * dense 120 → dense 84 → dense numClasses (logits), relu throughout. About 62k parameters. The network
 * `npm run demo` trains; pair it with `losses.sparseCategoricalCrossentropy({ fromLogits: true })`.
 * @example const model = architectures.lenet5({ seed: 1 })
 */
export function lenet5(args: ArchitectureArgs = {}): Sequential {
  const { inputShape = [28, 28, 1], numClasses = 10, ...opts } = args;
  return new Sequential(
    [
      layers.conv2d({ filters: 6, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: 'heNormal', inputShape }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal' }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 120, activation: 'relu', kernelInitializer: 'heNormal' }),
      layers.dense({ units: 84, activation: 'relu', kernelInitializer: 'heNormal' }),
      layers.dense({ units: numClasses }),
    ],
    opts,
  );
}

/**
 * The larger network of the TensorFlow CNN tutorial: conv 32@5×5 → pool → conv 64@5×5 → pool → dense 1024 →
 * dropout 0.4 → dense numClasses (logits). About 3.3M parameters; wants the native backend.
 * @example const model = architectures.tutorial({ seed: 1 })
 */
export function tutorial(args: ArchitectureArgs = {}): Sequential {
  const { inputShape = [28, 28, 1], numClasses = 10, ...opts } = args;
  return new Sequential(
    [
      layers.conv2d({ filters: 32, kernelSize: 5, padding: 'same', activation: 'relu', inputShape }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 1024, activation: 'relu' }),
      layers.dropout({ rate: 0.4 }),
      layers.dense({ units: numClasses }),
    ],
    opts,
  );
}

const PRESETS = { lenet5, tutorial } as const;
export type ArchitectureName = keyof typeof PRESETS;

/** A preset by name (the CLI's --arch). @throws ConvkitError for an unknown name. */
export function architecture(name: string, args: ArchitectureArgs = {}): Sequential {
  const make = PRESETS[name as ArchitectureName];
  if (!make) fail('architecture', `one of ${Object.keys(PRESETS).join(', ')}`, name);
  return make(args);
}

export interface TrainingRecipe {
  epochs: number;
  batchSize: number;
  optimizer: Optimizer;
  loss: Loss;
}

/**
 * How `npm run demo` (and `convkit train --arch lenet5`) trains lenet5 on the digits: Adam from 2e-3 with a
 * cosine decay to 1e-4 over the run, batches of 32, 6 epochs, softmax cross-entropy on logits.
 * @example const r = architectures.digitsRecipe(xTrain.shape[0]); model.compile({ optimizer: r.optimizer, loss: r.loss, metrics: ['accuracy'] })
 */
export function digitsRecipe(trainSamples: number, overrides: { epochs?: number; batchSize?: number; learningRate?: number } = {}): TrainingRecipe {
  const epochs = overrides.epochs ?? 6;
  const batchSize = overrides.batchSize ?? 32;
  const decaySteps = Math.max(1, epochs * Math.ceil(trainSamples / batchSize));
  const learningRate = schedules.cosineDecay({ initialLearningRate: overrides.learningRate ?? 2e-3, decaySteps, alpha: 0.05 });
  return { epochs, batchSize, optimizer: adam({ learningRate }), loss: sparseCategoricalCrossentropy({ fromLogits: true }) };
}
