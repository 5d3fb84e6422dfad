import type { NativeAddon } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { ASYNC_KERNELS, type AsyncKernels, type Backend, type StartedKernel, type StartKernels } from '../types.js';
import { fromNativeError } from './check.js';

/**
 * The native kernels started off the event loop, built from the synchronous backend functions so the checks and
 * marshalling exist once: they are handed an addon whose binding calls start their `...Async` twins instead of
 * computing, so each returns its (not yet written) output at once, with the Promise of the calls it started.
 * `async` awaits that Promise before handing the output over; `start` hands both over (a pipelined run).
 */
export function createStartedKernels(addon: NativeAddon, fromAddon: (addon: NativeAddon) => Backend): { async: AsyncKernels; start: StartKernels } {
  const started: Promise<void>[] = [];
  const starting = { ...addon } as Record<string, unknown>;
  for (const name of Object.keys(addon)) {
    const twin = (addon as unknown as Record<string, unknown>)[`${name}Async`] as ((...args: unknown[]) => Promise<void>) | undefined;
    if (twin) starting[name] = (...args: unknown[]) => void started.push(twin(...args));
  }
  const deferred = fromAddon(starting as unknown as NativeAddon);
  // The binding runs async kernels one at a time, in the order they were started, on its compute thread: the
  // kernels of concurrent programs queue there and follow each other without a trip back to this thread.
  const start = {} as Record<string, (...args: unknown[]) => StartedKernel>;
  const kernels = {} as Record<string, (...args: unknown[]) => Promise<Tensor>>;
  for (const k of ASYNC_KERNELS) {
    const run = deferred[k] as (...args: unknown[]) => Tensor;
    start[k] = (...args) => {
      started.length = 0;
      const out = run(...args); // starts one binding call, or several (concat's block copies)
      const done = Promise.all(started.splice(0)).then(
        () => undefined,
        (e: unknown) => Promise.reject(fromNativeError(e)),
      );
      return { out, done };
    };
    kernels[k] = async (...args) => {
      const { out, done } = start[k](...args);
      await done;
      return out;
    };
  }
  return { async: kernels as AsyncKernels, start: start as StartKernels };
}
