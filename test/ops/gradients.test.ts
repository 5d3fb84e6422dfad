// Every backward op against central finite differences of its forward op, in float64 on the reference
// backend (see helpers/gradcheck.ts for why the tolerance is 1e-6).
import { describe, it } from 'vitest';
import { ops, randomNormal, setBackend, Tensor, type Shape } from '../../src/index.js';
import type { Conv2DOptions, Pool2DOptions } from '../../src/ops/index.js';
import { distinctValues, gradcheck } from '../helpers/gradcheck.js';

const f64 = (shape: Shape, seed: number) => randomNormal(shape, { seed, dtype: 'float64' });

describe('gradients (reference, float64, central differences)', () => {
  setBackend('reference');

  const convCases: [string, Shape, Shape, Conv2DOptions][] = [
    ['same, stride 1', [2, 5, 4, 3], [3, 3, 3, 4], { padding: 'same' }],
    ['valid, stride 2, dilation 2', [1, 9, 8, 2], [2, 3, 2, 3], { strides: 2, dilations: 2 }],
    ['explicit padding, stride [2, 3]', [2, 6, 7, 2], [3, 2, 2, 2], { strides: [2, 3], padding: [[2, 0], [1, 1]] }],
    ['groups 2', [1, 5, 5, 4], [3, 3, 2, 6], { groups: 2, padding: 'same' }],
    ['depthwise', [2, 5, 6, 3], [3, 3, 1, 3], { groups: 3, padding: 'same', strides: 2 }],
  ];
  for (const [name, xs, fs, opts] of convCases) {
    it(`conv2d input and filter: ${name}`, () => {
      const x = f64(xs, 1);
      const w = f64(fs, 2);
      gradcheck((t) => ops.conv2d(t, w, opts), x, (_, dy) => ops.conv2dBackwardInput(dy, w, x.shape, opts));
      gradcheck((t) => ops.conv2d(x, t, opts), w, (_, dy) => ops.conv2dBackwardFilter(x, dy, w.shape, opts));
    });
  }

  it('conv2d bias (biasAdd / biasGrad)', () => {
    const y = f64([2, 3, 3, 5], 3);
    gradcheck((b) => ops.biasAdd(y, b), f64([5], 4), (_, dy) => ops.biasGrad(dy));
    gradcheck((t) => ops.biasAdd(t, f64([5], 4)), y, (_, dy) => dy);
  });

  it('conv2d with fused bias + activation matches the unfused chain', () => {
    const x = f64([1, 4, 4, 2], 5);
    const w = f64([3, 3, 2, 3], 6);
    const b = f64([3], 7);
    const opts: Conv2DOptions = { padding: 'same' };
    gradcheck(
      (t) => ops.conv2d(x, w, { ...opts, bias: t, activation: 'tanh' }),
      b,
      (bias, dy) => ops.biasGrad(ops.tanhBackward(dy, ops.conv2d(x, w, { ...opts, bias, activation: 'tanh' }))),
    );
  });

  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
    it(`matmul transposeA=${tA} transposeB=${tB}`, () => {
      const a = f64(tA ? [4, 3] : [3, 4], 8);
      const b = f64(tB ? [5, 4] : [4, 5], 9);
      const o = { transposeA: tA, transposeB: tB };
      // dA = dY·Bᵀ (or B·dYᵀ when A is transposed), dB = Aᵀ·dY (or dYᵀ·A when B is transposed)
      gradcheck((t) => ops.matmul(t, b, o), a, (_, dy) => (tA ? ops.matmul(b, dy, { transposeA: tB, transposeB: true }) : ops.matmul(dy, b, { transposeB: !tB })));
      gradcheck((t) => ops.matmul(a, t, o), b, (_, dy) => (tB ? ops.matmul(dy, a, { transposeA: true, transposeB: tA }) : ops.matmul(a, dy, { transposeA: !tA })));
    });
  }

  const poolCases: [string, Shape, Pool2DOptions][] = [
    ['2x2 stride 2 valid', [2, 6, 5, 3], { poolSize: 2 }],
    ['3x3 stride 2 same', [1, 7, 6, 2], { poolSize: 3, strides: 2, padding: 'same' }],
    ['3x2 stride 1 explicit', [1, 5, 5, 2], { poolSize: [3, 2], strides: 1, padding: [[1, 2], [1, 0]] }],
  ];
  for (const [name, xs, opts] of poolCases) {
    it(`maxPool2d and avgPool2d: ${name}`, () => {
      const x = distinctValues([...xs], 10);
      gradcheck((t) => ops.maxPool2d(t, opts), x, (t, dy) => ops.maxPool2dBackward(dy, t, opts));
      gradcheck((t) => ops.avgPool2d(t, opts), x, (_, dy) => ops.avgPool2dBackward(dy, x.shape, opts));
    });
  }

  it('global average and max pooling', () => {
    const x = distinctValues([2, 3, 4, 5], 11);
    gradcheck((t) => ops.globalAvgPool2d(t), x, (_, dy) => ops.globalAvgPool2dBackward(dy, x.shape));
    gradcheck((t) => ops.globalMaxPool2d(t), x, (t, dy) => ops.globalMaxPool2dBackward(dy, t));
  });

  const acts: [string, (t: Tensor) => Tensor, (dy: Tensor, x: Tensor) => Tensor][] = [
    ['relu', ops.relu, (dy, x) => ops.reluBackward(dy, x)],
    ['leakyRelu 0.1', (t) => ops.leakyRelu(t, 0.1), (dy, x) => ops.leakyReluBackward(dy, x, 0.1)],
    ['elu 0.7', (t) => ops.elu(t, 0.7), (dy, x) => ops.eluBackward(dy, x, 0.7)],
    ['sigmoid', ops.sigmoid, (dy, x) => ops.sigmoidBackward(dy, ops.sigmoid(x))],
    ['tanh', ops.tanh, (dy, x) => ops.tanhBackward(dy, ops.tanh(x))],
    ['softmax', ops.softmax, (dy, x) => ops.softmaxBackward(dy, ops.softmax(x))],
  ];
  for (const [name, fwd, bwd] of acts) {
    it(`activation ${name}`, () => {
      gradcheck(fwd, distinctValues([3, 7], 12, 0.2), (x, dy) => bwd(dy, x));
    });
  }

  it('softmax cross-entropy, sparse and one-hot/soft targets', () => {
    const logits = f64([4, 6], 13);
    const labels = [5, 0, 2, 2];
    const asTensor = (loss: number) => new Tensor(new Float64Array([loss]), [1]);
    gradcheck((t) => asTensor(ops.softmaxCrossEntropy(t, labels).loss), logits, (t, dy) => scale(ops.softmaxCrossEntropy(t, labels).grad, dy.data[0]));
    const soft = ops.softmax(f64([4, 6], 14));
    gradcheck((t) => asTensor(ops.softmaxCrossEntropy(t, soft).loss), logits, (t, dy) => scale(ops.softmaxCrossEntropy(t, soft).grad, dy.data[0]));
  });
});

function scale(t: Tensor, s: number): Tensor {
  return new Tensor(t.data.map((v) => v * s), t.shape);
}
