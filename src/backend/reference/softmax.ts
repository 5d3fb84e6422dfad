import { Tensor } from '../../tensor.js';
import { alloc, fromAccum } from './util.js';

/** Softmax of each row of length c, shifted by the row max so large logits cannot overflow. */
function softmaxRows(X: ArrayLike<number>, rows: number, c: number): Float64Array {
  const p = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, X[r * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += p[r * c + j] = Math.exp(X[r * c + j] - m);
    for (let j = 0; j < c; j++) p[r * c + j] /= s;
  }
  return p;
}

export function softmax(x: Tensor): Tensor {
  const c = x.shape[x.rank - 1];
  return fromAccum(x, softmaxRows(x.data, x.size / c, c), x.shape);
}

export function softmaxBackward(dy: Tensor, y: Tensor): Tensor {
  const c = y.shape[y.rank - 1];
  const dx = alloc(y, y.size);
  for (let r = 0; r < y.size / c; r++) {
    let dot = 0;
    for (let j = 0; j < c; j++) dot += dy.data[r * c + j] * y.data[r * c + j];
    for (let j = 0; j < c; j++) dx[r * c + j] = y.data[r * c + j] * (dy.data[r * c + j] - dot);
  }
  return new Tensor(dx, y.shape);
}

/**
 * Mean over rows of -sum(t * log softmax(x)), with log softmax = x - max - log(sum exp(x - max)),
 * and dlogits = (softmax - t) / N. `target(r, j)` is the target probability.
 */
function crossEntropy(logits: Tensor, target: (r: number, j: number) => number): { loss: number; grad: Tensor } {
  const [n, c] = logits.shape;
  const X = logits.data;
  const p = softmaxRows(X, n, c);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, X[r * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(X[r * c + j] - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < c; j++) {
      const t = target(r, j);
      if (t !== 0) loss -= t * (X[r * c + j] - lse);
      p[r * c + j] = (p[r * c + j] - t) / n;
    }
  }
  return { loss: loss / n, grad: fromAccum(logits, p, logits.shape) };
}

export function softmaxCrossEntropySparse(logits: Tensor, labels: Int32Array): { loss: number; grad: Tensor } {
  return crossEntropy(logits, (r, j) => (labels[r] === j ? 1 : 0));
}

export function softmaxCrossEntropyDense(logits: Tensor, targets: Tensor): { loss: number; grad: Tensor } {
  const c = logits.shape[1];
  return crossEntropy(logits, (r, j) => targets.data[r * c + j]);
}
