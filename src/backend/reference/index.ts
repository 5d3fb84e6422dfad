/**
 * The pure-TypeScript reference backend: obvious loops, float64 accumulation, the oracle the native
 * kernels are tested against and the fallback when the addon cannot load. Given float64 tensors it
 * computes entirely in float64, which the finite-difference gradient checks rely on. Its kernels return
 * their results; `written` copies each into the output the caller passed.
 */
import type { Tensor } from '../../tensor.js';
import type { Backend } from '../types.js';
import { dropout, unary, unaryBackward } from './activation.js';
import * as ew from './elementwise.js';
import * as norm from './normalization.js';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput } from './conv.js';
import { biasAdd, biasGrad, matmul } from './matmul.js';
import { firstNonFinite, optimizerStep } from './optimizer.js';
import * as pool from './pool.js';
import { softmax, softmaxBackward, softmaxCrossEntropyDense, softmaxCrossEntropySparse } from './softmax.js';

/** A kernel that returns its result as one that writes it into `out`, given last. */
function written<A extends unknown[]>(kernel: (...args: A) => Tensor): (...args: [...A, Tensor]) => Tensor {
  return (...args) => {
    const out = args[args.length - 1] as Tensor;
    out.data.set(kernel(...(args.slice(0, -1) as A)).data);
    return out;
  };
}

export const referenceBackend: Backend = {
  name: 'reference',
  matmul: written(matmul),
  biasAdd: written(biasAdd),
  biasGrad: written(biasGrad),
  conv2d: written(conv2d),
  conv2dMaxPool: written((x, filter, info, p, ep, convOutput: Tensor | undefined) => {
    const z = conv2d(x, filter, info, ep);
    convOutput?.data.set(z.data);
    return pool.maxPool2d(z, p);
  }),
  conv2dBackwardInput: written(conv2dBackwardInput),
  conv2dBackwardFilter: written(conv2dBackwardFilter),
  maxPool2d: written(pool.maxPool2d),
  maxPool2dBackward: written((dy, x, info, through) => {
    const dx = pool.maxPool2dBackward(dy, x, info);
    return through ? unaryBackward(through.kind, dx, x, through.alpha) : dx;
  }),
  avgPool2d: written(pool.avgPool2d),
  avgPool2dBackward: written(pool.avgPool2dBackward),
  globalAvgPool2d: written(pool.globalAvgPool2d),
  globalAvgPool2dBackward: (dy, out) => written(pool.globalAvgPool2dBackward)(dy, out.shape, out),
  globalMaxPool2d: written(pool.globalMaxPool2d),
  globalMaxPool2dBackward: written(pool.globalMaxPool2dBackward),
  unary: written(unary),
  unaryBackward: written(unaryBackward),
  dropout: written(dropout),
  binary: written(ew.binary),
  binaryRoute: written(ew.binaryRoute),
  scale: written(ew.scale),
  concat: (xs, axis, out) => written(ew.concat)(xs, axis, out.shape, out),
  slice: (x, axis, begin, out) => written(ew.slice)(x, axis, begin, out.shape, out),
  softmax: written(softmax),
  softmaxBackward: written(softmaxBackward),
  softmaxCrossEntropySparse: (logits, labels, grad) => {
    const r = softmaxCrossEntropySparse(logits, labels);
    grad.data.set(r.grad.data);
    return r.loss;
  },
  softmaxCrossEntropyDense: (logits, targets, grad) => {
    const r = softmaxCrossEntropyDense(logits, targets);
    grad.data.set(r.grad.data);
    return r.loss;
  },
  channelMoments: written(norm.channelMoments),
  channelSums: written(norm.channelSums),
  channelAffine: written(norm.channelAffine),
  channelAffine2: written(norm.channelAffine2),
  groupNormForward: written(norm.groupNormForward),
  groupNormBackward: written(norm.groupNormBackward),
  firstNonFinite: (x) => firstNonFinite(x.data),
  optimizerStep: (w, g, slots, info) => optimizerStep(w, g, slots, info),
};
