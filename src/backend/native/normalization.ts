import { ConvkitError } from '../../errors.js';
import type { NativeAddon } from '../../native.js';
import type { Tensor } from '../../tensor.js';
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
