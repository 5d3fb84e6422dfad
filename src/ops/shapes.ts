/**
 * Shape resolution shared by the op families and by layers' shape inference: padding, strides and dilations
 * turned into the plain *Info records the backends take. Layouts: x (N,H,W,C) nhwc, filter (KH,KW,C/G,OC) hwio.
 */
import type { Conv2DInfo, Pool2DInfo } from '../backend/types.js';
import { describe, fail } from '../errors.js';
import { checkSize, type Shape } from '../tensor.js';
import { nonNegativeInt, pair, positiveInt } from '../validate.js';

/** Explicit padding: [[top, bottom], [left, right]] rows and columns of zeros. */
export type ExplicitPadding = [[number, number], [number, number]];
/** 'same' (TF: the odd extra row/column goes bottom/right), 'valid', or explicit [[top, bottom], [left, right]]. */
export type Padding = 'same' | 'valid' | ExplicitPadding;
export type Pair = number | [number, number];

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

interface AxisGeometry {
  out: number;
  padBefore: number;
  padAfter: number;
}

/** Output size and padding of one spatial axis; throws when the padding leaves no output. */
export function resolveAxis(where: string, axis: string, size: number, window: number, stride: number, padding: Padding, explicit: [number, number] | undefined): AxisGeometry {
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

export function checkShape4(where: string, arg: string, shape: unknown): number[] {
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
