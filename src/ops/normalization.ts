/**
 * Per-channel passes (the channel is the last axis): moments and sums over every other axis, in double, and
 * affine maps. Batch normalization is made of them; so is folding it into a convolution.
 */
import type { GroupNormInfo } from '../backend/types.js';
import { describe, fail } from '../errors.js';
import { sizeOf, zeros, type Shape, type Tensor } from '../tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor, positiveNumber } from '../validate.js';
import { normalizeAxis } from './elementwise.js';
import { defineOp, kernelRequest, type OpRequest } from './program.js';

const channelsOf = (x: Tensor): number => x.shape[x.rank - 1];

/** x (..., C) -> (2, C) float64: the mean and the biased variance of each channel over every other axis. */
export const channelMomentsOp = defineOp((x: Tensor): OpRequest => {
  checkTensor('channelMoments', 'x', x);
  return kernelRequest('channelMoments', [x], { shape: [2, channelsOf(x)], dtype: 'float64' });
});

/** a, b (..., C) -> (2, C) float64: per channel, the sum of a and the sum of a * b (b optional). */
export const channelSumsOp = defineOp((a: Tensor, b?: Tensor): OpRequest => {
  checkTensor('channelSums', 'a', a);
  if (b !== undefined) {
    checkTensor('channelSums', 'b', b);
    checkSameDtype('channelSums', a, b, ['a', 'b']);
    checkShapeEquals('channelSums', 'b', b.shape, a.shape);
  }
  return kernelRequest('channelSums', [a, b], { shape: [2, channelsOf(a)], dtype: 'float64' });
});

function checkPerChannel(where: string, x: Tensor, named: [Tensor, string][]): void {
  for (const [t, name] of named) {
    checkTensor(where, name, t, 1);
    checkSameDtype(where, x, t, ['x', name]);
    checkShapeEquals(where, name, t.shape, [channelsOf(x)]);
  }
}

/** x (..., C) * s (C) + t (C), each product and sum rounded in x's dtype. */
export const channelAffineOp = defineOp((x: Tensor, s: Tensor, t: Tensor): OpRequest => {
  checkTensor('channelAffine', 'x', x);
  checkPerChannel('channelAffine', x, [[s, 's'], [t, 't']]);
  return kernelRequest('channelAffine', [x, s, t], { shape: x.shape, dtype: x.dtype });
});

/** (a * sa + b * sb) + t per channel, a and b of one shape (..., C). */
export const channelAffine2Op = defineOp((a: Tensor, b: Tensor, sa: Tensor, sb: Tensor, t: Tensor): OpRequest => {
  const where = 'channelAffine2';
  checkTensor(where, 'a', a);
  checkTensor(where, 'b', b);
  checkSameDtype(where, a, b, ['a', 'b']);
  checkShapeEquals(where, 'b', b.shape, a.shape);
  checkPerChannel(where, a, [[sa, 'sa'], [sb, 'sb'], [t, 't']]);
  return kernelRequest('channelAffine2', [a, b, sa, sb, t], { shape: a.shape, dtype: a.dtype });
});

/**
 * The geometry of group normalization of x [N, ..., C] in `groups` groups of channels: per sample and group,
 * over every position and the group's channels.
 */
export function groupNormInfo(where: string, shape: Shape, groups: number, epsilon: number): GroupNormInfo {
  if (shape.length < 2) fail(where, 'an input of rank >= 2 ([N, ..., channels])', `[${shape.join(', ')}]`);
  const c = shape[shape.length - 1];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) fail(where, `groups dividing the ${c} channels`, describe(groups));
  return { n: shape[0], s: sizeOf(shape.slice(1, -1)), g: groups, k: c / groups, epsilon: positiveNumber(where, 'epsilon', epsilon) };
}

/** The geometry of layer normalization of x over its axes from `axis` to the last (per sample of the others). */
export function layerNormInfo(where: string, shape: Shape, axis: number, epsilon: number): GroupNormInfo {
  const a = normalizeAxis(where, axis, shape.length);
  if (a === 0) fail(where, 'an axis after the batch axis', describe(axis));
  return { n: sizeOf(shape.slice(0, a)), s: 1, g: 1, k: sizeOf(shape.slice(a)), epsilon: positiveNumber(where, 'epsilon', epsilon) };
}

function checkGroupParams(where: string, x: Tensor, info: GroupNormInfo, named: [Tensor | undefined, string][]): void {
  if (info.n * info.s * info.g * info.k !== x.size) fail(where, `an input of n*s*g*k = ${info.n * info.s * info.g * info.k} values`, `${x.size}`);
  for (const [t, name] of named) {
    if (t === undefined) continue;
    checkTensor(where, name, t, 1);
    checkSameDtype(where, x, t, ['x', name]);
    checkShapeEquals(where, name, t.shape, [info.g * info.k]);
  }
}

function checkStats(where: string, name: string, t: Tensor, size: number): void {
  checkTensor(where, name, t);
  if (t.dtype !== 'float64' || t.size !== size) fail(where, `${name} as a float64 tensor of ${size} values`, `${t.dtype} of ${t.size}`);
}

/**
 * Group (or layer) normalization forward: y = (x - mean) / sqrt(var + epsilon) * gamma + beta, the statistics
 * per (sample, group) of `info`; stats (2, n * g) float64 receives [mean, 1 / std], xhat (x's shape) the
 * normalized x when given (what the backward reads).
 * @throws ConvkitError for a geometry that does not fit x or parameters of the wrong shape.
 */
export const groupNormForwardOp = defineOp((x: Tensor, info: GroupNormInfo, stats: Tensor, gamma?: Tensor, beta?: Tensor, xhat?: Tensor): OpRequest => {
  const where = 'groupNorm';
  checkTensor(where, 'x', x);
  checkGroupParams(where, x, info, [[gamma, 'gamma'], [beta, 'beta']]);
  checkStats(where, 'stats', stats, 2 * info.n * info.g);
  if (xhat !== undefined) {
    checkTensor(where, 'xhat', xhat);
    checkSameDtype(where, x, xhat, ['x', 'xhat']);
    checkShapeEquals(where, 'xhat', xhat.shape, x.shape);
  }
  return kernelRequest('groupNormForward', [x, gamma, beta, info, xhat, stats], { shape: x.shape, dtype: x.dtype });
});

/** Group normalization's input gradient; paramSums (2, g * k) float64, when given, receives [sum dy, sum dy * xhat] (dbeta, dgamma). */
export const groupNormBackwardOp = defineOp((dy: Tensor, xhat: Tensor, invStd: Tensor, info: GroupNormInfo, gamma?: Tensor, paramSums?: Tensor): OpRequest => {
  const where = 'groupNormBackward';
  checkTensor(where, 'dy', dy);
  checkTensor(where, 'xhat', xhat);
  checkSameDtype(where, dy, xhat, ['dy', 'xhat']);
  checkShapeEquals(where, 'xhat', xhat.shape, dy.shape);
  checkGroupParams(where, dy, info, [[gamma, 'gamma']]);
  checkStats(where, 'invStd', invStd, info.n * info.g);
  if (paramSums !== undefined) checkStats(where, 'paramSums', paramSums, 2 * info.g * info.k);
  return kernelRequest('groupNormBackward', [dy, xhat, gamma, invStd, info, paramSums], { shape: dy.shape, dtype: dy.dtype });
});

export interface NormalizeOptions {
  gamma?: Tensor;
  beta?: Tensor;
  /** Added to the variance. Default 1e-3 (Keras's). */
  epsilon?: number;
}

/**
 * Layer normalization over x's axes from `axis` (default -1, the channels) to the last, per sample of the others.
 * @example ops.layerNorm(x, { gamma, beta }) // gamma, beta: one value per normalized element of a sample
 * @throws ConvkitError for an axis out of range or parameters of the wrong shape.
 */
export function layerNorm(x: Tensor, opts: NormalizeOptions & { axis?: number } = {}): Tensor {
  checkTensor('layerNorm', 'x', x);
  const info = layerNormInfo('layerNorm', x.shape, opts.axis ?? -1, opts.epsilon ?? 1e-3);
  return groupNormForwardOp.now(x, info, zeros([2, info.n * info.g], 'float64'), opts.gamma, opts.beta);
}

/**
 * Group normalization of x [N, ..., C]: channels split into `groups`, each normalized per sample over its
 * positions and channels (groups = C is instance normalization, groups = 1 normalizes each sample whole).
 * @example ops.groupNorm(x, { groups: 8 })
 * @throws ConvkitError for groups not dividing the channels or parameters of the wrong shape.
 */
export function groupNorm(x: Tensor, opts: NormalizeOptions & { groups: number }): Tensor {
  checkTensor('groupNorm', 'x', x);
  const info = groupNormInfo('groupNorm', x.shape, opts?.groups, opts.epsilon ?? 1e-3);
  return groupNormForwardOp.now(x, info, zeros([2, info.n * info.g], 'float64'), opts.gamma, opts.beta);
}
