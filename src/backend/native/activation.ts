import type { Tensor } from '../../tensor.js';
import type { NativeAddon } from '../../native.js';
import type { UnaryKind } from '../types.js';
import { defaultAlpha, f32 } from './check.js';
import { takeOutput } from '../arena.js';

export function unary(addon: NativeAddon, kind: UnaryKind, x: Tensor, alpha: number): Tensor {
  const y = takeOutput(x.shape);
  addon.unary(kind, f32('unary', x), y.data as Float32Array, defaultAlpha(kind, alpha));
  return y;
}

export function unaryBackward(addon: NativeAddon, kind: UnaryKind, dy: Tensor, saved: Tensor, alpha: number): Tensor {
  const dx = takeOutput(dy.shape);
  addon.unaryBackward(kind, f32('unaryBackward', dy), f32('unaryBackward', saved), dx.data as Float32Array, defaultAlpha(kind, alpha));
  return dx;
}

export function dropout(addon: NativeAddon, x: Tensor, rate: number, seed: number, mask: Tensor): Tensor {
  const y = takeOutput(x.shape);
  addon.dropout(f32('dropout', x), y.data as Float32Array, f32('dropout', mask), seed, rate);
  return y;
}

export function multiply(addon: NativeAddon, a: Tensor, b: Tensor): Tensor {
  const y = takeOutput(a.shape);
  addon.multiply(f32('multiply', a), f32('multiply', b), y.data as Float32Array);
  return y;
}

/** Softmax over the last axis. */
export function softmax(addon: NativeAddon, x: Tensor): Tensor {
  const y = takeOutput(x.shape);
  addon.softmax(f32('softmax', x), y.data as Float32Array, x.shape[x.rank - 1]);
  return y;
}

export function softmaxBackward(addon: NativeAddon, dy: Tensor, y: Tensor): Tensor {
  const dx = takeOutput(dy.shape);
  addon.softmaxBackward(f32('softmaxBackward', dy), f32('softmaxBackward', y), dx.data as Float32Array, dy.shape[dy.rank - 1]);
  return dx;
}

export function softmaxCrossEntropySparse(addon: NativeAddon, logits: Tensor, labels: Int32Array): { loss: number; grad: Tensor } {
  const grad = takeOutput(logits.shape);
  const loss = addon.softmaxCrossEntropySparse(f32('softmaxCrossEntropySparse', logits), labels, grad.data as Float32Array, logits.shape[1]);
  return { loss, grad };
}

export function softmaxCrossEntropyDense(addon: NativeAddon, logits: Tensor, targets: Tensor): { loss: number; grad: Tensor } {
  const grad = takeOutput(logits.shape);
  const loss = addon.softmaxCrossEntropyDense(
    f32('softmaxCrossEntropyDense', logits), f32('softmaxCrossEntropyDense', targets), grad.data as Float32Array, logits.shape[1]);
  return { loss, grad };
}
