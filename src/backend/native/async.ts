import type { NativeAddon } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { ASYNC_KERNELS, type AsyncKernels, type Backend } from '../types.js';
import { fromNativeError } from './check.js';

/**
 * The native kernels as Promises, built from the synchronous backend functions so the checks and
 * marshalling exist once: they are handed an addon whose binding calls start their `...Async` twins
 * instead of computing, so each returns its (not yet written) output at once, and the Promises of the calls
 * it started are awaited before that output is handed over.
 */
export function createAsyncKernels(addon: NativeAddon, fromAddon: (addon: NativeAddon) => Backend): AsyncKernels {
  const started: Promise<void>[] = [];
  const starting = { ...addon } as Record<string, unknown>;
  for (const name of Object.keys(addon)) {
    const twin = (addon as unknown as Record<string, unknown>)[`${name}Async`] as ((...args: unknown[]) => Promise<void>) | undefined;
    if (twin) starting[name] = (...args: unknown[]) => void started.push(twin(...args));
  }
  const deferred = fromAddon(starting as unknown as NativeAddon);
  // The binding runs async kernels one at a time, in the order they were started, on its compute thread: the
  // kernels of concurrent programs queue there and follow each other without a trip back to this thread.
  const kernels = {} as Record<string, (...args: unknown[]) => Promise<Tensor>>;
  for (const k of ASYNC_KERNELS) {
    const run = deferred[k] as (...args: unknown[]) => Tensor;
    kernels[k] = async (...args) => {
      started.length = 0;
      const out = run(...args); // starts one binding call, or several (concat's block copies)
      const calls = started.splice(0);
      try {
        await Promise.all(calls);
      } catch (e) {
        throw fromNativeError(e);
      }
      return out;
    };
  }
  return kernels as AsyncKernels;
}
