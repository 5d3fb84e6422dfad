/**
 * A scoring worker: takes inference jobs from a BullMQ queue on Redis and answers them with a saved model. Run
 * as many as the machines have cores to spare (see the README's "Scaling out"); each stores every result in
 * Redis under its job id.
 *
 *   npm run build:ts && node dist/examples/queue/worker.js --model out/digits --redis 127.0.0.1:6379 --queue digits --threads 1
 */
import { parseArgs } from 'node:util';
import { createInferenceWorker } from '../../src/queue/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'out/digits' },
    redis: { type: 'string', default: '127.0.0.1:6379' },
    queue: { type: 'string', default: 'digits' },
    threads: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '64' },
  },
});
const [host, port] = values.redis.split(':');
const worker = await createInferenceWorker({
  connection: { host, port: Number(port ?? 6379) },
  queue: values.queue,
  modelPath: values.model,
  threads: Number(values.threads),
  concurrency: Number(values.concurrency),
});
worker.on('failed', (job, e) => console.error(`job ${job?.id} failed: ${e.message}`));
await worker.waitUntilReady();
console.log(`scoring jobs of queue '${values.queue}' with ${values.model} (Redis ${values.redis})`);
// finish the jobs in hand, then leave: others are released to the queue
const stop = async () => {
  await worker.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
