/**
 * The pure-TypeScript reference backend: obvious loops, float64 accumulation, the oracle the native
 * kernels are tested against and the fallback when the addon cannot load. Given float64 tensors it
 * computes entirely in float64, which the finite-difference gradient checks rely on.
 */
import type { Backend } from '../types.js';
import { dropout, multiply, unary, unaryBackward } from './activation.js';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput } from './conv.js';
import { biasAdd, biasGrad, matmul } from './matmul.js';
import { firstNonFinite, optimizerStep } from './optimizer.js';
import * as pool from './pool.js';
import { softmax, softmaxBackward, softmaxCrossEntropyDense, softmaxCrossEntropySparse } from './softmax.js';

export const referenceBackend: Backend = {
  name: 'reference',
  matmul,
  biasAdd,
  biasGrad,
  conv2d,
  conv2dMaxPool: (x, filter, info, p, ep, convOutput) => {
    const z = conv2d(x, filter, info, ep);
    convOutput?.data.set(z.data);
    return pool.maxPool2d(z, p);
  },
  conv2dBackwardInput,
  conv2dBackwardFilter,
  ...pool,
  maxPool2dBackward: (dy, x, info, through) => {
    const dx = pool.maxPool2dBackward(dy, x, info);
    return through ? unaryBackward(through.kind, dx, x, through.alpha) : dx;
  },
  unary,
  unaryBackward,
  dropout,
  multiply,
  softmax,
  softmaxBackward,
  softmaxCrossEntropySparse,
  softmaxCrossEntropyDense,
  firstNonFinite: (x) => firstNonFinite(x.data),
  optimizerStep,
};
