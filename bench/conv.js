// conv2d forward, backward-input and backward-filter (NHWC, fp32) on real networks' layers, verified
// against the reference backend on the first image before timing; GFLOP/s and % of the measured peak; PyTorch's
// same op on the same tensors (its results checked against convkit's first), timed call by call against the
// public op as a user calls it, with a fresh output each call and with `out`; and the tfjs CPU and WASM
// backends on the same layer in the same run.
import { convkit, measureCopyBandwidth, reusingOutputs, useThreads } from './lib/convkit.js';
import { maxRelDiff } from './lib/graph.js';
import { fmt, pct, printTable, reachFreshSteadyState, timeMedian, timePairedAsync, timeRounds } from './lib/harness.js';
import { withTfBackend } from './contenders/tfjs.js';
import { torchOps } from './contenders/torch.js';

const { ops, randomNormal, withBackend, zeros } = convkit;

export const CONV_LAYERS = [
  // name, x [N,H,W,C], filter [KH,KW,C/G,OC], opts, memory-bound
  ['LeNet conv1 5x5 1->6', [64, 28, 28, 1], [5, 5, 1, 6], { padding: 'valid' }, true],
  ['Fashion conv2 5x5 32->64 same', [64, 14, 14, 32], [5, 5, 32, 64], { padding: 'same' }, false],
  ['ResNet 3x3 64->64 pad1', [8, 56, 56, 64], [3, 3, 64, 64], { padding: 'same' }, false],
  ['VGG 3x3 128->128 pad1', [8, 28, 28, 128], [3, 3, 128, 128], { padding: 'same' }, false],
  ['strided 3x3/2 64->128', [8, 56, 56, 64], [3, 3, 64, 128], { padding: 'same', strides: 2 }, false],
  ['1x1 256->256', [8, 14, 14, 256], [1, 1, 256, 256], { padding: 'valid' }, false],
  ['depthwise 3x3 64', [8, 56, 56, 64], [3, 3, 1, 64], { padding: 'same', groups: 64 }, true],
];

function closeEnough(what, got, want, scale, k) {
  const f = (2 * Math.sqrt(k) + 2) * 2 ** -24;
  for (let i = 0; i < want.size; i++) {
    if (!(Math.abs(got.data[i] - want.data[i]) <= f * scale.data[i] + 1e-30)) {
      throw new Error(`${what}: element ${i} is ${got.data[i]}, reference ${want.data[i]}`);
    }
  }
}

const abs = (t) => new convkit.Tensor(Float32Array.from(t.data, Math.abs), t.shape);

function verify(name, x, w, dy, opts) {
  const x1 = x.slice(0, 1);
  const dy1 = dy.slice(0, 1);
  const [kh, kw, cin, oc] = w.shape;
  const g = opts.groups ?? 1;
  const [, oh, ow] = dy.shape;
  const checks = [
    ['fwd', () => ops.conv2d(x, w, opts).slice(0, 1), () => ops.conv2d(x1, w, opts), () => ops.conv2d(abs(x1), abs(w), opts), kh * kw * cin],
    ['bwd-input', () => ops.conv2dBackwardInput(dy, w, x.shape, opts).slice(0, 1), () => ops.conv2dBackwardInput(dy1, w, x1.shape, opts), () => ops.conv2dBackwardInput(abs(dy1), abs(w), x1.shape, opts), (kh * kw * oc) / g],
    ['bwd-filter', () => ops.conv2dBackwardFilter(x1, dy1, w.shape, opts), () => ops.conv2dBackwardFilter(x1, dy1, w.shape, opts), () => ops.conv2dBackwardFilter(abs(x1), abs(dy1), w.shape, opts), oh * ow],
  ];
  for (const [pass, nat, ref, scale, k] of checks) {
    closeEnough(`${name} ${pass}`, withBackend('native', nat), withBackend('reference', ref), withBackend('reference', scale), k);
  }
}

// float32 results of the same sums in other orders (measured differences stay below 1e-5 of the largest value)
const AGREE = 1e-4;

/** PyTorch's options for the layer's conv2d: explicit pads (x is padded once, outside the timing, where uneven). */
function torchOptions(xs, fs, opts) {
  const i = ops.conv2dInfo(xs, fs, opts);
  return { pads: [[i.padTop, i.padLeft], [i.padBottom, i.padRight]], strides: [i.strideH, i.strideW], dilations: [i.dilH, i.dilW], groups: i.groups };
}

export async function benchConv({ threadCounts, peaks, contenders = true }) {
  // Every layer is verified (and its contenders timed) first; then all (layer, pass, threads) jobs are timed
  // in rounds (timeRounds), so each one's samples come from across the section, not from one burst.
  const maxT = Math.max(...threadCounts);
  const torch = contenders ? await torchOps(maxT) : undefined;
  let torchVersion;
  const layers = [];
  const jobs = [];
  for (const [name, xs, fs, opts, memoryBound] of CONV_LAYERS) {
    const x = randomNormal(xs, { seed: 1 });
    const w = randomNormal(fs, { seed: 2, stddev: 0.1 });
    const yShape = ops.conv2dOutputShape(xs, fs, opts);
    const dy = randomNormal(yShape, { seed: 3 });
    withBackend('native', () => verify(name, x, w, dy, opts));
    const flops = 2 * yShape[0] * yShape[1] * yShape[2] * yShape[3] * fs[0] * fs[1] * fs[2];
    const bytes = 4 * (x.size + w.size + dy.size);
    const passes = {
      fwd: () => ops.request.conv2d(x, w, opts),
      'bwd-input': () => ops.request.conv2dBackwardInput(dy, w, xs, opts),
      'bwd-filter': () => ops.request.conv2dBackwardFilter(x, dy, fs, opts),
    };
    const tfTimes = contenders ? await tfjsConvTimes(xs, fs, opts) : {};
    // The public op as a user's script calls it: a fresh output every call, or one output reused through `out`.
    const outs = torch && { fwd: zeros(yShape), 'bwd-input': zeros(xs), 'bwd-filter': zeros(fs) };
    const userCalls = {
      fwd: (out) => ops.conv2d(x, w, { ...opts, out }),
      'bwd-input': (out) => ops.conv2dBackwardInput(dy, w, xs, { ...opts, out }),
      'bwd-filter': (out) => ops.conv2dBackwardFilter(x, dy, fs, { ...opts, out }),
    };
    if (torch) {
      const theirs = await torch.setup('conv2d', torchOptions(xs, fs, opts), x, [w], dy);
      torchVersion = theirs.version;
      for (const [pass, other] of [['fwd', theirs.y], ['bwd-input', theirs.dx], ['bwd-filter', theirs.dw]]) {
        const diff = maxRelDiff(withBackend('native', () => userCalls[pass]()).data, other);
        if (!(diff <= AGREE)) throw new Error(`${name} ${pass}: PyTorch's result differs from convkit's by ${diff} (relative)`);
      }
    }
    for (const [pass, fn] of Object.entries(passes)) {
      const layer = { name: `${name} ${pass}`, flops, bytes, memoryBound, tf: { wasm: tfTimes.wasm?.[pass], cpu: tfTimes.cpu?.[pass] }, jobs: [] };
      for (const t of threadCounts) {
        const timed = reusingOutputs(fn);
        layer.jobs.push(jobs.length);
        jobs.push({ setup: () => useThreads(t), fn: () => withBackend('native', timed) });
      }
      if (torch) {
        useThreads(maxT);
        // Each side runs a batch of calls back to back (about 30 ms) and reports its median call: one call of a
        // small layer after a 50 ms pause measures thread wake-ups more than the convolution.
        const once = timeMedian(() => withBackend('native', () => userCalls[pass]()), { warmup: 1, runs: 3 });
        const runs = Math.max(1, Math.min(25, Math.ceil(0.03 / once)));
        const batch = (mine) => () => withBackend('native', () => timeMedian(mine, { warmup: 0, runs }));
        const pair = (mine) => timePairedAsync(batch(mine), () => torch.time(pass, runs), { aTimesItself: true, bTimesItself: true, pairs: 7, settleMs: 50, warmMs: 10 });
        // The pairs measure a loop of fresh outputs in its steady state.
        const outBytes = 4 * { fwd: yShape, 'bwd-input': xs, 'bwd-filter': fs }[pass].reduce((a, b) => a * b, 1);
        reachFreshSteadyState(() => withBackend('native', () => userCalls[pass]()), outBytes);
        const fresh = await pair(() => userCalls[pass]());
        const into = await pair(() => userCalls[pass](outs[pass]));
        Object.assign(layer, { torch: flops / fresh.b / 1e9, vsTorchFresh: fresh.ratio, vsTorchOut: into.ratio });
      }
      layers.push(layer);
    }
  }
  torch?.close();
  const seconds = timeRounds(jobs, { rounds: 3, warmup: 1, runs: 3 });
  const rows = layers.map((l) => {
    const row = [l.name];
    l.jobs.forEach((j, i) => row.push(fmt(l.flops / seconds[j] / 1e9), pct(l.flops / seconds[j] / 1e9 / peaks[threadCounts[i]])));
    const best = seconds[l.jobs.at(-1)];
    const bound = l.memoryBound && measureCopyBandwidth(l.bytes, maxT);
    row.push(l.memoryBound ? fmt(l.bytes / best / 1e9) : '', bound ? `${fmt(bound)} (${pct(l.bytes / best / 1e9 / bound)})` : '');
    // The roofline: the longer of moving the bytes at the copy's rate and doing the FLOPs at the FMA peak. At the
    // cache-resident copy rate a depthwise 3x3 layer (2.3 FLOP per byte) is bound by its FMAs, not its bytes.
    const roofline = bound && peaks[maxT] && Math.max(l.bytes / (bound * 1e9), l.flops / (peaks[maxT] * 1e9));
    row.push(roofline ? pct(roofline / best) : '');
    row.push(fmt(l.torch), l.vsTorchFresh ? `${fmt(l.vsTorchFresh, 2)}x` : '-', l.vsTorchOut ? `${fmt(l.vsTorchOut, 2)}x` : '-');
    for (const be of ['wasm', 'cpu']) row.push(l.tf[be] ? `${fmt(l.tf[be] / best)}x` : '-');
    return row;
  });
  printTable(
    `conv2d (GFLOP/s, % of measured FMA peak; outputs in reused buffers, as inside a model; GB/s of compulsory traffic for memory-bound layers, and the bandwidth bound: GB/s of a copy moving the same bytes on ${maxT} threads (memcpy, half read and half written), and the layer's share of it; its share of the roofline bound (the longer of that copy and its FLOPs at the FMA peak); PyTorch ${torchVersion ?? '(not run)'} at ${maxT} threads and convkit's speed over it through the public op, median of per-pair ratios, with a fresh output each call and with out; speed-up over tfjs at all threads; tfjs-cpu timed on forward only)`,
    ['layer / pass', ...threadCounts.flatMap((t) => [`${t}T GFLOP/s`, `${t}T %peak`]), 'GB/s', 'copy GB/s (share)', 'roofline share', `PyTorch ${maxT}T GFLOP/s`, 'vs PyTorch', 'vs PyTorch (out)', 'vs tfjs-wasm', 'vs tfjs-cpu'],
    rows,
  );
  return rows;
}

/** tfjs forward and its own backprop kernels (not tf.grad, which would add a forward pass to the time). */
async function tfjsConvTimes(xs, fs, opts) {
  const out = {};
  const strides = opts.strides ?? 1;
  const depthwise = (opts.groups ?? 1) > 1;
  for (const be of ['wasm', 'cpu']) {
    out[be] = await withTfBackend(be, (tf) => {
      const x = tf.randomNormal(xs);
      const w = depthwise ? tf.randomNormal([fs[0], fs[1], fs[3], 1]) : tf.randomNormal(fs);
      const y = depthwise ? tf.depthwiseConv2d(x, w, strides, opts.padding) : tf.conv2d(x, w, strides, opts.padding);
      const dy = tf.randomNormal(y.shape);
      const attrs = { strides, pad: opts.padding, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined };
      const run = (kernel, inputs, extra) => tf.engine().runKernel(kernel, inputs, { ...attrs, ...extra });
      const passes = depthwise
        ? {
            fwd: () => tf.depthwiseConv2d(x, w, strides, opts.padding),
            'bwd-input': () => run('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { inputShape: xs }),
            'bwd-filter': () => run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { filterShape: w.shape }),
          }
        : {
            fwd: () => tf.conv2d(x, w, strides, opts.padding),
            'bwd-input': () => run('Conv2DBackpropInput', { dy, filter: w }, { inputShape: xs }),
            'bwd-filter': () => run('Conv2DBackpropFilter', { x, dy }, { filterShape: fs }),
          };
      const timing = be === 'cpu' ? { warmup: 1, runs: 3, budget: 4, minRuns: 1 } : { warmup: 1, runs: 3, budget: 4 };
      const r = {};
      for (const [pass, fn] of Object.entries(passes)) {
        // tfjs-cpu's backprop kernels are naive loops: over 3 minutes per call on the ResNet layer here
        if (be === 'cpu' && pass !== 'fwd') continue;
        try {
          r[pass] = timeMedian(() => tf.tidy(() => fn().dataSync()), timing);
        } catch (e) {
          if (!/not registered for backend/.test(e.message)) throw e; // a kernel this backend lacks: reported as '-'
        }
      }
      tf.dispose([x, w, y, dy]);
      return r;
    });
  }
  return out;
}
