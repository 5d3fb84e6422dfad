// The convolutions beyond conv2d (1-D, transposed, separable, 3-D) through the ops their layers run, forward
// and both backward passes: GFLOP/s and % of the measured peak per thread count, and PyTorch's same op on the
// same tensors in the same session (its results checked against convkit's first; then timed call by call,
// alternating with convkit's, at the highest thread count).
import { convkit, reusingOutputs, useThreads } from './lib/convkit.js';
import { maxRelDiff } from './lib/graph.js';
import { fmt, pct, printTable, timePairedAsync, timeRounds } from './lib/harness.js';
import { torchOps } from './contenders/torch.js';

const { ops, randomNormal, withBackend } = convkit;
// float32 results of the same sums in other orders: measured differences stay below 1e-5 of the largest value
const AGREE = 1e-4;

/**
 * Each variant: its tensors' shapes (convkit's layouts), FLOPs per pass, convkit's three passes as op requests
 * or programs, and the options PyTorch's peer needs for the same op.
 */
function conv1d(name, [n, w, c], [k, oc], { dilation = 1, causal = false }) {
  const pad = causal ? [dilation * (k - 1), 0] : [Math.floor((dilation * (k - 1)) / 2), dilation * (k - 1) - Math.floor((dilation * (k - 1)) / 2)];
  const opts = { padding: [[0, 0], pad], dilations: [1, dilation] };
  const x4 = [n, 1, w, c];
  return {
    name, op: 'conv1d', xShape: [n, w, c], wShapes: [[k, c, oc]], yShape: [n, w, oc], flops: 2 * n * w * oc * k * c,
    passes: (x, [f], dy) => {
      const [xv, fv, dyv] = [x.reshape(x4), f.reshape([1, k, c, oc]), dy.reshape([n, 1, w, oc])];
      return {
        fwd: () => ops.request.conv2d(xv, fv, opts),
        'bwd-input': () => ops.request.conv2dBackwardInput(dyv, fv, x4, opts),
        'bwd-filter': () => ops.request.conv2dBackwardFilter(xv, dyv, fv.shape, opts),
      };
    },
    torch: { pads: [[pad[0]], [pad[1]]], strides: [1], dilations: [dilation] },
  };
}

function conv2dTranspose(name, [n, h, w, c], [k, s, oc]) {
  // TF's 'same': output input·stride, the full (input-1)·stride + k output cropped by floor(excess / 2) first
  const [oh, ow] = [h * s, w * s];
  const full = [(h - 1) * s + k, (w - 1) * s + k];
  const crop = [Math.floor((full[0] - oh) / 2), Math.floor((full[1] - ow) / 2)];
  const opts = { strides: s, padding: [[crop[0], full[0] - oh - crop[0]], [crop[1], full[1] - ow - crop[1]]] };
  const yShape = [n, oh, ow, oc];
  return {
    name, op: 'conv2dTranspose', xShape: [n, h, w, c], wShapes: [[k, k, oc, c]], yShape, flops: 2 * n * h * w * c * k * k * oc,
    passes: (x, [f], dy) => ({
      fwd: () => ops.request.conv2dBackwardInput(x, f, yShape, opts),
      'bwd-input': () => ops.request.conv2d(dy, f, opts),
      'bwd-filter': () => ops.request.conv2dBackwardFilter(dy, x, f.shape, opts),
    }),
    torch: { strides: [s, s], crop, outSize: [oh, ow], fullSize: full },
  };
}

function separableConv2d(name, [n, h, w, c], [k, oc]) {
  const depthwise = { padding: 'same', groups: c };
  return {
    name, op: 'separableConv2d', xShape: [n, h, w, c], wShapes: [[k, k, 1, c], [1, 1, c, oc]], yShape: [n, h, w, oc],
    flops: 2 * n * h * w * c * (k * k + oc),
    passes: (x, [dw, pw], dy) => {
      const d = ops.conv2d(x, dw, depthwise);
      const dd = ops.conv2dBackwardInput(dy, pw, d.shape, {});
      return {
        *fwd() {
          return yield ops.request.conv2d(yield ops.request.conv2d(x, dw, depthwise), pw, {});
        },
        *'bwd-input'() {
          return yield ops.request.conv2dBackwardInput(yield ops.request.conv2dBackwardInput(dy, pw, d.shape, {}), dw, x.shape, depthwise);
        },
        *'bwd-filter'() {
          const dPw = yield ops.request.conv2dBackwardFilter(d, dy, pw.shape, {});
          const dDw = yield ops.request.conv2dBackwardFilter(x, dd, dw.shape, depthwise);
          return [dPw, dDw];
        },
      };
    },
    torch: { pad: [Math.floor(k / 2), Math.floor(k / 2)] },
  };
}

function conv3d(name, [n, d, h, w, c], [k, oc]) {
  const opts = { padding: 'same' };
  const p = Math.floor(k / 2);
  return {
    name, op: 'conv3d', xShape: [n, d, h, w, c], wShapes: [[k, k, k, c, oc]], yShape: [n, d, h, w, oc], flops: 2 * n * d * h * w * oc * k * k * k * c,
    passes: (x, [f], dy) => ({
      fwd: () => ops.programs.conv3d(x, f, opts),
      'bwd-input': () => ops.programs.conv3dBackwardInput(dy, f, x.shape, opts),
      'bwd-filter': () => ops.programs.conv3dBackwardFilter(x, dy, f.shape, opts),
    }),
    torch: { pads: [[p, p, p], [p, p, p]], strides: [1, 1, 1], dilations: [1, 1, 1] },
  };
}

export const VARIANTS = [
  conv1d('Conv1D audio k9 32->64 same', [16, 4000, 32], [9, 64], {}),
  conv1d('Conv1D causal k3 d4 64->64 (WaveNet)', [16, 4000, 64], [3, 64], { dilation: 4, causal: true }),
  conv2dTranspose('Conv2DTranspose 3x3/2 64->32 same (U-Net up)', [8, 28, 28, 64], [3, 2, 32]),
  separableConv2d('SeparableConv2D 3x3 128->128 (MobileNet)', [8, 28, 28, 128], [3, 128]),
  conv3d('Conv3D 3x3x3 3->64 same (C3D conv1)', [2, 16, 56, 56, 3], [3, 64]),
  conv3d('Conv3D 3x3x3 64->64 same', [2, 8, 28, 28, 64], [3, 64]),
];

const flat = (t) => (Array.isArray(t) ? Float32Array.from(t.flatMap((u) => Array.from(u.data))) : t.data);

export async function benchVariants({ threadCounts, peaks, contenders = true }) {
  const maxT = Math.max(...threadCounts);
  const torch = contenders ? await torchOps(maxT) : undefined;
  const layers = [];
  const jobs = [];
  for (const v of VARIANTS) {
    const x = randomNormal(v.xShape, { seed: 1 });
    const ws = v.wShapes.map((s, i) => randomNormal(s, { seed: 2 + i, stddev: 0.1 }));
    const dy = randomNormal(v.yShape, { seed: 9 });
    const passes = withBackend('native', () => v.passes(x, ws, dy));
    const run = (fn) => {
      const reusing = reusingOutputs(fn);
      return () => withBackend('native', reusing);
    };
    const results = { fwd: run(passes.fwd)(), 'bwd-input': run(passes['bwd-input'])(), 'bwd-filter': run(passes['bwd-filter'])() };
    let version;
    if (torch) {
      const theirs = await torch.setup(v.op, v.torch, x, ws, dy);
      version = theirs.version;
      for (const [pass, mine, other] of [['fwd', results.fwd, theirs.y], ['bwd-input', results['bwd-input'], theirs.dx], ['bwd-filter', results['bwd-filter'], theirs.dw]]) {
        const diff = maxRelDiff(flat(mine), other);
        if (!(diff <= AGREE)) throw new Error(`${v.name} ${pass}: PyTorch's result differs from convkit's by ${diff} (relative)`);
      }
    }
    for (const pass of ['fwd', 'bwd-input', 'bwd-filter']) {
      const timed = run(passes[pass]);
      const layer = { name: `${v.name} ${pass}`, flops: v.flops, jobs: [] };
      for (const t of threadCounts) {
        layer.jobs.push(jobs.length);
        jobs.push({ setup: () => useThreads(t), fn: timed });
      }
      if (torch) {
        useThreads(maxT);
        const paired = await timePairedAsync(async () => timed(), () => torch.time(pass), { bTimesItself: true, pairs: 9, settleMs: 50, warmMs: 10 });
        Object.assign(layer, { torch: v.flops / paired.b / 1e9, vsTorch: paired.ratio });
      }
      layers.push(layer);
    }
    if (version) layers.version = version;
  }
  torch?.close();
  const seconds = timeRounds(jobs, { rounds: 3, warmup: 1, runs: 3 });
  const rows = layers.map((l) => [
    l.name,
    ...l.jobs.flatMap((j, i) => [fmt(l.flops / seconds[j] / 1e9), pct(l.flops / seconds[j] / 1e9 / peaks[threadCounts[i]])]),
    fmt(l.torch),
    l.vsTorch ? `${fmt(l.vsTorch, 2)}x` : '-',
  ]);
  printTable(
    `Convolution variants (GFLOP/s, % of measured FMA peak; outputs in reused buffers, as inside a model); PyTorch ${layers.version ?? '(not run)'} at ${maxT} threads, NCDHW, and convkit's speed over it (median of per-pair ratios)`,
    ['layer / pass', ...threadCounts.flatMap((t) => [`${t}T GFLOP/s`, `${t}T %peak`]), `PyTorch ${maxT}T GFLOP/s`, 'vs PyTorch'],
    rows,
  );
  return rows;
}
