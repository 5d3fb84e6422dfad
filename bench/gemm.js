// SGEMM C = A·B (row-major, fp32) at M=N=K in {256..2048} and the GEMM shapes of the demo networks,
// on 1 thread and on all threads, through ops.matmul as a user calls it: writing into one output tensor
// (`out`) and into a fresh one every call, from the steady state of a loop of fresh outputs (as the conv section);
// each verified against float64 dot products before it is timed.
import { convkit, useThreads } from './lib/convkit.js';
import { fmt, pct, printTable, reachFreshSteadyState, timeRounds, verifySampled } from './lib/harness.js';

const { ops, randomNormal, setBackend } = convkit;

export const GEMM_SHAPES = [
  ['square 256', 256, 256, 256],
  ['square 512', 512, 512, 512],
  ['square 1024', 1024, 1024, 1024],
  ['square 2048', 2048, 2048, 2048],
  // tutorial network, batch 64: dense 3136->1024 forward, its weight gradient, conv2 as im2col GEMM
  ['tutorial dense1 fwd (64x1024x3136)', 64, 1024, 3136],
  ['tutorial dense1 dW (3136x1024x64)', 3136, 1024, 64],
  ['tutorial conv2 im2col (12544x64x800)', 12544, 64, 800],
  // LeNet-5, batch 64: conv2 as im2col GEMM, dense 400->120
  ['lenet conv2 im2col (6400x16x150)', 6400, 16, 150],
  ['lenet dense1 fwd (64x120x400)', 64, 120, 400],
];

export function benchGemm({ threadCounts, peaks }) {
  setBackend('native');
  // Verified first, then timed in rounds over all (shape, threads) jobs (timeRounds): noise bursts spread out.
  const shapes = [];
  const jobs = [];
  for (const [name, m, n, k] of GEMM_SHAPES) {
    const a = randomNormal([m, k], { seed: 1 });
    const b = randomNormal([k, n], { seed: 2 });
    const shape = { name, flops: 2 * m * n * k, jobs: [] };
    const out = ops.matmul(a, b);
    for (const t of threadCounts) {
      useThreads(t);
      verifySampled(name, ops.matmul(a, b, { out }).data, (i) => dot(a.data, b.data, i, n, k, false), (i) => dot(a.data, b.data, i, n, k, true), k);
      shape.jobs.push([jobs.length, jobs.length + 1]);
      jobs.push({ setup: () => useThreads(t), fn: () => ops.matmul(a, b, { out }) });
      jobs.push({ setup: () => useThreads(t), fn: () => ops.matmul(a, b) });
      reachFreshSteadyState(() => ops.matmul(a, b), 4 * m * n);
    }
    shapes.push(shape);
  }
  const seconds = timeRounds(jobs, { rounds: 3, warmup: 1, runs: 3 });
  const gflops = (sh, j) => sh.flops / seconds[j] / 1e9;
  const rows = shapes.map((sh) => [
    sh.name,
    ...sh.jobs.flatMap(([out, fresh], i) => [fmt(gflops(sh, out)), pct(gflops(sh, out) / peaks[threadCounts[i]]), pct(gflops(sh, fresh) / peaks[threadCounts[i]])]),
  ]);
  printTable(
    'SGEMM through ops.matmul (GFLOP/s and % of measured FMA peak writing into one output with `out`; % of peak with a fresh output every call)',
    ['shape', ...threadCounts.flatMap((t) => [`${t}T GFLOP/s`, `${t}T %peak`, `${t}T fresh %peak`])],
    rows,
  );
  return rows;
}

function dot(A, B, i, n, k, absolute) {
  const r = Math.floor(i / n);
  const c = i % n;
  let s = 0;
  for (let p = 0; p < k; p++) s += absolute ? Math.abs(A[r * k + p] * B[p * n + c]) : A[r * k + p] * B[p * n + c];
  return s;
}
