import { ConvkitError, describe, fail } from './errors.js';
import { Rng } from './random.js';

export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;
export type Shape = readonly number[];

/**
 * A shape and a typed array, nothing more: the GC owns the memory, there is no dispose().
 * float32 is the working dtype; float64 exists so the reference backend can check gradients exactly.
 * Layouts: activations NHWC, conv filters HWIO [kh, kw, inChannels/groups, outChannels], dense kernels [in, out].
 */
export class Tensor {
  readonly shape: Shape;
  readonly data: FloatArray;

  constructor(data: FloatArray, shape: Shape) {
    if (!(data instanceof Float32Array || data instanceof Float64Array)) {
      fail('tensor', 'data as a Float32Array or Float64Array (tensor() converts other arrays)', describe(data));
    }
    checkShape('tensor', shape);
    const n = sizeOf(shape);
    if (data.length !== n) fail('tensor', `${n} values for shape [${shape.join(', ')}]`, `${data.length}`);
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  get dtype(): DType {
    return this.data instanceof Float64Array ? 'float64' : 'float32';
  }
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.data.length;
  }

  /** A view with a new shape over the same data; one dimension may be -1. */
  reshape(shape: Shape): Tensor {
    return new Tensor(this.data, inferShape('reshape', shape, this.size));
  }

  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** The data as a float32 or float64 copy. */
  cast(dtype: DType): Tensor {
    if (dtype === this.dtype) return this;
    return new Tensor(dtype === 'float32' ? Float32Array.from(this.data) : Float64Array.from(this.data), this.shape);
  }

  /** Rows [start, end) of the first axis, as a copy. */
  slice(start: number, end: number): Tensor {
    const row = this.size / this.shape[0];
    return new Tensor(this.data.slice(start * row, end * row), [end - start, ...this.shape.slice(1)]);
  }

  /** The value at a full index. */
  get(...index: number[]): number {
    if (index.length !== this.rank) fail('Tensor.get', `${this.rank} indices`, describe(index.length));
    let off = 0;
    for (let i = 0; i < index.length; i++) {
      if (!(index[i] >= 0 && index[i] < this.shape[i])) fail('Tensor.get', `index ${i} in [0, ${this.shape[i]})`, describe(index[i]));
      off = off * this.shape[i] + index[i];
    }
    return this.data[off];
  }

  /** Nested arrays, for printing and tests. */
  toArray(): unknown {
    const build = (dim: number, off: number): unknown => {
      if (dim === this.rank) return this.data[off];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The most values a tensor may hold (8 GiB of float32); past it no typed array can be allocated anyway. */
export const MAX_TENSOR_SIZE = 2 ** 31 - 1;

export function checkShape(where: string, shape: Shape): void {
  if (!Array.isArray(shape)) fail(where, 'a shape (array of sizes)', describe(shape));
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) fail(where, 'a shape of non-negative integers', describe([...shape]));
  }
  checkSize(where, 'a shape', shape);
}

/** Throws unless a tensor of this shape fits in MAX_TENSOR_SIZE values; `what` names it in the message. */
export function checkSize(where: string, what: string, shape: Shape): void {
  const n = sizeOf(shape);
  if (n > MAX_TENSOR_SIZE) fail(where, `${what} of at most ${MAX_TENSOR_SIZE} values`, `[${shape.join(', ')}] (${n.toExponential(2)} values)`);
}

function inferShape(where: string, shape: Shape, size: number): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (free >= 0) {
    const rest = sizeOf(out.filter((_, i) => i !== free));
    if (rest === 0 || size % rest !== 0) fail(where, `a shape that divides ${size} values`, describe(out));
    out[free] = size / rest;
  }
  checkShape(where, out);
  if (sizeOf(out) !== size) fail(where, `a shape with ${size} values`, describe(out));
  return out;
}

function arrayOf(dtype: DType, n: number): FloatArray {
  if (dtype === 'float32') return new Float32Array(n);
  if (dtype === 'float64') return new Float64Array(n);
  return fail('tensor', "dtype 'float32' or 'float64'", describe(dtype));
}

/**
 * A tensor from nested arrays, a flat array or a typed array.
 * @example tensor([[1, 2], [3, 4]]) // shape [2, 2]
 * @throws ConvkitError when the data does not fill the shape.
 */
export function tensor(data: ArrayLike<number> | unknown[] | FloatArray, shape?: Shape, dtype?: DType): Tensor {
  if (data instanceof Float32Array || data instanceof Float64Array) {
    const t = new Tensor(data, shape ?? [data.length]);
    return dtype ? t.cast(dtype) : t;
  }
  const flat: number[] = [];
  const inferred: number[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (Array.isArray(v)) {
      if (inferred.length <= depth) inferred.push(v.length);
      else if (inferred[depth] !== v.length) fail('tensor', `ragged-free nested arrays of length ${inferred[depth]}`, describe(v.length));
      for (const e of v) walk(e, depth + 1);
    } else if (typeof v === 'number') {
      flat.push(v);
    } else if (v !== null && typeof v === 'object' && 'length' in (v as object)) {
      for (const e of Array.from(v as ArrayLike<number>)) flat.push(e);
    } else {
      fail('tensor', 'numbers', describe(v));
    }
  };
  walk(data, 0);
  const arr = arrayOf(dtype ?? 'float32', flat.length);
  arr.set(flat);
  return new Tensor(arr, shape ?? (Array.isArray(data) ? inferred : [flat.length]));
}

export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  checkShape('zeros', shape);
  return new Tensor(arrayOf(dtype, sizeOf(shape)), shape);
}

/**
 * An array of n zeros whose storage is a SharedArrayBuffer, which JavaScript can neither detach (transfer)
 * nor shrink: the `...Async` kernels use such storage in place, while they copy a plain ArrayBuffer in when
 * called and their results out when they settle (native/binding/async.h). Models keep their weights,
 * optimizer state and reused op outputs in it; tensors handed to users stay plain, so they can be transferred.
 */
export function sharedArray(dtype: DType, n: number): FloatArray {
  const bytes = dtype === 'float64' ? 8 : 4;
  const buffer = new SharedArrayBuffer(n * bytes);
  return dtype === 'float64' ? new Float64Array(buffer) : new Float32Array(buffer);
}

/** A copy of t in shared storage (see sharedArray). */
export function toShared(t: Tensor): Tensor {
  const data = sharedArray(t.dtype, t.size);
  data.set(t.data);
  return new Tensor(data, t.shape);
}

export function fill(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  const t = zeros(shape, dtype);
  t.data.fill(value);
  return t;
}

export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return fill(shape, 1, dtype);
}

export interface RandomOptions {
  seed: number;
  dtype?: DType;
}

/** Normal samples from the seeded PRNG. @example randomNormal([3, 3, 1, 8], { seed: 1, stddev: 0.1 }) */
export function randomNormal(shape: Shape, opts: RandomOptions & { mean?: number; stddev?: number }): Tensor {
  const rng = seededRng('randomNormal', opts);
  const { mean = 0, stddev = 1 } = opts;
  const t = zeros(shape, opts.dtype);
  for (let i = 0; i < t.size; i++) t.data[i] = mean + stddev * rng.normal();
  return t;
}

/** Uniform samples in [minval, maxval) from the seeded PRNG. */
export function randomUniform(shape: Shape, opts: RandomOptions & { minval?: number; maxval?: number }): Tensor {
  const rng = seededRng('randomUniform', opts);
  const { minval = 0, maxval = 1 } = opts;
  const t = zeros(shape, opts.dtype);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.uniform(minval, maxval);
  return t;
}

function seededRng(where: string, opts: { seed?: number } | undefined): Rng {
  if (!opts || typeof opts.seed !== 'number' || !Number.isFinite(opts.seed)) {
    throw new ConvkitError(`${where}: expected an explicit numeric seed (opts.seed) but received ${opts?.seed}`, where);
  }
  return new Rng(opts.seed);
}
