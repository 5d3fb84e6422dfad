import type { NativeAddon } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { currentArena, withArena } from '../arena.js';
import { ASYNC_KERNELS, type AsyncKernels, type Backend } from '../types.js';

/**
 * The native kernels as Promises, built from the synchronous backend functions so the checks and
 * marshalling exist once: they are handed an addon whose heavy methods start their `...Async` twin
 * instead of computing, so each returns its (still empty) output at once, and the kernel's Promise is
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
  // Kernels compute one at a time anyway (the binding's compute lock); queueing them here as well means
  // this thread never parks more than one libuv worker on that lock, leaving the rest of libuv's small
  // pool to file system and DNS work.
  let queue: Promise<unknown> = Promise.resolve();
  const kernels = {} as Record<string, (...args: unknown[]) => Promise<Tensor>>;
  for (const k of ASYNC_KERNELS) {
    const run = deferred[k] as (...args: unknown[]) => Tensor;
    kernels[k] = (...args) => {
      const arena = currentArena(); // the output is allocated later, when the queue reaches this kernel
      const result = queue.then(async () => {
        started = undefined;
        const out = withArena(arena, () => run(...args));
        const kernel = started;
        started = undefined;
        await kernel;
        return out;
      });
      queue = result.catch(() => undefined);
      return result;
    };
  }
  return kernels as AsyncKernels;
}
