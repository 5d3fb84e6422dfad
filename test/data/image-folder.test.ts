// A class-per-folder directory of PNG and JPEG files: decoded values, resizing, gray conversion, errors naming
// the file; streamed batches through fitDataset, which trains as fit does (the same batches give the same bits).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { data, layers, losses, optimizers, sequential, Tensor } from '../../src/index.js';

function png(w: number, h: number, rgb: (x: number, y: number) => [number, number, number]): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) p.data.set([...rgb(x, y), 255], (y * w + x) * 4);
  return PNG.sync.write(p);
}

describe('imageFolder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convkit-images-'));
    await mkdir(join(dir, 'cats'));
    await mkdir(join(dir, 'dogs'));
    // cats: 4x4 PNGs, left half red, right half blue; dogs: a uniform gray JPEG, and a PNG
    await writeFile(join(dir, 'cats', 'a.png'), png(4, 4, (x) => (x < 2 ? [255, 0, 0] : [0, 0, 255])));
    await writeFile(join(dir, 'cats', 'b.png'), png(4, 4, (x) => (x < 2 ? [255, 0, 0] : [0, 0, 255])));
    const gray = new Uint8Array(8 * 8 * 4).fill(128);
    await writeFile(join(dir, 'dogs', 'c.jpg'), jpeg.encode({ width: 8, height: 8, data: gray }, 100).data);
    await writeFile(join(dir, 'dogs', 'd.png'), png(2, 2, () => [10, 20, 30]));
    await writeFile(join(dir, 'dogs', 'notes.txt'), 'not an image');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('decodes PNG and JPEG, resizes with half-pixel bilinear sampling, labels by sorted folder', async () => {
    const { x, y, classNames, files } = await data.imageFolder(dir, { size: [2, 2] });
    expect(classNames).toEqual(['cats', 'dogs']);
    expect(Array.from(y)).toEqual([0, 0, 1, 1]);
    expect(files.map((f) => f.split('/').at(-1))).toEqual(['a.png', 'b.png', 'c.jpg', 'd.png']);
    expect(x.shape).toEqual([4, 2, 2, 3]);
    // 4 -> 2 columns: each output samples between input columns 0.5 (red half) and 2.5 (blue half)
    expect(Array.from(x.data.subarray(0, 6))).toEqual([1, 0, 0, 0, 0, 1]);
    const jpegPixel = x.data[2 * 12];
    expect(Math.abs(jpegPixel - 128 / 255)).toBeLessThan(2 / 255);
    expect(Array.from(x.data.subarray(3 * 12, 3 * 12 + 3)).map((v) => Math.round(v * 255))).toEqual([10, 20, 30]);
    const g = await data.imageFolder(dir, { size: [1, 1], channels: 1, classNames: ['dogs'] });
    expect(g.x.shape).toEqual([2, 1, 1, 1]);
    expect(g.x.data[1]).toBeCloseTo((0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255, 6);
  });

  it('refuses a file it cannot decode, naming it, and bad options', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'convkit-images-bad-'));
    await mkdir(join(bad, 'x'));
    await writeFile(join(bad, 'x', 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    await expect(data.imageFolder(bad, { size: [2, 2] })).rejects.toThrow(/imageFolder: .*broken\.png: not a readable image/);
    await expect(data.imageFolder(bad, { size: [2] as never })).rejects.toThrow(/expected size as \[height, width\]/);
    await expect(data.imageFolder(join(bad, 'none'), { size: [2, 2] })).rejects.toThrow(/cannot read/);
    await rm(bad, { recursive: true, force: true });
  });

  it('streams shuffled batches (every file once per pass) that fitDataset trains on', async () => {
    const stream = data.imageFolderBatches(dir, { size: [4, 4], batchSize: 3, seed: 2 });
    const seen: number[] = [];
    for await (const b of stream) seen.push(...Array.from(b.y as Int32Array));
    expect(seen.sort()).toEqual([0, 0, 1, 1]);
    const m = sequential([layers.flatten({ inputShape: [4, 4, 3] }), layers.dense({ units: 2 })], { seed: 1 });
    m.compile({ optimizer: optimizers.adam({ learningRate: 0.05 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const h = await m.fitDataset(stream, { epochs: 15, verbose: 0 });
    expect(h.history.loss.at(-1)!).toBeLessThan(0.3 * h.history.loss[0]);
  });
});

describe('fitDataset', () => {
  const x = new Tensor(Float32Array.from({ length: 40 * 5 }, (_, i) => Math.sin(i)), [40, 5]);
  const y = Int32Array.from({ length: 40 }, (_, i) => i % 3);
  const net = () => {
    const m = sequential([layers.dense({ units: 6, activation: 'tanh', inputShape: [5] }), layers.dense({ units: 3 })], { seed: 4 });
    m.compile({ optimizer: optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    return m;
  };
  const batches = (size: number) => ({
    async *[Symbol.asyncIterator]() {
      for (let s = 0; s < 40; s += size) yield { x: x.slice(s, Math.min(40, s + size)), y: y.subarray(s, Math.min(40, s + size)) };
    },
  });

  it('the same batches in the same order give fit\'s weights and logs bit for bit', async () => {
    const a = net();
    const ha = await a.fit(x, y, { batchSize: 8, epochs: 3, shuffle: false, verbose: 0 });
    const b = net();
    const hb = await b.fitDataset(batches(8), { epochs: 3, verbose: 0 });
    expect(hb.history).toEqual(ha.history);
    expect(b.getWeights().map((w) => Array.from(w.data))).toEqual(a.getWeights().map((w) => Array.from(w.data)));
  });

  it('batchesPerEpoch continues one iteration across epochs; a short dataset or a bad batch is an error', async () => {
    const endless = {
      async *[Symbol.asyncIterator]() {
        for (let s = 0; ; s = (s + 10) % 40) yield { x: x.slice(s, s + 10), y: y.subarray(s, s + 10) };
      },
    };
    const h = await net().fitDataset(endless, { epochs: 3, batchesPerEpoch: 2, verbose: 0 });
    expect(h.epoch).toEqual([0, 1, 2]);
    await expect(net().fitDataset(batches(10), { epochs: 1, batchesPerEpoch: 5, verbose: 0 })).rejects.toThrow(/fitDataset: expected 5 batches per epoch but received a dataset that ended after 4/);
    const wrong = { async *[Symbol.asyncIterator]() { yield { x: new Tensor(new Float32Array(8), [2, 4]), y: [0, 1] }; } };
    await expect(net().fitDataset(wrong, { verbose: 0 })).rejects.toThrow(/fitDataset \(batch 0 of epoch 0\)/);
    await expect(net().fitDataset([] as never, { verbose: 0 })).rejects.toThrow(/an async iterable of \{ x, y \} batches/);
  });
});
