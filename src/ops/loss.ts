/** The fused softmax + cross-entropy loss over logits. */
import { backend } from '../backend/index.js';
import { describe, fail } from '../errors.js';
import { Tensor, zeros } from '../tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor } from '../validate.js';

export type Labels = Int32Array | Uint8Array | Uint16Array | number[] | Tensor;

/**
 * Fused softmax + cross-entropy over logits (N,C): mean loss over N and dlogits. Stable for large logits.
 * @param labels class ids (N) in [0, C), or a one-hot / probability tensor (N,C).
 * @throws ConvkitError for a label count, range or shape mismatch.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Labels): { loss: number; grad: Tensor } {
  const where = 'softmaxCrossEntropy';
  checkTensor(where, 'logits', logits, 2);
  const [n, c] = logits.shape;
  const grad = zeros(logits.shape, logits.dtype);
  if (labels instanceof Tensor) {
    checkTensor(where, 'labels', labels, 2);
    checkSameDtype(where, logits, labels, ['logits', 'labels']);
    checkShapeEquals(where, 'labels', labels.shape, [n, c]);
    return { loss: backend().softmaxCrossEntropyDense(logits, labels, grad), grad };
  }
  if (!(Array.isArray(labels) || labels instanceof Int32Array || labels instanceof Uint8Array || labels instanceof Uint16Array)) {
    fail(where, 'labels as class ids (Int32Array, Uint8Array, number[]) or a one-hot Tensor', describe(labels));
  }
  if (labels.length !== n) fail(where, `${n} labels (one per logits row)`, describe(labels.length));
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v >= c) fail(where, `labels[${i}] to be a class id in [0, ${c})`, describe(v));
    ids[i] = v;
  }
  return { loss: backend().softmaxCrossEntropySparse(logits, ids, grad), grad };
}
