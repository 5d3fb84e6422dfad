// Concurrent calls on one model interleave at every awaited kernel; their results must equal sequential calls.
import { describe, expect, it } from 'vitest';
import { architectures, createBatcher, randomUniform, setBackend } from '../../src/index.js';
import { nativeAvailable } from '../helpers/backends.js';

describe.each(nativeAvailable ? ['native', 'reference'] : ['reference'])('concurrency (%s)', (backend) => {
  const inputs = Array.from({ length: 6 }, (_, i) => randomUniform([1 + i * 3, 28, 28, 1], { seed: 100 + i }));

  it('concurrent predict calls on one model give the sequential results, each to its caller', async () => {
    setBackend(backend as 'native' | 'reference');
    const model = architectures.lenet5({ seed: 3 });
    const sequential = [];
    for (const x of inputs) sequential.push(await model.predict(x, { batchSize: 4 }));
    const concurrent = await Promise.all(inputs.map((x) => model.predict(x, { batchSize: 4 })));
    concurrent.forEach((y, i) => {
      expect(y.shape).toEqual(sequential[i].shape);
      expect(Array.from(y.data)).toEqual(Array.from(sequential[i].data));
    });
  });

  it('the batcher answers concurrent single samples with the rows a whole-batch predict gives', async () => {
    setBackend(backend as 'native' | 'reference');
    const model = architectures.lenet5({ seed: 4 });
    const x = randomUniform([20, 28, 28, 1], { seed: 7 });
    const whole = await model.predict(x);
    const batcher = createBatcher(model, { inputShape: [28, 28, 1], maxBatchSize: 8, maxDelayMs: 1 });
    const rows = await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.predict(x.slice(i, i + 1))));
    await batcher.close();
    // Batches smaller than the GEMM's row tile take the GEMV path, which sums in another order than the
    // tiled kernel, so a row may differ from its whole-batch twin by float32 reassociation: about
    // sqrt(K)·u ≈ 1.2e-6 relative per layer for K <= 400, over five layers, so 1e-5 of the row's scale.
    rows.forEach((r, i) => {
      const want = whole.data.subarray(i * 10, (i + 1) * 10);
      const scale = Math.max(...Array.from(want, Math.abs));
      for (let j = 0; j < 10; j++) expect(Math.abs(r.data[j] - want[j]), `row ${i} logit ${j}`).toBeLessThanOrEqual(1e-5 * scale);
    });
  });
});
