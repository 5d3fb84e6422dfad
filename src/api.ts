/**
 * The training API: layers, sequential models, losses, metrics, optimizers, initializers, callbacks,
 * save/load and data. `src/index.ts` re-exports all of it.
 * @example
 * import { sequential, layers, optimizers, losses, data } from 'convkit';
 * const { xTrain, yTrain, xTest, yTest } = await data.mnistDigits({ train: 8000, test: 2000, seed: 1 });
 */
export * as layers from './layers/index.js';
export * as losses from './losses/index.js';
export * as optimizers from './optimizers/index.js';
export * as callbacks from './callbacks/index.js';
export * as data from './data/index.js';
export * as regularizers from './layers/regularizers.js';
export * as metrics from './model/metrics.js';
export * as architectures from './model/architectures.js';
export * as initializers from './initializers/index.js';
export { Sequential, sequential } from './model/sequential.js';
export type { SequentialOptions } from './model/sequential.js';
export { Model, model } from './model/model.js';
export type { InferenceSession } from './model/session.js';
export type { ForwardOptions, ModelArgs, ModelConfig, ModelInputs, ModelTargets, NodeRef } from './model/model.js';
export type { CompileArgs, FitOptions, History, InferenceOptions, SyncInferenceOptions, TrainingConfig } from './model/training.js';
export { input } from './layers/input-layer.js';
export type { InputArgs } from './layers/input-layer.js';
export { SymbolicTensor } from './layers/symbolic.js';
export { loadModel } from './io/load.js';
export type { Callback, Logs } from './callbacks/index.js';
export type { Layer, Param } from './layers/index.js';
export type { Loss } from './losses/index.js';
export type { Optimizer } from './optimizers/index.js';
export * as visualize from './visualize/index.js';
