// Shared benchmark plumbing: warm-up, median of several timed runs, and table printing.
import { performance } from 'node:perf_hooks';

/**
 * Median seconds of `runs` timed calls after `warmup` untimed ones, and then more untimed ones for `warmMs`;
 * past `budget` seconds it stops once it has `minRuns` (contenders hundreds of times slower are given minRuns 1).
 */
export function timeMedian(fn, { warmup = 1, runs = 5, budget = 10, minRuns = 3, warmMs = 0 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  for (const until = performance.now() + warmMs; performance.now() < until; ) fn();
  const times = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1e3);
    if ((performance.now() - start) / 1e3 > budget && times.length >= minRuns) break;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export async function timeMedianAsync(fn, { warmup = 1, runs = 5, budget = 10, minRuns = 3 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1e3);
    if ((performance.now() - start) / 1e3 > budget && times.length >= minRuns) break;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Calls fn, which makes a fresh output each call of outBytes, until about 64 MiB of outputs are made (or 3 s
 * pass): a loop of fresh outputs reaches its steady state once the garbage collector has begun to free them
 * (malloc then hands their memory to the next ones); until then each output's pages fault in on first touch,
 * which ran a 1x1 backward-filter (256 KiB outputs) at half speed for its first 40 MB of outputs.
 */
export function reachFreshSteadyState(fn, outBytes) {
  const start = performance.now();
  for (let made = 0; made < 64 * 2 ** 20 && performance.now() - start < 3000; made += outBytes) fn();
}

/**
 * Median seconds per job, with each job's samples spread over the whole run: `rounds` passes over all jobs,
 * each pass timing every job (its `setup` first) as the median of `runs` calls after `warmup` and `warmMs` of
 * untimed calls. Other tenants share this machine's FMA units and memory in bursts of seconds, which a job's
 * back-to-back runs can fall entirely inside; spread over rounds, a burst costs a job one round, and the median
 * drops it. The warm calls matter for short jobs: after the previous job, a depthwise layer's first few calls
 * of 0.2 ms ran at half speed (the cores' ramp after a switch, see timePairedAsync, and caches the previous
 * job filled).
 */
export function timeRounds(jobs, { rounds = 3, warmup = 1, runs = 3, warmMs = 10 } = {}) {
  const samples = jobs.map(() => []);
  for (let r = 0; r < rounds; r++) {
    jobs.forEach((job, i) => {
      job.setup?.();
      samples[i].push(timeMedian(job.fn, { warmup, runs, warmMs, budget: Infinity }));
    });
  }
  return samples.map((v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]);
}

/**
 * Paired timing for a ratio on a noisy machine: `pairs` rounds, each timing fnA and fnB once (their order
 * alternating), after `warmup` untimed rounds. Returns the median seconds of each and the median over rounds
 * of tB / tA, which a burst of noise from other tenants shifts far less than a ratio of separate medians.
 * With `bTimesItself`, fnB resolves to its own seconds (a peer in another process timing its step); with
 * `aTimesItself`, fnA does (a batch of calls reporting its median call). With
 * `settleMs`, each call starts that long after the previous one ended, so that a peer's idle threads (OpenMP
 * spins a while before sleeping) have stopped competing for the cores. With `warmMs`, each side then makes
 * untimed calls for that long before its timed one: after a pause, the cores of the VMs we bench on take a few
 * milliseconds to come back to full speed (the first 3 ms of calls after a 50 ms pause ran at a quarter to half
 * speed on the Zen 5 VM), which would otherwise weigh on whichever side makes the shorter calls.
 */
export async function timePairedAsync(fnA, fnB, { warmup = 2, pairs = 15, aTimesItself = false, bTimesItself = false, settleMs = 0, warmMs = 0 } = {}) {
  for (let i = 0; i < warmup; i++) {
    await fnA();
    await fnB();
  }
  const ta = [];
  const tb = [];
  for (let i = 0; i < pairs; i++) {
    for (const [fn, out] of i % 2 ? [[fnB, tb], [fnA, ta]] : [[fnA, ta], [fnB, tb]]) {
      if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
      for (const until = performance.now() + warmMs; performance.now() < until; ) await fn();
      const t0 = performance.now();
      const own = await fn();
      out.push((fn === fnB && bTimesItself) || (fn === fnA && aTimesItself) ? own : (performance.now() - t0) / 1e3);
    }
  }
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return { a: median(ta), b: median(tb), ratio: median(ta.map((t, i) => tb[i] / t)) };
}

export function printTable(title, header, rows) {
  const cells = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\n${title}`);
  console.log(line(cells[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

export const fmt = (v, digits = 1) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));
export const pct = (v) => (v === undefined || Number.isNaN(v) ? '-' : `${(100 * v).toFixed(0)}%`);

/**
 * Checks `sampleCount` random elements of a float32 result against float64 values computed by
 * `expectedAt(i)`, with the tolerance the parity suite uses for dot products of length k.
 */
export function verifySampled(what, actual, expectedAt, absAt, k, sampleCount = 200) {
  const tolFactor = (2 * Math.sqrt(k) + 2) * 2 ** -24;
  for (let s = 0; s < sampleCount; s++) {
    const i = Math.floor(((s * 2654435761) % 4294967296) / 4294967296 * actual.length);
    const want = expectedAt(i);
    const tol = tolFactor * absAt(i) + 1e-30;
    if (!(Math.abs(actual[i] - want) <= tol)) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${want} (tol ${tol.toExponential(2)})`);
    }
  }
}
