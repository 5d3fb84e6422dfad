/**
 * 2-D convolution: forward with a fused bias + activation, forward fused with a following max pooling, and
 * both backward passes. x (N,H,W,C) nhwc, filter (KH,KW,C/groups,OC) hwio.
 */
import type { Shape, Tensor } from '../tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor } from '../validate.js';
import { epilogue, type FusedOptions } from './activation.js';
import { defineOp, kernelRequest, outputSpec, type OpRequest, type OutOptions } from './program.js';
import { conv2dInfo, pool2dInfo, type Conv2DOptions, type Pool2DOptions } from './shapes.js';

/**
 * 2-D convolution. x (N,H,W,C) nhwc, filter (KH,KW,C/groups,OC) hwio -> (N,OH,OW,OC); optional fused epilogue
 * (scale, bias, residual, activation: FusedOptions); `out` to write into (OutOptions).
 * @example ops.conv2d(x, w, { strides: 2, padding: 'same', dilations: 1, groups: 1 })
 * @throws ConvkitError for rank, channel/group, stride or padding errors, or a bad out.
 */
export const conv2dOp = defineOp((x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions & OutOptions = {}): OpRequest => {
  checkTensor('conv2d', 'x', x, 4);
  checkTensor('conv2d', 'filter', filter, 4);
  checkSameDtype('conv2d', x, filter, ['x', 'filter']);
  const info = conv2dInfo(x.shape, filter.shape, opts);
  const shape = [info.batch, info.outH, info.outW, info.outC];
  const ep = epilogue('conv2d', x, opts, info.outC, shape);
  return kernelRequest('conv2d', [x, filter, info, ep], outputSpec('conv2d', opts.out, shape, x.dtype, { x, filter, scale: opts.scale, bias: opts.bias, residual: opts.residual }));
});

/**
 * maxPool2d(conv2d(x, filter, opts), pool) as one op, with the same result: the convolution's output is pooled
 * a few images at a time while it is in cache instead of being written out whole and read back (what a
 * model runs for a Conv2D layer followed by MaxPooling2D). With `convOutput` (a tensor of the convolution's
 * output shape), the convolution's output is also written there, as training keeps it for the backward pass.
 * @example ops.conv2dMaxPool(x, w, { padding: 'same', activation: 'relu' }, { poolSize: 2 })
 * @throws ConvkitError as conv2d and maxPool2d do, for a convOutput of another shape or dtype, and for a residual.
 */
export const conv2dMaxPoolOp = defineOp((x: Tensor, filter: Tensor, opts: Conv2DOptions & FusedOptions, pool: Pool2DOptions, convOutput?: Tensor): OpRequest => {
  const where = 'conv2dMaxPool';
  checkTensor(where, 'x', x, 4);
  checkTensor(where, 'filter', filter, 4);
  checkSameDtype(where, x, filter, ['x', 'filter']);
  const info = conv2dInfo(x.shape, filter.shape, opts, where);
  const convShape = [info.batch, info.outH, info.outW, info.outC];
  const poolInfo = pool2dInfo(convShape, pool, where);
  if (convOutput !== undefined) {
    checkTensor(where, 'convOutput', convOutput, 4);
    checkSameDtype(where, x, convOutput, ['x', 'convOutput']);
    checkShapeEquals(where, 'convOutput', convOutput.shape, convShape);
  }
  return kernelRequest('conv2dMaxPool', [x, filter, info, poolInfo, epilogue(where, x, opts, info.outC, undefined), convOutput], {
    shape: [poolInfo.batch, poolInfo.outH, poolInfo.outW, poolInfo.channels],
    dtype: x.dtype,
  });
});

/** dL/dx of conv2d: dy (N,OH,OW,OC), filter (KH,KW,C/G,OC) -> dx of inputShape (N,H,W,C); `out` to write into. */
export const conv2dBackwardInputOp = defineOp((dy: Tensor, filter: Tensor, inputShape: Shape, opts: Conv2DOptions & OutOptions = {}): OpRequest => {
  const where = 'conv2dBackwardInput';
  checkTensor(where, 'dy', dy, 4);
  checkTensor(where, 'filter', filter, 4);
  checkSameDtype(where, dy, filter, ['dy', 'filter']);
  const info = conv2dInfo(inputShape, filter.shape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.outC]);
  return kernelRequest('conv2dBackwardInput', [dy, filter, info], outputSpec(where, opts.out, [info.batch, info.inH, info.inW, info.inC], dy.dtype, { dy, filter }));
});

/** dL/dfilter of conv2d: x (N,H,W,C), dy (N,OH,OW,OC) -> dfilter of filterShape (KH,KW,C/G,OC); `out` to write into. */
export const conv2dBackwardFilterOp = defineOp((x: Tensor, dy: Tensor, filterShape: Shape, opts: Conv2DOptions & OutOptions = {}): OpRequest => {
  const where = 'conv2dBackwardFilter';
  checkTensor(where, 'x', x, 4);
  checkTensor(where, 'dy', dy, 4);
  checkSameDtype(where, x, dy, ['x', 'dy']);
  const info = conv2dInfo(x.shape, filterShape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.outC]);
  return kernelRequest('conv2dBackwardFilter', [x, dy, info], outputSpec(where, opts.out, [info.kH, info.kW, info.inC / info.groups, info.outC], x.dtype, { x, dy }));
});
