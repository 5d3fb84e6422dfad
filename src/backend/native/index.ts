import type { NativeAddon } from '../../native.js';
import type { Backend } from '../types.js';
import * as act from './activation.js';
import { createAsyncKernels } from './async.js';
import * as conv from './conv.js';
import * as mm from './matmul.js';
import { optimizerStep } from './optimizer.js';
import { firstNonFinite } from '../reference/optimizer.js';
import * as pool from './pool.js';

/**
 * The native backend: each method checks dtype (float32 only), allocates the output and calls the addon,
 * which re-checks every size. Get the addon from `loadNative()`.
 * @example const { addon } = loadNative(); if (addon) setBackendImpl(createNativeBackend(addon));
 * @throws ConvkitError (naming the op) for float64 tensors; RangeError/TypeError from the addon for bad sizes.
 */
export function createNativeBackend(addon: NativeAddon): Backend {
  return { ...nativeKernels(addon), async: createAsyncKernels(addon, nativeKernels) };
}

function nativeKernels(addon: NativeAddon): Backend {
  return {
    name: 'native',
    matmul: (a, b, ta, tb, ep) => mm.matmul(addon, a, b, ta, tb, ep),
    biasAdd: (x, bias) => mm.biasAdd(addon, x, bias),
    biasGrad: (dy) => mm.biasGrad(addon, dy),
    conv2d: (x, filter, info, ep) => conv.conv2d(addon, x, filter, info, ep),
    conv2dMaxPool: (x, filter, info, p, ep, convOutput) => conv.conv2dMaxPool(addon, x, filter, info, p, ep, convOutput),
    conv2dBackwardInput: (dy, filter, info) => conv.conv2dBackwardInput(addon, dy, filter, info),
    conv2dBackwardFilter: (x, dy, info) => conv.conv2dBackwardFilter(addon, x, dy, info),
    maxPool2d: (x, info) => pool.maxPool2d(addon, x, info),
    maxPool2dBackward: (dy, x, info, through) => pool.maxPool2dBackward(addon, dy, x, info, through),
    avgPool2d: (x, info) => pool.avgPool2d(addon, x, info),
    avgPool2dBackward: (dy, info) => pool.avgPool2dBackward(addon, dy, info),
    globalAvgPool2d: (x) => pool.globalAvgPool2d(addon, x),
    globalAvgPool2dBackward: (dy, shape) => pool.globalAvgPool2dBackward(addon, dy, shape),
    globalMaxPool2d: (x) => pool.globalMaxPool2d(addon, x),
    globalMaxPool2dBackward: (dy, x) => pool.globalMaxPool2dBackward(addon, dy, x),
    unary: (kind, x, alpha) => act.unary(addon, kind, x, alpha),
    unaryBackward: (kind, dy, saved, alpha) => act.unaryBackward(addon, kind, dy, saved, alpha),
    dropout: (x, rate, seed, mask) => act.dropout(addon, x, rate, seed, mask),
    multiply: (a, b) => act.multiply(addon, a, b),
    softmax: (x) => act.softmax(addon, x),
    softmaxBackward: (dy, y) => act.softmaxBackward(addon, dy, y),
    softmaxCrossEntropySparse: (logits, labels) => act.softmaxCrossEntropySparse(addon, logits, labels),
    softmaxCrossEntropyDense: (logits, targets) => act.softmaxCrossEntropyDense(addon, logits, targets),
    firstNonFinite: (x) => (x.dtype === 'float64' ? firstNonFinite(x.data) : addon.firstNonFinite(x.data as Float32Array)),
    optimizerStep: (w, g, slots, info) => optimizerStep(addon, w, g, slots, info),
  };
}
