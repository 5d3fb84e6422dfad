/**
 * 3-D convolution over NDHWC volumes with a [kd, kh, kw, C/groups, OC] kernel (Keras's layout), lowered onto
 * conv2d's GEMM and packing: the kd depth taps of the input (the rows each output depth reads, zeros where
 * padding is) are laid side by side as channels of a [N·OD, H, W, kd·C] plane, and the kernel as the
 * [kh, kw, kd·C/groups, OC] filter that plane needs, so one conv2d (with its fused epilogue) computes the whole
 * convolution and its two backward passes are conv2d's. Each group's channels stay together in the plane
 * (group-major, then tap, then channel), so grouped 3-D convolution is grouped 2-D convolution.
 */
import { describe, fail } from '../errors.js';
import { zeros, type Shape, type Tensor } from '../tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor, nonNegativeInt, positiveInt } from '../validate.js';
import type { FusedOptions } from './activation.js';
import { conv2dBackwardFilterOp, conv2dBackwardInputOp, conv2dOp } from './conv.js';
import { addOp, concatenateOp, sliceAxisOp } from './elementwise.js';
import { defineProgramOp, type OpProgram } from './program.js';
import { conv2dInfo, resolveAxis, type Conv2DOptions, type Padding } from './shapes.js';

export type Triple = number | [number, number, number];
/** 'same', 'valid', or explicit [[front, back], [top, bottom], [left, right]]. */
export type Padding3D = 'same' | 'valid' | [[number, number], [number, number], [number, number]];

export interface Conv3DOptions {
  strides?: Triple;
  padding?: Padding3D;
  dilations?: Triple;
  groups?: number;
}

/** A number or a [d, h, w] triple of positive integers. */
export function triple(where: string, arg: string, v: unknown): [number, number, number] {
  if (typeof v === 'number') return [positiveInt(where, arg, v), v, v];
  if (Array.isArray(v) && v.length === 3) return [positiveInt(where, `${arg}[0]`, v[0]), positiveInt(where, `${arg}[1]`, v[1]), positiveInt(where, `${arg}[2]`, v[2])];
  return fail(where, `${arg} to be a positive integer or [d, h, w]`, describe(v));
}

export function checkShape5(where: string, arg: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length !== 5) fail(where, `${arg} of rank 5`, describe(shape));
  shape.forEach((d, i) => positiveInt(where, `${arg}[${i}]`, d));
  return shape as number[];
}

/** A 3-D padding as its depth part and the height/width part the plane's 2-D op takes. */
export function splitPadding3D(where: string, padding: unknown): { depth: Padding; depthPads?: [number, number]; plane: Padding } {
  if (padding === undefined || padding === 'valid') return { depth: 'valid', plane: 'valid' };
  if (padding === 'same') return { depth: 'same', plane: 'same' };
  if (Array.isArray(padding) && padding.length === 3 && padding.every((p) => Array.isArray(p) && p.length === 2)) {
    const names = ['front', 'back', 'top', 'bottom', 'left', 'right'];
    const [f, b, t, bo, l, r] = (padding as number[][]).flat().map((v, i) => nonNegativeInt(where, `padding (${names[i]})`, v));
    return { depth: [[f, b], [0, 0]], depthPads: [f, b], plane: [[t, bo], [l, r]] };
  }
  return fail(where, "padding 'same', 'valid' or [[front, back], [top, bottom], [left, right]]", describe(padding));
}

/** A resolved 3-D convolution: the depth axis, and the conv2d over the tap plane that computes it. */
export interface Conv3DInfo {
  batch: number;
  inD: number;
  inH: number;
  inW: number;
  inC: number;
  kD: number;
  outD: number;
  outH: number;
  outW: number;
  outC: number;
  strideD: number;
  dilD: number;
  padFront: number;
  groups: number;
  /** Depth rows of the zero-padded input as the taps read it: a multiple of strideD covering every tap. */
  paddedD: number;
  /** The plane [N·OD, H, W, kD·C] and its filter [kh, kw, kD·C/groups, OC]. */
  planeShape: number[];
  planeFilterShape: number[];
  plane: Conv2DOptions;
}

/**
 * Resolves a 3-D convolution's options against its shapes (used by the ops and by Conv3D's shape inference).
 * @throws ConvkitError naming the argument for bad ranks, channel/group mismatches or a padding that leaves no output.
 */
export function conv3dInfo(xShape: Shape, filterShape: Shape, opts: Conv3DOptions = {}, where = 'conv3d'): Conv3DInfo {
  const [batch, inD, inH, inW, inC] = checkShape5(where, 'x shape', [...xShape]);
  const [kD, kH, kW, fIn, outC] = checkShape5(where, 'filter shape', [...filterShape]);
  const [strideD, strideH, strideW] = triple(where, 'strides', opts.strides ?? 1);
  const [dilD, dilH, dilW] = triple(where, 'dilations', opts.dilations ?? 1);
  const groups = positiveInt(where, 'groups', opts.groups ?? 1);
  const pad = splitPadding3D(where, opts.padding);
  const d = resolveAxis(where, 'depth', inD, (kD - 1) * dilD + 1, strideD, pad.depth, pad.depthPads);
  const plane: Conv2DOptions = { strides: [strideH, strideW], dilations: [dilH, dilW], padding: pad.plane, groups };
  if (inC % groups !== 0) fail(where, `x channels divisible by groups ${groups}`, describe(inC));
  if (outC % groups !== 0) fail(where, `filter out-channels divisible by groups ${groups}`, describe(outC));
  if (fIn !== inC / groups) fail(where, `filter in-channels ${inC / groups} (x has ${inC} channels, groups ${groups})`, describe(fIn));
  const planeFilterShape = [kH, kW, kD * fIn, outC];
  // conv2dInfo checks the plane's height and width against the window
  const info = conv2dInfo([batch * d.out, inH, inW, kD * inC], planeFilterShape, plane, where);
  const lastTap = Math.floor(((kD - 1) * dilD) / strideD);
  const paddedD = strideD * Math.max(Math.ceil((d.padBefore + inD + d.padAfter) / strideD), d.out + lastTap);
  return {
    batch, inD, inH, inW, inC, kD, outD: d.out, outH: info.outH, outW: info.outW, outC, strideD, dilD, padFront: d.padBefore,
    groups, paddedD, planeShape: [batch * d.out, inH, inW, kD * inC], planeFilterShape, plane,
  };
}

export function conv3dOutputShape(xShape: Shape, filterShape: Shape, opts: Conv3DOptions = {}): number[] {
  const i = conv3dInfo(xShape, filterShape, opts);
  return [i.batch, i.outD, i.outH, i.outW, i.outC];
}

/** x's depth rows [N, Dp / strideD, strideD, H·W·C], zero-padded to info.paddedD (a view when nothing is padded). */
function* paddedDepth(x: Tensor, i: Conv3DInfo): OpProgram<Tensor> {
  const row = i.inH * i.inW * i.inC;
  const after = i.paddedD - i.padFront - i.inD;
  let t = x.reshape([i.batch, i.inD, row]);
  if (i.padFront > 0 || after > 0) {
    const parts = [zeros([i.batch, i.padFront, row], x.dtype), t, zeros([i.batch, after, row], x.dtype)].filter((p) => p.shape[1] > 0);
    t = yield concatenateOp.request(parts, 1);
  }
  return t.reshape([i.batch, i.paddedD / i.strideD, i.strideD, row]);
}

/** Where tap kd reads: padded row kd·dilD + od·strideD, i.e. block q0 + od at offset r. */
function tapPlace(i: Conv3DInfo, kd: number): { q0: number; r: number } {
  const at = kd * i.dilD;
  return { q0: Math.floor(at / i.strideD), r: at % i.strideD };
}

/** The depth rows tap kd reads, as [N·OD, H, W, C]. */
function* tap(padded: Tensor, i: Conv3DInfo, kd: number): OpProgram<Tensor> {
  const { q0, r } = tapPlace(i, kd);
  const [n, q, s, row] = padded.shape;
  let t = padded;
  if (s > 1) t = yield sliceAxisOp.request(t, 2, r, 1);
  t = t.reshape([n, q, row]);
  if (q0 > 0 || i.outD < q) t = yield sliceAxisOp.request(t, 1, q0, i.outD);
  return t.reshape([n * i.outD, i.inH, i.inW, i.inC]);
}

/** The tap plane [N·OD, H, W, kD·C]: per group, its channels of each tap in turn. */
function* tapPlane(x: Tensor, i: Conv3DInfo): OpProgram<Tensor> {
  const padded = yield* paddedDepth(x, i);
  const taps: Tensor[] = [];
  for (let kd = 0; kd < i.kD; kd++) taps.push(yield* tap(padded, i, kd));
  if (i.kD === 1) return taps[0];
  if (i.groups === 1) return yield concatenateOp.request(taps, 3);
  const cg = i.inC / i.groups;
  const parts: Tensor[] = [];
  for (let g = 0; g < i.groups; g++) for (const t of taps) parts.push(yield sliceAxisOp.request(t, 3, g * cg, cg));
  return yield concatenateOp.request(parts, 3);
}

/** The kernel [kD, kh, kw, cg, OC] as the plane's filter [kh, kw, kD·cg, OC]. */
function* planeFilter(filter: Tensor, i: Conv3DInfo): OpProgram<Tensor> {
  const [kH, kW, , outC] = i.planeFilterShape;
  if (i.kD === 1) return filter.reshape(i.planeFilterShape);
  const byTap = filter.reshape([i.kD, kH * kW, (filter.size / (i.kD * kH * kW))]);
  const rows: Tensor[] = [];
  for (let kd = 0; kd < i.kD; kd++) rows.push(((yield sliceAxisOp.request(byTap, 0, kd, 1)) as Tensor).reshape([kH * kW, 1, byTap.shape[2]]));
  return ((yield concatenateOp.request(rows, 1)) as Tensor).reshape([kH, kW, i.planeFilterShape[2], outC]);
}

function checkConvArgs(where: string, a: Tensor, b: Tensor, names: [string, string]): void {
  checkTensor(where, names[0], a, 5);
  checkTensor(where, names[1], b, 5);
  checkSameDtype(where, a, b, names);
}

/**
 * 3-D convolution: x (N,D,H,W,C) ndhwc, filter (KD,KH,KW,C/groups,OC) -> (N,OD,OH,OW,OC), with conv2d's fused
 * epilogue (scale, bias, residual of the output's shape, activation).
 * @example ops.conv3d(x, w, { strides: [1, 2, 2], padding: 'same', bias: b, activation: 'relu' })
 * @throws ConvkitError for rank, channel/group, stride or padding errors.
 */
function* conv3dProgram(x: Tensor, filter: Tensor, opts: Conv3DOptions & FusedOptions = {}): OpProgram<Tensor> {
  const where = 'conv3d';
  checkConvArgs(where, x, filter, ['x', 'filter']);
  const i = conv3dInfo(x.shape, filter.shape, opts, where);
  const outShape = [i.batch, i.outD, i.outH, i.outW, i.outC];
  if (opts.residual !== undefined) {
    checkTensor(where, 'residual', opts.residual);
    checkShapeEquals(where, 'residual', opts.residual.shape, outShape);
  }
  const plane = yield* tapPlane(x, i);
  const w = yield* planeFilter(filter, i);
  const { scale, bias, activation, alpha } = opts;
  const residual = opts.residual?.reshape([i.batch * i.outD, i.outH, i.outW, i.outC]);
  const y: Tensor = yield conv2dOp.request(plane, w, { ...i.plane, scale, bias, residual, activation, alpha });
  return y.reshape(outShape);
}

/** dL/dx of conv3d: dy (N,OD,OH,OW,OC), filter (KD,KH,KW,C/G,OC) -> dx of inputShape (N,D,H,W,C). */
function* conv3dBackwardInputProgram(dy: Tensor, filter: Tensor, inputShape: Shape, opts: Conv3DOptions = {}): OpProgram<Tensor> {
  const where = 'conv3dBackwardInput';
  checkConvArgs(where, dy, filter, ['dy', 'filter']);
  const i = conv3dInfo(inputShape, filter.shape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [i.batch, i.outD, i.outH, i.outW, i.outC]);
  const w = yield* planeFilter(filter, i);
  const dPlane: Tensor = yield conv2dBackwardInputOp.request(dy.reshape([i.batch * i.outD, i.outH, i.outW, i.outC]), w, i.planeShape, i.plane);
  const row = i.inH * i.inW * i.inC;
  const [q, s] = [i.paddedD / i.strideD, i.strideD];
  const cg = i.inC / i.groups;
  let acc: Tensor | undefined;
  for (let kd = 0; kd < i.kD; kd++) {
    // this tap's gradient [N·OD, H, W, C], gathered from its channels of every group
    let g: Tensor = dPlane;
    if (i.kD > 1 && i.groups === 1) g = yield sliceAxisOp.request(dPlane, 3, kd * i.inC, i.inC);
    else if (i.kD > 1) {
      const parts: Tensor[] = [];
      for (let grp = 0; grp < i.groups; grp++) parts.push(yield sliceAxisOp.request(dPlane, 3, (grp * i.kD + kd) * cg, cg));
      g = yield concatenateOp.request(parts, 3);
    }
    // ... placed at the padded depth rows it read: block q0 + od, offset r; zeros elsewhere
    const { q0, r } = tapPlace(i, kd);
    let t = g.reshape([i.batch, i.outD, 1, row]);
    if (s > 1) t = yield concatenateOp.request(around(t, 2, r, s - 1 - r), 2);
    if (q0 > 0 || q0 + i.outD < q) t = yield concatenateOp.request(around(t, 1, q0, q - q0 - i.outD), 1);
    acc = acc === undefined ? t : yield addOp.request(acc, t);
  }
  let dx = acc!.reshape([i.batch, i.paddedD, row]);
  if (i.padFront > 0 || i.paddedD > i.inD) dx = yield sliceAxisOp.request(dx, 1, i.padFront, i.inD);
  return dx.reshape([i.batch, i.inD, i.inH, i.inW, i.inC]);
}

/** t with `before` and `after` zero rows along `axis` (for concatenate). */
function around(t: Tensor, axis: number, before: number, after: number): Tensor[] {
  const zerosOf = (n: number): Tensor => zeros(t.shape.map((d, k) => (k === axis ? n : d)), t.dtype);
  return [...(before > 0 ? [zerosOf(before)] : []), t, ...(after > 0 ? [zerosOf(after)] : [])];
}

/** dL/dfilter of conv3d: x (N,D,H,W,C), dy (N,OD,OH,OW,OC) -> dfilter of filterShape (KD,KH,KW,C/G,OC). */
function* conv3dBackwardFilterProgram(x: Tensor, dy: Tensor, filterShape: Shape, opts: Conv3DOptions = {}): OpProgram<Tensor> {
  const where = 'conv3dBackwardFilter';
  checkConvArgs(where, x, dy, ['x', 'dy']);
  const i = conv3dInfo(x.shape, filterShape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [i.batch, i.outD, i.outH, i.outW, i.outC]);
  const plane = yield* tapPlane(x, i);
  const dw: Tensor = yield conv2dBackwardFilterOp.request(plane, dy.reshape([i.batch * i.outD, i.outH, i.outW, i.outC]), i.planeFilterShape, i.plane);
  if (i.kD === 1) return dw.reshape(filterShape);
  // [kh·kw, kD, cg·OC] back to [kD, kh·kw, cg·OC]
  const [kH, kW] = i.planeFilterShape;
  const byTap = dw.reshape([kH * kW, i.kD, dw.size / (kH * kW * i.kD)]);
  const rows: Tensor[] = [];
  for (let kd = 0; kd < i.kD; kd++) rows.push(((yield sliceAxisOp.request(byTap, 1, kd, 1)) as Tensor).reshape([1, kH * kW, byTap.shape[2]]));
  return ((yield concatenateOp.request(rows, 0)) as Tensor).reshape([...filterShape]);
}

export const conv3dOp = defineProgramOp(conv3dProgram);
export const conv3dBackwardInputOp = defineProgramOp(conv3dBackwardInputProgram);
export const conv3dBackwardFilterOp = defineProgramOp(conv3dBackwardFilterProgram);
