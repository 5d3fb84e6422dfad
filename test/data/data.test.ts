import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageAugmenter } from '../../src/data/augment.js';
import { existsSync } from 'node:fs';
import { loadIdxDirectory, parseIdx } from '../../src/data/idx.js';
import { mnistDigits } from '../../src/data/mnist.js';
import { normalize, oneHot, shuffle, trainTestSplit } from '../../src/data/preprocessing.js';
import { Rng } from '../../src/random.js';
import { randomUniform, tensor } from '../../src/tensor.js';

/** An IDX file: magic 0,0,type,rank; big-endian dims; values. */
function idx(type: number, shape: number[], values: number[], size = 1): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = type;
  head[3] = shape.length;
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  const body = Buffer.alloc(values.length * size);
  values.forEach((v, i) => (type === 0x08 ? body.writeUInt8(v, i) : type === 0x0c ? body.writeInt32BE(v, 4 * i) : body.writeFloatBE(v, 4 * i)));
  return Buffer.concat([head, body]);
}

describe('IDX', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convkit-idx-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('parses raw and gzip files of several value types', () => {
    const a = parseIdx(idx(0x08, [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]));
    expect(a.shape).toEqual([2, 2, 3]);
    expect([...a.data]).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    expect([...parseIdx(gzipSync(idx(0x0c, [3], [-1, 70000, 5], 4))).data]).toEqual([-1, 70000, 5]);
    expect([...parseIdx(idx(0x0d, [2], [0.5, -2], 4)).data]).toEqual([0.5, -2]);
  });

  it('refuses bad magic, unknown types and truncated files', () => {
    expect(() => parseIdx(Buffer.from([1, 0, 8, 1, 0, 0, 0, 1, 7]))).toThrow(/not an IDX file/);
    expect(() => parseIdx(Buffer.from([0, 0, 0x42, 1, 0, 0, 0, 1, 7]))).toThrow(/unknown value type 0x42/);
    expect(() => parseIdx(idx(0x08, [2, 4, 4], new Array(31).fill(0)))).toThrow(/truncated: \[2, 4, 4\] needs 48 bytes, found 47/);
  });

  it('loads an MNIST-layout directory (gz and raw mixed) into NHWC float images in [0, 1]', async () => {
    const pixels = Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 14);
    await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx(0x08, [2, 3, 3], pixels)));
    await writeFile(join(dir, 'train-labels-idx1-ubyte'), idx(0x08, [2], [7, 1]));
    await writeFile(join(dir, 't10k-images-idx3-ubyte'), idx(0x08, [1, 3, 3], pixels.slice(0, 9)));
    await writeFile(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx(0x08, [1], [3])));
    const d = await loadIdxDirectory(dir);
    expect(d.xTrain.shape).toEqual([2, 3, 3, 1]);
    expect(d.xTrain.data[17]).toBeCloseTo((17 * 14) / 255, 6);
    expect([...d.yTrain]).toEqual([7, 1]);
    expect([...d.yTest]).toEqual([3]);
    await expect(loadIdxDirectory(join(dir, 'missing'))).rejects.toThrow(/cannot read/);
    // part of each split: from offset 1, at most 5 (clipped to what each split has)
    const part = await loadIdxDirectory(dir, { offset: 1, limit: 5 });
    expect(part.xTrain.shape).toEqual([1, 3, 3, 1]);
    expect(part.xTrain.data[0]).toBeCloseTo((9 * 14) / 255, 6);
    expect([...part.yTrain]).toEqual([1]);
    expect(part.xTest.shape).toEqual([0, 3, 3, 1]);
  });

  it('reads a range of items along the first axis, bytes without a copy', () => {
    const file = idx(0x08, [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const a = parseIdx(file, 'f', { offset: 1, limit: 2 });
    expect(a.shape).toEqual([2, 2]);
    expect([...a.data]).toEqual([3, 4, 5, 6]);
    expect(a.data.buffer).toBe(file.buffer);
    expect([...parseIdx(idx(0x0c, [3], [-2, 300, 7], 4), 'g', { offset: 2 }).data]).toEqual([7]);
    expect(() => parseIdx(file, 'f', { offset: 3, limit: 2 })).toThrow(/f has 4 items: offset 3 and limit 2 do not fit/);
  });
});

describe.skipIf(!existsSync('/usr/share/datasets/fashion-mnist'))('Fashion-MNIST from its Debian package', () => {
  it('loads the real files: 60,000 + 10,000 images, labels 0-9, pixels in [0, 1]; and a part of them', async () => {
    const d = await loadIdxDirectory('/usr/share/datasets/fashion-mnist');
    expect(d.xTrain.shape).toEqual([60000, 28, 28, 1]);
    expect(d.xTest.shape).toEqual([10000, 28, 28, 1]);
    expect(new Set(d.yTrain)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    let max = 0;
    for (const v of d.xTrain.data) max = Math.max(max, v);
    expect(max).toBe(1);
    const part = await loadIdxDirectory('/usr/share/datasets/fashion-mnist', { offset: 100, limit: 10 });
    expect(Array.from(part.xTrain.data)).toEqual(Array.from(d.xTrain.data.subarray(100 * 784, 110 * 784)));
    expect([...part.yTest]).toEqual([...d.yTest.subarray(100, 110)]);
  });
});

describe('mnist package digits', () => {
  it('a seeded, stratified, disjoint split of the shipped digits', async () => {
    const a = await mnistDigits({ train: 800, test: 200, seed: 1 });
    expect(a.xTrain.shape).toEqual([800, 28, 28, 1]);
    expect(a.xTest.shape).toEqual([200, 28, 28, 1]);
    const counts = (y: Int32Array): number[] => Array.from({ length: 10 }, (_, d) => y.filter((v) => v === d).length);
    // The package ships 863 to 1127 per digit; a stratified 2% sample keeps each within one of its share.
    const shipped = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
    counts(a.yTest).forEach((c, d) => expect(Math.abs(c - (200 * shipped[d]) / 10000)).toBeLessThanOrEqual(1));
    const b = await mnistDigits({ train: 800, test: 200, seed: 1 });
    expect([...b.yTrain]).toEqual([...a.yTrain]);
    const c = await mnistDigits({ train: 800, test: 200, seed: 2 });
    expect([...c.yTrain]).not.toEqual([...a.yTrain]);
    // Disjoint: no test image appears in the training set.
    const key = (x: Float32Array, i: number): string => x.subarray(i * 784, (i + 1) * 784).join(',');
    const train = new Set(Array.from({ length: 800 }, (_, i) => key(a.xTrain.data as Float32Array, i)));
    expect(Array.from({ length: 200 }, (_, i) => key(a.xTest.data as Float32Array, i)).filter((k) => train.has(k))).toEqual([]);
    await expect(mnistDigits({ train: 9000, test: 2000 })).rejects.toThrow(/train \+ test <= 10000/);
  });
});

describe('preprocessing', () => {
  it('normalize per sample and per dataset (reusing training statistics)', () => {
    const x = tensor([[1, 3], [5, 7]], undefined, 'float64').reshape([2, 1, 1, 2]);
    const s = normalize(x, { per: 'sample' });
    expect([...s.x.data]).toEqual([-1, 1, -1, 1]);
    const d = normalize(x, { per: 'dataset' });
    expect(d.mean).toEqual([3, 5]);
    expect(d.std).toEqual([2, 2]);
    expect([...d.x.data]).toEqual([-1, -1, 1, 1]);
    const t = normalize(tensor([[3, 9]], undefined, 'float64').reshape([1, 1, 1, 2]), { per: 'dataset', mean: d.mean, std: d.std });
    expect([...t.x.data]).toEqual([0, 2]);
    expect([...normalize(x, { per: 'dataset', scale: false }).x.data]).toEqual([-2, -2, 2, 2]);
  });

  it('oneHot, seeded shuffle and stratified trainTestSplit', () => {
    expect(oneHot([0, 2], 3).toArray()).toEqual([[1, 0, 0], [0, 0, 1]]);
    expect(() => oneHot([3], 3)).toThrow(/class id in \[0, 3\)/);
    const x = tensor(Array.from({ length: 20 }, (_, i) => i)).reshape([20, 1]);
    const y = Int32Array.from({ length: 20 }, (_, i) => (i < 15 ? 0 : 1));
    const s = shuffle(x, y, 4);
    expect([...s.x.data].sort((a, b) => a - b)).toEqual([...x.data]);
    expect([...(s.y as Int32Array)]).toEqual([...s.x.data].map((v) => (v < 15 ? 0 : 1)));
    expect([...shuffle(x, y, 4).x.data]).toEqual([...s.x.data]);
    const split = trainTestSplit(x, y, { testSize: 0.2, seed: 1, stratify: true });
    expect([...(split.yTest as Int32Array)].sort()).toEqual([0, 0, 0, 1]);
    expect(new Set([...split.xTrain.data, ...split.xTest.data]).size).toBe(20);
  });
});

describe('imageAugmenter', () => {
  const x = randomUniform([6, 5, 4, 2], { seed: 1 });

  it('is the identity with no ranges', () => {
    expect([...imageAugmenter().apply(x, new Rng(1)).data]).toEqual([...x.data]);
  });

  it('flips each image left-right or leaves it, with probability 1/2', () => {
    const out = imageAugmenter({ horizontalFlip: true }).apply(x, new Rng(3));
    let mirroredCount = 0;
    for (let s = 0; s < 6; s++) {
      let same = true;
      let mirrored = true;
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 4; j++) {
          for (let c = 0; c < 2; c++) {
            same &&= out.get(s, i, j, c) === x.get(s, i, j, c);
            mirrored &&= out.get(s, i, j, c) === x.get(s, i, 3 - j, c);
          }
        }
      }
      expect(same || mirrored).toBe(true);
      if (mirrored) mirroredCount++;
    }
    expect(mirroredCount).toBeGreaterThan(0);
    expect(mirroredCount).toBeLessThan(6);
  });

  it('shifts by the drawn offset with bilinear sampling and zero fill', () => {
    const img = randomUniform([1, 4, 6, 1], { seed: 2 });
    const out = imageAugmenter({ widthShiftRange: 2 }).apply(img, new Rng(5));
    const tx = new Rng(5).uniform(-1, 1) * 2; // the only draw: a shift in pixels
    const at = (i: number, j: number): number => (j >= 0 && j < 6 ? img.get(0, i, j, 0) : 0);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 6; j++) {
        const sx = j - tx;
        const j0 = Math.floor(sx);
        const want = (1 - (sx - j0)) * at(i, j0) + (sx - j0) * at(i, j0 + 1);
        expect(out.get(0, i, j, 0)).toBeCloseTo(want, 6);
      }
    }
  });

  it('rotates about the centre, counter-clockwise for positive angles', () => {
    const img = tensor(new Array(81).fill(0)).reshape([1, 9, 9, 1]);
    img.data[4 * 9 + 8] = 1; // 4 px right of the centre
    const out = imageAugmenter({ rotationRange: 80 }).apply(img, new Rng(11));
    const angle = new Rng(11).uniform(-80, 80) * (Math.PI / 180);
    let mass = 0;
    let cy = 0;
    let cx = 0;
    for (let i = 0; i < 9; i++) {
      for (let j = 0; j < 9; j++) {
        const v = out.get(0, i, j, 0);
        mass += v;
        cy += v * i;
        cx += v * j;
      }
    }
    expect(Math.abs(angle)).toBeGreaterThan(0.2);
    expect(cy / mass).toBeCloseTo(4 - 4 * Math.sin(angle), 0);
    expect(cx / mass).toBeCloseTo(4 + 4 * Math.cos(angle), 0);
  });

  it('draws from the generator it is given: same seed, same batch', () => {
    const aug = imageAugmenter({ rotationRange: 20, widthShiftRange: 0.2, heightShiftRange: 0.2, verticalFlip: true });
    const a = aug.apply(x, new Rng(9));
    expect([...aug.apply(x, new Rng(9)).data]).toEqual([...a.data]);
    expect([...aug.apply(x, new Rng(10)).data]).not.toEqual([...a.data]);
    expect(() => imageAugmenter({ rotationRange: -1 })).toThrow(/rotationRange >= 0/);
  });

  it('zooms each axis about the centre: above 1 samples a wider region (zooms out)', () => {
    const img = tensor(new Array(81).fill(0)).reshape([1, 9, 9, 1]);
    img.data[4 * 9 + 6] = 1; // 2 px right of the centre
    const out = imageAugmenter({ zoomRange: [2, 2] }).apply(img, new Rng(1));
    // output column j reads source column 4 + 2 (j - 4): the dot lands 1 px right of the centre
    expect(out.get(0, 4, 5, 0)).toBeCloseTo(1, 6);
    expect([...out.data].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('shears: a vertical line through the centre stays, a horizontal one tilts', () => {
    const img = tensor(new Array(81).fill(0)).reshape([1, 9, 9, 1]);
    for (let i = 0; i < 9; i++) img.data[i * 9 + 4] = 1; // the centre column
    const out = imageAugmenter({ shearRange: 30 }).apply(img, new Rng(4));
    // column 4 maps to source column 4 (ox = 0 stays 0 under the shear): the centre column is unchanged
    for (let i = 0; i < 9; i++) expect(out.get(0, i, 4, 0)).toBeCloseTo(1, 6);
  });

  it('scales brightness by a factor drawn per image', () => {
    const out = imageAugmenter({ brightnessRange: [0.5, 1.5] }).apply(x, new Rng(2));
    for (let s = 0; s < 6; s++) {
      const f = out.get(s, 0, 0, 0) / x.get(s, 0, 0, 0);
      expect(f).toBeGreaterThanOrEqual(0.5);
      expect(f).toBeLessThanOrEqual(1.5);
      for (let k = 0; k < 40; k++) expect(out.data[s * 40 + k]).toBeCloseTo(x.data[s * 40 + k] * f, 5);
    }
  });

  it('standardizes featurewise with statistics from fit, and refuses unknown options', () => {
    const aug = imageAugmenter({ featurewiseCenter: true, featurewiseStdNormalization: true });
    expect(() => aug.apply(x, new Rng(1))).toThrow(/call fit\(x\) with the training images first/);
    const z = aug.fit(x).apply(x, new Rng(1));
    for (let c = 0; c < 2; c++) {
      const vals = [...z.data].filter((_, i) => i % 2 === c);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
      expect(mean).toBeCloseTo(0, 5);
      expect(sd).toBeCloseTo(1, 4);
    }
    expect([...aug.standardize(x).data]).toEqual([...z.data]);
    expect(() => imageAugmenter({ rotation_range: 10 } as never)).toThrow(/imageAugmenter: expected options from rotationRange.*received 'rotation_range'/);
    expect(() => imageAugmenter({ zoomRange: [1.2, 0.8] })).toThrow(/zoomRange as \[lo, hi\]/);
  });
});
