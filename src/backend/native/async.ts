import type { NativeAddon } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { ASYNC_KERNELS, type AsyncKernels, type Backend } from '../types.js';
import { fromNativeError } from './check.js';

/**
 * The native kernels as Promises, built from the synchronous backend functions so the checks and
 * marshalling exist once: they are handed an addon whose heavy methods start their `...Async` twin
 * instead of computing, so each returns its (not yet written) output at once, and the kernel's Promise is
 * awaited before that output is handed over.
 */
export function createAsyncKernels(addon: NativeAddon, fromAddon: (addon: NativeAddon) => Backend): AsyncKernels {
  let started: Promise<void> | undefined;
  const starting = { ...addon } as Record<string, unknown>;
  for (const k of ASYNC_KERNELS) {
    const twin = addon[`${k}Async`] as (...args: unknown[]) => Promise<void>;
    starting[k] = (...args: unknown[]) => {
      started = twin(...args);
    };
  }
  const deferred = fromAddon(starting as unknown as NativeAddon);
  // The binding runs async kernels one at a time, in the order they were started, on its compute thread: the
  // kernels of concurrent programs queue there and follow each other without a trip back to this thread.
  const kernels = {} as Record<string, (...args: unknown[]) => Promise<Tensor>>;
  for (const k of ASYNC_KERNELS) {
    const run = deferred[k] as (...args: unknown[]) => Tensor;
    kernels[k] = async (...args) => {
      started = undefined;
      const out = run(...args);
      const kernel = started;
      started = undefined;
      try {
        await kernel;
      } catch (e) {
        throw fromNativeError(e);
      }
      return out;
    };
  }
  return kernels as AsyncKernels;
}
