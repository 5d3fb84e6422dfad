import type { RunContext } from '../ops/index.js';
import { type DType, type Shape, sharedArray, Tensor, zeros } from '../tensor.js';

/**
 * Reused output buffers for the ops of one run of a model program (a training step, a predict
 * batch). Every op output of a step is dead once the step is over (the program has read what it needed:
 * loss, metrics, the copied predictions), so at each batch boundary the arena takes its buffers back and the
 * next step, which asks for the same sizes in the same order, gets them again: no allocation, no page faults,
 * no zero-filling. Ops overwrite their outputs in full, so stale contents never show. The buffers are shared
 * storage (sharedArray), which async kernels write in place. float64 outputs (the reference backend's
 * gradient checks) are allocated fresh.
 */
export class OutputArena implements RunContext {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly used = new Map<number, Float32Array[]>();

  alloc(shape: Shape, dtype: DType): Tensor {
    if (dtype !== 'float32') return zeros(shape, dtype);
    const size = shape.reduce((a, b) => a * b, 1);
    const buf = this.free.get(size)?.pop() ?? (sharedArray('float32', size) as Float32Array);
    let used = this.used.get(size);
    if (!used) this.used.set(size, (used = []));
    used.push(buf);
    return new Tensor(buf, shape);
  }

  /** Every buffer handed out so far becomes free again: call only when none of their tensors is read again. */
  batchEnd(): void {
    for (const [size, bufs] of this.used) {
      let free = this.free.get(size);
      if (!free) this.free.set(size, (free = []));
      free.push(...bufs);
    }
    this.used.clear();
  }
}
