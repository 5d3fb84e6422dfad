import type { RunContext } from '../ops/index.js';
import { sharedArray, sizeOf, Tensor, zeros, type DType, type Shape } from '../tensor.js';

/** Bytes a run held at once at its peak, and what it would have allocated with no buffer ever reused. */
export interface MemoryStats {
  peakBytes: number;
  allocatedBytes: number;
}

/**
 * The buffers a model's runs take their tensors from. Each buffer is reference-counted: an allocation holds
 * one reference (its creator's), and the executor adds one for every live value that views it and drops it
 * when that value is dead (see engine/execute.ts); at zero the buffer goes back to the free list of its size,
 * for the very next op of the same run to reuse. At a batch boundary every buffer is free again, and the next
 * batch, asking for the same sizes in the same order, gets the same buffers back: no allocation, no page
 * faults, no zero-filling. Kernels overwrite their outputs in full, so stale contents never show. Buffers are
 * shared storage (sharedArray), which async kernels write in place. float64 tensors (the reference backend's
 * gradient checks) are allocated fresh and not counted.
 */
export class BufferPool implements RunContext {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly refs = new Map<ArrayBufferLike, number>();
  private readonly sizes = new Map<ArrayBufferLike, Float32Array>();
  private created: Float32Array[] = [];
  private inUse = 0;
  private stats: MemoryStats = { peakBytes: 0, allocatedBytes: 0 };

  alloc(shape: Shape, dtype: DType): Tensor {
    if (dtype !== 'float32') return zeros(shape, dtype);
    const n = sizeOf(shape);
    const buf = this.free.get(n)?.pop() ?? (sharedArray('float32', n) as Float32Array);
    this.refs.set(buf.buffer, 1);
    this.sizes.set(buf.buffer, buf);
    this.created.push(buf);
    this.inUse += n * 4;
    this.stats.allocatedBytes += n * 4;
    this.stats.peakBytes = Math.max(this.stats.peakBytes, this.inUse);
    return new Tensor(buf, shape);
  }

  /** Everything allocated since the last call (the executor's way to learn what one step created). */
  takeCreated(): Tensor[] {
    const out = this.created.map((b) => new Tensor(b, [b.length]));
    this.created = [];
    return out;
  }

  /** One more reference to t's buffer, if this pool owns it (a model's input tensors, say, it does not). */
  retain(t: Tensor): void {
    const n = this.refs.get(t.data.buffer);
    if (n !== undefined) this.refs.set(t.data.buffer, n + 1);
  }

  /** One reference fewer; at zero the buffer is free for the next allocation of its size. */
  release(t: Tensor): void {
    const key = t.data.buffer;
    const n = this.refs.get(key);
    if (n === undefined) return;
    if (n > 1) {
      this.refs.set(key, n - 1);
      return;
    }
    const buf = this.sizes.get(key)!;
    this.refs.delete(key);
    this.sizes.delete(key);
    this.inUse -= buf.length * 4;
    let list = this.free.get(buf.length);
    if (!list) this.free.set(buf.length, (list = []));
    list.push(buf);
  }

  /** The batch is over: every buffer is free again. */
  batchEnd(): void {
    for (const buf of this.sizes.values()) {
      let list = this.free.get(buf.length);
      if (!list) this.free.set(buf.length, (list = []));
      list.push(buf);
    }
    this.refs.clear();
    this.sizes.clear();
    this.created = [];
    this.inUse = 0;
  }

  /** The peak and total allocation since the last call, which starts a new measurement. */
  takeStats(): MemoryStats {
    const s = this.stats;
    this.stats = { peakBytes: this.inUse, allocatedBytes: 0 };
    return s;
  }
}
