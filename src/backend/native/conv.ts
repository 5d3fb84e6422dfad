import type { Tensor } from '../../tensor.js';
import type { NativeAddon } from '../../native.js';
import type { Conv2DInfo, Epilogue, Pool2DInfo } from '../types.js';
import { epilogueArgs, f32 } from './check.js';
import { takeOutput } from '../arena.js';

/** x (N,H,W,C), filter (KH,KW,C/G,OC) -> y (N,OH,OW,OC), then the epilogue. */
export function conv2d(addon: NativeAddon, x: Tensor, filter: Tensor, info: Conv2DInfo, ep?: Epilogue): Tensor {
  const y = takeOutput([info.batch, info.outH, info.outW, info.outC]);
  addon.conv2d(f32('conv2d', x), f32('conv2d', filter), y.data as Float32Array, info, ...epilogueArgs('conv2d', ep));
  return y;
}

/** x (N,H,W,C), filter (KH,KW,C/G,OC) -> the max pooling of y (N,OH,OW,OC) after the epilogue. */
export function conv2dMaxPool(addon: NativeAddon, x: Tensor, filter: Tensor, info: Conv2DInfo, pool: Pool2DInfo, ep?: Epilogue, convOutput?: Tensor): Tensor {
  const y = takeOutput([pool.batch, pool.outH, pool.outW, pool.channels]);
  const convY = convOutput ? f32('conv2dMaxPool', convOutput) : null;
  addon.conv2dMaxPool(f32('conv2dMaxPool', x), f32('conv2dMaxPool', filter), y.data as Float32Array, info, ...epilogueArgs('conv2dMaxPool', ep), pool, convY);
  return y;
}

/** dy (N,OH,OW,OC), filter (KH,KW,C/G,OC) -> dx (N,H,W,C). */
export function conv2dBackwardInput(addon: NativeAddon, dy: Tensor, filter: Tensor, info: Conv2DInfo): Tensor {
  const dx = takeOutput([info.batch, info.inH, info.inW, info.inC]);
  addon.conv2dBackwardInput(f32('conv2dBackwardInput', dy), f32('conv2dBackwardInput', filter), dx.data as Float32Array, info);
  return dx;
}

/** x (N,H,W,C), dy (N,OH,OW,OC) -> dfilter (KH,KW,C/G,OC). */
export function conv2dBackwardFilter(addon: NativeAddon, x: Tensor, dy: Tensor, info: Conv2DInfo): Tensor {
  const df = takeOutput([info.kH, info.kW, info.inC / info.groups, info.outC]);
  addon.conv2dBackwardFilter(f32('conv2dBackwardFilter', x), f32('conv2dBackwardFilter', dy), df.data as Float32Array, info);
  return df;
}
