import type { Tensor } from '../../tensor.js';
import type { NativeAddon } from '../../native.js';
import type { Pool2DInfo, PoolActivation } from '../types.js';
import { f32 } from './check.js';
import { takeOutput } from '../arena.js';

const outShape = (info: Pool2DInfo) => [info.batch, info.outH, info.outW, info.channels];
const inShape = (info: Pool2DInfo) => [info.batch, info.inH, info.inW, info.channels];

export function maxPool2d(addon: NativeAddon, x: Tensor, info: Pool2DInfo): Tensor {
  const y = takeOutput(outShape(info));
  addon.maxPool2d(f32('maxPool2d', x), y.data as Float32Array, info);
  return y;
}

export function maxPool2dBackward(addon: NativeAddon, dy: Tensor, x: Tensor, info: Pool2DInfo, through?: PoolActivation): Tensor {
  const dx = takeOutput(inShape(info));
  addon.maxPool2dBackward(f32('maxPool2dBackward', dy), f32('maxPool2dBackward', x), dx.data as Float32Array, info, through?.kind ?? 'linear', through?.alpha ?? 0);
  return dx;
}

export function avgPool2d(addon: NativeAddon, x: Tensor, info: Pool2DInfo): Tensor {
  const y = takeOutput(outShape(info));
  addon.avgPool2d(f32('avgPool2d', x), y.data as Float32Array, info);
  return y;
}

export function avgPool2dBackward(addon: NativeAddon, dy: Tensor, info: Pool2DInfo): Tensor {
  const dx = takeOutput(inShape(info));
  addon.avgPool2dBackward(f32('avgPool2dBackward', dy), dx.data as Float32Array, info);
  return dx;
}

/** x (N,H,W,C) -> (N,C). */
export function globalAvgPool2d(addon: NativeAddon, x: Tensor): Tensor {
  const y = takeOutput([x.shape[0], x.shape[3]]);
  addon.globalAvgPool2d(f32('globalAvgPool2d', x), y.data as Float32Array, x.shape);
  return y;
}

export function globalAvgPool2dBackward(addon: NativeAddon, dy: Tensor, inputShape: readonly number[]): Tensor {
  const dx = takeOutput(inputShape);
  addon.globalAvgPool2dBackward(f32('globalAvgPool2dBackward', dy), dx.data as Float32Array, inputShape);
  return dx;
}

export function globalMaxPool2d(addon: NativeAddon, x: Tensor): Tensor {
  const y = takeOutput([x.shape[0], x.shape[3]]);
  addon.globalMaxPool2d(f32('globalMaxPool2d', x), y.data as Float32Array, x.shape);
  return y;
}

export function globalMaxPool2dBackward(addon: NativeAddon, dy: Tensor, x: Tensor): Tensor {
  const dx = takeOutput(x.shape);
  addon.globalMaxPool2dBackward(f32('globalMaxPool2dBackward', dy), f32('globalMaxPool2dBackward', x), dx.data as Float32Array, x.shape);
  return dx;
}
