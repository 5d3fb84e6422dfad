// Paired A/B of two builds of the addon in one process: this checkout's build (A) against another build's
// convkit.node (B), the same work on the same tensors, calls alternating A, B, A, B, ... Builds timed in
// separate processes minutes apart on a shared machine drift by 10% and more (other tenants, clock speed);
// alternating call by call, both see the same conditions: this build against a copy of itself read 0.99-1.01x
// (Zen 5, 2 threads). Save the build before a change (cp build/Release/convkit.node /tmp/before.node), rebuild, then:
//
//   node bench/ab.js /tmp/before.node net:resnet conv:ResNet:fwd gemm:256x1024x3136
//
// Cases: net:<lenet5|tutorial|resnet> (predictSync, batch 256), train:<net> (trainOnBatchSync, batch 64),
// model:<saved or TF.js model.json> (predictSync of the loaded model, batch 32),
// conv:<layer>:<fwd|bwd-input|bwd-filter> (a bench/conv.js layer by a word of its name, or NxHxWxCxOCxK: a K x K
// 'same' convolution of C -> OC channels over N images of H x W; with `out`),
// pool:NxHxWxC (a 2x2 max pooling with `out`), gemm:MxNxK (ops.matmul with `out`). Prints each build's median time and B's speed over A's.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { createNativeBackend } from '../dist/src/backend/native/index.js';
import { withBackendImpl } from '../dist/src/backend/index.js';
import { convkit, native, reusingOutputs } from './lib/convkit.js';
import { fmt, printTable } from './lib/harness.js';
import { CONV_LAYERS } from './conv.js';

const { architectures, losses, ops, optimizers, randomNormal, randomUniform } = convkit;
const [otherPath, ...caseArgs] = process.argv.slice(2);
if (!otherPath || caseArgs.length === 0) {
  console.error('usage: node bench/ab.js <other convkit.node> <case>... (see the comment at the top of bench/ab.js)');
  process.exit(2);
}
const { addon, error } = native.loadNative();
if (!addon) throw new Error(`this checkout's addon did not load (build it first: npx node-gyp build): ${error?.message}`);
const a = createNativeBackend(addon);
const b = createNativeBackend(createRequire(import.meta.url)(otherPath));

const model = (name) => architectures.architecture(name, { seed: 1 });
const netInput = (name, n) => randomUniform([n, ...(name === 'resnet' ? [32, 32, 3] : [28, 28, 1])], { seed: 2 });

/** A case: a function doing its work once, on tensors made here. */
async function workOf(spec) {
  const [kind, name, pass = 'fwd'] = spec.split(':');
  if (kind === 'model') {
    const path = spec.slice('model:'.length), m = await convkit.loadModel(path);
    const x = randomUniform([32, ...m.inputShape], { seed: 2 });
    return () => m.predictSync(x);
  }
  if (kind === 'net') {
    const m = model(name), x = netInput(name, 256);
    return () => m.predictSync(x, { batchSize: 256 });
  }
  if (kind === 'train') {
    const m = model(name), x = netInput(name, 64);
    const y = Int32Array.from({ length: 64 }, (_, i) => i % 10);
    m.compile({ optimizer: optimizers.sgd({ learningRate: 0.01 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    return () => m.trainOnBatchSync(x, y);
  }
  if (kind === 'conv') {
    const dims = /^\d+(x\d+){5}$/.test(name) ? name.split('x').map(Number) : undefined;
    const layer = dims ? [name, dims.slice(0, 4), [dims[5], dims[5], dims[3], dims[4]], { padding: 'same' }] : CONV_LAYERS.find(([n]) => n.includes(name));
    if (!layer) throw new Error(`${spec}: no bench/conv.js layer's name contains '${name}'`);
    const [, xs, fs, opts] = layer;
    const x = randomNormal(xs, { seed: 1 }), w = randomNormal(fs, { seed: 2 });
    const i = ops.conv2dInfo(xs, fs, opts);
    const dy = randomNormal([i.batch, i.outH, i.outW, i.outC], { seed: 3 });
    const make = {
      fwd: () => ops.request.conv2d(x, w, opts),
      'bwd-input': () => ops.request.conv2dBackwardInput(dy, w, xs, opts),
      'bwd-filter': () => ops.request.conv2dBackwardFilter(x, dy, fs, opts),
    }[pass];
    if (!make) throw new Error(`${spec}: the pass is fwd, bwd-input or bwd-filter`);
    return reusingOutputs(make);
  }
  if (kind === 'pool') {
    const [n, h, w, c] = name.split('x').map(Number);
    const x = randomNormal([n, h, w, c], { seed: 1 });
    return reusingOutputs(() => ops.request.maxPool2d(x, { poolSize: 2 }));
  }
  if (kind === 'gemm') {
    const [m, n, k] = name.split('x').map(Number);
    const x = randomNormal([m, k], { seed: 1 }), w = randomNormal([k, n], { seed: 2 });
    return reusingOutputs(() => ops.request.matmul(x, w));
  }
  throw new Error(`${spec}: a case is net:, train:, model:, conv:, pool: or gemm:`);
}

const median = (t) => [...t].sort((p, q) => p - q)[t.length >> 1];

const rows = [];
for (const spec of caseArgs) {
  const work = await workOf(spec);
  const once = (impl) => {
    const t0 = performance.now();
    withBackendImpl(impl, work);
    return performance.now() - t0;
  };
  for (let i = 0; i < 3; i++) once(a), once(b);
  // about 4 s per case, at least 15 calls each
  const ta = [], tb = [];
  const start = performance.now();
  while (ta.length < 15 || (performance.now() - start < 4000 && ta.length < 400)) {
    ta.push(once(a));
    tb.push(once(b));
  }
  rows.push([spec, ta.length, fmt(median(ta), 3), fmt(median(tb), 3), `${fmt(median(ta) / median(tb), 3)}x`]);
}
printTable(`A: this build; B: ${otherPath} (calls alternating; ms are medians)`, ['case', 'calls each', 'A ms', 'B ms', 'B speed / A'], rows);
