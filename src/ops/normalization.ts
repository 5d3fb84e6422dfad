/**
 * Per-channel passes (the channel is the last axis): moments and sums over every other axis, in double, and
 * affine maps. Batch normalization is made of them; so is folding it into a convolution.
 */
import type { Tensor } from '../tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor } from '../validate.js';
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
