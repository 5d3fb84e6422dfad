import type { Tensor } from '../../tensor.js';
import type { NativeAddon } from '../../native.js';
import type { UnaryKind } from '../types.js';
import { f32 } from './check.js';

export function unary(addon: NativeAddon, kind: UnaryKind, x: Tensor, alpha: number, out: Tensor): Tensor {
  addon.unary(kind, f32('unary', x), f32('unary', out), alpha);
  return out;
}

export function unaryBackward(addon: NativeAddon, kind: UnaryKind, dy: Tensor, saved: Tensor, alpha: number, out: Tensor): Tensor {
  const op = 'unaryBackward';
  addon.unaryBackward(kind, f32(op, dy), f32(op, saved), f32(op, out), alpha);
  return out;
}

export function dropout(addon: NativeAddon, x: Tensor, rate: number, seed: number, mask: Tensor, out: Tensor): Tensor {
  addon.dropout(f32('dropout', x), f32('dropout', out), f32('dropout', mask), seed, rate);
  return out;
}

/** Softmax over the last axis. */
export function softmax(addon: NativeAddon, x: Tensor, out: Tensor): Tensor {
  addon.softmax(f32('softmax', x), f32('softmax', out), x.shape[x.rank - 1]);
  return out;
}

export function softmaxBackward(addon: NativeAddon, dy: Tensor, y: Tensor, out: Tensor): Tensor {
  addon.softmaxBackward(f32('softmaxBackward', dy), f32('softmaxBackward', y), f32('softmaxBackward', out), dy.shape[dy.rank - 1]);
  return out;
}

export function softmaxCrossEntropySparse(addon: NativeAddon, logits: Tensor, labels: Int32Array, grad: Tensor): number {
  const op = 'softmaxCrossEntropySparse';
  return addon.softmaxCrossEntropySparse(f32(op, logits), labels, f32(op, grad), logits.shape[1]);
}

export function softmaxCrossEntropyDense(addon: NativeAddon, logits: Tensor, targets: Tensor, grad: Tensor): number {
  const op = 'softmaxCrossEntropyDense';
  return addon.softmaxCrossEntropyDense(f32(op, logits), f32(op, targets), f32(op, grad), logits.shape[1]);
}
