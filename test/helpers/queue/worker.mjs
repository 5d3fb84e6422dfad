// A queue worker in its own process, for the queue tests: `inference <port> <queue> <modelDir>` or
// `training <port> <queue>`. Prints "ready" once connected; runs until killed or sent SIGTERM (then closes).
import { createInferenceWorker, createTrainingWorker } from '../../../dist/src/queue/index.js';

const [kind, port, queue, modelPath] = process.argv.slice(2);
const connection = { host: '127.0.0.1', port: Number(port) };
const timing = { lockDurationMs: 1500, stalledIntervalMs: 500, maxStalledCount: 50 };
const worker = kind === 'inference'
  ? await createInferenceWorker({ connection, queue, modelPath, concurrency: 32, threads: 1, ...timing })
  : await createTrainingWorker({ connection, queue, threads: 1, ...timing });
worker.on('error', () => {}); // connection errors while Redis restarts: the worker reconnects
await worker.waitUntilReady();
console.log('ready');
process.on('SIGTERM', async () => {
  await worker.close();
  process.exit(0);
});
