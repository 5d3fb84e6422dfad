import type { Tensor } from '../../tensor.js';
import type { NativeAddon } from '../../native.js';
import type { Conv2DInfo, Epilogue, Pool2DInfo } from '../types.js';
import { fixedWeights } from '../fixed-weights.js';
import { epilogueArgs, epilogueExtraArgs, f32 } from './check.js';

/** A filter held fixed (backend/fixed-weights.ts) as info's forward reads it, prepared once; else null. */
function fixedFilter(addon: NativeAddon, op: string, filter: Tensor, info: Conv2DInfo): Float32Array | null {
  const geometry = () =>
    `conv2d:${info.batch}:${info.inH}:${info.inW}:${info.inC}:${info.outC}:${info.kH}:${info.kW}:${info.strideH}:${info.strideW}:${info.dilH}:${info.dilW}:${info.padTop}:${info.padBottom}:${info.padLeft}:${info.padRight}:${info.groups}`;
  return fixedWeights(filter, geometry, () => addon.conv2dWeightsForm(info), (dst) => addon.prepareConv2dWeights(f32(op, filter), info, dst));
}

/** x (N,H,W,C), filter (KH,KW,C/G,OC) -> out (N,OH,OW,OC), then the epilogue. */
export function conv2d(addon: NativeAddon, x: Tensor, filter: Tensor, info: Conv2DInfo, ep: Epilogue | undefined, out: Tensor): Tensor {
  addon.conv2d(f32('conv2d', x), f32('conv2d', filter), f32('conv2d', out), info, ...epilogueArgs('conv2d', ep), ...epilogueExtraArgs('conv2d', ep), fixedFilter(addon, 'conv2d', filter, info));
  return out;
}

/** x (N,H,W,C), filter (KH,KW,C/G,OC) -> out: the max pooling of y (N,OH,OW,OC) after the epilogue. */
export function conv2dMaxPool(
  addon: NativeAddon, x: Tensor, filter: Tensor, info: Conv2DInfo, pool: Pool2DInfo, ep: Epilogue | undefined, convOutput: Tensor | undefined, out: Tensor,
): Tensor {
  const op = 'conv2dMaxPool';
  addon.conv2dMaxPool(f32(op, x), f32(op, filter), f32(op, out), info, ...epilogueArgs(op, ep), pool, convOutput ? f32(op, convOutput) : null, epilogueExtraArgs(op, ep)[0], fixedFilter(addon, op, filter, info));
  return out;
}

/** dy (N,OH,OW,OC), filter (KH,KW,C/G,OC) -> out = dx (N,H,W,C). */
export function conv2dBackwardInput(addon: NativeAddon, dy: Tensor, filter: Tensor, info: Conv2DInfo, out: Tensor): Tensor {
  const op = 'conv2dBackwardInput';
  addon.conv2dBackwardInput(f32(op, dy), f32(op, filter), f32(op, out), info);
  return out;
}

/** x (N,H,W,C), dy (N,OH,OW,OC) -> out = dfilter (KH,KW,C/G,OC). */
export function conv2dBackwardFilter(addon: NativeAddon, x: Tensor, dy: Tensor, info: Conv2DInfo, out: Tensor): Tensor {
  const op = 'conv2dBackwardFilter';
  addon.conv2dBackwardFilter(f32(op, x), f32(op, dy), f32(op, out), info);
  return out;
}
