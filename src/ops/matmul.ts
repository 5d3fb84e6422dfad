/** Dense algebra: matmul (transposes, fused bias + activation), biasAdd, biasGrad. Matrices are row-major. */
import type { Tensor } from '../tensor.js';
import { describe, fail } from '../errors.js';
import { checkSameDtype, checkShapeEquals, checkTensor } from '../validate.js';
import { epilogue, type FusedOptions } from './activation.js';
import { defineOp, kernelRequest, outputSpec, type OpRequest, type OutOptions } from './program.js';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/**
 * a (M,K) x b (K,N) -> (M,N), with optional transposes, a fused bias + activation, and `out` to write into.
 * @example ops.matmul(a, b, { transposeB: true, out: c })
 * @throws ConvkitError when ranks or inner dimensions disagree, or for an out of another shape or dtype or sharing an input's memory.
 */
export const matmulOp = defineOp((a: Tensor, b: Tensor, opts: MatmulOptions & FusedOptions & OutOptions = {}): OpRequest => {
  checkTensor('matmul', 'a', a, 2);
  checkTensor('matmul', 'b', b, 2);
  checkSameDtype('matmul', a, b, ['a', 'b']);
  const tA = !!opts.transposeA;
  const tB = !!opts.transposeB;
  const k = tA ? a.shape[0] : a.shape[1];
  const kb = tB ? b.shape[1] : b.shape[0];
  if (k !== kb) fail('matmul', `b with inner dimension ${k} (a is [${a.shape.join(', ')}]${tA ? ' transposed' : ''})`, `[${b.shape.join(', ')}]${tB ? ' transposed' : ''}`);
  const m = tA ? a.shape[1] : a.shape[0];
  const n = tB ? b.shape[0] : b.shape[1];
  const ep = epilogue('matmul', a, opts, n, [m, n]);
  return kernelRequest('matmul', [a, b, tA, tB, ep], outputSpec('matmul', opts.out, [m, n], a.dtype, { a, b, scale: opts.scale, bias: opts.bias, residual: opts.residual }));
});

/** x (..., C) + bias (C). */
export const biasAddOp = defineOp((x: Tensor, bias: Tensor): OpRequest => {
  checkTensor('biasAdd', 'x', x);
  checkTensor('biasAdd', 'bias', bias, 1);
  checkSameDtype('biasAdd', x, bias, ['x', 'bias']);
  checkShapeEquals('biasAdd', 'bias', bias.shape, [x.shape[x.rank - 1]]);
  return kernelRequest('biasAdd', [x, bias], { shape: x.shape, dtype: x.dtype });
});

/** dy (..., C) -> (C): the bias gradient, summed over every other axis (N·H·W for conv). */
export const biasGradOp = defineOp((dy: Tensor): OpRequest => {
  checkTensor('biasGrad', 'dy', dy);
  if (dy.rank < 1) fail('biasGrad', 'dy of rank >= 1', describe(dy.rank));
  return kernelRequest('biasGrad', [dy], { shape: [dy.shape[dy.rank - 1]], dtype: dy.dtype });
});
