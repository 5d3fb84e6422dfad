import { describe, expect, it } from 'vitest';
import { ConvkitError, Tensor } from '../../src/index.js';
import { createBatcher, type BatchPredictor } from '../../src/serve/batcher.js';

/** A model whose output row i is [sum(x_i), batch size], so tests can see both the answer and the batching. */
function fakeModel(delayMs = 5): BatchPredictor & { batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    async predict(x: Tensor) {
      const n = x.shape[0];
      const row = x.size / n;
      batches.push(n);
      await new Promise((r) => setTimeout(r, delayMs));
      const out = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < row; j++) s += x.data[i * row + j];
        out[2 * i] = s;
        out[2 * i + 1] = n;
      }
      return new Tensor(out, [n, 2]);
    },
  };
}

describe('createBatcher', () => {
  it('coalesces concurrent requests and answers each caller with its own row, in order', async () => {
    const model = fakeModel();
    const b = createBatcher(model, { inputShape: [2, 2], maxBatchSize: 8, maxDelayMs: 5 });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => b.predict([i, 0, 0, 1])));
    expect(answers.map((a) => a.data[0])).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(answers[0].shape).toEqual([2]);
    expect(model.batches.reduce((a, c) => a + c, 0)).toBe(20);
    expect(Math.max(...model.batches)).toBe(8);
    expect(model.batches.length).toBeLessThanOrEqual(4);
  });

  it('sends a lone request after maxDelayMs', async () => {
    const model = fakeModel(0);
    const b = createBatcher(model, { inputShape: [3], maxBatchSize: 64, maxDelayMs: 1 });
    const y = await b.predict(new Float32Array([1, 2, 3]));
    expect(Array.from(y.data)).toEqual([6, 1]);
  });

  it('rejects at once past maxQueue, without touching queued work', async () => {
    const model = fakeModel(20);
    const b = createBatcher(model, { inputShape: [1], maxBatchSize: 2, maxDelayMs: 50, maxQueue: 3 });
    const ok = [b.predict([1]), b.predict([2])]; // a full batch: starts computing
    const queued = [b.predict([3]), b.predict([4]), b.predict([5])];
    await expect(b.predict([6])).rejects.toThrow(/overloaded: 3 requests already waiting \(maxQueue 3\)/);
    const all = await Promise.all([...ok, ...queued]);
    expect(all.map((t) => t.data[0])).toEqual([1, 2, 3, 4, 5]);
  });

  it('an aborted request leaves the queue and rejects with the abort reason', async () => {
    const model = fakeModel(1);
    const b = createBatcher(model, { inputShape: [1], maxBatchSize: 4, maxDelayMs: 20 });
    const ac = new AbortController();
    const a = b.predict([1], { signal: ac.signal });
    const c = b.predict([2]);
    ac.abort(new Error('client went away'));
    await expect(a).rejects.toThrow('client went away');
    expect((await c).data[0]).toBe(2);
    expect(model.batches).toEqual([1]);
  });

  it('recycles sample buffers without mixing requests, aborted ones included', async () => {
    const model = fakeModel(1); // answers [sum of the sample, batch size]
    const b = createBatcher(model, { inputShape: [2], maxBatchSize: 4, maxDelayMs: 1 });
    for (let wave = 0; wave < 5; wave++) {
      const ac = new AbortController();
      // requests 0-3 fill a batch and leave at once; 5 is still queued when it is aborted
      const reqs = Array.from({ length: 10 }, (_, i) => b.predict([wave * 100 + i, 2 * i], i === 5 ? { signal: ac.signal } : {}));
      ac.abort(new Error('gone'));
      const got = await Promise.allSettled(reqs);
      got.forEach((r, i) => {
        if (i === 5) expect(r.status).toBe('rejected');
        else expect(r.status === 'fulfilled' && r.value.data[0]).toBe(wave * 100 + 3 * i);
      });
    }
    await b.close();
  });

  it('validates inputs and options with clear errors', async () => {
    const b = createBatcher(fakeModel(), { inputShape: [2, 2] });
    await expect(b.predict([1, 2, 3])).rejects.toThrow('batcher.predict: expected 4 values (one sample of shape [2, 2]) but received 3');
    await expect(b.predict([1, Number.NaN, 3, 4])).rejects.toThrow('finite input values');
    await expect(b.predict(new Float64Array([1, 1e39, 3, 4]))).rejects.toThrow('finite input values'); // Infinity in float32
    await expect(b.predict(['1', 2, 3, 4] as unknown as number[])).rejects.toThrow("expected numbers (input[0]) but received '1'");
    await expect(b.predict([1, 2, true, 4] as unknown as number[])).rejects.toThrow('expected numbers (input[2]) but received true');
    expect(() => createBatcher(fakeModel(), { inputShape: [2], maxBatchSize: 0 })).toThrow(ConvkitError);
    await b.close();
    await expect(b.predict([1, 2, 3, 4])).rejects.toThrow('closed');
  });

  it('a failing model rejects that batch only', async () => {
    let calls = 0;
    const b = createBatcher(
      { predict: async (x) => (++calls === 1 ? Promise.reject(new Error('boom')) : x) },
      { inputShape: [1], maxBatchSize: 1, maxDelayMs: 0 },
    );
    const first = b.predict([1]);
    const second = b.predict([2]);
    await expect(first).rejects.toThrow('boom');
    expect((await second).data[0]).toBe(2);
  });
});
