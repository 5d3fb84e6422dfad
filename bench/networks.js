// Whole networks: training images/s (batch 64) and inference images/s (batch 256) of the demo LeNet-5, the
// TensorFlow tutorial CNN and ResNet-20 (a graph: residual adds, batch norm), the memory a training step's
// plan holds, and the same networks with the same weights in tfjs (CPU, WASM), PyTorch and onnxruntime-node
// (against the model's predict and against an inference session's), each verified against convkit's outputs
// before anything is timed.
import { convkit, useThreads } from './lib/convkit.js';
import { describeGraph, forwardFlops, maxRelDiff } from './lib/graph.js';
import { fmt, pct, printTable, timeMedianAsync, timePairedAsync } from './lib/harness.js';
import { tfjsModel, withTfBackend } from './contenders/tfjs.js';
import { onnxSession } from './contenders/onnx.js';
import { torchPeer } from './contenders/torch.js';

const { architectures, losses, optimizers, randomUniform } = convkit;

const NETS = {
  lenet5: () => architectures.lenet5({ seed: 1 }),
  tutorial: () => architectures.tutorial({ seed: 1 }),
  resnet20: () => architectures.resnet({ depth: 20, seed: 1 }),
};
const TRAIN_BATCH = 64;
// tfjs's pure-JS backend trains ResNet-20 at under one image per second (minutes per timed step): past this
// many forward MFLOP per image it is left out, and its columns say '-'
const TFJS_CPU_MAX_MFLOP = 50;
const INFER_BATCH = 256;
// float32 networks of a few dozen layers computed in different orders: relative differences of logits
// measured here stay below 1e-5; 1e-4 leaves room and still catches any wrong weight layout or padding
const AGREE = 1e-4;

/** tfjs backends lack some kernels (wasm has no Conv2DBackpropFilter, so it cannot train a CNN): report '-'. */
async function unsupportedAsUndefined(fn) {
  try {
    return await fn();
  } catch (e) {
    if (/not registered for backend/.test(e.message)) return undefined;
    throw e;
  }
}

function agree(what, actual, expected) {
  const diff = maxRelDiff(actual, expected);
  if (!(diff <= AGREE)) throw new Error(`${what} differs from convkit's by ${diff} (relative)`);
}

async function tfjsTimes(be, graph, data, refOut) {
  return withTfBackend(be, async (tf) => {
    const m = tfjsModel(tf, graph);
    const { x4, xTrain, yTrain, xInfer } = data;
    const xs = tf.tensor(x4.data, x4.shape);
    agree(`${graph.name}: tfjs-${be} predictions`, m.predict(xs).dataSync(), refOut);
    const xt = tf.tensor(xTrain.data, xTrain.shape);
    const yt = tf.oneHot(tf.tensor1d(yTrain, 'int32'), 10).toFloat();
    const xi = tf.tensor(xInfer.data, xInfer.shape);
    const timing = { warmup: 1, runs: 3, budget: 10, minRuns: be === 'cpu' ? 1 : 3 };
    const train = await unsupportedAsUndefined(() => timeMedianAsync(() => m.trainOnBatch(xt, yt), timing));
    const infer = await timeMedianAsync(async () => tf.tidy(() => m.predict(xi, { batchSize: INFER_BATCH })).data(), timing);
    tf.dispose([xs, xt, yt, xi]);
    if (train === undefined) console.log(`tfjs-${be}: no Conv2DBackpropFilter kernel, so it cannot train ${graph.name}`);
    return { train: train && TRAIN_BATCH / train, infer: INFER_BATCH / infer };
  });
}

export async function benchNetworks({ threadCounts, peaks, contenders = true }) {
  const rows = [];
  const maxT = Math.max(...threadCounts);
  for (const [name, make] of Object.entries(NETS)) {
    const model = make();
    model.compile({ optimizer: optimizers.sgd({ learningRate: 0.01 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const graph = { ...describeGraph(model), name };
    const weights = model.getWeights().map((w) => w.clone());
    const xTrain = randomUniform([TRAIN_BATCH, ...model.inputShape], { seed: 2 });
    const yTrain = Int32Array.from({ length: TRAIN_BATCH }, (_, i) => i % 10);
    const xInfer = randomUniform([INFER_BATCH, ...model.inputShape], { seed: 3 });
    const x4 = xInfer.slice(0, 4);

    convkit.setBackend('reference');
    const refOut = (await model.predict(x4)).data;
    convkit.setBackend('native');
    agree(`${name}: native predictions`, (await model.predict(x4)).data, refOut);

    const fwd = forwardFlops(graph);
    const r = { name, fwdMflops: fwd / 1e6 };
    for (const t of threadCounts) {
      useThreads(t);
      model.setWeights(weights);
      const train = await timeMedianAsync(() => model.trainOnBatch(xTrain, yTrain), { warmup: 2, runs: 7, budget: 8 });
      const infer = await timeMedianAsync(() => model.predict(xInfer, { batchSize: INFER_BATCH }), { warmup: 1, runs: 7, budget: 8 });
      Object.assign(r, { [`train${t}`]: TRAIN_BATCH / train, [`infer${t}`]: INFER_BATCH / infer, [`trainPeak${t}`]: (3 * fwd * TRAIN_BATCH) / train / 1e9 / peaks[t] });
    }
    const { training } = model.memoryPlan();
    r.memory = training && training.peakBytes / training.allocatedBytes;
    r.memoryMiB = training && training.peakBytes / 2 ** 20;

    if (contenders) {
      const data = { x4, xTrain, yTrain, xInfer };
      for (const be of ['wasm', 'cpu']) {
        if (be === 'cpu' && fwd / 1e6 > TFJS_CPU_MAX_MFLOP) {
          console.log(`tfjs-cpu: not timed on ${name} (${fmt(fwd / 1e6)} MFLOP per image; it would take minutes per step)`);
          continue;
        }
        const tfr = await tfjsTimes(be, graph, data, refOut);
        if (tfr) Object.assign(r, { [`tf-${be}-train`]: tfr.train, [`tf-${be}-infer`]: tfr.infer });
      }
      useThreads(maxT);
      const step = async () => {
        await model.trainOnBatch(xTrain, yTrain);
      };
      const infer = async () => {
        await model.predict(xInfer, { batchSize: INFER_BATCH });
      };
      const torch = await torchPeer(graph, maxT);
      if (torch) {
        agree(`${name}: PyTorch ${torch.version} predictions`, await torch.predict(x4), refOut);
        await torch.setData(xTrain, yTrain, xInfer);
        model.setWeights(weights);
        // training mode agrees too (batch statistics), unless dropout draws different masks
        if (!graph.layers.some((l) => l.className === 'Dropout')) {
          const { loss } = await model.trainOnBatch(xTrain, yTrain);
          const torchLoss = await torch.loss();
          if (!(Math.abs(loss - torchLoss) <= AGREE * Math.max(1, Math.abs(loss)))) throw new Error(`${name}: PyTorch's training loss ${torchLoss} differs from convkit's ${loss}`);
        }
        // alternating step by step, so both see the same moments of this shared machine; each call starts 50 ms
        // after the last one ended, when the other side's idle threads (OpenMP's, onnxruntime's) have stopped
        // spinning: back to back, they took cores from the next call (a tutorial training step measured 0.98x
        // PyTorch's paired where the medians of the same run gave 1.86x)
        const train = await timePairedAsync(step, torch.trainStep, { bTimesItself: true, settleMs: 50, warmMs: 10 });
        const inferPairs = await timePairedAsync(infer, torch.inferStep, { bTimesItself: true, settleMs: 50, warmMs: 10 });
        torch.close();
        Object.assign(r, { torch: torch.version, torchTrain: TRAIN_BATCH / train.b, trainVsTorch: train.ratio, torchInfer: INFER_BATCH / inferPairs.b, inferVsTorch: inferPairs.ratio });
      }
      model.setWeights(weights); // the weights the other contenders got (training above moved them)
      const session = await onnxSession(model, maxT);
      if (session) {
        agree(`${name}: onnxruntime predictions`, await session.run(x4), refOut);
        const paired = await timePairedAsync(infer, () => session.run(xInfer), { settleMs: 50, warmMs: 10 });
        Object.assign(r, { ortInfer: INFER_BATCH / paired.b, inferVsOrt: paired.ratio });
        // convkit's own session, its weights prepared once as onnxruntime's are
        const frozen = model.inferenceSession();
        agree(`${name}: inference session predictions`, (await frozen.predict(x4)).data, refOut);
        const inferFrozen = async () => {
          await frozen.predict(xInfer, { batchSize: INFER_BATCH });
        };
        const pairedFrozen = await timePairedAsync(inferFrozen, () => session.run(xInfer), { settleMs: 50, warmMs: 10 });
        Object.assign(r, { sessionVsOrt: pairedFrozen.ratio });
      }
    }
    rows.push(r);
  }
  printTable(
    'Whole networks, convkit: images/s (training batch 64, inference batch 256); training %peak counts 3x forward FLOPs; memory: a training step\'s peak bytes over the bytes it would hold with no buffer reused',
    ['network', 'fwd MFLOP/img', ...threadCounts.flatMap((t) => [`train ${t}T`, `%peak`, `infer ${t}T`]), 'step peak MiB', 'memory plan'],
    rows.map((r) => [r.name, fmt(r.fwdMflops, 2), ...threadCounts.flatMap((t) => [fmt(r[`train${t}`], 0), pct(r[`trainPeak${t}`]), fmt(r[`infer${t}`], 0)]), fmt(r.memoryMiB), r.memory ? `${fmt(r.memory, 2)}x` : '-']),
  );
  if (contenders) {
    const T = maxT;
    const x = (v) => (v ? `${fmt(v, 2)}x` : '-');
    printTable(
      `Whole networks against contenders at ${T} threads, images/s. "vs" columns are convkit's speed over theirs: for PyTorch and onnxruntime the median of per-pair ratios, convkit and the peer alternating call by call; for tfjs, ratios of medians (convkit's from the table above)`,
      ['network', 'tfjs-wasm infer', 'tfjs-cpu train', 'tfjs-cpu infer', 'infer vs wasm', 'train vs tf-cpu', 'PyTorch train', 'train vs torch', 'PyTorch infer', 'infer vs torch', 'ort infer', 'infer vs ort', 'session vs ort'],
      rows.map((r) => [
        r.name, fmt(r['tf-wasm-infer'], 0), fmt(r['tf-cpu-train'], 0), fmt(r['tf-cpu-infer'], 0),
        x(r['tf-wasm-infer'] && r[`infer${T}`] / r['tf-wasm-infer']), x(r['tf-cpu-train'] && r[`train${T}`] / r['tf-cpu-train']),
        fmt(r.torchTrain, 0), x(r.trainVsTorch), fmt(r.torchInfer, 0), x(r.inferVsTorch), fmt(r.ortInfer, 0), x(r.inferVsOrt), x(r.sessionVsOrt),
      ]),
    );
    const torch = rows.find((r) => r.torch)?.torch;
    if (torch) console.log(`PyTorch ${torch} (NCHW, its default layout; TF 'same' padding of stride-2 convolutions done with F.pad, as the weights need)`);
  }
  return rows;
}
