import { type DType, type Shape, sharedArray, Tensor, zeros } from '../tensor.js';

/**
 * Reused output buffers for the ops of one run of a model program (a training step, a predict
 * batch). Every op output of a step is dead once the step is over (the program has read what it needed:
 * loss, metrics, the copied predictions), so at each batch boundary the arena takes its buffers back and the
 * next step, which asks for the same sizes in the same order, gets them again: no allocation, no page faults,
 * no zero-filling. Ops overwrite their outputs in full (takeOutput's contract), so stale contents never show.
 * The buffers are shared storage (sharedArray), which async kernels write in place.
 */
export class OutputArena {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly used = new Map<number, Float32Array[]>();

  /** A float32 tensor of this shape backed by a reused buffer (contents unspecified). */
  take(shape: readonly number[]): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const buf = this.free.get(size)?.pop() ?? (sharedArray('float32', size) as Float32Array);
    let used = this.used.get(size);
    if (!used) this.used.set(size, (used = []));
    used.push(buf);
    return new Tensor(buf, shape);
  }

  /** Every buffer handed out so far becomes free again: call only when none of their tensors is read again. */
  reset(): void {
    for (const [size, bufs] of this.used) {
      let free = this.free.get(size);
      if (!free) this.free.set(size, (free = []));
      free.push(...bufs);
    }
    this.used.clear();
  }
}

let current: OutputArena | undefined;

/** The arena op outputs come from right now, if any (read by the native backend as it allocates). */
export function currentArena(): OutputArena | undefined {
  return current;
}

/** Runs fn with `arena` as the current arena (undefined: plain allocation). */
export function withArena<T>(arena: OutputArena | undefined, fn: () => T): T {
  const saved = current;
  current = arena;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/**
 * A tensor for an op's output that the op overwrites in full: from the current arena when a model program
 * runs (float32), else new. Native kernels and layers computing in JavaScript (dropout) both take theirs here.
 */
export function takeOutput(shape: Shape, dtype: DType = 'float32'): Tensor {
  return (dtype === 'float32' ? current?.take(shape) : undefined) ?? zeros(shape, dtype);
}
