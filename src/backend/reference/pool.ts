import type { Pool2DInfo } from '../types.js';
import { Tensor, type Shape } from '../../tensor.js';
import { alloc, fromAccum } from './util.js';

/**
 * Calls visit(yOff, xOffs) for every output cell of every channel-0 column, where xOffs lists the flat
 * offsets (channel 0) of the in-bounds input cells of its window in row-major order; add the channel to both.
 * Only the in-bounds part of a window is walked, so a huge pool costs what the image does.
 */
function forEachWindow(p: Pool2DInfo, visit: (yOff: number, xOffs: number[]) => void): void {
  for (let n = 0; n < p.batch; n++) {
    for (let oh = 0; oh < p.outH; oh++) {
      const h0 = oh * p.strideH - p.padTop;
      for (let ow = 0; ow < p.outW; ow++) {
        const w0 = ow * p.strideW - p.padLeft;
        const xOffs: number[] = [];
        for (let ih = Math.max(h0, 0); ih < Math.min(h0 + p.poolH, p.inH); ih++) {
          for (let iw = Math.max(w0, 0); iw < Math.min(w0 + p.poolW, p.inW); iw++) xOffs.push(((n * p.inH + ih) * p.inW + iw) * p.channels);
        }
        visit(((n * p.outH + oh) * p.outW + ow) * p.channels, xOffs);
      }
    }
  }
}

function outShape(p: Pool2DInfo): Shape {
  return [p.batch, p.outH, p.outW, p.channels];
}

/** Index (into xOffs) of the first maximum for channel c. */
function argmax(X: ArrayLike<number>, xOffs: number[], c: number): number {
  let best = 0;
  for (let i = 1; i < xOffs.length; i++) if (X[xOffs[i] + c] > X[xOffs[best] + c]) best = i;
  return best;
}

export function maxPool2d(x: Tensor, p: Pool2DInfo): Tensor {
  const y = alloc(x, p.batch * p.outH * p.outW * p.channels);
  forEachWindow(p, (yOff, xOffs) => {
    for (let c = 0; c < p.channels; c++) y[yOff + c] = x.data[xOffs[argmax(x.data, xOffs, c)] + c];
  });
  return new Tensor(y, outShape(p));
}

export function maxPool2dBackward(dy: Tensor, x: Tensor, p: Pool2DInfo): Tensor {
  const dx = new Float64Array(x.size);
  forEachWindow(p, (yOff, xOffs) => {
    for (let c = 0; c < p.channels; c++) dx[xOffs[argmax(x.data, xOffs, c)] + c] += dy.data[yOff + c];
  });
  return fromAccum(dy, dx, x.shape);
}

export function avgPool2d(x: Tensor, p: Pool2DInfo): Tensor {
  const y = new Float64Array(p.batch * p.outH * p.outW * p.channels);
  forEachWindow(p, (yOff, xOffs) => {
    for (let c = 0; c < p.channels; c++) {
      let s = 0;
      for (const o of xOffs) s += x.data[o + c];
      y[yOff + c] = s / xOffs.length;
    }
  });
  return fromAccum(x, y, outShape(p));
}

export function avgPool2dBackward(dy: Tensor, p: Pool2DInfo): Tensor {
  const dx = new Float64Array(p.batch * p.inH * p.inW * p.channels);
  forEachWindow(p, (yOff, xOffs) => {
    for (let c = 0; c < p.channels; c++) {
      const g = dy.data[yOff + c] / xOffs.length;
      for (const o of xOffs) dx[o + c] += g;
    }
  });
  return fromAccum(dy, dx, [p.batch, p.inH, p.inW, p.channels]);
}

/** A global pool is a pool whose one window is the whole image. */
function globalInfo(shape: Shape): Pool2DInfo {
  const [batch, inH, inW, channels] = shape;
  return { batch, inH, inW, channels, outH: 1, outW: 1, poolH: inH, poolW: inW, strideH: 1, strideW: 1, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0 };
}

export function globalAvgPool2d(x: Tensor): Tensor {
  return avgPool2d(x, globalInfo(x.shape)).reshape([x.shape[0], x.shape[3]]);
}

export function globalAvgPool2dBackward(dy: Tensor, inputShape: Shape): Tensor {
  return avgPool2dBackward(dy.reshape([dy.shape[0], 1, 1, dy.shape[1]]), globalInfo(inputShape));
}

export function globalMaxPool2d(x: Tensor): Tensor {
  return maxPool2d(x, globalInfo(x.shape)).reshape([x.shape[0], x.shape[3]]);
}

export function globalMaxPool2dBackward(dy: Tensor, x: Tensor): Tensor {
  return maxPool2dBackward(dy.reshape([dy.shape[0], 1, 1, dy.shape[1]]), x, globalInfo(x.shape));
}
