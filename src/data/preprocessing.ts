import { describe, fail } from '../errors.js';
import { deriveSeed } from '../initializers/seed.js';
import { classIds, gatherLabels, gatherRows, labelCount, type Labels } from '../losses/labels.js';
import { Rng } from '../random.js';
import { Tensor, zeros, type DType } from '../tensor.js';

export interface NormalizeOptions {
  /** 'sample': each sample by its own statistics; 'dataset': each channel by statistics over the whole set. */
  per: 'sample' | 'dataset';
  /** Subtract the mean. Default true. */
  center?: boolean;
  /** Divide by the standard deviation. Default true. */
  scale?: boolean;
  /** Dataset mode: reuse statistics (per channel) computed on the training set, e.g. for the test set. */
  mean?: number[];
  std?: number[];
}

/**
 * Centering and standardization, per sample or dataset-wide per channel (the last axis).
 * @example
 * const train = data.normalize(xTrain, { per: 'dataset' });
 * const test = data.normalize(xTest, { per: 'dataset', mean: train.mean, std: train.std });
 * @throws ConvkitError for an unknown mode or statistics of the wrong length.
 */
export function normalize(x: Tensor, opts: NormalizeOptions): { x: Tensor; mean: number[]; std: number[] } {
  const center = opts.center ?? true;
  const scale = opts.scale ?? true;
  const out = zeros(x.shape, x.dtype);
  const apply = (from: number, to: number, stride: number, offset: number, mean: number, std: number): void => {
    for (let i = from + offset; i < to; i += stride) out.data[i] = (x.data[i] - (center ? mean : 0)) / (scale ? std : 1);
  };
  if (opts.per === 'sample') {
    const n = x.shape[0];
    const row = x.size / n;
    const means: number[] = [];
    const stds: number[] = [];
    for (let s = 0; s < n; s++) {
      const [m, sd] = moments(x.data, s * row, (s + 1) * row, 1, 0);
      apply(s * row, (s + 1) * row, 1, 0, m, sd);
      means.push(m);
      stds.push(sd);
    }
    return { x: out, mean: means, std: stds };
  }
  if (opts.per !== 'dataset') fail('normalize', "per 'sample' or 'dataset'", describe(opts.per));
  const c = x.shape[x.rank - 1];
  const mean = opts.mean ?? [];
  const std = opts.std ?? [];
  for (let k = 0; k < c; k++) {
    if (opts.mean === undefined || opts.std === undefined) [mean[k], std[k]] = moments(x.data, 0, x.size, c, k);
    apply(0, x.size, c, k, mean[k], std[k]);
  }
  if (mean.length !== c || std.length !== c) fail('normalize', `mean and std with ${c} entries (one per channel)`, `${mean.length} and ${std.length}`);
  return { x: out, mean, std };
}

/** Mean and standard deviation of data[from + offset], data[from + offset + stride], ... (std floored at 1e-7). */
function moments(data: ArrayLike<number>, from: number, to: number, stride: number, offset: number): [number, number] {
  let sum = 0;
  let count = 0;
  for (let i = from + offset; i < to; i += stride, count++) sum += data[i];
  const mean = sum / count;
  let sq = 0;
  for (let i = from + offset; i < to; i += stride) sq += (data[i] - mean) ** 2;
  return [mean, Math.max(Math.sqrt(sq / count), 1e-7)];
}

/**
 * Class ids -> one-hot rows (N, numClasses).
 * @example data.oneHot([0, 2], 3) // [[1, 0, 0], [0, 0, 1]]
 * @throws ConvkitError for an id outside [0, numClasses).
 */
export function oneHot(labels: Labels, numClasses: number, dtype: DType = 'float32'): Tensor {
  const n = labelCount('oneHot', labels);
  const ids = classIds('oneHot', labels, n, numClasses);
  const t = zeros([n, numClasses], dtype);
  for (let i = 0; i < n; i++) t.data[i * numClasses + ids[i]] = 1;
  return t;
}

/**
 * x and y in the same seeded random order.
 * @example const { x, y } = data.shuffle(xTrain, yTrain, 7)
 */
export function shuffle(x: Tensor, y: Labels, seed: number): { x: Tensor; y: Labels } {
  const n = x.shape[0];
  if (labelCount('shuffle', y) !== n) fail('shuffle', `${n} labels (one per sample)`, describe(labelCount('shuffle', y)));
  const order = new Rng(seed).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  return { x: gatherRows(x, order), y: gatherLabels(y, order) };
}

/**
 * Seeded index split: `test` samples and `train` samples, disjoint. Stratified (needs class ids) keeps each
 * class's share in both parts, rounding by largest remainder so the totals are exact.
 */
export function splitIndices(n: number, train: number, test: number, seed: number, classes?: Int32Array): { train: Int32Array; test: Int32Array } {
  if (!Number.isInteger(train) || !Number.isInteger(test) || train < 0 || test < 0 || train + test > n) {
    fail('split', `train + test counts within the ${n} samples`, `${train} + ${test}`);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const key = classes ? classes[i] : 0;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(i);
  }
  const keys = [...groups.keys()].sort((a, b) => a - b);
  const quota = (total: number, available: (k: number) => number): Map<number, number> => {
    const exact = keys.map((k) => (total * groups.get(k)!.length) / n);
    const q = exact.map(Math.floor);
    const order = keys.map((_, i) => i).sort((a, b) => exact[b] - q[b] - (exact[a] - q[a]) || a - b);
    for (let left = total - q.reduce((s, v) => s + v, 0), i = 0; left > 0; i = (i + 1) % keys.length) {
      const at = order[i];
      if (q[at] < available(keys[at])) {
        q[at]++;
        left--;
      }
    }
    return new Map(keys.map((k, i) => [k, q[i]]));
  };
  const testQ = quota(test, (k) => groups.get(k)!.length);
  const trainQ = quota(train, (k) => groups.get(k)!.length - testQ.get(k)!);
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (const k of keys) {
    const idx = new Rng(deriveSeed(seed, k)).shuffle(groups.get(k)!);
    testIdx.push(...idx.slice(0, testQ.get(k)));
    trainIdx.push(...idx.slice(testQ.get(k), testQ.get(k)! + trainQ.get(k)!));
  }
  const mix = (a: number[], tag: number): Int32Array => new Rng(deriveSeed(seed, -1, tag)).shuffle(Int32Array.from(a));
  return { train: mix(trainIdx, 0), test: mix(testIdx, 1) };
}

/**
 * Seeded train/test split; `testSize` is a fraction (< 1) or a count. With `stratify` (class-id labels) each
 * class keeps its share on both sides.
 * @example const { xTrain, yTrain, xTest, yTest } = data.trainTestSplit(x, y, { testSize: 0.2, seed: 1, stratify: true })
 * @throws ConvkitError for a testSize that leaves either side empty, or stratify with tensor labels.
 */
export function trainTestSplit(
  x: Tensor,
  y: Labels,
  opts: { testSize: number; seed: number; stratify?: boolean },
): { xTrain: Tensor; yTrain: Labels; xTest: Tensor; yTest: Labels } {
  const n = x.shape[0];
  if (labelCount('trainTestSplit', y) !== n) fail('trainTestSplit', `${n} labels (one per sample)`, describe(labelCount('trainTestSplit', y)));
  const test = opts.testSize < 1 ? Math.round(opts.testSize * n) : opts.testSize;
  if (!(test >= 1 && test < n)) fail('trainTestSplit', `a testSize leaving samples on both sides of ${n}`, describe(opts.testSize));
  if (opts.stratify && y instanceof Tensor) fail('trainTestSplit', 'class-id labels to stratify', 'a Tensor');
  const ids = opts.stratify ? Int32Array.from(y as ArrayLike<number>) : undefined;
  const { train, test: testIdx } = splitIndices(n, n - test, test, opts.seed, ids);
  return { xTrain: gatherRows(x, train), yTrain: gatherLabels(y, train), xTest: gatherRows(x, testIdx), yTest: gatherLabels(y, testIdx) };
}
