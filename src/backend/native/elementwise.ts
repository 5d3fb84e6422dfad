import type { Tensor } from '../../tensor.js';
import type { NativeAddon } from '../../native.js';
import type { BinaryKind } from '../types.js';
import { f32 } from './check.js';

export function binary(addon: NativeAddon, kind: BinaryKind, a: Tensor, b: Tensor, out: Tensor): Tensor {
  addon.binary(kind, f32('binary', a), f32('binary', b), f32('binary', out));
  return out;
}

export function binaryRoute(addon: NativeAddon, kind: 'max' | 'min', dy: Tensor, a: Tensor, b: Tensor, db: Tensor, out: Tensor): Tensor {
  const op = 'binaryRoute';
  addon.binaryRoute(kind, f32(op, dy), f32(op, a), f32(op, b), f32(op, out), f32(op, db));
  return out;
}

export function scale(addon: NativeAddon, x: Tensor, c: number, out: Tensor): Tensor {
  addon.scale(f32('scale', x), c, f32('scale', out));
  return out;
}

/** Rows and columns of a tensor seen as (outer, size along axis × inner). */
function blocks(shape: readonly number[], axis: number): { rows: number; cols: number } {
  let rows = 1;
  let cols = 1;
  shape.forEach((d, i) => {
    if (i < axis) rows *= d;
    else cols *= d;
  });
  return { rows, cols };
}

/** Each input copied into its columns of out, one block copy per input. */
export function concat(addon: NativeAddon, xs: readonly Tensor[], axis: number, out: Tensor): Tensor {
  const { rows, cols: outCols } = blocks(out.shape, axis);
  const dst = f32('concat', out);
  let offset = 0;
  for (const x of xs) {
    const { cols } = blocks(x.shape, axis);
    addon.copyRows(dst, f32('concat', x), rows, cols, outCols, offset, cols, 0);
    offset += cols;
  }
  return out;
}

export function slice(addon: NativeAddon, x: Tensor, axis: number, begin: number, out: Tensor): Tensor {
  const { rows, cols } = blocks(out.shape, axis);
  const { cols: xCols } = blocks(x.shape, axis);
  addon.copyRows(f32('slice', out), f32('slice', x), rows, cols, cols, 0, xCols, (begin * cols) / out.shape[axis]);
  return out;
}
