// Every op refuses bad arguments with a ConvkitError that names the op, the argument, what was expected
// and what was given, before any backend runs.
import { describe, expect, it } from 'vitest';
import { ConvkitError, ops, randomNormal, setBackend, Tensor, tensor, zeros } from '../../src/index.js';
import { nativeAvailable } from '../helpers/backends.js';

const x = randomNormal([2, 8, 8, 4], { seed: 1 });
const w = randomNormal([3, 3, 4, 6], { seed: 2 });

function throwsConvkit(fn: () => unknown, ...fragments: (string | RegExp)[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a ConvkitError').toBeInstanceOf(ConvkitError);
  for (const f of fragments) expect((err as Error).message).toMatch(f);
}

describe('bad input', () => {
  setBackend('reference');

  it('conv2d: ranks, channels, groups, strides, dilations, padding, dtypes, empties', () => {
    throwsConvkit(() => ops.conv2d(zeros([8, 8, 4]), w), /^conv2d: expected x of rank 4 but received rank 3/);
    throwsConvkit(() => ops.conv2d(x, randomNormal([3, 3, 3, 6], { seed: 3 })), 'conv2d: expected filter in-channels 4 (x has 4 channels, groups 1) but received 3');
    throwsConvkit(() => ops.conv2d(x, randomNormal([3, 3, 2, 6], { seed: 3 }), { groups: 3 }), 'x channels divisible by groups 3', 'received 4');
    throwsConvkit(() => ops.conv2d(x, randomNormal([3, 3, 2, 5], { seed: 3 }), { groups: 2 }), 'filter out-channels divisible by groups 2', 'received 5');
    throwsConvkit(() => ops.conv2d(x, w, { strides: 0 }), 'strides to be a positive integer', 'received 0');
    throwsConvkit(() => ops.conv2d(x, w, { strides: [1, 1.5] }), 'strides[1]', '1.5');
    throwsConvkit(() => ops.conv2d(x, w, { dilations: -1 }), 'dilations', '-1');
    throwsConvkit(() => ops.conv2d(x, w, { groups: 0 }), 'groups to be a positive integer');
    throwsConvkit(() => ops.conv2d(x, w, { padding: 'full' as never }), "padding 'same', 'valid'", "'full'");
    throwsConvkit(() => ops.conv2d(x, w, { padding: [[1, -1], [0, 0]] }), 'padding[0][1] (bottom)', '-1');
    throwsConvkit(() => ops.conv2d(x, randomNormal([9, 3, 4, 6], { seed: 3 })), /height of at least 9.*received 8/);
    throwsConvkit(() => ops.conv2d(x, w, { dilations: 5 }), /input height of at least 11/);
    throwsConvkit(() => ops.conv2d(zeros([0, 8, 8, 4]), w), 'x to be non-empty');
    throwsConvkit(() => ops.conv2d(x.cast('float64'), w), 'filter of dtype float64');
    throwsConvkit(() => ops.conv2d(x, w, { bias: zeros([5]) }), 'bias of shape [6]', '[5]');
    throwsConvkit(() => ops.conv2d(x, w, { scale: zeros([6, 1]) }), 'conv2d: expected scale of rank 1');
    throwsConvkit(() => ops.conv2d(x, w, { residual: zeros([2, 6, 6, 5]) }), 'conv2d: expected residual of shape [2, 6, 6, 6] but received [2, 6, 6, 5]');
    throwsConvkit(() => ops.conv2d(x, w, { residual: zeros([2, 6, 6, 6], 'float64') }), 'residual of dtype float32');
    throwsConvkit(() => ops.conv2dMaxPool(x, w, { residual: zeros([2, 6, 6, 6]) }, { poolSize: 2 }), 'conv2dMaxPool: expected no residual');
    throwsConvkit(() => ops.matmul(zeros([3, 4]), zeros([4, 5]), { residual: zeros([5, 3]) }), 'matmul: expected residual of shape [3, 5] but received [5, 3]');
    throwsConvkit(() => ops.conv2d(x, w, { activation: 'gelu2' as never }), "activation to be one of 'relu'");
    throwsConvkit(() => ops.conv2d({} as Tensor, w), 'x to be a Tensor');
  });

  it('conv2d backward passes check dy against the forward geometry', () => {
    throwsConvkit(() => ops.conv2dBackwardInput(zeros([2, 7, 8, 6]), w, x.shape, {}), 'conv2dBackwardInput: expected dy of shape [2, 6, 6, 6] but received [2, 7, 8, 6]');
    throwsConvkit(() => ops.conv2dBackwardFilter(x, zeros([2, 6, 6, 5]), w.shape, {}), 'conv2dBackwardFilter: expected dy of shape [2, 6, 6, 6]');
    throwsConvkit(() => ops.conv2dBackwardInput(zeros([2, 6, 6, 6]), w, [2, 8, 8], {}), 'x shape of rank 4');
    throwsConvkit(() => ops.conv2dBackwardFilter(x, zeros([2, 6, 6, 6]), [3, 3, 4, 0], {}), 'filter shape[3] to be a positive integer');
    throwsConvkit(() => ops.conv2dMaxPool(x, w, {}, { poolSize: 2 }, zeros([2, 3, 3, 6])), 'conv2dMaxPool: expected convOutput of shape [2, 6, 6, 6]');
  });

  it('dropout: rate, seed and mask', () => {
    throwsConvkit(() => ops.dropout(x, 1, 0), 'dropout: expected rate in [0, 1)');
    throwsConvkit(() => ops.dropout(x, Number.NaN, 0), 'rate in [0, 1)');
    throwsConvkit(() => ops.dropout(x, 0.5, -1), 'seed to be an integer in [0, 2^32)');
    throwsConvkit(() => ops.dropout(x, 0.5, 2 ** 32), 'seed to be an integer in [0, 2^32)');
    throwsConvkit(() => ops.dropout(x, 0.5, 0.5), 'seed to be an integer in [0, 2^32)');
    throwsConvkit(() => ops.dropout(x, 0.5, 1, zeros([2, 8, 8, 3])), 'mask of shape [2, 8, 8, 4]');
    throwsConvkit(() => ops.multiply(x, zeros([2, 8, 8])), 'b of shape [2, 8, 8, 4]');
  });

  it('pooling: pool sizes, strides, padding that is all-pad or leaves no output', () => {
    throwsConvkit(() => ops.maxPool2d(x, { poolSize: 0 }), 'maxPool2d: expected poolSize to be a positive integer');
    throwsConvkit(() => ops.avgPool2d(x, { poolSize: 2, strides: [2, 0] }), 'strides[1]');
    throwsConvkit(() => ops.avgPool2d(x, { poolSize: 9 }), /height of at least 9/);
    throwsConvkit(() => ops.avgPool2d(x, { poolSize: 2, padding: [[2, 0], [0, 0]] }), 'padding rows below the pool height 2');
    throwsConvkit(() => ops.maxPool2d(x, undefined as never), 'options');
    throwsConvkit(() => ops.maxPool2dBackward(zeros([2, 3, 4, 4]), x, { poolSize: 2 }), 'dy of shape [2, 4, 4, 4]');
    throwsConvkit(() => ops.maxPool2dBackward(zeros([2, 4, 4, 4]), x, { poolSize: 2, activation: 'elu' }), "activation to be one of 'linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh' but received 'elu'");
    throwsConvkit(() => ops.maxPool2dBackward(zeros([2, 4, 4, 4]), x, { poolSize: 2, activation: 'leakyRelu', alpha: -0.1 }), 'alpha > 0 for leakyRelu');
    throwsConvkit(() => ops.avgPool2dBackward(zeros([2, 4, 4, 4]), [2, 8, 8, 5], { poolSize: 2 }), 'dy of shape [2, 4, 4, 5]');
    throwsConvkit(() => ops.globalAvgPool2dBackward(zeros([2, 3]), x.shape), 'dy of shape [2, 4]');
    throwsConvkit(() => ops.globalMaxPool2dBackward(zeros([2, 4]), zeros([2, 4])), 'x of rank 4');
  });

  it('matmul, bias and activations', () => {
    throwsConvkit(() => ops.matmul(zeros([2, 3]), zeros([4, 5])), 'matmul: expected b with inner dimension 3', '[4, 5]');
    throwsConvkit(() => ops.matmul(zeros([2, 3]), zeros([5, 4]), { transposeB: true }), 'inner dimension 3', 'transposed');
    throwsConvkit(() => ops.matmul(zeros([2, 3, 1]), zeros([3, 4])), 'a of rank 2');
    throwsConvkit(() => ops.biasAdd(zeros([2, 3]), zeros([4])), 'biasAdd: expected bias of shape [3]');
    throwsConvkit(() => ops.leakyRelu(zeros([2]), Number.NaN), 'alpha to be a finite number');
    throwsConvkit(() => ops.reluBackward(zeros([2]), zeros([3])), 'reluBackward: expected dy of shape [3]');
    throwsConvkit(() => ops.activation('swishy' as never, zeros([2])), "kind to be one of");
  });

  it('softmax cross-entropy: label count, range, type and one-hot shape', () => {
    const logits = zeros([3, 4]);
    throwsConvkit(() => ops.softmaxCrossEntropy(logits, [1, 2]), 'expected 3 labels (one per logits row) but received 2');
    throwsConvkit(() => ops.softmaxCrossEntropy(logits, [1, 2, 4]), 'labels[2] to be a class id in [0, 4)', 'received 4');
    throwsConvkit(() => ops.softmaxCrossEntropy(logits, [1, 2, 0.5]), 'labels[2]');
    throwsConvkit(() => ops.softmaxCrossEntropy(logits, zeros([3, 5])), 'labels of shape [3, 4]');
    throwsConvkit(() => ops.softmaxCrossEntropy(logits, 'abc' as never), 'labels as class ids');
  });

  it('tensors', () => {
    throwsConvkit(() => tensor([1, 2, 3], [2, 2]), 'tensor: expected 4 values for shape [2, 2] but received 3');
    throwsConvkit(() => tensor([[1, 2], [3]]), 'ragged');
    throwsConvkit(() => zeros([2, -1]), 'non-negative integers');
    throwsConvkit(() => randomNormal([2], {} as never), 'explicit numeric seed');
    throwsConvkit(() => zeros([6]).reshape([4, -1]), 'divides 6');
    // the constructor takes float32 or float64 storage only (it used to accept these, then fail in a kernel)
    throwsConvkit(() => new Tensor(new Uint8Array(4) as never, [4]), 'tensor: expected data as a Float32Array or Float64Array', 'received Uint8Array');
    throwsConvkit(() => new Tensor(new Int32Array(4) as never, [4]), 'received Int32Array');
    throwsConvkit(() => new Tensor([1, 2, 3, 4] as never, [4]), 'received [1, 2, 3, 4]');
    throwsConvkit(() => new Tensor('abcd' as never, [4]), "received 'abcd'");
    throwsConvkit(() => zeros([65536, 65536]), 'zeros: expected a shape of at most 2147483647 values but received [65536, 65536] (4.29e+9 values)');
  });

  it('work is bounded by the output and the in-bounds window, or the arguments are refused', () => {
    // a pool of 1e9 with 'same' padding walked its whole window on the reference backend (110 s)
    for (const b of ['reference', 'native'] as const) {
      if (b === 'native' && !nativeAvailable) continue;
      setBackend(b);
      const x = randomNormal([4, 5, 1, 6], { seed: 4 });
      const y = ops.avgPool2d(x, { poolSize: 1e9, padding: 'same' });
      expect(y.shape).toEqual([4, 1, 1, 6]);
      expect(y.get(0, 0, 0, 0)).toBeCloseTo([0, 1, 2, 3, 4].reduce((s, h) => s + x.get(0, h, 0, 0), 0) / 5, 5);
      const yMax = ops.maxPool2d(x, { poolSize: [1e9, 3], strides: 1, padding: 'same' });
      expect(yMax.shape).toEqual([4, 5, 1, 6]);
      // an output too large to allocate is refused, naming the op
      throwsConvkit(() => ops.conv2d(x, randomNormal([1, 1, 6, 4], { seed: 5 }), { padding: [[1e6, 1e6], [1e6, 1e6]] }), /^conv2d: expected an output of at most 2147483647 values but received \[4, 2000005, 2000001, 4\]/);
    }
    setBackend('reference');
  }, 10_000);
});
