import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConvkitError } from '../errors.js';
import { Tensor } from '../tensor.js';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** An IDX file's content: dimensions and values (big-endian on disk, native here). */
export interface IdxArray {
  shape: number[];
  data: IdxData;
}

const TYPES: Record<number, { size: number; make: (n: number) => IdxData; get: (v: DataView, at: number) => number }> = {
  0x08: { size: 1, make: (n) => new Uint8Array(n), get: (v, at) => v.getUint8(at) },
  0x09: { size: 1, make: (n) => new Int8Array(n), get: (v, at) => v.getInt8(at) },
  0x0b: { size: 2, make: (n) => new Int16Array(n), get: (v, at) => v.getInt16(at, false) },
  0x0c: { size: 4, make: (n) => new Int32Array(n), get: (v, at) => v.getInt32(at, false) },
  0x0d: { size: 4, make: (n) => new Float32Array(n), get: (v, at) => v.getFloat32(at, false) },
  0x0e: { size: 8, make: (n) => new Float64Array(n), get: (v, at) => v.getFloat64(at, false) },
};

/** Part of a set along its first axis: `limit` items from `offset` (default all from 0). */
export interface IdxRange {
  offset?: number;
  limit?: number;
}

/**
 * Parses IDX bytes (gzip-compressed or raw): magic 0x0000, a type byte, a dimension count, big-endian
 * uint32 dimensions, then the values; only the items of `range` along the first axis. Bytes come back as a
 * view of the file's own buffer (no copy).
 * @example const { shape, data } = parseIdx(readFileSync('train-labels-idx1-ubyte.gz'))
 * @throws ConvkitError for a bad magic number or type, a file shorter than its header says, or a range outside it.
 */
export function parseIdx(raw: Uint8Array, name = 'IDX data', range: IdxRange = {}): IdxArray {
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  const bad = (what: string): never => {
    throw new ConvkitError(`parseIdx: ${name} ${what}`, 'parseIdx');
  };
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) bad('is not an IDX file (its first two bytes must be zero)');
  const type = TYPES[bytes[2]] ?? bad(`has an unknown value type 0x${bytes[2].toString(16)}`);
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank) bad('is truncated inside its header');
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const n = shape.reduce((a, b) => a * b, 1);
  const header = 4 + 4 * rank;
  if (bytes.length < header + n * type.size) bad(`is truncated: [${shape.join(', ')}] needs ${header + n * type.size} bytes, found ${bytes.length}`);
  const items = rank === 0 ? 1 : shape[0];
  const offset = range.offset ?? 0;
  const limit = range.limit ?? items - offset;
  if (!Number.isInteger(offset) || !Number.isInteger(limit) || offset < 0 || limit < 0 || offset + limit > items) {
    bad(`has ${items} items: offset ${range.offset} and limit ${range.limit} do not fit`);
  }
  const per = items === 0 ? 0 : n / items;
  const start = header + offset * per * type.size;
  const count = limit * per;
  const part = rank === 0 ? shape : [limit, ...shape.slice(1)];
  if (type.size === 1) return { shape: part, data: bytes[2] === 0x09 ? new Int8Array(bytes.buffer, bytes.byteOffset + start, count) : bytes.subarray(start, start + count) };
  const data = type.make(count);
  for (let i = 0; i < count; i++) data[i] = type.get(view, start + i * type.size);
  return { shape: part, data };
}

/** Reads and parses one IDX file (.gz or raw), or the items of `range` of it. */
export async function readIdx(path: string, range: IdxRange = {}): Promise<IdxArray> {
  return parseIdx(await readFile(path), path, range);
}

/** Images as float32 NHWC in [0, 1] when they are bytes (as MNIST's are). */
export function idxImages(a: IdxArray): Tensor {
  if (a.shape.length !== 3 && a.shape.length !== 4) throw new ConvkitError(`idxImages: expected images of rank 3 or 4 but received [${a.shape.join(', ')}]`, 'idxImages');
  const scale = a.data instanceof Uint8Array ? 1 / 255 : 1;
  const src = a.data;
  const data = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) data[i] = src[i] * scale;
  return new Tensor(data, a.shape.length === 3 ? [...a.shape, 1] : a.shape);
}

/** The range clipped to a split of `items`: a limit past its end takes what is there. */
function clip(range: IdxRange, items: number): { offset: number; limit: number } {
  const offset = Math.min(range.offset ?? 0, items);
  return { offset, limit: Math.min(range.limit ?? items, items - offset) };
}

/**
 * An MNIST-layout directory: train-images / train-labels and t10k- (or test-) images / labels, each
 * `*-idx?-ubyte` with or without `.gz`. Fashion-MNIST and Kuzushiji-MNIST ship this way. With `range`, each
 * split keeps `limit` items from `offset` (clipped to the split).
 * @example const { xTrain, yTrain, xTest, yTest } = await data.loadIdxDirectory('./fashion-idx', { limit: 10000 })
 * @throws ConvkitError naming the missing file, or when image and label counts differ.
 */
export async function loadIdxDirectory(dir: string, range: IdxRange = {}): Promise<{ xTrain: Tensor; yTrain: Int32Array; xTest: Tensor; yTest: Int32Array }> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (e) {
    throw new ConvkitError(`loadIdxDirectory: cannot read ${dir}: ${(e as Error).message}`, 'loadIdxDirectory');
  }
  const find = (split: RegExp, kind: string): string => {
    const f = files.find((name) => split.test(name) && name.includes(`-${kind}-idx`));
    if (!f) throw new ConvkitError(`loadIdxDirectory: no ${kind} file for ${split.source} in ${dir} (expected e.g. train-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte.gz)`, 'loadIdxDirectory');
    return join(dir, f);
  };
  const load = async (split: RegExp): Promise<[Tensor, Int32Array]> => {
    const all = await readIdx(find(split, 'labels'));
    const imageFile = await readIdx(find(split, 'images'));
    if (all.shape[0] !== imageFile.shape[0]) {
      throw new ConvkitError(`loadIdxDirectory: ${imageFile.shape[0]} images but ${all.shape[0]} labels for ${split.source} in ${dir}`, 'loadIdxDirectory');
    }
    const { offset, limit } = clip(range, all.shape[0]);
    const labels = Int32Array.from(all.data.subarray(offset, offset + limit) as ArrayLike<number>);
    const per = imageFile.shape.slice(1).reduce((a, b) => a * b, 1);
    const images = idxImages({ shape: [limit, ...imageFile.shape.slice(1)], data: imageFile.data.subarray(offset * per, (offset + limit) * per) });
    return [images, labels];
  };
  const [xTrain, yTrain] = await load(/^train-/);
  const [xTest, yTest] = await load(/^(t10k|test)-/);
  return { xTrain, yTrain, xTest, yTest };
}
