/**
 * The `ops` namespace: every kernel, validated here once and then run on the active backend.
 * Layouts: x (N,H,W,C) nhwc; filter (KH,KW,C/groups,OC) hwio; dense (in,out).
 */
import { backend } from './backend/index.js';
import type { ActivationKind, Conv2DInfo, Epilogue, Pool2DInfo, UnaryKind } from './backend/types.js';
import { describe, fail } from './errors.js';
import { Tensor, type Shape } from './tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor, finiteNumber, nonNegativeInt, oneOf, pair, positiveInt } from './validate.js';

export type { ActivationKind, Conv2DInfo, Epilogue, Pool2DInfo, UnaryKind };

/** 'same' (TF: the odd extra row/column goes bottom/right), 'valid', or explicit [[top, bottom], [left, right]]. */
export type Padding = 'same' | 'valid' | [[number, number], [number, number]];
export type Pair = number | [number, number];

export interface FusedOptions {
  /** Added to the last axis of the result. */
  bias?: Tensor;
  activation?: ActivationKind;
  /** leakyRelu slope (default 0.2) or elu alpha (default 1). */
  alpha?: number;
}

export interface Conv2DOptions {
  strides?: Pair;
  padding?: Padding;
  dilations?: Pair;
  groups?: number;
}

export interface Pool2DOptions {
  poolSize: Pair;
  /** Defaults to poolSize. */
  strides?: Pair;
  padding?: Padding;
}

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

const ACTIVATIONS: readonly ActivationKind[] = ['relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'linear'];

function defaultAlpha(kind: ActivationKind | 'softmax'): number {
  return kind === 'elu' ? 1 : 0.2;
}

// ---------------------------------------------------------------- shape resolution

interface AxisGeometry {
  out: number;
  padBefore: number;
  padAfter: number;
}

/** Output size and padding of one spatial axis; throws when the padding leaves no output. */
function resolveAxis(where: string, axis: string, size: number, window: number, stride: number, padding: Padding, explicit: [number, number] | undefined): AxisGeometry {
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + window - size, 0);
    const padBefore = Math.floor(total / 2);
    return { out, padBefore, padAfter: total - padBefore };
  }
  const [padBefore, padAfter] = padding === 'valid' ? [0, 0] : explicit!;
  const span = size + padBefore + padAfter - window;
  if (span < 0) {
    fail(where, `an input ${axis} of at least ${window - padBefore - padAfter} for a window of ${window} with padding [${padBefore}, ${padAfter}] (no output otherwise)`, size);
  }
  return { out: Math.floor(span / stride) + 1, padBefore, padAfter };
}

function resolvePadding(where: string, padding: unknown): { mode: Padding; h?: [number, number]; w?: [number, number] } {
  if (padding === undefined) return { mode: 'valid' };
  if (padding === 'same' || padding === 'valid') return { mode: padding };
  if (Array.isArray(padding) && padding.length === 2 && padding.every((p) => Array.isArray(p) && p.length === 2)) {
    const [[t, b], [l, r]] = padding as number[][];
    const h: [number, number] = [nonNegativeInt(where, 'padding[0][0] (top)', t), nonNegativeInt(where, 'padding[0][1] (bottom)', b)];
    const w: [number, number] = [nonNegativeInt(where, 'padding[1][0] (left)', l), nonNegativeInt(where, 'padding[1][1] (right)', r)];
    return { mode: padding as Padding, h, w };
  }
  return fail(where, "padding 'same', 'valid' or [[top, bottom], [left, right]]", describe(padding));
}

function checkShape4(where: string, arg: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length !== 4) fail(where, `${arg} of rank 4`, shape);
  shape.forEach((d, i) => positiveInt(where, `${arg}[${i}]`, d));
  return shape as number[];
}

/**
 * Resolves a convolution's options against its shapes. Used by the conv ops and by layers for shape inference.
 * @throws ConvkitError naming the argument for bad ranks, channel/group mismatches, non-positive sizes or a padding that leaves no output.
 */
export function conv2dInfo(xShape: Shape, filterShape: Shape, opts: Conv2DOptions = {}, where = 'conv2d'): Conv2DInfo {
  const [batch, inH, inW, inC] = checkShape4(where, 'x shape', [...xShape]);
  const [kH, kW, fIn, outC] = checkShape4(where, 'filter shape', [...filterShape]);
  const [strideH, strideW] = pair(where, 'strides', opts.strides ?? 1);
  const [dilH, dilW] = pair(where, 'dilations', opts.dilations ?? 1);
  const groups = positiveInt(where, 'groups', opts.groups ?? 1);
  if (inC % groups !== 0) fail(where, `x channels divisible by groups ${groups}`, inC);
  if (outC % groups !== 0) fail(where, `filter out-channels divisible by groups ${groups}`, outC);
  if (fIn !== inC / groups) fail(where, `filter in-channels ${inC / groups} (x has ${inC} channels, groups ${groups})`, fIn);
  const pad = resolvePadding(where, opts.padding);
  const h = resolveAxis(where, 'height', inH, (kH - 1) * dilH + 1, strideH, pad.mode, pad.h);
  const w = resolveAxis(where, 'width', inW, (kW - 1) * dilW + 1, strideW, pad.mode, pad.w);
  return {
    batch, inH, inW, inC, outH: h.out, outW: w.out, outC, kH, kW, strideH, strideW, dilH, dilW,
    padTop: h.padBefore, padBottom: h.padAfter, padLeft: w.padBefore, padRight: w.padAfter, groups,
  };
}

export function conv2dOutputShape(xShape: Shape, filterShape: Shape, opts: Conv2DOptions = {}): number[] {
  const i = conv2dInfo(xShape, filterShape, opts);
  return [i.batch, i.outH, i.outW, i.outC];
}

/** Resolves a pooling's options; explicit padding must be smaller than the pool so no window is all padding. */
export function pool2dInfo(xShape: Shape, opts: Pool2DOptions, where = 'pool2d'): Pool2DInfo {
  const [batch, inH, inW, channels] = checkShape4(where, 'x shape', [...xShape]);
  if (!opts || typeof opts !== 'object') fail(where, 'options { poolSize, strides?, padding? }', describe(opts));
  const [poolH, poolW] = pair(where, 'poolSize', opts.poolSize);
  const [strideH, strideW] = pair(where, 'strides', opts.strides ?? opts.poolSize);
  const pad = resolvePadding(where, opts.padding);
  if (pad.h && (pad.h[0] >= poolH || pad.h[1] >= poolH)) fail(where, `padding rows below the pool height ${poolH}`, pad.h);
  if (pad.w && (pad.w[0] >= poolW || pad.w[1] >= poolW)) fail(where, `padding columns below the pool width ${poolW}`, pad.w);
  const h = resolveAxis(where, 'height', inH, poolH, strideH, pad.mode, pad.h);
  const w = resolveAxis(where, 'width', inW, poolW, strideW, pad.mode, pad.w);
  return {
    batch, inH, inW, channels, outH: h.out, outW: w.out, poolH, poolW, strideH, strideW,
    padTop: h.padBefore, padBottom: h.padAfter, padLeft: w.padBefore, padRight: w.padAfter,
  };
}

export function pool2dOutputShape(xShape: Shape, opts: Pool2DOptions): number[] {
  const i = pool2dInfo(xShape, opts);
  return [i.batch, i.outH, i.outW, i.channels];
}

function epilogue(where: string, out: Tensor, fused: FusedOptions, channels: number): Epilogue | undefined {
  const { bias, activation, alpha } = fused;
  if (bias === undefined && (activation === undefined || activation === 'linear')) return undefined;
  if (bias !== undefined) {
    checkTensor(where, 'bias', bias, 1);
    checkShapeEquals(where, 'bias', bias.shape, [channels]);
    checkSameDtype(where, out, bias, ['x', 'bias']);
  }
  const act = activation === undefined ? undefined : oneOf(where, 'activation', activation, ACTIVATIONS);
  const a = act === undefined ? 0 : alpha === undefined ? defaultAlpha(act) : finiteNumber(where, 'alpha', alpha);
  return { bias, activation: act, alpha: a };
}

// ---------------------------------------------------------------- dense

/**
 * a (M,K) x b (K,N) -> (M,N), with optional transposes and a fused bias + activation.
 * @example ops.matmul(a, b, { transposeB: true })
 * @throws ConvkitError when ranks or inner dimensions disagree.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions & FusedOptions = {}): Tensor {
  checkTensor('matmul', 'a', a, 2);
  checkTensor('matmul', 'b', b, 2);
  checkSameDtype('matmul', a, b, ['a', 'b']);
  const tA = !!opts.transposeA;
  const tB = !!opts.transposeB;
  const k = tA ? a.shape[0] : a.shape[1];
  const kb = tB ? b.shape[1] : b.shape[0];
  if (k !== kb) fail('matmul', `b with inner dimension ${k} (a is [${a.shape.join(', ')}]${tA ? ' transposed' : ''})`, `[${b.shape.join(', ')}]${tB ? ' transposed' : ''}`);
  const n = tB ? b.shape[0] : b.shape[1];
  return backend().matmul(a, b, tA, tB, epilogue('matmul', a, opts, n));
}

/** x (..., C) + bias (C). */
export function biasAdd(x: Tensor, bias: Tensor): Tensor {
  checkTensor('biasAdd', 'x', x);
  checkTensor('biasAdd', 'bias', bias, 1);
  checkSameDtype('biasAdd', x, bias, ['x', 'bias']);
  checkShapeEquals('biasAdd', 'bias', bias.shape, [x.shape[x.rank - 1]]);
  return backend().biasAdd(x, bias);
}

/** dy (..., C) -> (C): the bias gradient, summed over every other axis (N·H·W for conv). */
export function biasGrad(dy: Tensor): Tensor {
  checkTensor('biasGrad', 'dy', dy);
  return backend().biasGrad(dy);
}

// ---------------------------------------------------------------- convolution

/**
 * 2-D convolution. x (N,H,W,C) nhwc, filter (KH,KW,C/groups,OC) hwio -> (N,OH,OW,OC); optional fused bias + activation.
 * @example ops.conv2d(x, w, { strides: 2, padding: 'same', dilations: 1, groups: 1 })
 * @throws ConvkitError for rank, channel/group, stride or padding errors.
 */
export function conv2d(x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions = {}): Tensor {
  checkTensor('conv2d', 'x', x, 4);
  checkTensor('conv2d', 'filter', filter, 4);
  checkSameDtype('conv2d', x, filter, ['x', 'filter']);
  const info = conv2dInfo(x.shape, filter.shape, opts);
  return backend().conv2d(x, filter, info, epilogue('conv2d', x, opts, info.outC));
}

/** dL/dx of conv2d: dy (N,OH,OW,OC), filter (KH,KW,C/G,OC) -> dx of inputShape (N,H,W,C). */
export function conv2dBackwardInput(dy: Tensor, filter: Tensor, inputShape: Shape, opts: Conv2DOptions = {}): Tensor {
  const where = 'conv2dBackwardInput';
  checkTensor(where, 'dy', dy, 4);
  checkTensor(where, 'filter', filter, 4);
  checkSameDtype(where, dy, filter, ['dy', 'filter']);
  const info = conv2dInfo(inputShape, filter.shape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.outC]);
  return backend().conv2dBackwardInput(dy, filter, info);
}

/** dL/dfilter of conv2d: x (N,H,W,C), dy (N,OH,OW,OC) -> dfilter of filterShape (KH,KW,C/G,OC). */
export function conv2dBackwardFilter(x: Tensor, dy: Tensor, filterShape: Shape, opts: Conv2DOptions = {}): Tensor {
  const where = 'conv2dBackwardFilter';
  checkTensor(where, 'x', x, 4);
  checkTensor(where, 'dy', dy, 4);
  checkSameDtype(where, x, dy, ['x', 'dy']);
  const info = conv2dInfo(x.shape, filterShape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.outC]);
  return backend().conv2dBackwardFilter(x, dy, info);
}

// ---------------------------------------------------------------- pooling

export function maxPool2d(x: Tensor, opts: Pool2DOptions): Tensor {
  checkTensor('maxPool2d', 'x', x, 4);
  return backend().maxPool2d(x, pool2dInfo(x.shape, opts, 'maxPool2d'));
}

/** Routes each dy to the first maximum of its window in x (row-major window order). */
export function maxPool2dBackward(dy: Tensor, x: Tensor, opts: Pool2DOptions): Tensor {
  const where = 'maxPool2dBackward';
  checkTensor(where, 'dy', dy, 4);
  checkTensor(where, 'x', x, 4);
  checkSameDtype(where, x, dy, ['x', 'dy']);
  const info = pool2dInfo(x.shape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.channels]);
  return backend().maxPool2dBackward(dy, x, info);
}

/** Average pooling; padded cells are left out of the divisor (TF/Keras semantics). */
export function avgPool2d(x: Tensor, opts: Pool2DOptions): Tensor {
  checkTensor('avgPool2d', 'x', x, 4);
  return backend().avgPool2d(x, pool2dInfo(x.shape, opts, 'avgPool2d'));
}

export function avgPool2dBackward(dy: Tensor, inputShape: Shape, opts: Pool2DOptions): Tensor {
  const where = 'avgPool2dBackward';
  checkTensor(where, 'dy', dy, 4);
  const info = pool2dInfo(inputShape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.channels]);
  return backend().avgPool2dBackward(dy, info);
}

/** x (N,H,W,C) -> (N,C). */
export function globalAvgPool2d(x: Tensor): Tensor {
  checkTensor('globalAvgPool2d', 'x', x, 4);
  return backend().globalAvgPool2d(x);
}

export function globalAvgPool2dBackward(dy: Tensor, inputShape: Shape): Tensor {
  const where = 'globalAvgPool2dBackward';
  checkTensor(where, 'dy', dy, 2);
  const [n, , , c] = checkShape4(where, 'inputShape', [...inputShape]);
  checkShapeEquals(where, 'dy', dy.shape, [n, c]);
  return backend().globalAvgPool2dBackward(dy, inputShape);
}

export function globalMaxPool2d(x: Tensor): Tensor {
  checkTensor('globalMaxPool2d', 'x', x, 4);
  return backend().globalMaxPool2d(x);
}

export function globalMaxPool2dBackward(dy: Tensor, x: Tensor): Tensor {
  const where = 'globalMaxPool2dBackward';
  checkTensor(where, 'dy', dy, 2);
  checkTensor(where, 'x', x, 4);
  checkSameDtype(where, x, dy, ['x', 'dy']);
  checkShapeEquals(where, 'dy', dy.shape, [x.shape[0], x.shape[3]]);
  return backend().globalMaxPool2dBackward(dy, x);
}

// ---------------------------------------------------------------- activations

function unary(kind: UnaryKind, x: Tensor, alpha: number): Tensor {
  checkTensor(kind, 'x', x);
  return backend().unary(kind, x, finiteNumber(kind, 'alpha', alpha));
}

function unaryBackward(kind: UnaryKind, dy: Tensor, saved: Tensor, savedName: string, alpha: number): Tensor {
  const where = `${kind}Backward`;
  checkTensor(where, 'dy', dy);
  checkTensor(where, savedName, saved);
  checkSameDtype(where, saved, dy, [savedName, 'dy']);
  checkShapeEquals(where, 'dy', dy.shape, saved.shape);
  return backend().unaryBackward(kind, dy, saved, finiteNumber(where, 'alpha', alpha));
}

export const relu = (x: Tensor): Tensor => unary('relu', x, 0);
export const leakyRelu = (x: Tensor, alpha = 0.2): Tensor => unary('leakyRelu', x, alpha);
export const elu = (x: Tensor, alpha = 1): Tensor => unary('elu', x, alpha);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x, 0);
export const tanh = (x: Tensor): Tensor => unary('tanh', x, 0);
/** dy * (x > 0), from the forward input x. */
export const reluBackward = (dy: Tensor, x: Tensor): Tensor => unaryBackward('relu', dy, x, 'x', 0);
export const leakyReluBackward = (dy: Tensor, x: Tensor, alpha = 0.2): Tensor => unaryBackward('leakyRelu', dy, x, 'x', alpha);
export const eluBackward = (dy: Tensor, x: Tensor, alpha = 1): Tensor => unaryBackward('elu', dy, x, 'x', alpha);
/** dy * y * (1 - y), from the forward output y. */
export const sigmoidBackward = (dy: Tensor, y: Tensor): Tensor => unaryBackward('sigmoid', dy, y, 'y', 0);
/** dy * (1 - y^2), from the forward output y. */
export const tanhBackward = (dy: Tensor, y: Tensor): Tensor => unaryBackward('tanh', dy, y, 'y', 0);

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  checkTensor('softmax', 'x', x);
  return backend().softmax(x);
}

/** dx = y * (dy - sum(dy * y)) over the last axis, from the softmax output y. */
export function softmaxBackward(dy: Tensor, y: Tensor): Tensor {
  checkTensor('softmaxBackward', 'dy', dy);
  checkTensor('softmaxBackward', 'y', y);
  checkSameDtype('softmaxBackward', y, dy, ['y', 'dy']);
  checkShapeEquals('softmaxBackward', 'dy', dy.shape, y.shape);
  return backend().softmaxBackward(dy, y);
}

export type ActivationName = ActivationKind | 'softmax';

/** Any activation by name (layers use this). */
export function activation(kind: ActivationName, x: Tensor, alpha?: number): Tensor {
  if (kind === 'linear') return x;
  if (kind === 'softmax') return softmax(x);
  const k = oneOf('activation', 'kind', kind, ACTIVATIONS) as UnaryKind;
  return unary(k, x, alpha ?? defaultAlpha(k));
}

/** Backward of `activation`: pass the forward input x and output y; each kind uses the one it needs. */
export function activationBackward(kind: ActivationName, dy: Tensor, x: Tensor, y: Tensor, alpha?: number): Tensor {
  switch (kind) {
    case 'linear':
      return dy;
    case 'softmax':
      return softmaxBackward(dy, y);
    case 'sigmoid':
    case 'tanh':
      return unaryBackward(kind, dy, y, 'y', 0);
    default: {
      const k = oneOf('activationBackward', 'kind', kind, ACTIVATIONS) as UnaryKind;
      return unaryBackward(k, dy, x, 'x', alpha ?? defaultAlpha(k));
    }
  }
}

// ---------------------------------------------------------------- loss

export type Labels = Int32Array | Uint8Array | Uint16Array | number[] | Tensor;

/**
 * Fused softmax + cross-entropy over logits (N,C): mean loss over N and dlogits. Stable for large logits.
 * @param labels class ids (N) in [0, C), or a one-hot / probability tensor (N,C).
 * @throws ConvkitError for a label count, range or shape mismatch.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Labels): { loss: number; grad: Tensor } {
  const where = 'softmaxCrossEntropy';
  checkTensor(where, 'logits', logits, 2);
  const [n, c] = logits.shape;
  if (labels instanceof Tensor) {
    checkTensor(where, 'labels', labels, 2);
    checkSameDtype(where, logits, labels, ['logits', 'labels']);
    checkShapeEquals(where, 'labels', labels.shape, [n, c]);
    return backend().softmaxCrossEntropyDense(logits, labels);
  }
  if (!(Array.isArray(labels) || labels instanceof Int32Array || labels instanceof Uint8Array || labels instanceof Uint16Array)) {
    fail(where, 'labels as class ids (Int32Array, Uint8Array, number[]) or a one-hot Tensor', describe(labels));
  }
  if (labels.length !== n) fail(where, `${n} labels (one per logits row)`, labels.length);
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v >= c) fail(where, `labels[${i}] to be a class id in [0, ${c})`, describe(v));
    ids[i] = v;
  }
  return backend().softmaxCrossEntropySparse(logits, ids);
}
