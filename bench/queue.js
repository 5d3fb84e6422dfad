// Inference through convkit/queue: images/s of jobs of 1 or 64 images through 1 and 2 worker processes (1
// intra-op thread each, concurrent jobs' images coalesced into batches of up to 64) against in-process predict
// of the same model at batch 64, and each job's latency from submission to its result (p50, p99). Needs Debian's redis-server (started
// here on a free port) and bullmq/ioredis (the root package's dev dependencies).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convkit, useThreads } from './lib/convkit.js';
import { fmt, printTable, timeMedianAsync } from './lib/harness.js';

const JOBS = 4000;
const worker = fileURLToPath(new URL('../dist/examples/queue/worker.js', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function benchQueue({ threadCounts }) {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.log('queue bench: redis-server is not installed (apt-get install redis-server)');
    return;
  }
  const { Queue } = await import('bullmq');
  const { submitInference } = await import('../dist/src/queue/index.js');
  const dir = await mkdtemp(join(tmpdir(), 'convkit-bench-queue-'));
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--dir', dir, '--save', ''], { stdio: 'ignore' });
  const children = [];
  try {
    await sleep(300);
    const model = convkit.architectures.tutorial({ seed: 1 });
    await model.save(join(dir, 'model'));
    const { xTrain } = await convkit.data.mnistDigits({ train: JOBS, test: 0, seed: 1 });
    const rows = Array.from({ length: JOBS }, (_, i) => xTrain.data.subarray(i * 784, (i + 1) * 784));
    useThreads(Math.max(...threadCounts));
    const inProcess = JOBS / (await timeMedianAsync(() => model.predict(xTrain, { batchSize: 64 }), { warmup: 1, runs: 5 }));
    const table = [['in-process predict, batch 64', fmt(inProcess, 0), '-', '-', '100%']];
    for (const [workers, perJob] of [[1, 1], [2, 1], [1, 64], [2, 64]]) {
      const name = `bench-${workers}-${perJob}`;
      const queue = new Queue(name, { connection: { host: '127.0.0.1', port } });
      for (let w = 0; w < workers; w++) {
        const child = spawn(process.execPath, [worker, '--model', join(dir, 'model'), '--redis', `127.0.0.1:${port}`, '--queue', name, '--threads', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
        children.push(child);
        await new Promise((resolve) => child.stdout.once('data', resolve));
      }
      // a warm-up round, then the timed one
      for await (const _ of submitInference(queue, rows.slice(0, 256), { prefix: `warm-${workers}-${perJob}`, perJob }));
      const submitted = performance.now();
      const latencies = [];
      for await (const r of submitInference(queue, rows, { prefix: `run-${workers}-${perJob}`, perJob })) latencies.push(performance.now() - submitted);
      const seconds = (performance.now() - submitted) / 1000;
      latencies.sort((a, b) => a - b);
      const rate = JOBS / seconds;
      const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
      table.push([`queue, ${workers} worker${workers > 1 ? 's' : ''} x 1 thread, ${perJob} image${perJob > 1 ? 's' : ''}/job`, fmt(rate, 0), fmt(at(0.5), 0), fmt(at(0.99), 0), `${fmt((100 * rate) / inProcess, 0)}%`]);
      for (const c of children.splice(0)) c.kill('SIGTERM');
      await queue.close();
    }
    printTable(`${JOBS} images (the TensorFlow tutorial CNN, 28x28) as jobs of 1 or 64 images, all submitted at once; latency from submission to each job's result (ms)`, ['path', 'images/s', 'p50 ms', 'p99 ms', 'of in-process'], table);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    redis.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}
