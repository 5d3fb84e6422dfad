// Malformed arguments straight to the addon: each must throw a TypeError (wrong kind of value) or a
// RangeError (wrong value) naming the field, never read or write out of bounds or crash the process.
import { describe, expect, it } from 'vitest';

import type { Conv2DInfo, Pool2DInfo } from '../../src/backend/types.js';
import { loadNative, type NativeAddon } from '../../src/native.js';

const { addon, error } = loadNative();
const f32 = (n: number) => new Float32Array(n);
const HUGE = 2 ** 31 - 1;

// 2x5x5x3 -> 2x5x5x4, 3x3 same padding
const conv: Conv2DInfo = {
  batch: 2, inH: 5, inW: 5, inC: 3, outH: 5, outW: 5, outC: 4, kH: 3, kW: 3,
  strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, groups: 1,
};
// 1x4x4x2 -> 1x2x2x2, 2x2 stride 2
const pool: Pool2DInfo = {
  batch: 1, inH: 4, inW: 4, channels: 2, outH: 2, outW: 2, poolH: 2, poolW: 2,
  strideH: 2, strideW: 2, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0,
};

type Case = [label: string, call: (a: NativeAddon) => unknown, type: typeof TypeError | typeof RangeError, message: RegExp];

const mm = (a: NativeAddon, over: Partial<Record<'a' | 'b' | 'y' | 'bias', unknown>> = {}, m: unknown = 2, k: unknown = 3, n: unknown = 4,
  extra: unknown[] = [false, false]) =>
  (a.matmul as (...args: unknown[]) => void)(over.a ?? f32(6), over.b ?? f32(12), over.y ?? f32(8), m, k, n, ...extra,
    'bias' in over ? over.bias : null, 'linear', 0);
const cv = (a: NativeAddon, info: unknown, x = f32(150), filter = f32(108), y = f32(200), bias: unknown = null, act = 'relu') =>
  (a.conv2d as (...args: unknown[]) => void)(x, filter, y, info, bias, act, 0);

// the same as a 1x1 convolution: its forward is a GEMM that takes a prepared filter
const pointwise: Conv2DInfo = { ...conv, kH: 1, kW: 1, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0 };

// conv's 2x5x5x4 output pooled 2x2, stride 2 -> 2x2x2x4
const convPool: Pool2DInfo = { ...pool, batch: 2, inH: 5, inW: 5, channels: 4 };
const cvp = (a: NativeAddon, poolInfo: unknown, y = f32(32), convY: unknown = null) =>
  (a.conv2dMaxPool as (...args: unknown[]) => void)(f32(150), f32(108), y, conv, null, 'relu', 0, poolInfo, convY);

// b (k, n) prepared for matmul
const preparedMatrix = (a: NativeAddon, k: number, n: number) => {
  const p = f32(a.matmulWeightsForm(k, n, false)!.length);
  a.prepareMatmulWeights(f32(k * n), k, n, p);
  return p;
};
// the 2x3 . 3x4 product with `weights` as b's prepared form
const prepared = (a: NativeAddon, weights: Float32Array, transposeB = false) =>
  (a.matmul as (...args: unknown[]) => void)(f32(6), f32(12), f32(8), 2, 3, 4, false, transposeB, null, 'linear', 0, null, null, weights);

const os = (a: NativeAddon, rule: string, g: unknown = f32(5), s0: unknown = null, s1: unknown = null, lr: unknown = 0.1) =>
  (a.optimizerStep as (...args: unknown[]) => void)(rule, f32(5), g, s0, s1, lr, 1, 0, 0, false, 0.9, 0.999, 0.9, 1e-7, true, 0, 0, 0);

const cases: Case[] = [
  ['matmul: missing arguments', (a) => (a.matmul as (...args: unknown[]) => void)(f32(1)), TypeError, /missing argument/],
  ['matmul: a is a plain array', (a) => mm(a, { a: [0, 0, 0, 0, 0, 0] }), TypeError, /a must be a Float32Array/],
  ['matmul: b is a Float64Array', (a) => mm(a, { b: new Float64Array(12) }), TypeError, /b must be a Float32Array/],
  ['matmul: a too short', (a) => mm(a, { a: f32(5) }), RangeError, /a must have 6 elements/],
  ['matmul: y too long', (a) => mm(a, { y: f32(9) }), RangeError, /y must have 8 elements/],
  ['matmul: negative m', (a) => mm(a, {}, -2), RangeError, /m must be an integer/],
  ['matmul: NaN k', (a) => mm(a, {}, 2, NaN), RangeError, /k must be an integer/],
  ['matmul: fractional n', (a) => mm(a, {}, 2, 3, 4.5), RangeError, /n must be an integer/],
  ['matmul: huge n', (a) => mm(a, {}, 2, 3, 2 ** 40), RangeError, /n must be an integer/],
  ['matmul: n as string', (a) => mm(a, {}, 2, 3, '4'), TypeError, /n must be a number/],
  ['matmul: sizes that describe more than the arrays', (a) => mm(a, {}, HUGE, HUGE, HUGE), RangeError, /a must have/],
  ['matmul: transposeA not boolean', (a) => mm(a, {}, 2, 3, 4, [1, false]), TypeError, /transposeA must be a boolean/],
  ['matmul: bias of the wrong length', (a) => mm(a, { bias: f32(3) }), RangeError, /bias must have 4 elements/],
  ['matmul: unknown activation', (a) => a.matmul(f32(6), f32(12), f32(8), 2, 3, 4, false, false, null, 'swishy' as 'relu', 0), RangeError, /activation must be one of .*received 'swishy'/],
  ['matmul: infinite alpha', (a) => a.matmul(f32(6), f32(12), f32(8), 2, 3, 4, false, false, null, 'elu', Infinity), RangeError, /alpha must be finite/],

  ['biasAdd: empty bias', (a) => a.biasAdd(f32(6), f32(0), f32(6)), RangeError, /bias must not be empty/],
  ['biasAdd: x not a multiple of C', (a) => a.biasAdd(f32(7), f32(3), f32(7)), RangeError, /not a multiple/],
  ['biasAdd: y of the wrong length', (a) => a.biasAdd(f32(6), f32(3), f32(5)), RangeError, /y must have 6/],
  ['biasGrad: empty dbias', (a) => a.biasGrad(f32(6), f32(0)), RangeError, /dbias must not be empty/],

  ['conv2d: info is null', (a) => cv(a, null), TypeError, /info must be an object/],
  ['conv2d: info without outH', (a) => cv(a, { ...conv, outH: undefined }), TypeError, /info.outH must be a number/],
  ['conv2d: outH inconsistent with the geometry', (a) => cv(a, { ...conv, outH: 6 }), RangeError, /info.outH must be 5/],
  ['conv2d: zero stride', (a) => cv(a, { ...conv, strideW: 0 }), RangeError, /info.strideW must be an integer in \[1/],
  ['conv2d: negative padding', (a) => cv(a, { ...conv, padLeft: -1 }), RangeError, /info.padLeft/],

  ['matmulWeightsForm: negative k', (a) => a.matmulWeightsForm(-1, 4, false), RangeError, /matmulWeightsForm: k must be an integer/],
  ['matmulWeightsForm: transposeB not boolean', (a) => a.matmulWeightsForm(3, 4, 1 as unknown as boolean), TypeError, /transposeB must be a boolean/],
  ['prepareMatmulWeights: dst too short', (a) => a.prepareMatmulWeights(f32(12), 3, 4, f32(20)), RangeError, /dst must have \d+ elements/],
  ['prepareMatmulWeights: b too short', (a) => a.prepareMatmulWeights(f32(11), 3, 4, f32(a.matmulWeightsForm(3, 4, false)!.length)), RangeError, /b must have 12 elements/],
  ['matmul: prepared weights of the wrong length', (a) => prepared(a, f32(a.matmulWeightsForm(3, 4, false)!.length + 1)), RangeError, /matmul: prepared weights must be in the form gemm:/],
  ['matmul: prepared weights never prepared (no header)', (a) => prepared(a, f32(a.matmulWeightsForm(3, 4, false)!.length)), RangeError, /prepared for another/],
  ['matmul: prepared weights for another shape', (a) => prepared(a, preparedMatrix(a, 3, 5)), RangeError, /prepared weights must be in the form/],
  ['matmul: prepared weights with a transposed b', (a) => prepared(a, preparedMatrix(a, 3, 4), true), RangeError, /reads none/],
  ['conv2dWeightsForm: info inconsistent', (a) => a.conv2dWeightsForm({ ...conv, outH: 6 }), RangeError, /info.outH must be 5/],
  ['prepareConv2dWeights: a depthwise filter (read as it is)', (a) => a.prepareConv2dWeights(f32(27), { ...conv, outC: 3, groups: 3 }, f32(64)), RangeError, /nothing to prepare/],
  ['prepareConv2dWeights: filter too short', (a) => a.prepareConv2dWeights(f32(11), pointwise, f32(a.conv2dWeightsForm(pointwise)!.length)), RangeError, /filter must have 12 elements/],
  ['conv2d: prepared weights for another info', (a) => (a.conv2d as (...args: unknown[]) => void)(f32(150), f32(12), f32(200), pointwise, null, 'relu', 0, null, null, preparedMatrix(a, 3, 5)), RangeError, /conv2d: prepared weights must be in the form gemm:.*3x4/],
  ['conv2d: prepared weights for a depthwise filter (read as it is)', (a) => (a.conv2d as (...args: unknown[]) => void)(f32(150), f32(27), f32(150), { ...conv, outC: 3, groups: 3 }, null, 'relu', 0, null, null, preparedMatrix(a, 9, 3)), RangeError, /conv2d: prepared weights were given, but this shape's algorithm reads none/],
  ['conv2dMaxPool: prepared weights of the wrong length', (a) => (a.conv2dMaxPool as (...args: unknown[]) => void)(f32(150), f32(12), f32(32), pointwise, null, 'relu', 0, convPool, null, null, f32(5)), RangeError, /conv2dMaxPool: prepared weights must be in the form/],
  ['conv2d: fractional padding', (a) => cv(a, { ...conv, padTop: 0.5 }), RangeError, /info.padTop/],
  ['conv2d: groups not dividing channels', (a) => cv(a, { ...conv, groups: 2 }), RangeError, /info.groups 2 must divide/],
  ['conv2d: kernel larger than the padded input', (a) => cv(a, { ...conv, kH: 9, outH: 1 }), RangeError, /larger than the padded input/],
  ['conv2d: overflowing sizes', (a) => cv(a, { ...conv, batch: HUGE, inH: HUGE, outH: HUGE, inW: HUGE, outW: HUGE, inC: HUGE }), RangeError, /batch\*inH\*inW\*inC overflows/],
  ['conv2d: x too short', (a) => cv(a, conv, f32(149)), RangeError, /x must have 150 elements/],
  ['conv2d: filter for other channels', (a) => cv(a, conv, f32(150), f32(144)), RangeError, /filter must have 108 elements/],
  ['conv2d: y too short', (a) => cv(a, conv, f32(150), f32(108), f32(199)), RangeError, /y must have 200/],
  ['conv2d: bias of the wrong length', (a) => cv(a, conv, f32(150), f32(108), f32(200), f32(3)), RangeError, /bias must have 4/],
  ['conv2d: activation not a string', (a) => cv(a, conv, f32(150), f32(108), f32(200), null, 3 as unknown as string), TypeError, /activation must be a string/],
  ['conv2d: scale of the wrong length', (a) => (a.conv2d as (...args: unknown[]) => void)(f32(150), f32(108), f32(200), conv, null, 'relu', 0, f32(5), null), RangeError, /scale must have 4/],
  ['conv2d: residual of the wrong length', (a) => (a.conv2d as (...args: unknown[]) => void)(f32(150), f32(108), f32(200), conv, null, 'relu', 0, null, f32(199)), RangeError, /residual must have 200/],
  ['conv2d: residual a Float64Array', (a) => (a.conv2d as (...args: unknown[]) => void)(f32(150), f32(108), f32(200), conv, null, 'relu', 0, null, new Float64Array(200)), TypeError, /residual must be a Float32Array/],
  ['conv2d: residual sharing memory with y', (a) => {
    const y = new Float32Array(new SharedArrayBuffer(4 * 300));
    (a.conv2d as (...args: unknown[]) => void)(f32(150), f32(108), y.subarray(0, 200), conv, null, 'relu', 0, null, y.subarray(100, 300));
  }, RangeError, /residual must not share memory with y/],
  ['conv2dMaxPool: scale of the wrong length', (a) => (a.conv2dMaxPool as (...args: unknown[]) => void)(f32(150), f32(108), f32(32), conv, null, 'relu', 0, convPool, null, f32(3)), RangeError, /scale must have 4/],
  ['matmul: residual of the wrong length', (a) => (a.matmul as (...args: unknown[]) => void)(f32(6), f32(12), f32(8), 2, 3, 4, false, false, null, 'linear', 0, null, f32(7)), RangeError, /residual must have 8/],
  ['matmul: scale of the wrong length', (a) => (a.matmul as (...args: unknown[]) => void)(f32(6), f32(12), f32(8), 2, 3, 4, false, false, null, 'linear', 0, f32(3), null), RangeError, /scale must have 4/],
  ['conv2dMaxPool: poolInfo missing', (a) => cvp(a, undefined), TypeError, /poolInfo must be an object/],
  ['conv2dMaxPool: pooling another batch', (a) => cvp(a, { ...convPool, batch: 1 }), RangeError, /poolInfo.batch 1 must equal info.batch 2/],
  ['conv2dMaxPool: pooling other channels', (a) => cvp(a, { ...convPool, channels: 3 }), RangeError, /poolInfo.channels 3 must equal info.outC 4/],
  ['conv2dMaxPool: pooling another height', (a) => cvp(a, { ...convPool, inH: 4 }), RangeError, /poolInfo.inH 4 must equal info.outH 5/],
  ['conv2dMaxPool: poolInfo.outW inconsistent', (a) => cvp(a, { ...convPool, outW: 3 }), RangeError, /poolInfo.outW must be 2/],
  ['conv2dMaxPool: y sized for the convolution', (a) => cvp(a, convPool, f32(200)), RangeError, /y must have 32 elements/],
  ['conv2dMaxPool: convY sized for the pooling', (a) => cvp(a, convPool, f32(32), f32(32)), RangeError, /convY must have 200 elements/],
  ['conv2dBackwardInput: dx too short', (a) => a.conv2dBackwardInput(f32(200), f32(108), f32(10), conv), RangeError, /dx must have 150/],
  ['conv2dBackwardFilter: dy too short', (a) => a.conv2dBackwardFilter(f32(150), f32(199), f32(108), conv), RangeError, /dy must have 200/],

  ['dropout: mask too short', (a) => a.dropout(f32(8), f32(8), f32(7), 1, 0.5), RangeError, /mask must have 8/],
  ['dropout: seed past 2^32', (a) => a.dropout(f32(8), f32(8), f32(8), 2 ** 32, 0.5), RangeError, /seed must be an integer/],
  ['dropout: fractional seed', (a) => a.dropout(f32(8), f32(8), f32(8), 1.5, 0.5), RangeError, /seed must be an integer/],
  ['dropout: rate 1', (a) => a.dropout(f32(8), f32(8), f32(8), 1, 1), RangeError, /rate must be in \[0, 1\)/],
  ['binary: y too long', (a) => a.binary('mul', f32(8), f32(8), f32(9)), RangeError, /binary: y must have 8/],
  ['binary: unknown kind', (a) => a.binary('pow' as 'add', f32(8), f32(8), f32(8)), RangeError, /kind must be one of add, sub, mul, max, min; received 'pow'/],
  ['binaryRoute: add has no route', (a) => a.binaryRoute('add' as 'max', f32(4), f32(4), f32(4), f32(4), f32(4)), RangeError, /kind must be one of max, min/],
  ['binaryRoute: db too short', (a) => a.binaryRoute('max', f32(4), f32(4), f32(4), f32(4), f32(3)), RangeError, /db must have 4/],
  ['scale: infinite c', (a) => a.scale(f32(4), Infinity, f32(4)), RangeError, /c must be finite/],
  ['copyRows: rows reaching past dst', (a) => a.copyRows(f32(10), f32(100), 3, 4, 4, 0, 4, 0), RangeError, /dst must hold dstOffset \+ \(rows - 1\) \* dstStride \+ cols = 12 elements, received 10/],
  ['copyRows: an offset reaching past src', (a) => a.copyRows(f32(12), f32(12), 3, 4, 4, 0, 4, 1), RangeError, /src must hold .* = 13 elements/],
  ['copyRows: cols wider than a stride', (a) => a.copyRows(f32(12), f32(12), 2, 5, 4, 0, 6, 0), RangeError, /cols 5 must not exceed dstStride 4/],
  ['channelMoments: out of the wrong length', (a) => a.channelMoments(f32(6), new Float64Array(5), 3), RangeError, /out must have 6 elements/],
  ['channelMoments: out not a Float64Array', (a) => a.channelMoments(f32(6), f32(6) as unknown as Float64Array, 3), TypeError, /out must be a Float64Array/],
  ['channelMoments: x not a multiple of channels', (a) => a.channelMoments(f32(7), new Float64Array(6), 3), RangeError, /x length 7 is not a multiple of channels 3/],
  ['channelSums: b of another length', (a) => a.channelSums(f32(6), f32(5), new Float64Array(6), 3), RangeError, /b must have 6 elements/],
  ['channelAffine: t shorter than s', (a) => a.channelAffine(f32(6), f32(3), f32(2), f32(6)), RangeError, /t must have 3 elements/],
  ['channelAffine2: y too short', (a) => a.channelAffine2(f32(6), f32(6), f32(3), f32(3), f32(3), f32(5)), RangeError, /y must have 6 elements/],
  ['copyRows: huge offset', (a) => a.copyRows(f32(12), f32(12), 1, 1, 1, HUGE, 1, 0), RangeError, /dst must hold/],
  ['maxPool2d: window larger than the padded input', (a) => a.maxPool2d(f32(32), f32(8), { ...pool, poolH: 5, outH: 1 }), RangeError, /larger than the padded input/],
  ['maxPool2d: outW inconsistent', (a) => a.maxPool2d(f32(32), f32(8), { ...pool, outW: 3 }), RangeError, /info.outW must be 2/],
  ['maxPool2d: zero channels', (a) => a.maxPool2d(f32(0), f32(0), { ...pool, channels: 0 }), RangeError, /info.channels/],
  ['maxPool2dBackward: x too short', (a) => a.maxPool2dBackward(f32(8), f32(31), f32(32), pool, 'linear', 0), RangeError, /x must have 32/],
  ['maxPool2dBackward: through elu', (a) => a.maxPool2dBackward(f32(8), f32(32), f32(32), pool, 'elu', 1), RangeError, /derivative.*received 'elu'/],
  ['maxPool2dBackward: unknown activation', (a) => a.maxPool2dBackward(f32(8), f32(32), f32(32), pool, 'gelu2' as never, 0), RangeError, /activation must be one of/],
  ['maxPool2dBackward: an activation its output does not differentiate', (a) => a.maxPool2dBackward(f32(8), f32(32), f32(32), pool, 'gelu', 0), RangeError, /whose output gives its derivative.*received 'gelu'/],
  ['maxPool2dBackward: leakyRelu slope 0', (a) => a.maxPool2dBackward(f32(8), f32(32), f32(32), pool, 'leakyRelu', 0), RangeError, /alpha must be > 0/],
  ['avgPool2d: y too long', (a) => a.avgPool2d(f32(32), f32(9), pool), RangeError, /y must have 8/],
  ['avgPool2dBackward: info is an array', (a) => a.avgPool2dBackward(f32(8), f32(32), [1, 2] as unknown as Pool2DInfo), TypeError, /info must be an object/],
  ['globalAvgPool2d: shape not an array', (a) => a.globalAvgPool2d(f32(8), f32(2), 8 as unknown as number[]), TypeError, /shape must be an array/],
  ['globalAvgPool2d: shape of rank 3', (a) => a.globalAvgPool2d(f32(8), f32(2), [1, 4, 2]), RangeError, /shape must have 4 entries/],
  ['globalMaxPool2d: overflowing shape', (a) => a.globalMaxPool2d(f32(8), f32(2), [HUGE, HUGE, HUGE, HUGE]), RangeError, /overflows/],
  ['globalMaxPool2dBackward: dx too short', (a) => a.globalMaxPool2dBackward(f32(2), f32(8), f32(7), [1, 2, 2, 2]), RangeError, /dx must have 8/],
  ['globalAvgPool2dBackward: negative size', (a) => a.globalAvgPool2dBackward(f32(2), f32(8), [1, -2, 2, 2]), RangeError, /shape\[1\]/],

  ['unary: linear is not a unary kind', (a) => a.unary('linear', f32(4), f32(4), 0), RangeError, /kind must be one of/],
  ['unary: kind not a string', (a) => a.unary(1 as unknown as string, f32(4), f32(4), 0), TypeError, /kind must be a string/],
  ['unary: y of the wrong length', (a) => a.unary('relu', f32(4), f32(3), 0), RangeError, /y must have 4/],
  ['unaryBackward: saved too short', (a) => a.unaryBackward('tanh', f32(4), f32(3), f32(4), 0), RangeError, /saved must have 4/],
  ['softmax: zero channels', (a) => a.softmax(f32(4), f32(4), 0), RangeError, /channels must be an integer in \[1/],
  ['softmax: x not a multiple of channels', (a) => a.softmax(f32(5), f32(5), 2), RangeError, /not a multiple of channels/],
  ['softmaxBackward: dx too short', (a) => a.softmaxBackward(f32(4), f32(4), f32(3), 2), RangeError, /dx must have 4/],
  ['softmaxCrossEntropySparse: negative label', (a) => a.softmaxCrossEntropySparse(f32(6), Int32Array.of(0, -1), f32(6), 3), RangeError, /labels\[1\] must be a class id in \[0, 3\)/],
  ['softmaxCrossEntropySparse: label = classes', (a) => a.softmaxCrossEntropySparse(f32(6), Int32Array.of(3, 0), f32(6), 3), RangeError, /labels\[0\]/],
  ['softmaxCrossEntropySparse: labels as Float32Array', (a) => a.softmaxCrossEntropySparse(f32(6), f32(2) as unknown as Int32Array, f32(6), 3), TypeError, /labels must be an Int32Array/],
  ['softmaxCrossEntropySparse: one label per row', (a) => a.softmaxCrossEntropySparse(f32(6), Int32Array.of(0), f32(6), 3), RangeError, /labels must have 2 elements/],
  ['softmaxCrossEntropyDense: targets too short', (a) => a.softmaxCrossEntropyDense(f32(6), f32(5), f32(6), 3), RangeError, /targets must have 6/],
  ['setIsa: unknown name', (a) => a.setIsa('sse9'), RangeError, /name must be one of/],
  ['setThreads: zero', (a) => a.setThreads(0), RangeError, /n must be an integer in \[1/],
  ['fmaPeakProbe: zero threads', (a) => a.fmaPeakProbe(0, 0.01), RangeError, /threads must be an integer in \[1/],
  ['fmaPeakProbe: NaN seconds', (a) => a.fmaPeakProbe(1, NaN), RangeError, /seconds must be finite/],
  ['fmaPeakProbe: a minute', (a) => a.fmaPeakProbe(1, 60), RangeError, /seconds must be in \(0, 10\]/],
  ['copyBandwidthProbe: too few bytes', (a) => a.copyBandwidthProbe(64, 1, 0.01), RangeError, /bytes must be an integer in \[128/],
  ['copyBandwidthProbe: 2^40 bytes', (a) => a.copyBandwidthProbe(2 ** 40, 1, 0.01), RangeError, /bytes must be an integer in \[128/],
  ['copyBandwidthProbe: zero threads', (a) => a.copyBandwidthProbe(1024, 0, 0.01), RangeError, /threads must be an integer in \[1/],
  ['copyBandwidthProbe: a minute', (a) => a.copyBandwidthProbe(1024, 1, 60), RangeError, /seconds must be in \(0, 10\]/],
  ['adviseHugePages: not a Float32Array', (a) => a.adviseHugePages(new ArrayBuffer(64) as unknown as Float32Array), TypeError, /array must be a Float32Array/],
  ['setThreads: too many', (a) => a.setThreads(1000), RangeError, /at most 256/],
  ['optimizerStep: unknown rule', (a) => os(a, 'lion'), RangeError, /optimizerStep: unknown rule 'lion'/],
  ['optimizerStep: g too short', (a) => os(a, 'sgd', f32(4)), RangeError, /g must have 5 elements/],
  ['optimizerStep: adam without its second slot', (a) => os(a, 'adam', f32(5), f32(5), null), TypeError, /slot1 must be a Float32Array/],
  ['optimizerStep: a slot sgd without momentum has no use for', (a) => os(a, 'sgd', f32(5), f32(5)), TypeError, /slot0 must be null/],
  ['optimizerStep: slot too long', (a) => os(a, 'adagrad', f32(5), f32(6)), RangeError, /slot0 must have 5 elements/],
  ['optimizerStep: nadam without its coefficients', (a) => (a.optimizerStep as (...args: unknown[]) => void)('nadam', f32(5), f32(5), f32(5), f32(5), 0.1, 1, 0, 0, false, 0.9, 0.999, 0.9, 1e-7, true), TypeError, /mCoef/],
  ['optimizerStep: NaN learning rate', (a) => os(a, 'sgd', f32(5), null, null, NaN), RangeError, /lr/],
];

describe.skipIf(!addon)(`native addon argument checks${error ? ` (skipped: ${error.message})` : ''}`, () => {
  const a = addon!;

  it.each(cases)('%s', (_label, call, type, message) => {
    expect(() => call(a)).toThrow(type);
    expect(() => call(a)).toThrow(message);
  });

  it('runs the same checks in the ...Async twins, throwing before anything is queued', () => {
    expect(() => a.matmulAsync(f32(5), f32(12), f32(8), 2, 3, 4, false, false, null, 'linear', 0)).toThrow(/matmul: a must have 6 elements/);
    expect(() => a.conv2dAsync(f32(150), f32(108), f32(200), { ...conv, outH: 6 }, null, 'relu', 0)).toThrow(RangeError);
    expect(() => a.maxPool2dAsync(f32(32), [] as unknown as Float32Array, pool)).toThrow(TypeError);
    expect(() => a.softmaxAsync(f32(5), f32(5), 2)).toThrow(/not a multiple of channels/);
    expect(() => a.optimizerStepAsync('adam', f32(5), f32(5), f32(5), null, 0.1, 1, 0, 0, false, 0.9, 0.999, 0.9, 1e-7, true, 0, 0, 0)).toThrow(/slot1/);
  });

  it('reads every info field before taking array pointers, so a getter that detaches x is caught', () => {
    const x = f32(150);
    const info = { ...conv };
    Object.defineProperty(info, 'groups', {
      get() {
        structuredClone(x.buffer, { transfer: [x.buffer] });
        return 1;
      },
      enumerable: true,
    });
    expect(() => cv(a, info, x)).toThrow(/conv2d: x's ArrayBuffer is detached/);
  });

  it('refuses empty sizes and arrays, as the public ops do (matmul with n = 0 once divided by zero)', () => {
    const refusals: [() => unknown, RegExp][] = [
      [() => a.matmul(f32(6), f32(0), f32(0), 2, 3, 0, false, false, null, 'linear', 0), /matmul: n must be an integer in \[1,/],
      [() => a.matmul(f32(0), f32(0), f32(6), 2, 0, 3, false, false, null, 'relu', 0), /matmul: k must be an integer in \[1,/],
      [() => a.matmulAsync(f32(0), f32(12), f32(0), 0, 3, 4, false, false, null, 'linear', 0), /matmul: m must be an integer in \[1,/],
      [() => a.conv2dBackwardFilter(f32(0), f32(0), f32(108), { ...conv, batch: 0 }), /info.batch must be an integer in \[1,/],
      [() => a.conv2d(f32(0), f32(108), f32(0), { ...conv, batch: 0 }, null, 'linear', 0), /info.batch must be an integer in \[1,/],
      [() => a.maxPool2d(f32(0), f32(0), { ...pool, batch: 0 }), /info.batch must be an integer in \[1,/],
      [() => a.globalMaxPool2dBackward(f32(2), f32(0), f32(0), [1, 0, 0, 2]), /shape\[1\] must be an integer in \[1,/],
      [() => a.globalAvgPool2d(f32(0), f32(2), [1, 0, 3, 2]), /shape\[1\] must be an integer in \[1,/],
      [() => a.softmaxCrossEntropySparse(f32(0), new Int32Array(0), f32(0), 3), /logits must not be empty/],
      [() => a.unary('relu', f32(0), f32(0), 0), /unary: x must not be empty/],
      [() => a.unaryAsync('sigmoid', f32(0), f32(0), 0), /unary: x must not be empty/],
      [() => a.biasGrad(f32(0), f32(3)), /biasGrad: dy must not be empty/],
      [() => a.optimizerStep('sgd', f32(0), f32(0), null, null, 0.1, 1, 0, 0, false, 0.9, 0.999, 0.9, 1e-7, true, 0, 0, 0), /optimizerStep: w must not be empty/],
      [() => a.avgPool2d(f32(16), f32(4), { ...pool, channels: 1, padTop: 2, outH: 3 }), /info.padTop must be below info.poolH 2/],
    ];
    for (const [call, message] of refusals) expect(call).toThrow(message);
  });

  it('still computes correctly after all of the above', () => {
    const y = f32(4);
    a.matmul(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), y, 2, 2, 2, false, false, Float32Array.of(1, -100), 'relu', 0);
    expect([...y]).toEqual([20, 0, 44, 0]);
  });
});
