// convkit as the benchmarks see it: the built package (npm run build:ts) plus the native controls.
import * as convkit from '../../dist/src/index.js';
import * as native from '../../dist/src/native.js';
import { OutputArena, withArena } from '../../dist/src/backend/arena.js';

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

/**
 * fn with its op outputs in buffers reused from one call to the next, as inside a model (its per-model output
 * arena): a kernel benchmark then times the kernel, not the page faults of a fresh output every call.
 */
export function reusingOutputs(fn) {
  const arena = new OutputArena();
  return () => {
    arena.reset();
    return withArena(arena, fn);
  };
}
