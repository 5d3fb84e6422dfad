// The modern activations by value (reference constants computed from their definitions), on both backends;
// the ReLU, LeakyReLU, ELU and Softmax layers; Keras's spellings; and activations fused at inference.
import { describe, expect, it } from 'vitest';
import { getBackend, layers, ops, sequential, setBackend, Tensor } from '../../src/index.js';
import type { ActivationKind } from '../../src/backend/types.js';
import { nativeAvailable } from '../helpers/backends.js';

const at = (xs: number[]) => new Tensor(Float32Array.from(xs), [xs.length]);

// [kind, x, f(x)]: f(x) to 7+ digits, from the definitions (gelu: x Phi(x); selu: Klambauer et al.'s constants)
const VALUES: [ActivationKind, number, number][] = [
  ['relu6', 7, 6], ['relu6', -1, 0], ['relu6', 3.5, 3.5],
  ['hardSigmoid', 0, 0.5], ['hardSigmoid', 1.5, 0.75], ['hardSigmoid', 4, 1], ['hardSigmoid', -4, 0],
  ['hardSwish', 1, 2 / 3], ['hardSwish', -4, 0], ['hardSwish', 4, 4], ['hardSwish', -1, -1 / 3],
  ['swish', 1, 0.7310585786], ['swish', -2, -0.2384058440],
  ['gelu', 1, 0.8413447461], ['gelu', -1, -0.1586552539], ['gelu', -5, -1.4332579e-6],
  ['geluTanh', 1, 0.8411919906], ['geluTanh', -1, -0.1588080094],
  ['softplus', 0, 0.6931471806], ['softplus', 30, 30], ['softplus', -30, 9.3576230e-14],
  ['softsign', 1, 0.5], ['softsign', -3, -0.75],
  ['selu', -1, -1.1113307378], ['selu', 2, 2.1014019747],
  ['mish', 1, 0.8650983883], ['mish', -1, -0.3034014613],
  ['exponential', 1, Math.E], ['exponential', -2, 0.1353352832],
];

const backends = ['reference', ...(nativeAvailable ? ['native' as const] : [])] as const;

describe.each(backends)('activation values (%s)', (backend) => {
  it('match their definitions', () => {
    const previous = getBackend();
    setBackend(backend);
    try {
      for (const [kind, x, want] of VALUES) {
        const got = ops.activation(kind, at([x])).data[0];
        expect(Math.abs(got - want), `${kind}(${x}) = ${got}, want ${want}`).toBeLessThanOrEqual(4e-7 * Math.max(Math.abs(want), 1e-30) + 1e-30);
      }
      // hardSigmoid's slope: Keras 3's 1/6 by default, Keras 2's and TF.js's 0.2 when given
      expect(ops.activation('hardSigmoid', at([1]), 0.2).data[0]).toBeCloseTo(0.7, 6);
      // a NaN stays NaN through every kind
      for (const [kind] of VALUES) expect(Number.isNaN(ops.activation(kind, at([NaN])).data[0]), kind).toBe(true);
    } finally {
      setBackend(previous);
    }
  });
});

describe('activation layers', () => {
  it("LeakyReLU's layer default slope is Keras's 0.3; the leakyRelu activation's is 0.2", async () => {
    const x = new Tensor(Float32Array.of(-1, 2), [1, 2]);
    expect([...((await sequential([layers.leakyReLU({ inputShape: [2] })]).predict(x)) as Tensor).data]).toEqual([Math.fround(-0.3), 2]);
    expect([...((await sequential([layers.activation({ activation: 'leakyRelu', inputShape: [2] })]).predict(x)) as Tensor).data]).toEqual([Math.fround(-0.2), 2]);
    expect(layers.leakyReLU().getConfig().config).toMatchObject({ alpha: 0.3 });
  });

  it('ReLU covers relu, relu6, a leak and a threshold, as Keras defines them', async () => {
    const x = new Tensor(Float32Array.of(-2, 0.25, 1, 3, 8), [1, 5]);
    const run = async (args: Parameters<typeof layers.reLU>[0]) => [...((await sequential([layers.reLU({ ...args, inputShape: [5] })]).predict(x)) as Tensor).data];
    expect(await run({})).toEqual([0, 0.25, 1, 3, 8]);
    expect(await run({ maxValue: 6 })).toEqual([0, 0.25, 1, 3, 6]);
    expect(await run({ negativeSlope: 0.5 })).toEqual([-1, 0.25, 1, 3, 8]);
    expect(await run({ maxValue: 4, negativeSlope: 0.5, threshold: 1 })).toEqual([-1.5, -0.375, 1, 3, 4]);
    expect(() => layers.reLU({ maxValue: 1, threshold: 2 })).toThrow(/maxValue >= threshold \(2\)/);
  });

  it("accepts Keras's spellings and stores convkit's", () => {
    for (const [keras, ours] of [['hard_swish', 'hardSwish'], ['silu', 'swish'], ['leaky_relu', 'leakyRelu'], ['hard_sigmoid', 'hardSigmoid']]) {
      expect(layers.activation({ activation: keras as never }).getConfig().config.activation).toBe(ours);
    }
    expect(() => layers.activation({ activation: 'swishy' as never })).toThrow(/activation to be one of 'relu'/);
  });

  it('a ReLU6 or swish after a convolution runs inside it at inference, with the same results', async () => {
    for (const after of [() => layers.reLU({ maxValue: 6 }), () => layers.activation({ activation: 'swish' })]) {
      const m = sequential([layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [6, 6, 2] }), after()], { seed: 3 });
      const fused = m.inferencePlan.steps.filter((s) => s.epilogue?.activation);
      expect(fused.length).toBe(1);
      const x = new Tensor(Float32Array.from({ length: 2 * 72 }, (_, i) => Math.sin(i) * 4), [2, 6, 6, 2]);
      const a = (await m.predict(x)) as Tensor;
      const b = m.forwardSync(x, { training: false }) as Tensor;
      a.data.forEach((v, i) => expect(Math.abs(v - b.data[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(b.data[i]))));
    }
  });
});
