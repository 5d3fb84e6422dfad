/**
 * A producer: enqueues every PNG and JPEG image of a directory as one inference job each and prints the
 * predicted class of each as the workers finish them (examples/queue/worker.ts).
 *
 *   npm run build:ts && node dist/examples/queue/producer.js --images ./digits-png --size 28x28 --channels 1 --redis 127.0.0.1:6379
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { data } from '../../src/index.js';
import { submitInference } from '../../src/queue/index.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    size: { type: 'string', default: '28x28' },
    channels: { type: 'string', default: '1' },
    redis: { type: 'string', default: '127.0.0.1:6379' },
    queue: { type: 'string', default: 'digits' },
  },
});
if (!values.images) throw new Error('--images <dir> is required');
const [h, w] = values.size.split('x').map(Number);
const files = (await readdir(values.images)).filter((f) => ['.png', '.jpg', '.jpeg'].includes(extname(f).toLowerCase())).sort();
const samples = await Promise.all(files.map(async (f) => (await data.readImage(join(values.images!, f), { size: [h, w], channels: Number(values.channels) as 1 | 3 })).data));
const [host, port] = values.redis.split(':');
const queue = new Queue(values.queue, { connection: { host, port: Number(port ?? 6379) } });
const started = performance.now();
for await (const { index, result } of submitInference(queue, samples)) console.log(`${files[index]}\t${result.classes[0]}\t${Math.max(...result.outputs[0]).toFixed(4)}`);
console.log(`${files.length} images in ${((performance.now() - started) / 1000).toFixed(2)} s`);
await queue.close();
