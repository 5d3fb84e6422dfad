import type { Conv2DInfo, Epilogue } from '../types.js';
import { Tensor } from '../../tensor.js';
import { applyEpilogue } from './matmul.js';
import { fromAccum } from './util.js';

/**
 * Visits every (output pixel, filter tap) pair whose input pixel lies inside x, with the flat offsets of
 * x (N,H,W,C), y (N,OH,OW,OC) and filter tap (KH,KW,·,·). The three conv kernels are this loop with a
 * different innermost multiply-add, so their index arithmetic cannot drift apart.
 */
function forEachTap(c: Conv2DInfo, visit: (xOff: number, yOff: number, fOff: number) => void): void {
  for (let n = 0; n < c.batch; n++) {
    for (let oh = 0; oh < c.outH; oh++) {
      for (let ow = 0; ow < c.outW; ow++) {
        const yOff = ((n * c.outH + oh) * c.outW + ow) * c.outC;
        for (let kh = 0; kh < c.kH; kh++) {
          const ih = oh * c.strideH - c.padTop + kh * c.dilH;
          if (ih < 0 || ih >= c.inH) continue;
          for (let kw = 0; kw < c.kW; kw++) {
            const iw = ow * c.strideW - c.padLeft + kw * c.dilW;
            if (iw < 0 || iw >= c.inW) continue;
            visit(((n * c.inH + ih) * c.inW + iw) * c.inC, yOff, (kh * c.kW + kw) * (c.inC / c.groups) * c.outC);
          }
        }
      }
    }
  }
}

/** x (N,H,W,C), filter (KH,KW,C/G,OC) -> y (N,OH,OW,OC). */
export function conv2d(x: Tensor, filter: Tensor, c: Conv2DInfo, ep?: Epilogue): Tensor {
  const cin = c.inC / c.groups;
  const cout = c.outC / c.groups;
  const X = x.data;
  const F = filter.data;
  const y = new Float64Array(c.batch * c.outH * c.outW * c.outC);
  forEachTap(c, (xOff, yOff, fOff) => {
    for (let g = 0; g < c.groups; g++) {
      for (let ic = 0; ic < cin; ic++) {
        const xv = X[xOff + g * cin + ic];
        const fRow = fOff + ic * c.outC + g * cout;
        for (let oc = 0; oc < cout; oc++) y[yOff + g * cout + oc] += xv * F[fRow + oc];
      }
    }
  });
  return applyEpilogue(fromAccum(x, y, [c.batch, c.outH, c.outW, c.outC]), ep);
}

/** dy (N,OH,OW,OC), filter (KH,KW,C/G,OC) -> dx (N,H,W,C). */
export function conv2dBackwardInput(dy: Tensor, filter: Tensor, c: Conv2DInfo): Tensor {
  const cin = c.inC / c.groups;
  const cout = c.outC / c.groups;
  const D = dy.data;
  const F = filter.data;
  const dx = new Float64Array(c.batch * c.inH * c.inW * c.inC);
  forEachTap(c, (xOff, yOff, fOff) => {
    for (let g = 0; g < c.groups; g++) {
      for (let ic = 0; ic < cin; ic++) {
        const fRow = fOff + ic * c.outC + g * cout;
        let s = 0;
        for (let oc = 0; oc < cout; oc++) s += D[yOff + g * cout + oc] * F[fRow + oc];
        dx[xOff + g * cin + ic] += s;
      }
    }
  });
  return fromAccum(dy, dx, [c.batch, c.inH, c.inW, c.inC]);
}

/** x (N,H,W,C), dy (N,OH,OW,OC) -> dfilter (KH,KW,C/G,OC). */
export function conv2dBackwardFilter(x: Tensor, dy: Tensor, c: Conv2DInfo): Tensor {
  const cin = c.inC / c.groups;
  const cout = c.outC / c.groups;
  const X = x.data;
  const D = dy.data;
  const df = new Float64Array(c.kH * c.kW * cin * c.outC);
  forEachTap(c, (xOff, yOff, fOff) => {
    for (let g = 0; g < c.groups; g++) {
      for (let ic = 0; ic < cin; ic++) {
        const xv = X[xOff + g * cin + ic];
        const fRow = fOff + ic * c.outC + g * cout;
        for (let oc = 0; oc < cout; oc++) df[fRow + oc] += xv * D[yOff + g * cout + oc];
      }
    }
  });
  return fromAccum(x, df, [c.kH, c.kW, cin, c.outC]);
}
