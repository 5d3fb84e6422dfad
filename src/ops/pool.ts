/** Pooling over nhwc: max and average windows, global pools, and their backward passes. */
import type { ActivationKind, PoolActivation } from '../backend/types.js';
import { describe, fail } from '../errors.js';
import type { Shape, Tensor } from '../tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor, finiteNumber, oneOf } from '../validate.js';
import { defaultAlpha } from './activation.js';
import { defineOp, kernelRequest, type OpRequest } from './program.js';
import { checkShape4, pool2dInfo, type Pool2DOptions } from './shapes.js';

export const maxPool2dOp = defineOp((x: Tensor, opts: Pool2DOptions): OpRequest => {
  checkTensor('maxPool2d', 'x', x, 4);
  const info = pool2dInfo(x.shape, opts, 'maxPool2d');
  return kernelRequest('maxPool2d', [x, info], { shape: [info.batch, info.outH, info.outW, info.channels], dtype: x.dtype });
});

/** Average pooling; padded cells are left out of the divisor (TF/Keras semantics). */
export const avgPool2dOp = defineOp((x: Tensor, opts: Pool2DOptions): OpRequest => {
  checkTensor('avgPool2d', 'x', x, 4);
  const info = pool2dInfo(x.shape, opts, 'avgPool2d');
  return kernelRequest('avgPool2d', [x, info], { shape: [info.batch, info.outH, info.outW, info.channels], dtype: x.dtype });
});

/** An activation a max pooling's backward can apply (see MaxPool2DBackwardOptions). */
export interface PooledActivation {
  activation: ActivationKind;
  alpha?: number;
}

export interface MaxPool2DBackwardOptions extends Pool2DOptions {
  /**
   * The activation whose output x is: relu, leakyRelu (alpha > 0), sigmoid or tanh, whose derivatives their
   * outputs give. The result is then the gradient at that activation's input, what activationBackward of the
   * plain result would give, in one pass. Default linear (none).
   */
  activation?: ActivationKind;
  /** leakyRelu's slope, default 0.2. */
  alpha?: number;
}

/** The activations a max pooling's backward can apply (their derivative comes from the output it routes by). */
export const POOL_ACTIVATIONS: readonly ActivationKind[] = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh'];

function poolActivation(where: string, opts: MaxPool2DBackwardOptions): PoolActivation | undefined {
  const kind = oneOf(where, 'activation', opts.activation ?? 'linear', POOL_ACTIVATIONS);
  if (kind === 'linear' || kind === 'elu') return undefined;
  if (kind !== 'leakyRelu') return { kind, alpha: 0 };
  const alpha = opts.alpha === undefined ? defaultAlpha(kind) : finiteNumber(where, 'alpha', opts.alpha);
  if (!(alpha > 0)) fail(where, 'alpha > 0 for leakyRelu (its derivative is read from its output)', describe(alpha));
  return { kind, alpha };
}

/**
 * Routes each dy to the first maximum of its window in x (row-major window order); with `activation`, through
 * that activation too (see MaxPool2DBackwardOptions).
 */
export const maxPool2dBackwardOp = defineOp((dy: Tensor, x: Tensor, opts: MaxPool2DBackwardOptions): OpRequest => {
  const where = 'maxPool2dBackward';
  checkTensor(where, 'dy', dy, 4);
  checkTensor(where, 'x', x, 4);
  checkSameDtype(where, x, dy, ['x', 'dy']);
  const info = pool2dInfo(x.shape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.channels]);
  return kernelRequest('maxPool2dBackward', [dy, x, info, poolActivation(where, opts)], { shape: x.shape, dtype: x.dtype });
});

export const avgPool2dBackwardOp = defineOp((dy: Tensor, inputShape: Shape, opts: Pool2DOptions): OpRequest => {
  const where = 'avgPool2dBackward';
  checkTensor(where, 'dy', dy, 4);
  const info = pool2dInfo(inputShape, opts, where);
  checkShapeEquals(where, 'dy', dy.shape, [info.batch, info.outH, info.outW, info.channels]);
  return kernelRequest('avgPool2dBackward', [dy, info], { shape: [info.batch, info.inH, info.inW, info.channels], dtype: dy.dtype });
});

/** x (N,H,W,C) -> (N,C), the mean over H and W. */
export const globalAvgPool2dOp = defineOp((x: Tensor): OpRequest => {
  checkTensor('globalAvgPool2d', 'x', x, 4);
  return kernelRequest('globalAvgPool2d', [x], { shape: [x.shape[0], x.shape[3]], dtype: x.dtype });
});

/** x (N,H,W,C) -> (N,C), the max over H and W. */
export const globalMaxPool2dOp = defineOp((x: Tensor): OpRequest => {
  checkTensor('globalMaxPool2d', 'x', x, 4);
  return kernelRequest('globalMaxPool2d', [x], { shape: [x.shape[0], x.shape[3]], dtype: x.dtype });
});

export const globalAvgPool2dBackwardOp = defineOp((dy: Tensor, inputShape: Shape): OpRequest => {
  const where = 'globalAvgPool2dBackward';
  checkTensor(where, 'dy', dy, 2);
  const [n, h, w, c] = checkShape4(where, 'inputShape', [...inputShape]);
  checkShapeEquals(where, 'dy', dy.shape, [n, c]);
  return kernelRequest('globalAvgPool2dBackward', [dy], { shape: [n, h, w, c], dtype: dy.dtype });
});

export const globalMaxPool2dBackwardOp = defineOp((dy: Tensor, x: Tensor): OpRequest => {
  const where = 'globalMaxPool2dBackward';
  checkTensor(where, 'dy', dy, 2);
  checkTensor(where, 'x', x, 4);
  checkSameDtype(where, x, dy, ['x', 'dy']);
  checkShapeEquals(where, 'dy', dy.shape, [x.shape[0], x.shape[3]]);
  return kernelRequest('globalMaxPool2dBackward', [dy, x], { shape: x.shape, dtype: x.dtype });
});
