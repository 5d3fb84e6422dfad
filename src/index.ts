/**
 * convkit: convolutional neural networks for Node.js.
 * @example
 * import { ops, randomNormal } from 'convkit';
 * const y = ops.conv2d(randomNormal([1, 28, 28, 1], { seed: 1 }), randomNormal([5, 5, 1, 6], { seed: 2 }), { padding: 'same' });
 */
export { Tensor, tensor, zeros, ones, fill, randomNormal, randomUniform, sizeOf } from './tensor.js';
export type { DType, FloatArray, Shape } from './tensor.js';
export { ConvkitError, NonFiniteError } from './errors.js';
export { Rng } from './random.js';
export { setBackend, getBackend, withBackend } from './backend/index.js';
export type { BackendName } from './backend/index.js';
export type { Backend, Conv2DInfo, Pool2DInfo, Epilogue, UnaryKind, ActivationKind } from './backend/types.js';
export { nativeInfo } from './native.js';
export * as ops from './ops/index.js';
export { createBatcher } from './serve/batcher.js';
export type { Batcher, BatcherOptions, BatchPredictor } from './serve/batcher.js';
export * from './api.js';
