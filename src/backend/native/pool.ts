import type { Tensor } from '../../tensor.js';
import type { NativeAddon } from '../../native.js';
import type { Pool2DInfo, PoolActivation } from '../types.js';
import { f32 } from './check.js';

export function maxPool2d(addon: NativeAddon, x: Tensor, info: Pool2DInfo, out: Tensor): Tensor {
  addon.maxPool2d(f32('maxPool2d', x), f32('maxPool2d', out), info);
  return out;
}

export function maxPool2dBackward(addon: NativeAddon, dy: Tensor, x: Tensor, info: Pool2DInfo, through: PoolActivation | undefined, out: Tensor): Tensor {
  const op = 'maxPool2dBackward';
  addon.maxPool2dBackward(f32(op, dy), f32(op, x), f32(op, out), info, through?.kind ?? 'linear', through?.alpha ?? 0);
  return out;
}

export function avgPool2d(addon: NativeAddon, x: Tensor, info: Pool2DInfo, out: Tensor): Tensor {
  addon.avgPool2d(f32('avgPool2d', x), f32('avgPool2d', out), info);
  return out;
}

export function avgPool2dBackward(addon: NativeAddon, dy: Tensor, info: Pool2DInfo, out: Tensor): Tensor {
  addon.avgPool2dBackward(f32('avgPool2dBackward', dy), f32('avgPool2dBackward', out), info);
  return out;
}

/** x (N,H,W,C) -> out (N,C). */
export function globalAvgPool2d(addon: NativeAddon, x: Tensor, out: Tensor): Tensor {
  addon.globalAvgPool2d(f32('globalAvgPool2d', x), f32('globalAvgPool2d', out), x.shape);
  return out;
}

/** dy (N,C) -> out (N,H,W,C). */
export function globalAvgPool2dBackward(addon: NativeAddon, dy: Tensor, out: Tensor): Tensor {
  addon.globalAvgPool2dBackward(f32('globalAvgPool2dBackward', dy), f32('globalAvgPool2dBackward', out), out.shape);
  return out;
}

export function globalMaxPool2d(addon: NativeAddon, x: Tensor, out: Tensor): Tensor {
  addon.globalMaxPool2d(f32('globalMaxPool2d', x), f32('globalMaxPool2d', out), x.shape);
  return out;
}

export function globalMaxPool2dBackward(addon: NativeAddon, dy: Tensor, x: Tensor, out: Tensor): Tensor {
  const op = 'globalMaxPool2dBackward';
  addon.globalMaxPool2dBackward(f32(op, dy), f32(op, x), f32(op, out), x.shape);
  return out;
}
