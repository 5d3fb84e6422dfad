// ops.optimizerStep: the native kernel evaluates each rule in float64 and rounds to float32 exactly where the
// reference backend's Float32Array stores round, so the two must agree bit for bit, on every ISA and thread
// count (elements are independent; chunks cannot change a result).
import { describe, expect, it } from 'vitest';
import { ConvkitError, ops, randomNormal, randomUniform, withBackend, type Tensor } from '../../src/index.js';
import type { OptimizerStepInfo } from '../../src/ops/index.js';
import { nativeAvailable, nativeVariants, useNativeVariant } from '../helpers/backends.js';

const base: OptimizerStepInfo = { rule: 'sgd', lr: 0.05, scale: 0.7, decay: 0.003, momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.999, rho: 0.9, epsilon: 1e-7 };

const cases: [string, Partial<OptimizerStepInfo>, number][] = [
  ['sgd', { rule: 'sgd' }, 0],
  ['sgd momentum', { rule: 'sgd', momentum: 0.9 }, 1],
  ['sgd nesterov', { rule: 'sgd', momentum: 0.9, nesterov: true }, 1],
  ['adam', { rule: 'adam', lr: 0.0123 }, 2],
  ['rmsprop', { rule: 'rmsprop' }, 1],
  ['rmsprop momentum', { rule: 'rmsprop', momentum: 0.5 }, 2],
  ['adagrad', { rule: 'adagrad' }, 1],
  ['adadelta', { rule: 'adadelta', rho: 0.95, lr: 1 }, 2],
  ['adamax', { rule: 'adamax', lr: 0.0123 }, 2],
  ['nadam', { rule: 'nadam', lr: 0.0123, mCoef: 3.7, gCoef: 0.55, vCoef: 1.0005 }, 2],
  // without weight decay the kernel runs a separately compiled loop
  ['sgd, no decay', { rule: 'sgd', decay: 0 }, 0],
  ['adam, no decay', { rule: 'adam', lr: 0.0123, decay: 0 }, 2],
  ['rmsprop momentum, no decay', { rule: 'rmsprop', momentum: 0.5, decay: 0 }, 2],
  ['adamax, no decay', { rule: 'adamax', lr: 0.0123, decay: 0 }, 2],
];

// 40,000 values: more than one of the kernel's chunks, and not a multiple of any vector width.
const n = 40_003;

/** Three steps from the same start on one backend; returns the weight and slots after each. */
function steps(backend: 'reference' | 'native', info: OptimizerStepInfo, slotCount: number): Float32Array[] {
  return withBackend(backend, () => {
    const w = randomNormal([n], { seed: 1 });
    const slots: Tensor[] = Array.from({ length: slotCount }, (_, i) => randomUniform([n], { seed: 10 + i, minval: 0, maxval: 0.5 }));
    const out: Float32Array[] = [];
    for (let t = 0; t < 3; t++) {
      ops.optimizerStep(w, randomNormal([n], { seed: 100 + t }), slots, info);
      out.push(Float32Array.from(w.data), ...slots.map((s) => Float32Array.from(s.data)));
    }
    return out;
  });
}

describe.skipIf(!nativeAvailable)('optimizerStep: native equals reference bit for bit', () => {
  for (const v of nativeVariants()) {
    for (const [name, over, slotCount] of cases) {
      it(`${name} (${v.label})`, () => {
        useNativeVariant(v);
        const info = { ...base, ...over };
        const want = steps('reference', info, slotCount);
        const got = steps('native', info, slotCount);
        got.forEach((a, i) => {
          const bad = a.findIndex((x, j) => !Object.is(x, want[i][j]));
          expect(bad, `array ${i}, first difference at ${bad}: ${a[bad]} vs ${want[i][bad]}`).toBe(-1);
        });
        // the step moved the weights: the comparison above cannot pass on untouched arrays
        expect(got[0].some((x, j) => x !== randomNormal([n], { seed: 1 }).data[j])).toBe(true);
      });
    }
  }

  it('the async form gives the same bits', async () => {
    const info = { ...base, rule: 'adam' as const };
    const w = withBackend('native', () => randomNormal([n], { seed: 1 }));
    const g = randomNormal([n], { seed: 100 });
    const slots = [randomUniform([n], { seed: 10, minval: 0, maxval: 0.5 }), randomUniform([n], { seed: 11, minval: 0, maxval: 0.5 })];
    const w2 = w.clone();
    const slots2 = slots.map((s) => s.clone());
    await withBackend('native', () => ops.optimizerStepAsync(w, g, slots, info));
    withBackend('reference', () => ops.optimizerStep(w2, g, slots2, info));
    expect(Buffer.from(w.data.buffer).equals(Buffer.from(w2.data.buffer))).toBe(true);
  });
});

describe('optimizerStep: bad input', () => {
  const w = randomNormal([5], { seed: 1 });
  const g = randomNormal([5], { seed: 2 });
  const cases2: [string, () => unknown, RegExp][] = [
    ['unknown rule', () => ops.optimizerStep(w, g, [], { ...base, rule: 'lion' as never }), /a rule, one of sgd, adam/],
    ['adam without slots', () => ops.optimizerStep(w, g, [], { ...base, rule: 'adam' }), /2 slot tensors for adam/],
    ['gradient shape', () => ops.optimizerStep(w, randomNormal([4], { seed: 2 }), [], base), /g of shape \[5\]/],
    ['slot shape', () => ops.optimizerStep(w, g, [randomNormal([6], { seed: 3 })], { ...base, momentum: 0.9 }), /slots\[0\] of shape \[5\]/],
    ['NaN learning rate', () => ops.optimizerStep(w, g, [], { ...base, lr: NaN }), /lr/],
  ];
  for (const backend of ['reference', ...(nativeAvailable ? ['native' as const] : [])] as const) {
    for (const [name, fn, message] of cases2) {
      it(`${name} (${backend})`, () => {
        withBackend(backend, () => expect(fn).toThrow(ConvkitError));
        withBackend(backend, () => expect(fn).toThrow(message));
      });
    }
  }
});
