/**
 * Activations: the elementwise unary kinds and their gradients, softmax, `activation`/`activationBackward` by
 * name, and the fused epilogue (scale, bias, residual, activation) that matmul and conv2d apply to their results.
 */
import { defaultAlpha, FROM_OUTPUT, type ActivationKind, type Epilogue, type UnaryKind } from '../backend/types.js';
import { describe, fail } from '../errors.js';
import type { Shape, Tensor } from '../tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor, finiteNumber, oneOf } from '../validate.js';
import { defineOp, kernelRequest, readyRequest, type OpRequest } from './program.js';

export type ActivationName = ActivationKind | 'softmax';

export const ACTIVATIONS: readonly ActivationKind[] = [
  'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'relu6', 'hardSigmoid', 'hardSwish', 'swish', 'gelu', 'geluTanh', 'softplus', 'softsign',
  'selu', 'mish', 'exponential', 'linear',
];

export { defaultAlpha };

/** What matmul and conv2d apply to their result before storing it, in this order: y = activation(y * scale + bias + residual). */
export interface FusedOptions {
  /** Multiplies the last axis of the result (a batch normalization folded in: gamma / sqrt(variance + epsilon)). */
  scale?: Tensor;
  /** Added to the last axis of the result. */
  bias?: Tensor;
  /** A tensor of the result's shape added before the activation (a residual connection). */
  residual?: Tensor;
  activation?: ActivationKind;
  /** leakyRelu slope (default 0.2) or elu alpha (default 1). */
  alpha?: number;
}

/**
 * The checked epilogue of a fused op whose result has `channels` in its last axis, or undefined for none.
 * `outShape` is the result's shape, for a residual; an op that takes none passes undefined.
 */
export function epilogue(where: string, x: Tensor, fused: FusedOptions, channels: number, outShape: Shape | undefined): Epilogue | undefined {
  const { scale, bias, residual, activation, alpha } = fused;
  if (scale === undefined && bias === undefined && residual === undefined && (activation === undefined || activation === 'linear')) return undefined;
  for (const [name, v] of [['scale', scale], ['bias', bias]] as const) {
    if (v === undefined) continue;
    checkTensor(where, name, v, 1);
    checkShapeEquals(where, name, v.shape, [channels]);
    checkSameDtype(where, x, v, ['x', name]);
  }
  if (residual !== undefined) {
    if (outShape === undefined) fail(where, 'no residual (its result is pooled)', 'a residual tensor');
    checkTensor(where, 'residual', residual);
    checkShapeEquals(where, 'residual', residual.shape, outShape);
    checkSameDtype(where, x, residual, ['x', 'residual']);
  }
  const act = activation === undefined ? undefined : oneOf(where, 'activation', activation, ACTIVATIONS);
  const a = act === undefined ? 0 : alpha === undefined ? defaultAlpha(act) : finiteNumber(where, 'alpha', alpha);
  return { scale, bias, residual, activation: act, alpha: a };
}

function unaryRequest(kind: UnaryKind, x: Tensor, alpha: number): OpRequest {
  checkTensor(kind, 'x', x);
  return kernelRequest('unary', [kind, x, finiteNumber(kind, 'alpha', alpha)], { shape: x.shape, dtype: x.dtype });
}

function unaryBackwardRequest(kind: UnaryKind, dy: Tensor, saved: Tensor, savedName: string, alpha: number): OpRequest {
  const where = `${kind}Backward`;
  checkTensor(where, 'dy', dy);
  checkTensor(where, savedName, saved);
  checkSameDtype(where, saved, dy, [savedName, 'dy']);
  checkShapeEquals(where, 'dy', dy.shape, saved.shape);
  return kernelRequest('unaryBackward', [kind, dy, saved, finiteNumber(where, 'alpha', alpha)], { shape: dy.shape, dtype: dy.dtype });
}

export const relu = (x: Tensor): Tensor => unaryOp.now('relu', x, 0);
export const leakyRelu = (x: Tensor, alpha = 0.2): Tensor => unaryOp.now('leakyRelu', x, alpha);
export const elu = (x: Tensor, alpha = 1): Tensor => unaryOp.now('elu', x, alpha);
export const sigmoid = (x: Tensor): Tensor => unaryOp.now('sigmoid', x, 0);
export const tanh = (x: Tensor): Tensor => unaryOp.now('tanh', x, 0);
/** dy * (x > 0), from the forward input x. */
export const reluBackward = (dy: Tensor, x: Tensor): Tensor => unaryBackwardOp.now('relu', dy, x, 'x', 0);
export const leakyReluBackward = (dy: Tensor, x: Tensor, alpha = 0.2): Tensor => unaryBackwardOp.now('leakyRelu', dy, x, 'x', alpha);
export const eluBackward = (dy: Tensor, x: Tensor, alpha = 1): Tensor => unaryBackwardOp.now('elu', dy, x, 'x', alpha);
/** dy * y * (1 - y), from the forward output y. */
export const sigmoidBackward = (dy: Tensor, y: Tensor): Tensor => unaryBackwardOp.now('sigmoid', dy, y, 'y', 0);
/** dy * (1 - y^2), from the forward output y. */
export const tanhBackward = (dy: Tensor, y: Tensor): Tensor => unaryBackwardOp.now('tanh', dy, y, 'y', 0);

const unaryOp = defineOp(unaryRequest);
const unaryBackwardOp = defineOp(unaryBackwardRequest);

/** Softmax over the last axis. */
export const softmaxOp = defineOp((x: Tensor): OpRequest => {
  checkTensor('softmax', 'x', x);
  return kernelRequest('softmax', [x], { shape: x.shape, dtype: x.dtype });
});

/** dx = y * (dy - sum(dy * y)) over the last axis, from the softmax output y. */
export const softmaxBackwardOp = defineOp((dy: Tensor, y: Tensor): OpRequest => {
  checkTensor('softmaxBackward', 'dy', dy);
  checkTensor('softmaxBackward', 'y', y);
  checkSameDtype('softmaxBackward', y, dy, ['y', 'dy']);
  checkShapeEquals('softmaxBackward', 'dy', dy.shape, y.shape);
  return kernelRequest('softmaxBackward', [dy, y], { shape: dy.shape, dtype: dy.dtype });
});

/** Any activation by name (layers use this); 'linear' returns x itself. */
export const activationOp = defineOp((kind: ActivationName, x: Tensor, alpha?: number): OpRequest => {
  if (kind === 'linear') return readyRequest(x);
  if (kind === 'softmax') return softmaxOp.request(x);
  const k = oneOf('activation', 'kind', kind, ACTIVATIONS) as UnaryKind;
  return unaryRequest(k, x, alpha ?? defaultAlpha(k));
});

/** Backward of `activation`: pass the forward input x and output y; each kind uses the one it needs. */
export const activationBackwardOp = defineOp((kind: ActivationName, dy: Tensor, x: Tensor, y: Tensor, alpha?: number): OpRequest => {
  switch (kind) {
    case 'linear':
      return readyRequest(dy);
    case 'softmax':
      return softmaxBackwardOp.request(dy, y);
    default: {
      if (typeof kind !== 'string') fail('activationBackward', 'kind to be an activation name', describe(kind));
      const k = oneOf('activationBackward', 'kind', kind, ACTIVATIONS) as UnaryKind;
      return FROM_OUTPUT.has(k) ? unaryBackwardRequest(k, dy, y, 'y', alpha ?? defaultAlpha(k)) : unaryBackwardRequest(k, dy, x, 'x', alpha ?? defaultAlpha(k));
    }
  }
});
