// fit, evaluate and predict take an AbortSignal, honoured at the next batch boundary.
import { describe, expect, it } from 'vitest';
import { architectures, losses, optimizers, randomUniform } from '../../src/index.js';

const x = randomUniform([320, 28, 28, 1], { seed: 1 });
const y = Int32Array.from({ length: 320 }, (_, i) => (i * 7) % 10);

function model() {
  const m = architectures.lenet5({ seed: 9 });
  m.compile({ optimizer: optimizers.sgd({ learningRate: 0.05, momentum: 0.9 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  return m;
}

describe('AbortSignal', () => {
  it('an already-aborted signal rejects at once with its reason', async () => {
    const m = model();
    const signal = AbortSignal.abort(new Error('not wanted'));
    await expect(m.predict(x, { signal })).rejects.toThrow('not wanted');
    await expect(m.evaluate(x, y, { signal })).rejects.toThrow('not wanted');
    await expect(m.fit(x, y, { signal, verbose: 0 })).rejects.toThrow('not wanted');
  });

  it('predict stops between batches', async () => {
    const m = model();
    const ac = new AbortController();
    let batches = 0;
    // Each batch runs the last layer (predict may run the first ones fused).
    const last = m.layers[m.layers.length - 1];
    const forward = last.forwardProgram.bind(last);
    last.forwardProgram = (...args) => {
      if (++batches === 2) ac.abort();
      return forward(...args);
    };
    await expect(m.predict(x, { batchSize: 32, signal: ac.signal })).rejects.toThrow(/abort/i);
    expect(batches).toBe(2); // the batch in flight finishes; no third one starts
  });

  it('fit stops at a batch boundary with every completed step applied, exactly', async () => {
    const aborted = model();
    const ac = new AbortController();
    const reason = new Error('deploy window closed');
    const run = aborted.fit(x, y, {
      batchSize: 32, epochs: 1, shuffle: false, verbose: 0, signal: ac.signal,
      callbacks: [{ onBatchEnd: (b: number) => void (b === 2 && ac.abort(reason)) }],
    });
    await expect(run).rejects.toBe(reason);

    const stepped = model();
    for (let b = 0; b < 3; b++) await stepped.trainOnBatch(x.slice(b * 32, (b + 1) * 32), y.subarray(b * 32, (b + 1) * 32));
    const a = aborted.getWeights();
    stepped.getWeights().forEach((w, i) => expect(Array.from(a[i].data)).toEqual(Array.from(w.data)));
  });
});
