/**
 * The `ops` namespace: every kernel, validated here once and then run on the active backend.
 * Layouts: x (N,H,W,C) nhwc; filter (KH,KW,C/groups,OC) hwio; dense (in,out).
 */
import { currentArena, type OutputArena, withArena } from './backend/arena.js';
import { backend } from './backend/index.js';
import type { ActivationKind, AsyncKernelName, Backend, Conv2DInfo, Epilogue, OptimizerRule, OptimizerStepInfo, Pool2DInfo, PoolActivation, UnaryKind } from './backend/types.js';
import { describe, fail } from './errors.js';
import { checkSize, Tensor, zeros, type Shape } from './tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor, finiteNumber, nonNegativeInt, oneOf, pair, positiveInt } from './validate.js';

export type { ActivationKind, Conv2DInfo, Epilogue, OptimizerRule, OptimizerStepInfo, Pool2DInfo, UnaryKind };

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
    fail(where, `an input ${axis} of at least ${window - padBefore - padAfter} for a window of ${window} with padding [${padBefore}, ${padAfter}] (no output otherwise)`, describe(size));
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
  if (!Array.isArray(shape) || shape.length !== 4) fail(where, `${arg} of rank 4`, describe(shape));
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
  if (inC % groups !== 0) fail(where, `x channels divisible by groups ${groups}`, describe(inC));
  if (outC % groups !== 0) fail(where, `filter out-channels divisible by groups ${groups}`, describe(outC));
  if (fIn !== inC / groups) fail(where, `filter in-channels ${inC / groups} (x has ${inC} channels, groups ${groups})`, describe(fIn));
  const pad = resolvePadding(where, opts.padding);
  const h = resolveAxis(where, 'height', inH, (kH - 1) * dilH + 1, strideH, pad.mode, pad.h);
  const w = resolveAxis(where, 'width', inW, (kW - 1) * dilW + 1, strideW, pad.mode, pad.w);
  checkSize(where, 'an output', [batch, h.out, w.out, outC]);
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
  if (pad.h && (pad.h[0] >= poolH || pad.h[1] >= poolH)) fail(where, `padding rows below the pool height ${poolH}`, describe(pad.h));
  if (pad.w && (pad.w[0] >= poolW || pad.w[1] >= poolW)) fail(where, `padding columns below the pool width ${poolW}`, describe(pad.w));
  const h = resolveAxis(where, 'height', inH, poolH, strideH, pad.mode, pad.h);
  const w = resolveAxis(where, 'width', inW, poolW, strideW, pad.mode, pad.w);
  checkSize(where, 'an output', [batch, h.out, w.out, channels]);
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

// ---------------------------------------------------------------- dispatch

/**
 * How an op reaches its kernel: synchronously, or (the `...Async` ops) as a Promise computed off the
 * event loop when the backend can (native), else computed at once and wrapped, or later as an OpRequest
 * (see `request`). Each op validates once, in a `*With(call, ...)` function that all its forms share.
 */
export type Call<R> = <K extends AsyncKernelName>(kernel: K, ...args: Parameters<Backend[K]>) => R;

const runSync: Call<Tensor> = (kernel, ...args) => (backend()[kernel] as (...a: typeof args) => Tensor)(...args);
/**
 * The async call of one driver: kernels go to the compute thread, except small ones (see INLINE_OP_MICROS), which run on
 * this thread. `budget.spent` counts the inline work since this driver last let the event loop run; past
 * INLINE_TURN_MICROS it yields a turn first, so one program never holds the loop for long and concurrent
 * programs take turns in order.
 */
function asyncCall(budget: { spent: number }): Call<Promise<Tensor>> {
  return async (kernel, ...args) => {
    const b = backend();
    const sync = b[kernel] as (...a: typeof args) => Tensor;
    if (!b.async) return sync(...args);
    const micros = estimateMicros(kernel, args);
    if (micros > INLINE_OP_MICROS) {
      const out = await b.async[kernel](...args);
      budget.spent = 0; // the result came back through the event loop: timers and I/O had their turn
      return out;
    }
    if (budget.spent + micros > INLINE_TURN_MICROS) {
      const arena = currentArena(); // the caller's, which is no longer current after the await
      await nextTurn();
      budget.spent = micros;
      return withArena(arena, () => sync(...args));
    }
    budget.spent += micros;
    return sync(...args);
  };
}

const runAsync = asyncCall({ spent: 0 });

// Handing a kernel to the compute thread and back costs about 120 us here (a thread wake-up each way and a trip
// through the event loop), more than a small op computes: a LeNet-sized layer at batch 64, a bias gradient, a pooling. Such ops
// run on the calling thread instead. Estimates are rough (80 GFLOP/s of arithmetic, 10 GB/s of memory
// traffic: what small convolutions and poolings reach on two Zen 3 cores); they only need the order of
// magnitude. At half those rates (40 and 5) the LeNet-5 batches of the batcher made two worker trips each
// and it served 25k requests/s at 64 clients; at these, none, and 47k.
const INLINE_OP_MICROS = 400;
const INLINE_TURN_MICROS = 500;

// The native kernels already leave the event loop free, but the reference backend's async ops resolve at
// once, so without a turn at each batch boundary a long fit would starve timers and I/O there.
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function estimateMicros(kernel: AsyncKernelName, args: unknown[]): number {
  const flops = (f: number): number => f / 80e3;
  const bytes = (b: number): number => b / 10e3;
  switch (kernel) {
    case 'matmul': {
      const [a, b, ta, tb] = args as [Tensor, Tensor, boolean, boolean];
      const [m, k] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
      return flops(2 * m * k * (tb ? b.shape[0] : b.shape[1]));
    }
    case 'conv2d':
    case 'conv2dMaxPool':
    case 'conv2dBackwardInput':
    case 'conv2dBackwardFilter': {
      const i = args[2] as Conv2DInfo;
      return flops((2 * i.batch * i.outH * i.outW * i.outC * i.kH * i.kW * i.inC) / i.groups);
    }
    case 'optimizerStep':
      return bytes(5 * 4 * (args[0] as Tensor).size);
    default: {
      // elementwise, pooling, softmax: proportional to the tensors read and written (about twice the inputs)
      let n = 0;
      for (const a of args) if (a instanceof Tensor) n += a.size;
      return bytes(2 * 4 * n);
    }
  }
}

// ---------------------------------------------------------------- dense

function matmulWith<R>(call: Call<R>, a: Tensor, b: Tensor, opts: MatmulOptions & FusedOptions): R {
  checkTensor('matmul', 'a', a, 2);
  checkTensor('matmul', 'b', b, 2);
  checkSameDtype('matmul', a, b, ['a', 'b']);
  const tA = !!opts.transposeA;
  const tB = !!opts.transposeB;
  const k = tA ? a.shape[0] : a.shape[1];
  const kb = tB ? b.shape[1] : b.shape[0];
  if (k !== kb) fail('matmul', `b with inner dimension ${k} (a is [${a.shape.join(', ')}]${tA ? ' transposed' : ''})`, `[${b.shape.join(', ')}]${tB ? ' transposed' : ''}`);
  const n = tB ? b.shape[0] : b.shape[1];
  return call('matmul', a, b, tA, tB, epilogue('matmul', a, opts, n));
}

/**
 * a (M,K) x b (K,N) -> (M,N), with optional transposes and a fused bias + activation.
 * @example ops.matmul(a, b, { transposeB: true })
 * @throws ConvkitError when ranks or inner dimensions disagree.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions & FusedOptions = {}): Tensor {
  return matmulWith(runSync, a, b, opts);
}
/** matmul computed off the event loop (native backend); do not write a or b until it resolves. */
export async function matmulAsync(a: Tensor, b: Tensor, opts: MatmulOptions & FusedOptions = {}): Promise<Tensor> {
  return matmulWith(runAsync, a, b, opts);
}

function biasAddWith<R>(call: Call<R>, x: Tensor, bias: Tensor): R {
  checkTensor('biasAdd', 'x', x);
  checkTensor('biasAdd', 'bias', bias, 1);
  checkSameDtype('biasAdd', x, bias, ['x', 'bias']);
  checkShapeEquals('biasAdd', 'bias', bias.shape, [x.shape[x.rank - 1]]);
  return call('biasAdd', x, bias);
}

/** x (..., C) + bias (C). */
export function biasAdd(x: Tensor, bias: Tensor): Tensor {
  return biasAddWith(runSync, x, bias);
}
export async function biasAddAsync(x: Tensor, bias: Tensor): Promise<Tensor> {
  return biasAddWith(runAsync, x, bias);
}

function biasGradWith<R>(call: Call<R>, dy: Tensor): R {
  return call('biasGrad', checkTensor('biasGrad', 'dy', dy));
}

/** dy (..., C) -> (C): the bias gradient, summed over every other axis (N·H·W for conv). */
export function biasGrad(dy: Tensor): Tensor {
  return biasGradWith(runSync, dy);
}
export async function biasGradAsync(dy: Tensor): Promise<Tensor> {
  return biasGradWith(runAsync, dy);
}

// ---------------------------------------------------------------- convolution

function conv2dWith<R>(call: Call<R>, x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions): R {
  checkTensor('conv2d', 'x', x, 4);
  checkTensor('conv2d', 'filter', filter, 4);
  checkSameDtype('conv2d', x, filter, ['x', 'filter']);
  const info = conv2dInfo(x.shape, filter.shape, opts);
  return call('conv2d', x, filter, info, epilogue('conv2d', x, opts, info.outC));
}

/**
 * 2-D convolution. x (N,H,W,C) nhwc, filter (KH,KW,C/groups,OC) hwio -> (N,OH,OW,OC); optional fused bias + activation.
 * @example ops.conv2d(x, w, { strides: 2, padding: 'same', dilations: 1, groups: 1 })
 * @throws ConvkitError for rank, channel/group, stride or padding errors.
 */
export function conv2d(x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions = {}): Tensor {
  return conv2dWith(runSync, x, filter, opts);
}
/** conv2d computed off the event loop (native backend); do not write x or filter until it resolves. */
export async function conv2dAsync(x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions = {}): Promise<Tensor> {
  return conv2dWith(runAsync, x, filter, opts);
}

function conv2dMaxPoolWith<R>(call: Call<R>, x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions, pool: Pool2DOptions, convOutput?: Tensor): R {
  const where = 'conv2dMaxPool';
  checkTensor(where, 'x', x, 4);
  checkTensor(where, 'filter', filter, 4);
  checkSameDtype(where, x, filter, ['x', 'filter']);
  const info = conv2dInfo(x.shape, filter.shape, opts, where);
  const convShape = [info.batch, info.outH, info.outW, info.outC];
  const poolInfo = pool2dInfo(convShape, pool, where);
  if (convOutput !== undefined) {
    checkTensor(where, 'convOutput', convOutput, 4);
    checkSameDtype(where, x, convOutput, ['x', 'convOutput']);
    checkShapeEquals(where, 'convOutput', convOutput.shape, convShape);
  }
  return call('conv2dMaxPool', x, filter, info, poolInfo, epilogue(where, x, opts, info.outC), convOutput);
}

/**
 * maxPool2d(conv2d(x, filter, opts), pool) as one op, with the same result: the convolution's output is pooled
 * a few images at a time while it is in cache instead of being written out whole and read back (what a
 * model runs for a Conv2D layer followed by MaxPooling2D). With `convOutput` (a tensor of the convolution's
 * output shape), the convolution's output is also written there, as training keeps it for the backward pass.
 * @example ops.conv2dMaxPool(x, w, { padding: 'same', activation: 'relu' }, { poolSize: 2 })
 * @throws ConvkitError as conv2d and maxPool2d do, and for a convOutput of another shape or dtype.
 */
export function conv2dMaxPool(x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions, pool: Pool2DOptions, convOutput?: Tensor): Tensor {
  return conv2dMaxPoolWith(runSync, x, filter, opts, pool, convOutput);
}
/** conv2dMaxPool computed off the event loop (native backend); do not touch x, filter or convOutput until it resolves. */
export async function conv2dMaxPoolAsync(x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions, pool: Pool2DOptions, convOutput?: Tensor): Promise<Tensor> {
  return conv2dMaxPoolWith(runAsync, x, filter, opts, pool, convOutput);
}

function conv2dBackwardInputWith<R>(call: Call<R>, dy: Tensor, filter: Tensor, inputShape: Shape, opts: Conv2DOptions): R {
  const where = 'conv2dBackwardInput';
  checkTensor(where, 'dy', dy, 4);
  checkTensor(where, 'filter', filter, 4);
  checkSameDtype(where, dy, filter, ['dy', 'filter']);
  const info = conv2dInfo(inputShape, filter.shape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.outC]);
  return call('conv2dBackwardInput', dy, filter, info);
}

/** dL/dx of conv2d: dy (N,OH,OW,OC), filter (KH,KW,C/G,OC) -> dx of inputShape (N,H,W,C). */
export function conv2dBackwardInput(dy: Tensor, filter: Tensor, inputShape: Shape, opts: Conv2DOptions = {}): Tensor {
  return conv2dBackwardInputWith(runSync, dy, filter, inputShape, opts);
}
export async function conv2dBackwardInputAsync(dy: Tensor, filter: Tensor, inputShape: Shape, opts: Conv2DOptions = {}): Promise<Tensor> {
  return conv2dBackwardInputWith(runAsync, dy, filter, inputShape, opts);
}

function conv2dBackwardFilterWith<R>(call: Call<R>, x: Tensor, dy: Tensor, filterShape: Shape, opts: Conv2DOptions): R {
  const where = 'conv2dBackwardFilter';
  checkTensor(where, 'x', x, 4);
  checkTensor(where, 'dy', dy, 4);
  checkSameDtype(where, x, dy, ['x', 'dy']);
  const info = conv2dInfo(x.shape, filterShape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.outC]);
  return call('conv2dBackwardFilter', x, dy, info);
}

/** dL/dfilter of conv2d: x (N,H,W,C), dy (N,OH,OW,OC) -> dfilter of filterShape (KH,KW,C/G,OC). */
export function conv2dBackwardFilter(x: Tensor, dy: Tensor, filterShape: Shape, opts: Conv2DOptions = {}): Tensor {
  return conv2dBackwardFilterWith(runSync, x, dy, filterShape, opts);
}
export async function conv2dBackwardFilterAsync(x: Tensor, dy: Tensor, filterShape: Shape, opts: Conv2DOptions = {}): Promise<Tensor> {
  return conv2dBackwardFilterWith(runAsync, x, dy, filterShape, opts);
}

// ---------------------------------------------------------------- pooling

function poolWith<R>(call: Call<R>, kernel: 'maxPool2d' | 'avgPool2d', x: Tensor, opts: Pool2DOptions): R {
  checkTensor(kernel, 'x', x, 4);
  return call(kernel, x, pool2dInfo(x.shape, opts, kernel));
}

export function maxPool2d(x: Tensor, opts: Pool2DOptions): Tensor {
  return poolWith(runSync, 'maxPool2d', x, opts);
}
export async function maxPool2dAsync(x: Tensor, opts: Pool2DOptions): Promise<Tensor> {
  return poolWith(runAsync, 'maxPool2d', x, opts);
}

/** Average pooling; padded cells are left out of the divisor (TF/Keras semantics). */
export function avgPool2d(x: Tensor, opts: Pool2DOptions): Tensor {
  return poolWith(runSync, 'avgPool2d', x, opts);
}
export async function avgPool2dAsync(x: Tensor, opts: Pool2DOptions): Promise<Tensor> {
  return poolWith(runAsync, 'avgPool2d', x, opts);
}

/** An activation a max pooling's backward can apply (see MaxPool2DBackwardOptions). */
export interface PooledActivation {
  activation: ActivationKind;
  alpha?: number;
}

export interface MaxPool2DBackwardOptions extends Pool2DOptions {
  /**
   * The activation whose output x is: relu, leakyRelu (alpha > 0), sigmoid or tanh, whose derivatives their
   * outputs give. The result is then the gradient at that activation's input, what activationBackward of the
   * plain result would give, in one pass. Default linear (none).
   */
  activation?: ActivationKind;
  /** leakyRelu's slope, default 0.2. */
  alpha?: number;
}

const POOL_ACTIVATIONS: readonly ActivationKind[] = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh'];

function poolActivation(where: string, opts: MaxPool2DBackwardOptions): PoolActivation | undefined {
  const kind = oneOf(where, 'activation', opts.activation ?? 'linear', POOL_ACTIVATIONS);
  if (kind === 'linear' || kind === 'elu') return undefined;
  if (kind !== 'leakyRelu') return { kind, alpha: 0 };
  const alpha = opts.alpha === undefined ? defaultAlpha(kind) : finiteNumber(where, 'alpha', opts.alpha);
  if (!(alpha > 0)) fail(where, 'alpha > 0 for leakyRelu (its derivative is read from its output)', describe(alpha));
  return { kind, alpha };
}

function maxPool2dBackwardWith<R>(call: Call<R>, dy: Tensor, x: Tensor, opts: MaxPool2DBackwardOptions): R {
  const where = 'maxPool2dBackward';
  checkTensor(where, 'dy', dy, 4);
  checkTensor(where, 'x', x, 4);
  checkSameDtype(where, x, dy, ['x', 'dy']);
  const info = pool2dInfo(x.shape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.channels]);
  return call('maxPool2dBackward', dy, x, info, poolActivation(where, opts));
}

/**
 * Routes each dy to the first maximum of its window in x (row-major window order); with `activation`, through
 * that activation too (see MaxPool2DBackwardOptions).
 */
export function maxPool2dBackward(dy: Tensor, x: Tensor, opts: MaxPool2DBackwardOptions): Tensor {
  return maxPool2dBackwardWith(runSync, dy, x, opts);
}
export async function maxPool2dBackwardAsync(dy: Tensor, x: Tensor, opts: MaxPool2DBackwardOptions): Promise<Tensor> {
  return maxPool2dBackwardWith(runAsync, dy, x, opts);
}

function avgPool2dBackwardWith<R>(call: Call<R>, dy: Tensor, inputShape: Shape, opts: Pool2DOptions): R {
  const where = 'avgPool2dBackward';
  checkTensor(where, 'dy', dy, 4);
  const info = pool2dInfo(inputShape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.channels]);
  return call('avgPool2dBackward', dy, info);
}

export function avgPool2dBackward(dy: Tensor, inputShape: Shape, opts: Pool2DOptions): Tensor {
  return avgPool2dBackwardWith(runSync, dy, inputShape, opts);
}
export async function avgPool2dBackwardAsync(dy: Tensor, inputShape: Shape, opts: Pool2DOptions): Promise<Tensor> {
  return avgPool2dBackwardWith(runAsync, dy, inputShape, opts);
}

function globalPoolWith<R>(call: Call<R>, kernel: 'globalAvgPool2d' | 'globalMaxPool2d', x: Tensor): R {
  return call(kernel, checkTensor(kernel, 'x', x, 4));
}

/** x (N,H,W,C) -> (N,C). */
export function globalAvgPool2d(x: Tensor): Tensor {
  return globalPoolWith(runSync, 'globalAvgPool2d', x);
}
export async function globalAvgPool2dAsync(x: Tensor): Promise<Tensor> {
  return globalPoolWith(runAsync, 'globalAvgPool2d', x);
}
export function globalMaxPool2d(x: Tensor): Tensor {
  return globalPoolWith(runSync, 'globalMaxPool2d', x);
}
export async function globalMaxPool2dAsync(x: Tensor): Promise<Tensor> {
  return globalPoolWith(runAsync, 'globalMaxPool2d', x);
}

function globalAvgPool2dBackwardWith<R>(call: Call<R>, dy: Tensor, inputShape: Shape): R {
  const where = 'globalAvgPool2dBackward';
  checkTensor(where, 'dy', dy, 2);
  const [n, , , c] = checkShape4(where, 'inputShape', [...inputShape]);
  checkShapeEquals(where, 'dy', dy.shape, [n, c]);
  return call('globalAvgPool2dBackward', dy, inputShape);
}

export function globalAvgPool2dBackward(dy: Tensor, inputShape: Shape): Tensor {
  return globalAvgPool2dBackwardWith(runSync, dy, inputShape);
}
export async function globalAvgPool2dBackwardAsync(dy: Tensor, inputShape: Shape): Promise<Tensor> {
  return globalAvgPool2dBackwardWith(runAsync, dy, inputShape);
}

function globalMaxPool2dBackwardWith<R>(call: Call<R>, dy: Tensor, x: Tensor): R {
  const where = 'globalMaxPool2dBackward';
  checkTensor(where, 'dy', dy, 2);
  checkTensor(where, 'x', x, 4);
  checkSameDtype(where, x, dy, ['x', 'dy']);
  checkShapeEquals(where, 'dy', dy.shape, [x.shape[0], x.shape[3]]);
  return call('globalMaxPool2dBackward', dy, x);
}

export function globalMaxPool2dBackward(dy: Tensor, x: Tensor): Tensor {
  return globalMaxPool2dBackwardWith(runSync, dy, x);
}
export async function globalMaxPool2dBackwardAsync(dy: Tensor, x: Tensor): Promise<Tensor> {
  return globalMaxPool2dBackwardWith(runAsync, dy, x);
}

// ---------------------------------------------------------------- activations

function unaryWith<R>(call: Call<R>, kind: UnaryKind, x: Tensor, alpha: number): R {
  checkTensor(kind, 'x', x);
  return call('unary', kind, x, finiteNumber(kind, 'alpha', alpha));
}

function unaryBackwardWith<R>(call: Call<R>, kind: UnaryKind, dy: Tensor, saved: Tensor, savedName: string, alpha: number): R {
  const where = `${kind}Backward`;
  checkTensor(where, 'dy', dy);
  checkTensor(where, savedName, saved);
  checkSameDtype(where, saved, dy, [savedName, 'dy']);
  checkShapeEquals(where, 'dy', dy.shape, saved.shape);
  return call('unaryBackward', kind, dy, saved, finiteNumber(where, 'alpha', alpha));
}

export const relu = (x: Tensor): Tensor => unaryWith(runSync, 'relu', x, 0);
export const leakyRelu = (x: Tensor, alpha = 0.2): Tensor => unaryWith(runSync, 'leakyRelu', x, alpha);
export const elu = (x: Tensor, alpha = 1): Tensor => unaryWith(runSync, 'elu', x, alpha);
export const sigmoid = (x: Tensor): Tensor => unaryWith(runSync, 'sigmoid', x, 0);
export const tanh = (x: Tensor): Tensor => unaryWith(runSync, 'tanh', x, 0);
/** dy * (x > 0), from the forward input x. */
export const reluBackward = (dy: Tensor, x: Tensor): Tensor => unaryBackwardWith(runSync, 'relu', dy, x, 'x', 0);
export const leakyReluBackward = (dy: Tensor, x: Tensor, alpha = 0.2): Tensor => unaryBackwardWith(runSync, 'leakyRelu', dy, x, 'x', alpha);
export const eluBackward = (dy: Tensor, x: Tensor, alpha = 1): Tensor => unaryBackwardWith(runSync, 'elu', dy, x, 'x', alpha);
/** dy * y * (1 - y), from the forward output y. */
export const sigmoidBackward = (dy: Tensor, y: Tensor): Tensor => unaryBackwardWith(runSync, 'sigmoid', dy, y, 'y', 0);
/** dy * (1 - y^2), from the forward output y. */
export const tanhBackward = (dy: Tensor, y: Tensor): Tensor => unaryBackwardWith(runSync, 'tanh', dy, y, 'y', 0);

function softmaxWith<R>(call: Call<R>, x: Tensor): R {
  return call('softmax', checkTensor('softmax', 'x', x));
}

function softmaxBackwardWith<R>(call: Call<R>, dy: Tensor, y: Tensor): R {
  checkTensor('softmaxBackward', 'dy', dy);
  checkTensor('softmaxBackward', 'y', y);
  checkSameDtype('softmaxBackward', y, dy, ['y', 'dy']);
  checkShapeEquals('softmaxBackward', 'dy', dy.shape, y.shape);
  return call('softmaxBackward', dy, y);
}

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  return softmaxWith(runSync, x);
}

/** dx = y * (dy - sum(dy * y)) over the last axis, from the softmax output y. */
export function softmaxBackward(dy: Tensor, y: Tensor): Tensor {
  return softmaxBackwardWith(runSync, dy, y);
}

export type ActivationName = ActivationKind | 'softmax';

function activationWith<R>(call: Call<R>, done: (t: Tensor) => R, kind: ActivationName, x: Tensor, alpha?: number): R {
  if (kind === 'linear') return done(x);
  if (kind === 'softmax') return softmaxWith(call, x);
  const k = oneOf('activation', 'kind', kind, ACTIVATIONS) as UnaryKind;
  return unaryWith(call, k, x, alpha ?? defaultAlpha(k));
}

function activationBackwardWith<R>(call: Call<R>, done: (t: Tensor) => R, kind: ActivationName, dy: Tensor, x: Tensor, y: Tensor, alpha?: number): R {
  switch (kind) {
    case 'linear':
      return done(dy);
    case 'softmax':
      return softmaxBackwardWith(call, dy, y);
    case 'sigmoid':
    case 'tanh':
      return unaryBackwardWith(call, kind, dy, y, 'y', 0);
    default: {
      const k = oneOf('activationBackward', 'kind', kind, ACTIVATIONS) as UnaryKind;
      return unaryBackwardWith(call, k, dy, x, 'x', alpha ?? defaultAlpha(k));
    }
  }
}

const same = (t: Tensor): Tensor => t;
const resolved = (t: Tensor): Promise<Tensor> => Promise.resolve(t);

/** Any activation by name (layers use this). */
export function activation(kind: ActivationName, x: Tensor, alpha?: number): Tensor {
  return activationWith(runSync, same, kind, x, alpha);
}
export async function activationAsync(kind: ActivationName, x: Tensor, alpha?: number): Promise<Tensor> {
  return activationWith(runAsync, resolved, kind, x, alpha);
}

/** Backward of `activation`: pass the forward input x and output y; each kind uses the one it needs. */
export function activationBackward(kind: ActivationName, dy: Tensor, x: Tensor, y: Tensor, alpha?: number): Tensor {
  return activationBackwardWith(runSync, same, kind, dy, x, y, alpha);
}
export async function activationBackwardAsync(kind: ActivationName, dy: Tensor, x: Tensor, y: Tensor, alpha?: number): Promise<Tensor> {
  return activationBackwardWith(runAsync, resolved, kind, dy, x, y, alpha);
}

// ---------------------------------------------------------------- dropout

/**
 * Inverted dropout of x: each element is kept with probability 1 - rate and scaled by 1 / (1 - rate), else
 * zeroed. The mask is drawn from Rng(seed) (src/random.ts), element i from the i-th draw: the same seed gives
 * the same mask on either backend. `mask` (x's shape and dtype; allocated when not given) receives it, for
 * dropout's backward: multiply(dy, mask).
 * @example const { y, mask } = ops.dropout(x, 0.4, seed)
 * @throws ConvkitError for a rate outside [0, 1), a seed not an integer in [0, 2^32), or a mismatched mask.
 */
export function dropout(x: Tensor, rate: number, seed: number, mask?: Tensor): { y: Tensor; mask: Tensor } {
  const where = 'dropout';
  checkTensor(where, 'x', x);
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) fail(where, 'rate in [0, 1)', describe(rate));
  if (!Number.isInteger(seed) || seed < 0 || seed >= 4294967296) fail(where, 'seed to be an integer in [0, 2^32)', describe(seed));
  if (mask === undefined) {
    mask = zeros(x.shape, x.dtype);
  } else {
    checkTensor(where, 'mask', mask);
    checkSameDtype(where, x, mask, ['x', 'mask']);
    checkShapeEquals(where, 'mask', mask.shape, x.shape);
  }
  return { y: backend().dropout(x, rate, seed, mask), mask };
}

/** a * b elementwise. @throws ConvkitError unless a and b have one shape and dtype. */
export function multiply(a: Tensor, b: Tensor): Tensor {
  checkTensor('multiply', 'a', a);
  checkTensor('multiply', 'b', b);
  checkSameDtype('multiply', a, b, ['a', 'b']);
  checkShapeEquals('multiply', 'b', b.shape, a.shape);
  return backend().multiply(a, b);
}

// ---------------------------------------------------------------- finiteness

/**
 * The index of the first NaN or ±Inf in x (flat, row-major), or -1 when every value is finite: one
 * vectorized pass on the native backend.
 * @example if (ops.firstNonFinite(x) >= 0) throw new Error('bad pixels')
 */
export function firstNonFinite(x: Tensor): number {
  if (!(x instanceof Tensor)) fail('firstNonFinite', 'x to be a Tensor', describe(x));
  return x.size === 0 ? -1 : backend().firstNonFinite(x);
}

// ---------------------------------------------------------------- optimizer

const SLOT_COUNTS: Record<OptimizerRule, (s: OptimizerStepInfo) => number> = {
  sgd: (s) => (s.momentum > 0 ? 1 : 0),
  adam: () => 2,
  rmsprop: (s) => (s.momentum > 0 ? 2 : 1),
  adagrad: () => 1,
  adadelta: () => 2,
};

function optimizerStepWith<R>(call: Call<R>, w: Tensor, g: Tensor, slots: readonly Tensor[], info: OptimizerStepInfo): R {
  const where = 'optimizerStep';
  checkTensor(where, 'w', w);
  checkTensor(where, 'g', g);
  checkSameDtype(where, w, g, ['w', 'g']);
  checkShapeEquals(where, 'g', g.shape, w.shape);
  const count = SLOT_COUNTS[info?.rule]?.(info);
  if (count === undefined) fail(where, `a rule, one of ${Object.keys(SLOT_COUNTS).join(', ')}`, info?.rule);
  if (!Array.isArray(slots) || slots.length !== count) fail(where, `${count} slot tensors for ${info.rule}`, Array.isArray(slots) ? slots.length : slots);
  slots.forEach((t, i) => {
    checkTensor(where, `slots[${i}]`, t);
    checkSameDtype(where, w, t, ['w', `slots[${i}]`]);
    checkShapeEquals(where, `slots[${i}]`, t.shape, w.shape);
  });
  for (const k of ['lr', 'scale', 'decay', 'momentum', 'beta1', 'beta2', 'rho', 'epsilon'] as const) finiteNumber(where, k, info[k]);
  return call('optimizerStep', w, g, slots, { ...info, nesterov: !!info.nesterov, checkFinite: info.checkFinite !== false });
}

/**
 * One optimizer rule applied in place to a weight and its slots (the optimizers' step, for custom loops);
 * returns w. Both backends give the same bits for float32.
 * @throws ConvkitError when shapes, dtypes, the slot count or a hyperparameter do not fit the rule; a
 * NonFiniteError (a ConvkitError with the first bad `index`) when the update leaves a weight NaN or ±Inf,
 * unless info.checkFinite is false.
 */
export function optimizerStep(w: Tensor, g: Tensor, slots: readonly Tensor[], info: OptimizerStepInfo): Tensor {
  return optimizerStepWith(runSync, w, g, slots, info);
}
/** optimizerStep computed off the event loop (native backend); do not touch w, g or the slots until it resolves. */
export async function optimizerStepAsync(w: Tensor, g: Tensor, slots: readonly Tensor[], info: OptimizerStepInfo): Promise<Tensor> {
  return optimizerStepWith(runAsync, w, g, slots, info);
}

// ---------------------------------------------------------------- programs

/**
 * An op checked and resolved but not yet run: the third kind of call beside the synchronous and the
 * `...Async` ops. Code that must run both ways (a layer's forward and backward) is written once as a
 * generator that yields these, an OpProgram, and a driver runs every request with one kind of kernel.
 */
export interface OpRequest {
  run<R>(call: Call<R>, done: (t: Tensor) => R): R;
}

/**
 * A generator of OpRequests that receives each op's result at its `yield` and returns T. A bare `yield`
 * marks a batch boundary, where runProgramAsync lets the event loop run.
 */
export type OpProgram<T> = Generator<OpRequest | undefined, T, Tensor>;

const toRequest: Call<OpRequest> = (kernel, ...args) => ({ run: (call) => call(kernel, ...args) });
const ready = (t: Tensor): OpRequest => ({ run: (_call, done) => done(t) });

/**
 * The ops with an `...Async` twin, as OpRequests: the same checks, throwing the same errors, when the
 * request is made; the kernel runs when a driver takes it.
 * @example const y: Tensor = yield ops.request.conv2d(x, w, { padding: 'same' }); // inside an OpProgram
 * @throws ConvkitError as the op of the same name does.
 */
export const request = {
  matmul: (a: Tensor, b: Tensor, opts: MatmulOptions & FusedOptions = {}): OpRequest => matmulWith(toRequest, a, b, opts),
  biasAdd: (x: Tensor, bias: Tensor): OpRequest => biasAddWith(toRequest, x, bias),
  biasGrad: (dy: Tensor): OpRequest => biasGradWith(toRequest, dy),
  conv2d: (x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions = {}): OpRequest => conv2dWith(toRequest, x, filter, opts),
  conv2dMaxPool: (x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions, pool: Pool2DOptions, convOutput?: Tensor): OpRequest =>
    conv2dMaxPoolWith(toRequest, x, filter, opts, pool, convOutput),
  conv2dBackwardInput: (dy: Tensor, filter: Tensor, inputShape: Shape, opts: Conv2DOptions = {}): OpRequest =>
    conv2dBackwardInputWith(toRequest, dy, filter, inputShape, opts),
  conv2dBackwardFilter: (x: Tensor, dy: Tensor, filterShape: Shape, opts: Conv2DOptions = {}): OpRequest =>
    conv2dBackwardFilterWith(toRequest, x, dy, filterShape, opts),
  maxPool2d: (x: Tensor, opts: Pool2DOptions): OpRequest => poolWith(toRequest, 'maxPool2d', x, opts),
  maxPool2dBackward: (dy: Tensor, x: Tensor, opts: MaxPool2DBackwardOptions): OpRequest => maxPool2dBackwardWith(toRequest, dy, x, opts),
  avgPool2d: (x: Tensor, opts: Pool2DOptions): OpRequest => poolWith(toRequest, 'avgPool2d', x, opts),
  avgPool2dBackward: (dy: Tensor, inputShape: Shape, opts: Pool2DOptions): OpRequest => avgPool2dBackwardWith(toRequest, dy, inputShape, opts),
  globalAvgPool2d: (x: Tensor): OpRequest => globalPoolWith(toRequest, 'globalAvgPool2d', x),
  globalAvgPool2dBackward: (dy: Tensor, inputShape: Shape): OpRequest => globalAvgPool2dBackwardWith(toRequest, dy, inputShape),
  globalMaxPool2d: (x: Tensor): OpRequest => globalPoolWith(toRequest, 'globalMaxPool2d', x),
  globalMaxPool2dBackward: (dy: Tensor, x: Tensor): OpRequest => globalMaxPool2dBackwardWith(toRequest, dy, x),
  activation: (kind: ActivationName, x: Tensor, alpha?: number): OpRequest => activationWith(toRequest, ready, kind, x, alpha),
  activationBackward: (kind: ActivationName, dy: Tensor, x: Tensor, y: Tensor, alpha?: number): OpRequest =>
    activationBackwardWith(toRequest, ready, kind, dy, x, y, alpha),
  optimizerStep: (w: Tensor, g: Tensor, slots: readonly Tensor[], info: OptimizerStepInfo): OpRequest =>
    optimizerStepWith(toRequest, w, g, slots, info),
};

/**
 * Runs a program to its end on this thread with the synchronous kernels; batch boundaries pass at once.
 * A kernel's error is thrown into the program at its `yield`, so its `finally` blocks run. With an arena,
 * native op outputs come from it and return to it at every batch boundary (see OutputArena): only for
 * programs that read nothing of a batch's tensors after its boundary.
 */
export function runProgramSync<T>(program: OpProgram<T>, arena?: OutputArena): T {
  const resume = (fn: () => IteratorResult<OpRequest | undefined, T>) => withArena(arena, fn);
  let step = resume(() => program.next());
  while (!step.done) {
    const op = step.value;
    if (op === undefined) {
      arena?.reset();
      step = resume(() => program.next());
      continue;
    }
    let out: Tensor;
    try {
      out = withArena(arena, () => op.run(runSync, same));
    } catch (e) {
      step = resume(() => program.throw(e));
      continue;
    }
    step = resume(() => program.next(out));
  }
  return step.value;
}

/**
 * Runs a program with the `...Async` kernels (off the event loop on the native backend), one op after the
 * other: the same kernels in the same order as runProgramSync, so the same results bit for bit.
 */
export async function runProgramAsync<T>(program: OpProgram<T>, arena?: OutputArena): Promise<T> {
  const resume = (fn: () => IteratorResult<OpRequest | undefined, T>) => withArena(arena, fn);
  const budget = { spent: 0 };
  const call = asyncCall(budget);
  let step = resume(() => program.next());
  while (!step.done) {
    const op = step.value;
    if (op === undefined) {
      arena?.reset();
      await nextTurn();
      budget.spent = 0;
      step = resume(() => program.next());
      continue;
    }
    let out: Tensor;
    try {
      out = await withArena(arena, () => op.run(call, resolved));
    } catch (e) {
      step = resume(() => program.throw(e));
      continue;
    }
    step = resume(() => program.next(out));
  }
  return step.value;
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
  if (labels.length !== n) fail(where, `${n} labels (one per logits row)`, describe(labels.length));
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v >= c) fail(where, `labels[${i}] to be a class id in [0, ${c})`, describe(v));
    ids[i] = v;
  }
  return backend().softmaxCrossEntropySparse(logits, ids);
}
