// convkit as the benchmarks see it: the built package (npm run build:ts) plus the native controls.
import * as convkit from '../../dist/src/index.js';
import * as native from '../../dist/src/native.js';
import { BufferPool } from '../../dist/src/engine/buffers.js';

export { convkit, native };

export function useThreads(n) {
  native.setNativeThreads(n);
}

/** Single-FMA-port peak of this machine, measured now, per thread count (GFLOP/s). */
export function measurePeak(threads) {
  const { addon } = native.loadNative();
  if (!addon || typeof addon.fmaPeakProbe !== 'function') return undefined;
  let best = 0;
  for (let i = 0; i < 3; i++) best = Math.max(best, addon.fmaPeakProbe(threads, 0.25));
  return best;
}

/** GB/s of copying bytes / 2 into another bytes / 2 on this many threads, measured now: the bound a memory-bound kernel moving `bytes` is compared against. */
export function measureCopyBandwidth(bytes, threads) {
  const { addon } = native.loadNative();
  if (!addon || typeof addon.copyBandwidthProbe !== 'function') return undefined;
  let best = 0;
  for (let i = 0; i < 3; i++) best = Math.max(best, addon.copyBandwidthProbe(bytes, threads, 0.1));
  return best;
}

/**
 * A function running what `make` returns (an `ops.request.*` call, or an OpProgram such as an `ops.programs.*`
 * call) with its outputs in buffers reused from one call to the next, as inside a model (its buffer pool): a
 * kernel benchmark then times the kernels, not the page faults of fresh outputs every call.
 */
export function reusingOutputs(make) {
  const pool = new BufferPool();
  const { runProgramSync } = convkit.ops;
  return () => {
    pool.batchEnd();
    return runProgramSync((function* () {
      const made = make();
      return typeof made?.next === 'function' ? yield* made : yield made;
    })(), pool);
  };
}
