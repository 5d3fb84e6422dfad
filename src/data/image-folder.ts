/**
 * A directory of images, one sub-folder per class (Keras's image_dataset_from_directory layout): loaded whole
 * (imageFolder) or streamed in shuffled batches for fitDataset (imageFolderBatches). PNG is decoded with pngjs,
 * JPEG with jpeg-js (both pure JavaScript); each image is resized to `size` with TF's half-pixel bilinear
 * sampling and scaled to [0, 1], in RGB or gray (ITU-R 601 luma).
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ConvkitError, describe } from '../errors.js';
import type { Batch } from '../model/training.js';
import { Rng } from '../random.js';
import { Tensor } from '../tensor.js';

export interface ImageFolderOptions {
  /** Every image is resized to [height, width]. */
  size: [number, number];
  /** 3 (RGB, default) or 1 (gray). */
  channels?: 1 | 3;
  /** The class sub-folders, in class-id order (default: every sub-folder, sorted). */
  classNames?: string[];
}

const IMAGE = new Set(['.png', '.jpg', '.jpeg']);
/** Larger images are refused before decoding (jpeg-js's own guard is set to the same). */
const MAX_MEGAPIXELS = 100;

function fail(what: string): never {
  throw new ConvkitError(`imageFolder: ${what}`, 'imageFolder');
}

function checkOptions(opts: ImageFolderOptions): { size: [number, number]; channels: 1 | 3 } {
  const size = opts?.size;
  if (!Array.isArray(size) || size.length !== 2 || size.some((d) => !Number.isInteger(d) || d < 1)) fail(`expected size as [height, width] but received ${describe(size)}`);
  const channels = opts.channels ?? 3;
  if (channels !== 1 && channels !== 3) fail(`expected channels 1 or 3 but received ${describe(channels)}`);
  return { size, channels };
}

/** The (file, class id) pairs of a class-per-folder directory, files sorted within each class. */
async function listing(dir: string, classNames?: string[]): Promise<{ files: string[]; labels: number[]; classNames: string[] }> {
  let names = classNames;
  if (!names) {
    try {
      names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (e) {
      return fail(`cannot read ${dir}: ${(e as Error).message}`);
    }
  }
  if (names.length === 0) fail(`${dir} has no class sub-folders`);
  const files: string[] = [];
  const labels: number[] = [];
  for (const [k, name] of names.entries()) {
    let entries: string[];
    try {
      entries = (await readdir(join(dir, name))).filter((f) => IMAGE.has(extname(f).toLowerCase())).sort();
    } catch (e) {
      return fail(`cannot read the class folder ${join(dir, name)}: ${(e as Error).message}`);
    }
    for (const f of entries) {
      files.push(join(dir, name, f));
      labels.push(k);
    }
  }
  if (files.length === 0) fail(`no .png or .jpg images in the class folders of ${dir}`);
  return { files, labels, classNames: names };
}

/** RGBA bytes of a PNG or JPEG file. */
function decodeImage(file: string, bytes: Buffer): { width: number; height: number; rgba: Uint8Array } {
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50) {
      const png = PNG.sync.read(bytes);
      if (png.width * png.height > MAX_MEGAPIXELS * 1e6) fail(`${file}: ${png.width}x${png.height} is larger than ${MAX_MEGAPIXELS} megapixels`);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, rgba: img.data };
    }
  } catch (e) {
    if (e instanceof ConvkitError) throw e;
    return fail(`${file}: not a readable image (${(e as Error).message})`);
  }
  return fail(`${file}: neither a PNG nor a JPEG file`);
}

/** One image into out (h × w × channels floats in [0, 1]), resized with half-pixel bilinear sampling. */
function resizeInto(img: { width: number; height: number; rgba: Uint8Array }, [h, w]: [number, number], channels: 1 | 3, out: Float32Array): void {
  const sample = (o: number, outSize: number, inSize: number): [number, number, number] => {
    const at = Math.min(Math.max(((o + 0.5) * inSize) / outSize - 0.5, 0), inSize - 1);
    const lo = Math.floor(at);
    return [lo, Math.min(lo + 1, inSize - 1), at - lo];
  };
  const px = (y: number, x: number, c: number): number => img.rgba[(y * img.width + x) * 4 + c];
  for (let oy = 0; oy < h; oy++) {
    const [y0, y1, fy] = sample(oy, h, img.height);
    for (let ox = 0; ox < w; ox++) {
      const [x0, x1, fx] = sample(ox, w, img.width);
      const rgb = [0, 1, 2].map((c) => (px(y0, x0, c) * (1 - fx) + px(y0, x1, c) * fx) * (1 - fy) + (px(y1, x0, c) * (1 - fx) + px(y1, x1, c) * fx) * fy);
      const at = (oy * w + ox) * channels;
      if (channels === 3) for (let c = 0; c < 3; c++) out[at + c] = rgb[c] / 255;
      else out[at] = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255;
    }
  }
}

/** The images of `files` as one [N, h, w, channels] tensor. */
async function decodeAll(files: string[], size: [number, number], channels: 1 | 3): Promise<Tensor> {
  const per = size[0] * size[1] * channels;
  const x = new Float32Array(files.length * per);
  for (const [i, file] of files.entries()) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      return fail(`cannot read ${file}: ${(e as Error).message}`);
    }
    resizeInto(decodeImage(file, bytes), size, channels, x.subarray(i * per, (i + 1) * per));
  }
  return new Tensor(x, [files.length, ...size, channels]);
}

/**
 * One PNG or JPEG file as a [height, width, channels] tensor in [0, 1], resized to `size`.
 * @example const x = await data.readImage('cat.jpg', { size: [96, 96] })
 * @throws ConvkitError naming the file when it cannot be read or decoded.
 */
export async function readImage(file: string, opts: Omit<ImageFolderOptions, 'classNames'>): Promise<Tensor> {
  const { size, channels } = checkOptions(opts as ImageFolderOptions);
  const x = await decodeAll([file], size, channels);
  return x.reshape(x.shape.slice(1));
}

/**
 * Every image of a class-per-folder directory, in memory: x [N, height, width, channels] in [0, 1], y the class
 * ids (the sub-folders in sorted order, or `classNames`' order).
 * @example const { x, y, classNames } = await data.imageFolder('photos/train', { size: [64, 64] })
 * @throws ConvkitError naming the folder or the file that cannot be read or decoded.
 */
export async function imageFolder(dir: string, opts: ImageFolderOptions): Promise<{ x: Tensor; y: Int32Array; classNames: string[]; files: string[] }> {
  const { size, channels } = checkOptions(opts);
  const { files, labels, classNames } = await listing(dir, opts.classNames);
  return { x: await decodeAll(files, size, channels), y: Int32Array.from(labels), classNames, files };
}

export interface ImageFolderBatchesOptions extends ImageFolderOptions {
  /** Default 32. */
  batchSize?: number;
  /** Reshuffle the files at every pass (seeded by `seed` and the pass). Default true. */
  shuffle?: boolean;
  seed?: number;
}

/**
 * A class-per-folder directory as an async iterable of { x, y } batches for model.fitDataset: each pass lists
 * the files, shuffles them, and decodes one batch at a time, so only a batch of images is ever in memory.
 * @example await model.fitDataset(data.imageFolderBatches('photos/train', { size: [96, 96], batchSize: 32 }), { epochs: 5 })
 */
export function imageFolderBatches(dir: string, opts: ImageFolderBatchesOptions): AsyncIterable<Batch> {
  const { size, channels } = checkOptions(opts);
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) fail(`expected batchSize to be a positive integer but received ${describe(batchSize)}`);
  let pass = 0;
  return {
    async *[Symbol.asyncIterator]() {
      const { files, labels } = await listing(dir, opts.classNames);
      const order = Int32Array.from(files, (_, i) => i);
      if (opts.shuffle ?? true) new Rng(((opts.seed ?? 1) * 1_000_003 + pass) >>> 0).shuffle(order);
      pass++;
      for (let start = 0; start < order.length; start += batchSize) {
        const idx = Array.from(order.subarray(start, start + batchSize));
        yield { x: await decodeAll(idx.map((i) => files[i]), size, channels), y: Int32Array.from(idx, (i) => labels[i]) };
      }
    },
  };
}
