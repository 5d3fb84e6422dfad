// Hand-computed cases that pin the semantics of padding, stride, dilation and groups, so the reference
// backend is anchored to arithmetic done by hand and not only consistent with itself.
import { describe, expect, it } from 'vitest';
import { ops, setBackend, tensor } from '../../src/index.js';

const seq = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
const img = (h: number, w: number, values = seq(h * w)) => tensor(values, [1, h, w, 1]);
const flat = (t: { data: ArrayLike<number> }) => Array.from(t.data);

describe('reference conv/pool semantics (hand-computed)', () => {
  setBackend('reference');

  it('valid 2x2 ones over 1..9', () => {
    expect(flat(ops.conv2d(img(3, 3), tensor([1, 1, 1, 1], [2, 2, 1, 1])))).toEqual([12, 16, 24, 28]);
  });

  it("'same' with stride 2 on an even size puts the extra padding bottom/right (TF)", () => {
    const y = ops.conv2d(img(4, 4), tensor(new Array(9).fill(1), [3, 3, 1, 1]), { strides: 2, padding: 'same' });
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(flat(y)).toEqual([54, 45, 72, 54]);
  });

  it("'same' with stride 1 and a 3x3 kernel pads one on each side", () => {
    const y = ops.conv2d(img(3, 3), tensor(new Array(9).fill(1), [3, 3, 1, 1]), { padding: 'same' });
    // corners sum 4 cells, edges 6, centre all 9
    expect(flat(y)).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it('dilation 2 samples every other pixel', () => {
    const y = ops.conv2d(img(5, 5), tensor([1, 1, 1, 1], [2, 2, 1, 1]), { dilations: 2 });
    expect(y.shape).toEqual([1, 3, 3, 1]);
    const expected = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => 20 * i + 4 * j + 28));
    expect(flat(y)).toEqual(expected);
  });

  it('explicit asymmetric padding [[1, 0], [0, 2]]', () => {
    const y = ops.conv2d(img(2, 2), tensor([1, 2, 3, 4], [2, 2, 1, 1]), { padding: [[1, 0], [0, 2]] });
    expect(y.shape).toEqual([1, 2, 3, 1]);
    expect(flat(y)).toEqual([11, 6, 0, 30, 14, 0]);
  });

  it('groups keep channels apart; depthwise multiplies each channel by its own tap', () => {
    const x = tensor([1, 10, 2, 20], [1, 1, 2, 2]);
    const y = ops.conv2d(x, tensor([3, 5], [1, 1, 1, 2]), { groups: 2 });
    expect(flat(y)).toEqual([3, 50, 6, 100]);
  });

  it('stride 3 and a 1x2 kernel per axis', () => {
    const y = ops.conv2d(img(4, 7), tensor([1, -1], [1, 2, 1, 1]), { strides: [3, 3] });
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(flat(y)).toEqual([-1, -1, -1, -1]);
  });

  it('average pooling leaves padded cells out of the divisor', () => {
    const y = ops.avgPool2d(img(3, 3), { poolSize: 2, strides: 2, padding: 'same' });
    expect(flat(y)).toEqual([3, 4.5, 7.5, 9]);
  });

  it('max pooling: padding never wins and the first maximum takes the gradient', () => {
    const x = img(2, 3, [-5, -1, -1, -7, -8, -9]);
    const y = ops.maxPool2d(x, { poolSize: 2, strides: 1, padding: 'same' });
    expect(flat(y)).toEqual([-1, -1, -1, -7, -8, -9]);
    const dx = ops.maxPool2dBackward(tensor([1, 2, 4, 8, 16, 32], [1, 2, 3, 1]), x, { poolSize: 2, strides: 1, padding: 'same' });
    expect(flat(dx)).toEqual([0, 3, 4, 8, 16, 32]);
  });

  it('global pools', () => {
    const x = tensor([1, -1, 3, -3, 2, -2, 6, 0], [1, 2, 2, 2]);
    expect(flat(ops.globalAvgPool2d(x))).toEqual([3, -1.5]);
    expect(flat(ops.globalMaxPool2d(x))).toEqual([6, 0]);
  });

  it('softmax cross-entropy is exact for huge logits', () => {
    const logits = tensor([[1000, 0], [0, 1000]]);
    const { loss, grad } = ops.softmaxCrossEntropy(logits, [0, 0]);
    expect(loss).toBeCloseTo(500, 10); // row 0 costs ~0, row 1 costs 1000
    expect(flat(grad)).toEqual([0, 0, -0.5, 0.5]);
    const oneHot = ops.softmaxCrossEntropy(logits, tensor([[1, 0], [1, 0]]));
    expect(oneHot.loss).toBeCloseTo(500, 10);
  });

  it('matmul with transposes and a fused bias + relu', () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[1, -1], [2, -2]]);
    expect(flat(ops.matmul(a, b))).toEqual([5, -5, 11, -11]);
    expect(flat(ops.matmul(a, b, { transposeA: true }))).toEqual([7, -7, 10, -10]);
    expect(flat(ops.matmul(a, b, { transposeB: true }))).toEqual([-1, -2, -1, -2]);
    expect(flat(ops.matmul(a, b, { bias: tensor([0, 8]), activation: 'relu' }))).toEqual([5, 3, 11, 0]);
  });
});
