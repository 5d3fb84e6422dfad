// Importing models: the load time and peak memory of a 25 MB TF.js Layers model (a MobileNet-style Functional
// model: zero padding, ReLU6, inverted residual blocks with depthwise convolutions and batch norm, a wide head),
// in convkit and in TF.js, each in a fresh process; then its inference images/s in convkit (imported), in tfjs
// (CPU and WASM) and in onnxruntime-node (convkit's ONNX export of the import), outputs checked first.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convkit, useThreads } from './lib/convkit.js';
import { maxRelDiff } from './lib/graph.js';
import { fmt, printTable, timeMedianAsync, timePairedAsync } from './lib/harness.js';
import { loadTfjsModel, withTfBackend } from './contenders/tfjs.js';
import { onnxSession } from './contenders/onnx.js';

const BATCH = 32;
const INPUT = [96, 96, 3];
const AGREE = 1e-4;

/** The model in tfjs: about 6.3M float32 weights (25 MB). */
function mobileNetLike(tf) {
  const x = tf.input({ shape: INPUT });
  let h = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(x);
  h = tf.layers.reLU({ maxValue: 6 }).apply(tf.layers.batchNormalization().apply(tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, useBias: false }).apply(h)));
  for (const [filters, stride, blocks] of [[64, 2, 2], [128, 2, 3], [256, 2, 3], [384, 1, 2]]) {
    for (let i = 0; i < blocks; i++) {
      const s = i === 0 ? stride : 1;
      let b = tf.layers.reLU({ maxValue: 6 }).apply(tf.layers.batchNormalization().apply(tf.layers.conv2d({ filters: filters * 4, kernelSize: 1, useBias: false }).apply(h)));
      b = tf.layers.reLU({ maxValue: 6 }).apply(tf.layers.batchNormalization().apply(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: s, padding: 'same', useBias: false }).apply(b)));
      b = tf.layers.batchNormalization().apply(tf.layers.conv2d({ filters, kernelSize: 1, useBias: false }).apply(b));
      h = s === 1 && i > 0 ? tf.layers.add().apply([h, b]) : b;
    }
  }
  h = tf.layers.globalAveragePooling2d({}).apply(h);
  h = tf.layers.dense({ units: 2048, activation: 'relu' }).apply(h);
  return tf.model({ inputs: x, outputs: tf.layers.dense({ units: 1000 }).apply(h) });
}

/** Saves a tfjs model as TF.js's files (model.json and 4 MiB shards). */
async function saveAsTfjs(tf, m, dir) {
  let art;
  await m.save(tf.io.withSaveHandler(async (a) => {
    art = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const data = new Uint8Array(art.weightData);
  const shard = 4 * 2 ** 20;
  const paths = [];
  for (let i = 0; i * shard < data.length; i++) {
    paths.push(`group1-shard${i + 1}.bin`);
    await writeFile(join(dir, paths[i]), data.subarray(i * shard, (i + 1) * shard));
  }
  await writeFile(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: art.modelTopology, weightsManifest: [{ paths, weights: art.weightSpecs }] }));
  return data.length;
}

/** Milliseconds to load and peak RSS above the process's own, in a fresh node process. */
function loadInChild(script) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1));
}

export async function benchImport({ threadCounts, contenders = true }) {
  const maxT = Math.max(...threadCounts);
  const dir = await mkdtemp(join(tmpdir(), 'convkit-bench-import-'));
  try {
    const bytes = await withTfBackend('cpu', async (tf) => saveAsTfjs(tf, mobileNetLike(tf), dir));
    if (bytes === undefined) return;
    const dist = new URL('../dist/src/index.js', import.meta.url).href;
    const measure = (load) => `
      const before = process.resourceUsage().maxRSS;
      ${load.setup ?? ''}
      const base = process.resourceUsage().maxRSS;
      const t0 = performance.now();
      ${load.body}
      const ms = performance.now() - t0;
      process.stdout.write(JSON.stringify({ ms, rssMiB: (process.resourceUsage().maxRSS - base) / 1024, setupMiB: (base - before) / 1024 }) + '\\n');`;
    const rows = [];
    const runs = (script) => [0, 1, 2].map(() => loadInChild(script)).sort((a, b) => a.ms - b.ms)[1];
    rows.push(['convkit loadModel', runs(measure({ setup: `const { loadModel } = await import('${dist}');`, body: `await loadModel('${join(dir, 'model.json')}');` }))]);
    if (contenders) {
      const benchPackage = new URL('./package.json', import.meta.url).pathname;
      const setup = `const { createRequire } = await import('node:module'); const require = createRequire('${benchPackage}');
        console.warn = () => {}; console.log = () => {}; const tf = require('@tensorflow/tfjs'); const fs = require('node:fs'); await tf.setBackend('cpu');`;
      const body = `const json = JSON.parse(fs.readFileSync('${join(dir, 'model.json')}', 'utf8'));
        const bufs = json.weightsManifest[0].paths.map((p) => fs.readFileSync('${dir}/' + p));
        const data = Buffer.concat(bufs);
        await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.length) }));`;
      rows.push(['tfjs loadLayersModel (cpu)', runs(measure({ setup, body }))]);
    }
    printTable(`Loading a ${fmt(bytes / 2 ** 20)} MiB TF.js Layers model in a fresh process (median of 3): time, and peak RSS it adds`, ['loader', 'ms', 'peak RSS added (MiB)'], rows.map(([n, r]) => [n, fmt(r.ms, 0), fmt(r.rssMiB, 0)]));

    const model = await convkit.loadModel(join(dir, 'model.json'));
    const x = convkit.randomUniform([BATCH, ...INPUT], { seed: 1 });
    useThreads(maxT);
    const ours = (await model.predict(x)).data;
    const infer = async () => {
      await model.predict(x);
    };
    const convkitSeconds = await timeMedianAsync(infer, { warmup: 1, runs: 7, budget: 10 });
    const table = [['convkit (imported)', fmt(BATCH / convkitSeconds, 0), '1.00x']];
    if (contenders) {
      for (const be of ['cpu', 'wasm']) {
        const r = await withTfBackend(be, async (tf) => {
          const m = await loadTfjsModel(tf, dir);
          const xt = tf.tensor(x.data, x.shape);
          const diff = maxRelDiff(ours, m.predict(xt).dataSync());
          if (!(diff <= AGREE)) throw new Error(`import bench: tfjs-${be} differs from convkit by ${diff}`);
          const s = await timeMedianAsync(async () => tf.tidy(() => m.predict(xt)).data(), { warmup: 1, runs: 3, budget: 20, minRuns: 1 });
          xt.dispose();
          return s;
        });
        if (r) table.push([`tfjs-${be}`, fmt(BATCH / r, 0), `${fmt(r / convkitSeconds, 2)}x`]);
      }
      const session = await onnxSession(model, maxT);
      if (session) {
        const diff = maxRelDiff(ours, await session.run(x));
        if (!(diff <= AGREE)) throw new Error(`import bench: onnxruntime differs from convkit by ${diff}`);
        const paired = await timePairedAsync(infer, () => session.run(x));
        table.push(['onnxruntime (convkit\'s ONNX export)', fmt(BATCH / paired.b, 0), `${fmt(paired.ratio, 2)}x`]);
        // convkit's inference session (weights prepared once, as onnxruntime's are) against the same
        const frozen = model.inferenceSession();
        if (maxRelDiff(ours, (await frozen.predict(x)).data) !== 0) throw new Error('import bench: the inference session differs from the model');
        const pairedFrozen = await timePairedAsync(async () => void (await frozen.predict(x)), () => session.run(x));
        table.push(['onnxruntime, against convkit\'s inference session', fmt(BATCH / pairedFrozen.b, 0), `${fmt(pairedFrozen.ratio, 2)}x`]);
      }
    }
    printTable(`The imported model's inference at batch ${BATCH}, ${maxT} threads (images/s; convkit's speed over each)`, ['runtime', 'images/s', 'convkit vs it'], table);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
