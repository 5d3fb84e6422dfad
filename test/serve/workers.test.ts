// A model saved on the main thread loads and predicts in worker threads (the addon is context-aware), with
// the main thread's results; spawning and ending workers repeatedly does not leak their environments.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { architectures, getBackend, losses, optimizers, randomUniform, type Tensor } from '../../src/index.js';

const workerFile = new URL('../helpers/predict-worker.mjs', import.meta.url);

function predictInWorker(dir: string, x: Tensor): Promise<{ data: Float32Array; shape: number[]; backend: string }> {
  return new Promise((resolve, reject) => {
    const data = x.data.slice();
    const w = new Worker(workerFile, { workerData: { dir, x: data, shape: x.shape }, transferList: [data.buffer] });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

describe('worker threads', () => {
  let dir: string;
  let expected: Tensor;
  const x = randomUniform([5, 28, 28, 1], { seed: 11 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'convkit-workers-'));
    const model = architectures.lenet5({ seed: 2 });
    model.compile({ optimizer: optimizers.adam({ learningRate: 1e-3 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    await model.trainOnBatch(randomUniform([8, 28, 28, 1], { seed: 12 }), [0, 1, 2, 3, 4, 5, 6, 7]);
    await model.save(dir);
    expected = await model.predict(x);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a model saved in the main thread predicts identically in a worker, and in several at once', async () => {
    const results = await Promise.all([0, 1, 2].map(() => predictInWorker(dir, x)));
    for (const r of results) {
      expect(r.backend).toBe(getBackend());
      expect(r.shape).toEqual(expected.shape);
      expect(Array.from(r.data)).toEqual(Array.from(expected.data));
    }
  });

  it('40 load/predict/exit cycles leave no worker environment behind', async () => {
    const cycle = async (n: number) => {
      for (let i = 0; i < n; i++) await predictInWorker(dir, x);
    };
    await cycle(5); // warm-up: code caches, allocator arenas
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    await cycle(40);
    globalThis.gc?.();
    const growthMiB = (process.memoryUsage().rss - before) / 2 ** 20;
    // A worker that cannot be torn down (an addon holding its environment) keeps a whole V8 isolate, about
    // 10 MiB or more each: 40 of them would add hundreds of MiB. 64 MiB leaves room for allocator noise.
    expect(growthMiB, `RSS growth over 40 cycles: ${growthMiB.toFixed(1)} MiB`).toBeLessThan(64);
  });
});
