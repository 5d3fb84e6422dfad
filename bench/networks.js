// Whole networks: training images/s (batch 64) and inference images/s (batch 256) of the demo LeNet-5 and
// the TensorFlow tutorial CNN, against tfjs (CPU, WASM) and, for inference, onnxruntime-node, all with the
// same weights and verified against each other before timing.
import { convkit, useThreads } from './lib/convkit.js';
import { fmt, pct, printTable, timeMedianAsync, timePairedAsync } from './lib/harness.js';
import { withTfBackend } from './contenders/tfjs.js';
import { onnxSession } from './contenders/onnx.js';

const { architectures, losses, optimizers, randomUniform } = convkit;

// Layer specs mirroring architectures.lenet5 and architectures.tutorial, for building the contenders.
const NETS = {
  lenet5: [
    { type: 'conv', filters: 6, k: 5, padding: 'same' },
    { type: 'pool' },
    { type: 'conv', filters: 16, k: 5, padding: 'valid' },
    { type: 'pool' },
    { type: 'flatten' },
    { type: 'dense', units: 120, relu: true },
    { type: 'dense', units: 84, relu: true },
    { type: 'dense', units: 10 },
  ],
  tutorial: [
    { type: 'conv', filters: 32, k: 5, padding: 'same' },
    { type: 'pool' },
    { type: 'conv', filters: 64, k: 5, padding: 'same' },
    { type: 'pool' },
    { type: 'flatten' },
    { type: 'dense', units: 1024, relu: true },
    { type: 'dense', units: 10 },
  ],
};

/** Forward FLOPs per image (multiply-adds x 2); training is ~3x: forward, input gradient and weight gradient. */
function forwardFlops(spec) {
  let [h, w, c] = [28, 28, 1];
  let flops = 0;
  for (const l of spec) {
    if (l.type === 'conv') {
      if (l.padding === 'valid') [h, w] = [h - l.k + 1, w - l.k + 1];
      flops += 2 * h * w * l.filters * l.k * l.k * c;
      c = l.filters;
    } else if (l.type === 'pool') [h, w] = [h / 2, w / 2];
    else if (l.type === 'flatten') [h, w, c] = [1, 1, h * w * c];
    else if (l.type === 'dense') {
      flops += 2 * c * l.units;
      c = l.units;
    }
  }
  return flops;
}

function tfModel(tf, spec, weights) {
  const m = tf.sequential();
  let first = true;
  for (const l of spec) {
    const input = first ? { inputShape: [28, 28, 1] } : {};
    first = false;
    if (l.type === 'conv') m.add(tf.layers.conv2d({ filters: l.filters, kernelSize: l.k, padding: l.padding, activation: 'relu', ...input }));
    else if (l.type === 'pool') m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    else if (l.type === 'flatten') m.add(tf.layers.flatten());
    else m.add(tf.layers.dense({ units: l.units, activation: l.relu ? 'relu' : 'linear' }));
  }
  m.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
  m.compile({ optimizer: tf.train.sgd(0.01), loss: tf.losses.softmaxCrossEntropy });
  return m;
}

function onnxLayers(spec, weights) {
  const out = [];
  let wi = 0;
  let hwc = [28, 28, 1];
  for (const l of spec) {
    if (l.type === 'conv') {
      const [k, b] = [weights[wi++], weights[wi++]];
      const p = l.padding === 'same' ? (l.k - 1) / 2 : 0;
      out.push({ type: 'conv', shape: k.shape, filter: k.data, bias: b.data, pads: [p, p, p, p], strides: [1, 1], relu: true });
      hwc = l.padding === 'same' ? [hwc[0], hwc[1], l.filters] : [hwc[0] - l.k + 1, hwc[1] - l.k + 1, l.filters];
    } else if (l.type === 'pool') {
      out.push({ type: 'maxpool', size: 2, stride: 2 });
      hwc = [hwc[0] / 2, hwc[1] / 2, hwc[2]];
    } else if (l.type === 'flatten') out.push({ type: 'flatten' });
    else {
      let [k, b] = [weights[wi++], weights[wi++]];
      if (out.at(-1).type === 'flatten') k = chwRows(k, hwc); // ONNX flattens NCHW: reorder the kernel's rows
      out.push({ type: 'dense', shape: k.shape, kernel: k.data, bias: b.data, relu: l.relu });
    }
  }
  return out;
}

function chwRows(kernel, [h, w, c]) {
  const [rows, cols] = kernel.shape;
  const data = new Float32Array(kernel.size);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    const from = (y * w + x) * c + ch;
    const to = (ch * h + y) * w + x;
    data.set(kernel.data.subarray(from * cols, (from + 1) * cols), to * cols);
  }
  return { shape: [rows, cols], data, size: kernel.size };
}

function toNchw(x) {
  const [n, h, w, c] = x.shape;
  const out = new Float32Array(x.size);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let ch = 0; ch < c; ch++) out[((i * c + ch) * h + y) * w + z] = x.data[((i * h + y) * w + z) * c + ch];
  return out;
}

/** tfjs backends lack some kernels (wasm has no Conv2DBackpropFilter, so it cannot train a CNN): report '-'. */
export async function unsupportedAsUndefined(fn) {
  try {
    return await fn();
  } catch (e) {
    if (/not registered for backend/.test(e.message)) return undefined;
    throw e;
  }
}

function maxRelDiff(a, b) {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}

export async function benchNetworks({ threadCounts, peaks, contenders = true }) {
  const rows = [];
  const maxT = Math.max(...threadCounts);
  for (const [name, spec] of Object.entries(NETS)) {
    const model = architectures[name]({ seed: 1 });
    model.compile({ optimizer: optimizers.sgd({ learningRate: 0.01 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const weights = model.getWeights().map((w) => w.clone());
    const xTrain = randomUniform([64, 28, 28, 1], { seed: 2 });
    const yTrain = Int32Array.from({ length: 64 }, (_, i) => i % 10);
    const xInfer = randomUniform([256, 28, 28, 1], { seed: 3 });

    // verification: native vs reference outputs on 4 images, before anything is timed
    const x4 = xInfer.slice(0, 4);
    convkit.setBackend('reference');
    const refOut = (await model.predict(x4)).data;
    convkit.setBackend('native');
    const natDiff = maxRelDiff((await model.predict(x4)).data, refOut);
    if (natDiff > 1e-4) throw new Error(`${name}: native and reference predictions differ by ${natDiff}`);

    const fwd = forwardFlops(spec);
    const result = { name, fwdMflops: fwd / 1e6 };
    for (const t of threadCounts) {
      useThreads(t);
      model.setWeights(weights);
      const train = await timeMedianAsync(() => model.trainOnBatch(xTrain, yTrain), { warmup: 2, runs: 7, budget: 8 });
      const infer = await timeMedianAsync(() => model.predict(xInfer, { batchSize: 256 }), { warmup: 1, runs: 7, budget: 8 });
      result[`train${t}`] = 64 / train;
      result[`infer${t}`] = 256 / infer;
      result[`trainPeak${t}`] = (3 * fwd * 64) / train / 1e9 / peaks[t];
    }
    if (contenders) {
      for (const be of ['wasm', 'cpu']) {
        const r = await withTfBackend(be, async (tf) => {
          const m = tfModel(tf, spec, weights);
          const xs = tf.tensor(x4.data, x4.shape);
          const diff = maxRelDiff(m.predict(xs).dataSync(), refOut);
          if (diff > 1e-4) throw new Error(`${name}: tfjs-${be} predictions differ from convkit's by ${diff}`);
          const xt = tf.tensor(xTrain.data, xTrain.shape);
          const yt = tf.oneHot(tf.tensor1d(yTrain, 'int32'), 10).toFloat();
          const xi = tf.tensor(xInfer.data, xInfer.shape);
          const timing = be === 'cpu' ? { warmup: 1, runs: 3, budget: 10, minRuns: 1 } : { warmup: 1, runs: 3, budget: 10 };
          const train = await unsupportedAsUndefined(() => timeMedianAsync(() => m.trainOnBatch(xt, yt), timing));
          const infer = await timeMedianAsync(async () => tf.tidy(() => m.predict(xi, { batchSize: 256 })).data(), timing);
          tf.dispose([xs, xt, yt, xi]);
          return { train: train && 64 / train, infer: 256 / infer };
        });
        if (r) Object.assign(result, { [`tf-${be}-train`]: r.train, [`tf-${be}-infer`]: r.infer });
        if (r && r.train === undefined) console.log(`tfjs-${be}: no Conv2DBackpropFilter kernel, so it cannot train ${name}`);
      }
      const session = await onnxSession(onnxLayers(spec, weights), [1, 28, 28], maxT);
      if (session) {
        const diff = maxRelDiff(await session.run(toNchw(x4), 4), refOut);
        if (diff > 1e-4) throw new Error(`${name}: onnxruntime predictions differ from convkit's by ${diff}`);
        // convkit and onnxruntime alternate call by call, so both see the same moments of this shared machine
        const nchw = toNchw(xInfer);
        useThreads(maxT);
        const paired = await timePairedAsync(() => model.predict(xInfer, { batchSize: 256 }), () => session.run(nchw, 256));
        result.pairedInfer = 256 / paired.a;
        result.ortInfer = 256 / paired.b;
        result.inferVsOrt = paired.ratio;
      }
    }
    rows.push(result);
  }
  const T = maxT;
  printTable(
    `Whole networks: images/s (training batch 64, inference batch 256); training %peak counts 3x forward FLOPs; contenders at ${T} threads; convkit and onnxruntime inference timed in alternating pairs, "infer vs ort" the median of the per-pair ratios`,
    ['network', 'fwd MFLOP/img', ...threadCounts.flatMap((t) => [`train ${t}T`, `%peak`, `infer ${t}T`]), 'tfjs-wasm train', 'train vs wasm', 'tfjs-cpu train', 'train vs cpu', 'tfjs-wasm infer', 'tfjs-cpu infer', `infer ${T}T paired`, 'ort infer paired', `infer vs ort`],
    rows.map((r) => [
      r.name, fmt(r.fwdMflops, 2),
      ...threadCounts.flatMap((t) => [fmt(r[`train${t}`], 0), pct(r[`trainPeak${t}`]), fmt(r[`infer${t}`], 0)]),
      fmt(r['tf-wasm-train'], 0), r['tf-wasm-train'] ? `${fmt(r[`train${T}`] / r['tf-wasm-train'])}x` : '-', fmt(r['tf-cpu-train'], 0),
      r['tf-cpu-train'] ? `${fmt(r[`train${T}`] / r['tf-cpu-train'])}x` : '-',
      fmt(r['tf-wasm-infer'], 0), fmt(r['tf-cpu-infer'], 0), fmt(r.pairedInfer, 0), fmt(r.ortInfer, 0), r.inferVsOrt ? `${fmt(r.inferVsOrt, 2)}x` : '-',
    ]),
  );
  return rows;
}
