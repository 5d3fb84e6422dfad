import type { NativeAddon } from '../../native.js';
import type { Backend } from '../types.js';
import * as act from './activation.js';
import { createStartedKernels } from './async.js';
import * as conv from './conv.js';
import * as ew from './elementwise.js';
import * as norm from './normalization.js';
import * as mm from './matmul.js';
import { optimizerStep } from './optimizer.js';
import { firstNonFinite } from '../reference/optimizer.js';
import * as pool from './pool.js';

/**
 * The native backend: each method checks dtype (float32 only) and calls the addon, which re-checks every size
 * and writes the output it is given. Get the addon from `loadNative()`.
 * @example const other = createNativeBackend(require('/tmp/convkit-before.node')); withBackendImpl(other, () => model.predictSync(x))
 * @throws ConvkitError (naming the op) for float64 tensors; RangeError/TypeError from the addon for bad sizes.
 */
export function createNativeBackend(addon: NativeAddon): Backend {
  return { ...nativeKernels(addon), ...createStartedKernels(addon, nativeKernels) };
}

function nativeKernels(addon: NativeAddon): Backend {
  return {
    name: 'native',
    matmul: (a, b, ta, tb, ep, out) => mm.matmul(addon, a, b, ta, tb, ep, out),
    biasAdd: (x, bias, out) => mm.biasAdd(addon, x, bias, out),
    biasGrad: (dy, out) => mm.biasGrad(addon, dy, out),
    conv2d: (x, filter, info, ep, out) => conv.conv2d(addon, x, filter, info, ep, out),
    conv2dMaxPool: (x, filter, info, p, ep, convOutput, out) => conv.conv2dMaxPool(addon, x, filter, info, p, ep, convOutput, out),
    conv2dBackwardInput: (dy, filter, info, out) => conv.conv2dBackwardInput(addon, dy, filter, info, out),
    conv2dBackwardFilter: (x, dy, info, out) => conv.conv2dBackwardFilter(addon, x, dy, info, out),
    maxPool2d: (x, info, out) => pool.maxPool2d(addon, x, info, out),
    maxPool2dBackward: (dy, x, info, through, out) => pool.maxPool2dBackward(addon, dy, x, info, through, out),
    avgPool2d: (x, info, out) => pool.avgPool2d(addon, x, info, out),
    avgPool2dBackward: (dy, info, out) => pool.avgPool2dBackward(addon, dy, info, out),
    globalAvgPool2d: (x, out) => pool.globalAvgPool2d(addon, x, out),
    globalAvgPool2dBackward: (dy, out) => pool.globalAvgPool2dBackward(addon, dy, out),
    globalMaxPool2d: (x, out) => pool.globalMaxPool2d(addon, x, out),
    globalMaxPool2dBackward: (dy, x, out) => pool.globalMaxPool2dBackward(addon, dy, x, out),
    unary: (kind, x, alpha, out) => act.unary(addon, kind, x, alpha, out),
    unaryBackward: (kind, dy, saved, alpha, out) => act.unaryBackward(addon, kind, dy, saved, alpha, out),
    dropout: (x, rate, seed, mask, out) => act.dropout(addon, x, rate, seed, mask, out),
    binary: (kind, a, b, out) => ew.binary(addon, kind, a, b, out),
    binaryRoute: (kind, dy, a, b, db, out) => ew.binaryRoute(addon, kind, dy, a, b, db, out),
    scale: (x, c, out) => ew.scale(addon, x, c, out),
    concat: (xs, axis, out) => ew.concat(addon, xs, axis, out),
    slice: (x, axis, begin, out) => ew.slice(addon, x, axis, begin, out),
    softmax: (x, out) => act.softmax(addon, x, out),
    softmaxBackward: (dy, y, out) => act.softmaxBackward(addon, dy, y, out),
    softmaxCrossEntropySparse: (logits, labels, grad) => act.softmaxCrossEntropySparse(addon, logits, labels, grad),
    softmaxCrossEntropyDense: (logits, targets, grad) => act.softmaxCrossEntropyDense(addon, logits, targets, grad),
    channelMoments: (x, out) => norm.channelMoments(addon, x, out),
    groupNormForward: (x, gamma, beta, info, xhat, stats, out) => norm.groupNormForward(addon, x, gamma, beta, info, xhat, stats, out),
    groupNormBackward: (dy, xhat, gamma, invStd, info, sums, out) => norm.groupNormBackward(addon, dy, xhat, gamma, invStd, info, sums, out),
    channelSums: (a, b, out) => norm.channelSums(addon, a, b, out),
    channelAffine: (x, s, t, out) => norm.channelAffine(addon, x, s, t, out),
    channelAffine2: (a, b, sa, sb, t, out) => norm.channelAffine2(addon, a, b, sa, sb, t, out),
    firstNonFinite: (x) => (x.dtype === 'float64' ? firstNonFinite(x.data) : addon.firstNonFinite(x.data as Float32Array)),
    optimizerStep: (w, g, slots, info) => optimizerStep(addon, w, g, slots, info),
  };
}
