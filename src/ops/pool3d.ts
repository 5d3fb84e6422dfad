/**
 * 3-D pooling over NDHWC volumes, as two 2-D poolings: over height and width of every depth slice ([N·D, H, W, C]),
 * then over depth ([N, D, OH·OW, C] with a [pd, 1] window). A box window's max is the max of its slices' maxes,
 * and the first maximum in (d, h, w) order is the first slice's first; its average over the cells inside the
 * volume is the average over depth of the slices' averages, since the count of such cells is the product of
 * the per-axis counts. So both give the 3-D pooling exactly, and their backward passes are the 2-D ones'.
 */
import { describe, fail } from '../errors.js';
import type { Shape, Tensor } from '../tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor } from '../validate.js';
import { checkShape5, splitPadding3D, triple, type Padding3D, type Triple } from './conv3d.js';
import { avgPool2dBackwardOp, avgPool2dOp, globalAvgPool2dBackwardOp, globalAvgPool2dOp, globalMaxPool2dBackwardOp, globalMaxPool2dOp, maxPool2dBackwardOp, maxPool2dOp } from './pool.js';
import { defineProgramOp, type OpProgram } from './program.js';
import { pool2dInfo, type Pool2DOptions } from './shapes.js';

export interface Pool3DOptions {
  poolSize: Triple;
  /** Defaults to poolSize. */
  strides?: Triple;
  padding?: Padding3D;
}

/** A resolved 3-D pooling as its two 2-D stages. */
export interface Pool3DInfo {
  inShape: number[];
  outShape: number[];
  /** [N·D, H, W, C] pooled over height and width. */
  planeShape: number[];
  plane: Pool2DOptions;
  /** [N, D, OH·OW, C] pooled over depth. */
  depthShape: number[];
  depth: Pool2DOptions;
}

/**
 * Resolves a 3-D pooling's options (used by the ops and by the layers' shape inference).
 * @throws ConvkitError naming the argument for a bad rank, pool size, strides or padding.
 */
export function pool3dInfo(xShape: Shape, opts: Pool3DOptions, where = 'pool3d'): Pool3DInfo {
  const [n, d, h, w, c] = checkShape5(where, 'x shape', [...xShape]);
  if (!opts || typeof opts !== 'object') fail(where, 'options { poolSize, strides?, padding? }', describe(opts));
  const [pd, ph, pw] = triple(where, 'poolSize', opts.poolSize);
  const [sd, sh, sw] = triple(where, 'strides', opts.strides ?? opts.poolSize);
  const pad = splitPadding3D(where, opts.padding);
  const plane: Pool2DOptions = { poolSize: [ph, pw], strides: [sh, sw], padding: pad.plane };
  const p = pool2dInfo([n * d, h, w, c], plane, where);
  const depth: Pool2DOptions = { poolSize: [pd, 1], strides: [sd, 1], padding: pad.depth };
  const q = pool2dInfo([n, d, p.outH * p.outW, c], depth, where);
  return {
    inShape: [n, d, h, w, c],
    outShape: [n, q.outH, p.outH, p.outW, c],
    planeShape: [n * d, h, w, c],
    plane,
    depthShape: [n, d, p.outH * p.outW, c],
    depth,
  };
}

export function pool3dOutputShape(xShape: Shape, opts: Pool3DOptions): number[] {
  return pool3dInfo(xShape, opts).outShape;
}

const depthOut = (i: Pool3DInfo): number[] => [i.outShape[0], i.outShape[1], i.outShape[2] * i.outShape[3], i.outShape[4]];

/** Max over each window of x (N,D,H,W,C) -> (N,OD,OH,OW,C). @example ops.maxPool3d(x, { poolSize: 2 }) */
function* maxPool3dProgram(x: Tensor, opts: Pool3DOptions): OpProgram<Tensor> {
  checkTensor('maxPool3d', 'x', x, 5);
  const i = pool3dInfo(x.shape, opts, 'maxPool3d');
  const slices: Tensor = yield maxPool2dOp.request(x.reshape(i.planeShape), i.plane);
  return ((yield maxPool2dOp.request(slices.reshape(i.depthShape), i.depth)) as Tensor).reshape(i.outShape);
}

/** Routes each dy to the first maximum of its window in x, in (d, h, w) order. */
function* maxPool3dBackwardProgram(dy: Tensor, x: Tensor, opts: Pool3DOptions): OpProgram<Tensor> {
  const where = 'maxPool3dBackward';
  checkTensor(where, 'dy', dy, 5);
  checkTensor(where, 'x', x, 5);
  checkSameDtype(where, x, dy, ['x', 'dy']);
  const i = pool3dInfo(x.shape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, i.outShape);
  const xPlane = x.reshape(i.planeShape);
  const slices: Tensor = yield maxPool2dOp.request(xPlane, i.plane);
  const dSlices: Tensor = yield maxPool2dBackwardOp.request(dy.reshape(depthOut(i)), slices.reshape(i.depthShape), i.depth);
  const [n, , oh, ow, c] = i.outShape;
  return ((yield maxPool2dBackwardOp.request(dSlices.reshape([n * i.inShape[1], oh, ow, c]), xPlane, i.plane)) as Tensor).reshape(i.inShape);
}

/** Mean over each window of x, padded cells left out of the divisor (TF/Keras semantics). */
function* avgPool3dProgram(x: Tensor, opts: Pool3DOptions): OpProgram<Tensor> {
  checkTensor('avgPool3d', 'x', x, 5);
  const i = pool3dInfo(x.shape, opts, 'avgPool3d');
  const slices: Tensor = yield avgPool2dOp.request(x.reshape(i.planeShape), i.plane);
  return ((yield avgPool2dOp.request(slices.reshape(i.depthShape), i.depth)) as Tensor).reshape(i.outShape);
}

function* avgPool3dBackwardProgram(dy: Tensor, inputShape: Shape, opts: Pool3DOptions): OpProgram<Tensor> {
  const where = 'avgPool3dBackward';
  checkTensor(where, 'dy', dy, 5);
  const i = pool3dInfo(inputShape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, i.outShape);
  const dSlices: Tensor = yield avgPool2dBackwardOp.request(dy.reshape(depthOut(i)), i.depthShape, i.depth);
  const [n, , oh, ow, c] = i.outShape;
  return ((yield avgPool2dBackwardOp.request(dSlices.reshape([n * i.inShape[1], oh, ow, c]), i.planeShape, i.plane)) as Tensor).reshape(i.inShape);
}

/** x (N,D,H,W,C) as the [N, D·H, W, C] a 2-D global pool reads. */
function flatVolume(where: string, x: Tensor): Tensor {
  checkTensor(where, 'x', x, 5);
  const [n, d, h, w, c] = x.shape;
  return x.reshape([n, d * h, w, c]);
}

/** (N,D,H,W,C) -> (N,C), the mean over D, H and W. */
function* globalAvgPool3dProgram(x: Tensor): OpProgram<Tensor> {
  return yield globalAvgPool2dOp.request(flatVolume('globalAvgPool3d', x));
}

function* globalAvgPool3dBackwardProgram(dy: Tensor, inputShape: Shape): OpProgram<Tensor> {
  const [n, d, h, w, c] = checkShape5('globalAvgPool3dBackward', 'inputShape', [...inputShape]);
  return ((yield globalAvgPool2dBackwardOp.request(dy, [n, d * h, w, c])) as Tensor).reshape([n, d, h, w, c]);
}

/** (N,D,H,W,C) -> (N,C), the max over D, H and W. */
function* globalMaxPool3dProgram(x: Tensor): OpProgram<Tensor> {
  return yield globalMaxPool2dOp.request(flatVolume('globalMaxPool3d', x));
}

function* globalMaxPool3dBackwardProgram(dy: Tensor, x: Tensor): OpProgram<Tensor> {
  return ((yield globalMaxPool2dBackwardOp.request(dy, flatVolume('globalMaxPool3dBackward', x))) as Tensor).reshape(x.shape);
}

export const maxPool3dOp = defineProgramOp(maxPool3dProgram);
export const maxPool3dBackwardOp = defineProgramOp(maxPool3dBackwardProgram);
export const avgPool3dOp = defineProgramOp(avgPool3dProgram);
export const avgPool3dBackwardOp = defineProgramOp(avgPool3dBackwardProgram);
export const globalAvgPool3dOp = defineProgramOp(globalAvgPool3dProgram);
export const globalAvgPool3dBackwardOp = defineProgramOp(globalAvgPool3dBackwardProgram);
export const globalMaxPool3dOp = defineProgramOp(globalMaxPool3dProgram);
export const globalMaxPool3dBackwardOp = defineProgramOp(globalMaxPool3dBackwardProgram);
