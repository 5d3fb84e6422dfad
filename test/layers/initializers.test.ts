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
    expect(() => getInitializer('test', 'lecunNormal' as never)).toThrow(/an initializer, one of/);
  });
});
