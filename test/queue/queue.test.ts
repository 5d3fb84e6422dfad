// convkit/queue against a real Redis (Debian's redis-server, started here on a free port with its own data
// directory and an append-only file, so a restart keeps the jobs), with workers in their own processes:
// results equal in-process predict; workers SIGKILLed mid-batch lose no job and store none twice; a training
// worker killed mid-epoch is retried from its checkpoint and ends bit-identical to an uninterrupted run;
// a Redis restart is survived; bad jobs fail with a reason and the worker carries on.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { architectures, loadModel, sequential, layers, losses, Tensor, data } from '../../src/index.js';
import { resultsKey, submitInference } from '../../src/queue/index.js';
import { onBestIsaRun } from '../helpers/backends.js';

const REDIS = '/usr/bin/redis-server';
const workerScript = fileURLToPath(new URL('../helpers/queue/worker.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(!existsSync(REDIS) || !onBestIsaRun)('convkit/queue on a real Redis', () => {
  let dir: string;
  let port: number;
  let redis: ChildProcess;
  let client: Redis;
  const workers: ChildProcess[] = [];
  const connection = () => ({ host: '127.0.0.1', port, maxRetriesPerRequest: null });

  async function startRedis(): Promise<void> {
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') return;
      await sleep(50);
    }
    throw new Error('redis-server did not start');
  }

  async function startWorker(kind: 'inference' | 'training', queue: string, modelDir = ''): Promise<ChildProcess> {
    const w = spawn(process.execPath, [workerScript, kind, String(port), queue, modelDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    workers.push(w);
    await new Promise<void>((resolve, reject) => {
      w.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      w.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
    return w;
  }

  const kill = async (w: ChildProcess, signal: NodeJS.Signals = 'SIGKILL') => {
    if (w.exitCode !== null || w.signalCode !== null) return;
    const gone = new Promise((r) => w.once('exit', r));
    w.kill(signal);
    await gone;
  };

  let modelDir: string;
  const model = architectures.lenet5({ seed: 3 });
  const images = (n: number, seed: number) => data.mnistDigits({ train: n, test: 0, seed }).then((d) => d.xTrain);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convkit-queue-'));
    port = await freePort();
    await startRedis();
    client = new Redis(connection());
    client.on('error', () => {}); // while Redis restarts
    modelDir = join(dir, 'model');
    await model.save(modelDir);
  }, 30_000);
  afterAll(async () => {
    for (const w of workers) await kill(w);
    client?.disconnect();
    redis?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  // Workers batch the samples of concurrent jobs as they arrive and run one thread each: the float32 sums come in
  // another order than one in-process batch, so outputs agree to 1e-5 of the largest (measured: under 1e-6).
  it('jobs through 2 worker processes give the results of in-process predict', async () => {
    const queue = new Queue('same', { connection: connection() });
    await Promise.all([startWorker('inference', 'same', modelDir), startWorker('inference', 'same', modelDir)]);
    const x = await images(120, 1);
    const rows = Array.from({ length: 120 }, (_, i) => x.data.subarray(i * 784, (i + 1) * 784));
    const want = (await model.predict(x)) as Tensor;
    const got = new Map<number, number[]>();
    for await (const r of submitInference(queue, rows, { prefix: 'same' })) got.set(r.index, r.result.outputs[0]);
    expect(got.size).toBe(120);
    for (let i = 0; i < 120; i++) {
      const row = Array.from(want.data.subarray(i * 10, (i + 1) * 10));
      const scale = Math.max(...row.map(Math.abs));
      got.get(i)!.forEach((v, k) => expect(Math.abs(v - row[k]), `sample ${i}`).toBeLessThan(1e-5 * scale));
    }
    expect(await client.hlen(resultsKey('same'))).toBe(120);
    // the samples went as binary beside the jobs, and are gone once their results are stored
    expect(await client.keys('convkit:inputs:same:*')).toEqual([]);
    // submitting the same job ids again answers from the stored results
    const again: number[] = [];
    for await (const r of submitInference(queue, rows.slice(0, 5), { prefix: 'same' })) again.push(r.index);
    expect(again.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await client.hlen(resultsKey('same'))).toBe(120);
    for (let i = 0; i < 50 && (await client.keys('convkit:inputs:same:*')).length > 0; i++) await sleep(20);
    expect(await client.keys('convkit:inputs:same:*')).toEqual([]);
    await queue.close();
  }, 60_000);

  it('a worker SIGKILLed mid-batch, 10 times: every job completes, each stored exactly once', async () => {
    const queue = new Queue('kill', { connection: connection() });
    const events = new QueueEvents('kill', { connection: connection() });
    let failed = 0;
    events.on('failed', () => failed++);
    const x = await images(64, 2);
    let a = await startWorker('inference', 'kill', modelDir);
    await startWorker('inference', 'kill', modelDir);
    for (let round = 0; round < 10; round++) {
      const jobs = await queue.addBulk(Array.from({ length: 64 }, (_, i) => ({ name: 'infer', data: { samples: Array.from(x.data.subarray(i * 784, (i + 1) * 784)) }, opts: { jobId: `r${round}-${i}`, attempts: 5 } })));
      await sleep(5 + ((round * 37) % 60));
      await kill(a);
      a = await startWorker('inference', 'kill', modelDir);
      await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 60_000)));
      const stored = await client.hkeys(resultsKey('kill'));
      expect(stored.filter((k) => k.startsWith(`r${round}-`)).sort()).toEqual(jobs.map((j) => j.id!).sort());
    }
    expect(await client.hlen(resultsKey('kill'))).toBe(640);
    expect(failed).toBe(0);
    await events.close();
    await queue.close();
  }, 240_000);

  it('a training worker SIGKILLed mid-epoch: the retried job resumes from its checkpoint and ends bit-identical', async () => {
    const queue = new Queue('train', { connection: connection() });
    const events = new QueueEvents('train', { connection: connection() });
    const net = sequential([layers.conv2d({ filters: 4, kernelSize: 5, activation: 'relu', inputShape: [28, 28, 1] }), layers.maxPooling2d({ poolSize: 2 }), layers.flatten(), layers.dense({ units: 10 })], { seed: 7 });
    const spec = (checkpointDir: string) => ({
      model: net.getConfig(),
      compile: { optimizer: 'adam', loss: { className: 'sparseCategoricalCrossentropy', config: { fromLogits: true } }, metrics: ['accuracy'] },
      data: { kind: 'mnistDigits', train: 2000, seed: 1 },
      epochs: 4,
      batchSize: 32,
      seed: 5,
      checkpointDir,
    });
    const w = await startWorker('training', 'train');
    const straight = await queue.add('fit', spec(join(dir, 'straight')), { jobId: 'straight' });
    await straight.waitUntilFinished(events, 120_000);
    // the same job again, its worker killed in the middle of epoch 2
    const interrupted = await queue.add('fit', spec(join(dir, 'interrupted')), { jobId: 'interrupted', attempts: 3 });
    await new Promise<void>((resolve) => events.on('progress', ({ jobId, data: p }) => jobId === 'interrupted' && (p as { epoch: number }).epoch === 1 && resolve()));
    await sleep(150);
    await kill(w);
    await startWorker('training', 'train');
    const done = (await interrupted.waitUntilFinished(events, 120_000)) as { epochsTrained: number };
    expect(done.epochsTrained).toBe(4);
    const [a, b] = await Promise.all([loadModel(join(dir, 'straight')), loadModel(join(dir, 'interrupted'))]);
    expect(b.getWeights().map((t) => Array.from(t.data))).toEqual(a.getWeights().map((t) => Array.from(t.data)));
    await events.close();
    await queue.close();
  }, 240_000);

  it('Redis restarted mid-run: workers reconnect and every job finishes', async () => {
    const queue = new Queue('restart', { connection: connection() });
    await startWorker('inference', 'restart', modelDir);
    const x = await images(600, 3);
    await queue.addBulk(Array.from({ length: 600 }, (_, i) => ({ name: 'infer', data: { samples: Array.from(x.data.subarray(i * 784, (i + 1) * 784)) }, opts: { jobId: `s-${i}`, attempts: 5 } })));
    await sleep(100);
    // the restart comes while jobs are still waiting
    expect(await client.hlen(resultsKey('restart'))).toBeLessThan(600);
    redis.kill('SIGTERM');
    await new Promise((r) => redis.once('exit', r));
    await sleep(500);
    await startRedis();
    for (let i = 0; i < 600 && (await client.hlen(resultsKey('restart'))) < 600; i++) await sleep(100);
    expect(await client.hlen(resultsKey('restart'))).toBe(600);
    await queue.close();
  }, 120_000);

  it('bad jobs fail with a clear reason and the worker keeps serving', async () => {
    const queue = new Queue('bad', { connection: connection() });
    const events = new QueueEvents('bad', { connection: connection() });
    await startWorker('inference', 'bad', modelDir);
    const x = await images(1, 4);
    const good = Array.from(x.data);
    const cases: [unknown, RegExp][] = [
      [{ samples: [1, 2, 3] }, /expected sample 0 to have 784 values .* but received 3/],
      [{ samples: good.map((v, i) => (i === 5 ? null : v)) }, /sample 0 holds null at index 5/],
      [{ samples: 'all of them' }, /expected samples as a non-empty array/],
    ];
    for (const [payload, reason] of cases) {
      const job = await queue.add('infer', payload, { attempts: 1 });
      await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(reason);
    }
    const ok = await queue.add('infer', { samples: good });
    expect(((await ok.waitUntilFinished(events, 30_000)) as { outputs: number[][] }).outputs[0]).toHaveLength(10);
    // a training job naming a model that does not exist
    const tq = new Queue('bad-train', { connection: connection() });
    const tevents = new QueueEvents('bad-train', { connection: connection() });
    await startWorker('training', 'bad-train');
    const missing = await tq.add('fit', { model: join(dir, 'nowhere'), compile: { optimizer: 'sgd', loss: 'mse' }, data: { kind: 'mnistDigits', train: 10 }, epochs: 1, checkpointDir: join(dir, 'ckpt-missing') }, { attempts: 1 });
    await expect(missing.waitUntilFinished(tevents, 30_000)).rejects.toThrow(/loadModel: .*cannot read it/);
    await Promise.all([events.close(), tevents.close(), queue.close(), tq.close()]);
  }, 120_000);

  it('a missing model stops createInferenceWorker with a clear error', async () => {
    const { createInferenceWorker } = await import('../../src/queue/index.js');
    await expect(createInferenceWorker({ connection: connection(), queue: 'none', modelPath: join(dir, 'nothing') })).rejects.toThrow(/loadModel: model.json: cannot read it/);
  });
});
