// Model runs take their op outputs from reused arenas (OutputArena). The kernels overwrite their outputs, so
// reuse must change nothing: the same weights and predictions bit for bit as with a fresh buffer per output.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getBackend, setBackend } from '../../src/backend/index.js';
import { randomNormal, randomUniform, type Tensor } from '../../src/tensor.js';
import type { Sequential } from '../../src/model/sequential.js';
import { nativeAvailable } from '../helpers/backends.js';
import { demoModel, everyLayerModel } from '../helpers/models.js';

const bits = (t: Tensor): number[] => [...new Uint32Array(Float32Array.from(t.data).buffer)];

afterEach(() => {
  delete process.env.CONVKIT_OUTPUT_ARENA;
});

/** Trains a fresh model for a few steps and predicts, with arenas on or off; returns every weight and output. */
async function run(make: () => Sequential, x: Tensor, labels: Int32Array, arena: boolean): Promise<number[][]> {
  process.env.CONVKIT_OUTPUT_ARENA = arena ? '1' : '0';
  const m = make();
  for (let i = 0; i < 4; i++) await m.trainOnBatch(x, labels);
  m.trainOnBatchSync(x, labels);
  await m.fit(x, labels, { batchSize: 3, epochs: 1, verbose: 0 });
  const p1 = await m.predict(x, { batchSize: 4 });
  const p2 = m.predictSync(x, { batchSize: 5 });
  const { loss } = await m.evaluate(x, labels, { batchSize: 4 });
  return [...m.getWeights().map(bits), bits(p1), bits(p2), [loss]];
}

describe.skipIf(!nativeAvailable)('output arenas (native)', () => {
  const initial = getBackend();
  beforeAll(() => setBackend('native'));
  afterAll(() => setBackend(initial));

  it('every layer kind: training steps, fit, predict and evaluate give the same bits with and without reuse', async () => {
    const x = randomNormal([8, 10, 10, 3], { seed: 6 });
    const labels = Int32Array.from([0, 1, 2, 0, 1, 2, 2, 1]);
    const want = await run(everyLayerModel, x, labels, false);
    const got = await run(everyLayerModel, x, labels, true);
    expect(got).toEqual(want);
  });

  it('the demo network, the same', async () => {
    const x = randomUniform([11, 28, 28, 1], { seed: 5 });
    const labels = Int32Array.from({ length: 11 }, (_, i) => (i * 7) % 10);
    const want = await run(demoModel, x, labels, false);
    const got = await run(demoModel, x, labels, true);
    expect(got).toEqual(want);
  });

  it('concurrent predicts on one model each get their own arena', async () => {
    const m = demoModel();
    const xs = [1, 2, 3].map((s) => randomUniform([9, 28, 28, 1], { seed: s }));
    const together = await Promise.all(xs.map(async (x) => bits(await m.predict(x, { batchSize: 4 }))));
    const oneByOne: number[][] = [];
    for (const x of xs) oneByOne.push(bits(await m.predict(x, { batchSize: 4 })));
    expect(together).toEqual(oneByOne);
  });
});
