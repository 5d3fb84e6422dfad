import { describe, expect, it } from 'vitest';
import * as initializers from '../../src/initializers/index.js';
import { getInitializer } from '../../src/initializers/index.js';

const stats = (d: ArrayLike<number>): { mean: number; std: number; max: number } => {
  let s = 0;
  let max = 0;
  for (let i = 0; i < d.length; i++) {
    s += d[i];
    max = Math.max(max, Math.abs(d[i]));
  }
  const mean = s / d.length;
  let v = 0;
  for (let i = 0; i < d.length; i++) v += (d[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / d.length), max };
};

describe('initializers', () => {
  // A conv kernel [3, 3, 16, 32]: fanIn 144, fanOut 288.
  const shape = [3, 3, 16, 32];

  it('scale by fan-in / fan-out as Keras defines them', () => {
    const gu = stats(initializers.glorotUniform().init(shape, 'float64', 1).data);
    expect(gu.max).toBeLessThanOrEqual(Math.sqrt(6 / 432));
    expect(gu.std).toBeCloseTo(Math.sqrt(6 / 432) / Math.sqrt(3), 2);
    const hn = stats(initializers.heNormal().init(shape, 'float64', 1).data);
    expect(hn.std / Math.sqrt(2 / 144)).toBeGreaterThan(0.95);
    expect(hn.std / Math.sqrt(2 / 144)).toBeLessThan(1.05);
    expect(hn.max).toBeLessThanOrEqual((2 * Math.sqrt(2 / 144)) / 0.8796256610342398 + 1e-12);
    const gn = stats(initializers.glorotNormal().init(shape, 'float64', 2).data);
    expect(gn.std / Math.sqrt(2 / 432)).toBeGreaterThan(0.95);
    expect(gn.std / Math.sqrt(2 / 432)).toBeLessThan(1.05);
    expect(stats(initializers.heUniform().init(shape, 'float64', 3).data).max).toBeLessThanOrEqual(Math.sqrt(6 / 144));
    const rn = stats(initializers.randomNormal({ mean: 1, stddev: 0.1 }).init([5000], 'float64', 4).data);
    expect(rn.mean).toBeCloseTo(1, 2);
    expect(rn.std).toBeCloseTo(0.1, 2);
    expect([...initializers.constant({ value: 0.5 }).init([3], 'float32', 0).data]).toEqual([0.5, 0.5, 0.5]);
    expect([...initializers.zeros().init([2], 'float32', 0).data]).toEqual([0, 0]);
  });

  it('are seeded: the same seed gives the same values; their own seed overrides the model-given one', () => {
    const a = initializers.heNormal().init([50], 'float32', 7).data;
    expect([...initializers.heNormal().init([50], 'float32', 7).data]).toEqual([...a]);
    expect([...initializers.heNormal().init([50], 'float32', 8).data]).not.toEqual([...a]);
    const own = initializers.heNormal({ seed: 3 });
    expect([...own.init([50], 'float32', 7).data]).toEqual([...own.init([50], 'float32', 8).data]);
  });

  it('round-trip through their config, and an unknown name is refused', () => {
    const init = initializers.randomNormal({ stddev: 0.2, seed: 9 });
    const again = getInitializer('test', JSON.parse(JSON.stringify(init.getConfig())));
    expect([...again.init([10], 'float64', 0).data]).toEqual([...init.init([10], 'float64', 0).data]);
    expect(() => getInitializer('test', 'orthogonal' as never)).toThrow(/an initializer, one of/);
  });

  it("Keras's VarianceScaling and its special cases: variance scale / fan, truncated at two deviations or uniform", () => {
    // fanIn 144, fanOut 288, fanAvg 216 (the [3, 3, 16, 32] kernel above)
    const ratio = (init: initializers.Initializer, variance: number): number => stats(init.init(shape, 'float64', 5).data).std / Math.sqrt(variance);
    for (const [opts, variance] of [
      [{ scale: 2, mode: 'fanOut' as const, distribution: 'truncatedNormal' as const }, 2 / 288],
      [{ scale: 0.5, mode: 'fanAvg' as const, distribution: 'untruncatedNormal' as const }, 0.5 / 216],
      [{ scale: 3, mode: 'fanIn' as const, distribution: 'uniform' as const }, 3 / 144],
    ] as const) {
      const r = ratio(initializers.varianceScaling(opts), variance);
      expect(r, JSON.stringify(opts)).toBeGreaterThan(0.95);
      expect(r, JSON.stringify(opts)).toBeLessThan(1.05);
    }
    const truncated = stats(initializers.varianceScaling({ scale: 2, mode: 'fanOut' }).init(shape, 'float64', 6).data);
    expect(truncated.max).toBeLessThanOrEqual((2 * Math.sqrt(2 / 288)) / 0.8796256610342398 + 1e-12);
    expect(stats(initializers.varianceScaling({ distribution: 'uniform' }).init(shape, 'float64', 7).data).max).toBeLessThanOrEqual(Math.sqrt(3 / 144));
    expect(ratio(initializers.lecunNormal(), 1 / 144)).toBeGreaterThan(0.95);
    expect(stats(initializers.lecunUniform().init(shape, 'float64', 8).data).max).toBeLessThanOrEqual(Math.sqrt(3 / 144));
    const u = stats(initializers.randomUniform({ minval: 2, maxval: 3 }).init([5000], 'float64', 9).data);
    expect(u.mean).toBeCloseTo(2.5, 1);
    expect(u.max).toBeLessThanOrEqual(3);
    const t = stats(initializers.truncatedNormalInit({ mean: 0, stddev: 0.5 }).init([5000], 'float64', 10).data);
    expect(t.max).toBeLessThanOrEqual(1);
    expect(() => initializers.varianceScaling({ mode: 'fanMax' as never })).toThrow(/varianceScaling: expected mode to be one of 'fanIn', 'fanOut', 'fanAvg'/);
    const vs = initializers.varianceScaling({ scale: 2, mode: 'fanAvg', distribution: 'uniform', seed: 3 });
    expect([...getInitializer('test', JSON.parse(JSON.stringify(vs.getConfig()))).init([6, 4], 'float64', 0).data]).toEqual([...vs.init([6, 4], 'float64', 0).data]);
  });
});
