import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { onnxBytes } from '../dist/src/io/onnx.js';
const ck = await import('../dist/src/index.js');
const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const net = process.argv[2];
const model = net === 'mnl' ? await ck.loadModel('/tmp/mnl/model.json') : ck.architectures.resnet({ depth: 20, seed: 1 });
const shape = net === 'mnl' ? [32, 96, 96, 3] : [256, 32, 32, 3];
const session = await ort.InferenceSession.create(onnxBytes(model), { intraOpNumThreads: 2, interOpNumThreads: 1, executionProviders: ['cpu'], graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: '/tmp/prof/ort_' + net, extra: { session: { intra_op: { allow_spinning: '0' } } } });
const x = ck.randomUniform(shape, { seed: 2 });
const feeds = { [model.inputNames[0]]: new ort.Tensor('float32', x.data, shape) };
for (let i = 0; i < 3; i++) await session.run(feeds);
const t0 = performance.now();
for (let i = 0; i < 10; i++) await session.run(feeds);
console.log('ort ms/run', ((performance.now() - t0) / 10).toFixed(2));
await session.endProfiling?.(); const { readdirSync } = await import('node:fs'); const file = '/tmp/prof/' + readdirSync('/tmp/prof').filter(f => f.startsWith('ort_' + net)).sort().at(-1);
const ev = JSON.parse(readFileSync(file, 'utf8')).filter(e => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
const agg = new Map();
for (const e of ev) { const k = e.args.op_name + ' ' + e.name.replace('_kernel_time',''); agg.set(k, (agg.get(k) ?? 0) + e.dur); }
const runs = 13;
const rows = [...agg].sort((a, b) => b[1] - a[1]);
let tot = 0; for (const [, d] of rows) tot += d;
console.log('node total ms/run', (tot / runs / 1000).toFixed(2));
const byOp = new Map(); for (const [k, d] of rows) { const o = k.split(' ')[0]; byOp.set(o, (byOp.get(o) ?? 0) + d); }
console.log([...byOp].map(([o, d]) => `${o} ${(d / runs / 1000).toFixed(2)}`).join(' | '));
for (const [k, d] of rows.slice(0, 25)) console.log((d / runs / 1000).toFixed(3).padStart(8), k);
