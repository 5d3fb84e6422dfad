// Models shared by the model-level suites.
import * as layers from '../../src/layers/index.js';
import * as losses from '../../src/losses/index.js';
import { lenet5 } from '../../src/model/architectures.js';
import { sequential, type Sequential } from '../../src/model/sequential.js';
import * as optimizers from '../../src/optimizers/index.js';

/** The demo network (lenet5) compiled as the demo compiles it, on inputs of 28×28×1. */
export function demoModel(seed = 1): Sequential {
  const m = lenet5({ seed });
  m.compile({ optimizer: optimizers.adam({ learningRate: 3e-3 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  return m;
}

/** Every layer kind, with unfused activations (elu, softmax) and training-mode state (batch norm, dropout). */
export function everyLayerModel(seed = 2): Sequential {
  const m = sequential(
    [
      layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [10, 10, 3] }),
      layers.batchNormalization(),
      layers.prelu(),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, activation: 'elu', padding: 'same' }),
      layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
      layers.conv2d({ filters: 4, kernelSize: 1, activation: 'tanh' }),
      layers.reshape({ targetShape: [3, 3, 4] }),
      layers.activation({ activation: 'leakyRelu', alpha: 0.1 }),
      layers.globalMaxPooling2d(),
      layers.dropout({ rate: 0.25 }),
      layers.dense({ units: 3, activation: 'softmax' }),
    ],
    { seed },
  );
  m.compile({ optimizer: optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

