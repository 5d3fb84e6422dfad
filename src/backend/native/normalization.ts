import { ConvkitError } from '../../errors.js';
import type { NativeAddon } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import type { GroupNormInfo } from '../types.js';
import { f32 } from './check.js';

function f64(op: string, t: Tensor): Float64Array {
  if (!(t.data instanceof Float64Array)) throw new ConvkitError(`${op}: expected a float64 statistics tensor but received ${t.dtype}`, op);
  return t.data;
}

const channels = (t: Tensor): number => t.shape[t.rank - 1];

export function channelMoments(addon: NativeAddon, x: Tensor, out: Tensor): Tensor {
  addon.channelMoments(f32('channelMoments', x), f64('channelMoments', out), channels(x));
  return out;
}

export function channelSums(addon: NativeAddon, a: Tensor, b: Tensor | undefined, out: Tensor): Tensor {
  addon.channelSums(f32('channelSums', a), b ? f32('channelSums', b) : null, f64('channelSums', out), channels(a));
  return out;
}

export function channelAffine(addon: NativeAddon, x: Tensor, s: Tensor, t: Tensor, out: Tensor): Tensor {
  const op = 'channelAffine';
  addon.channelAffine(f32(op, x), f32(op, s), f32(op, t), f32(op, out));
  return out;
}

export function channelAffine2(addon: NativeAddon, a: Tensor, b: Tensor, sa: Tensor, sb: Tensor, t: Tensor, out: Tensor): Tensor {
  const op = 'channelAffine2';
  addon.channelAffine2(f32(op, a), f32(op, b), f32(op, sa), f32(op, sb), f32(op, t), f32(op, out));
  return out;
}

export function groupNormForward(
  addon: NativeAddon, x: Tensor, gamma: Tensor | undefined, beta: Tensor | undefined, info: GroupNormInfo, xhat: Tensor | undefined, stats: Tensor, out: Tensor,
): Tensor {
  const op = 'groupNormForward';
  const { n, s, g, k, epsilon } = info;
  addon.groupNormForward(f32(op, x), gamma ? f32(op, gamma) : null, beta ? f32(op, beta) : null, f32(op, out), xhat ? f32(op, xhat) : null, f64(op, stats), n, s, g, k, epsilon);
  return out;
}

export function groupNormBackward(
  addon: NativeAddon, dy: Tensor, xhat: Tensor, gamma: Tensor | undefined, invStd: Tensor, info: GroupNormInfo, paramSums: Tensor | undefined, out: Tensor,
): Tensor {
  const op = 'groupNormBackward';
  const { n, s, g, k } = info;
  addon.groupNormBackward(f32(op, dy), f32(op, xhat), gamma ? f32(op, gamma) : null, f64(op, invStd), f32(op, out), paramSums ? f64(op, paramSums) : null, n, s, g, k);
  return out;
}
