import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/index.js';

/** An IDX header: two zero bytes, the type, the rank, then big-endian dimensions. */
function header(type: number, shape: number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * shape.length);
  b[2] = type;
  b[3] = shape.length;
  shape.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  return b;
}

/** Runs the CLI in-process and captures what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('convkit CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convkit-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints help for the tool and for each command', async () => {
    expect((await cli('--help')).out).toMatch(/Commands:\n {2}train .*\n {2}evaluate .*\n {2}predict .*\n {2}summary/);
    for (const command of ['train', 'evaluate', 'predict', 'summary', 'convert', 'visualize', 'report']) {
      const r = await cli(command, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^Usage: convkit ${command}`));
    }
    const bad = await cli('fly');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown command 'fly'/);
  });

  it('trains, then summarizes, evaluates and predicts with the saved model', async () => {
    const out = join(dir, 'digits');
    const trained = await cli('train', '--train', '300', '--test', '100', '--epochs', '1', '--verbose', '0', '--out', out);
    expect(trained.code).toBe(0);
    expect(trained.out).toMatch(/test accuracy \d+\.\d\d% .* on 100 images; trained in [\d.]+ s; saved to /);
    expect((await cli('summary', out)).out).toMatch(/Total params: 61,706/);
    const evaluated = await cli('evaluate', out, '--train', '300', '--test', '100');
    expect(evaluated.out).toMatch(/^loss: \d+\.\d{4} {2}accuracy: \d\.\d{4}$/);
    const predicted = await cli('predict', out, '--limit', '3', '--train', '300', '--test', '100');
    expect(predicted.out.split('\n')).toHaveLength(3);
    expect(predicted.out).toMatch(/^0\t\d\t[01]\.\d{4}\n1\t/);

    // converted to TF.js's format and to ONNX; summary and predict read the TF.js model as they read convkit's
    const tfjsDir = join(dir, 'digits-tfjs');
    expect((await cli('convert', out, tfjsDir, '--to', 'tfjs')).code).toBe(0);
    expect((await cli('summary', join(tfjsDir, 'model.json'))).out).toMatch(/Total params: 61,706/);
    const again = await cli('predict', tfjsDir, '--limit', '3', '--train', '300', '--test', '100');
    expect(again.out.split('\n').map((l) => l.split('\t')[1])).toEqual(predicted.out.split('\n').map((l) => l.split('\t')[1]));
    const onnxFile = join(dir, 'digits.onnx');
    const converted = await cli('convert', tfjsDir, onnxFile);
    expect(converted.out).toMatch(/-> .*digits\.onnx \(onnx\)/);
    expect((await stat(onnxFile)).size).toBeGreaterThan(4 * 61_706);
    expect((await cli('convert', out, join(dir, 'x'), '--to', 'keras')).err).toMatch(/expected --to convkit, tfjs or onnx but received 'keras'/);

    // pictures and the report
    const layer = (await cli('summary', out)).out.match(/(conv2d_\d+) \(Conv2D\)/)![1];
    expect((await cli('visualize', out, '--layer', layer, '--out', join(dir, 'f.png'))).out).toMatch(/f\.png: \d+x\d+/);
    expect((await cli('visualize', out, '--layer', layer, '--maps', '--index', '2', '--out', join(dir, 'm.png'), '--train', '300', '--test', '100')).code).toBe(0);
    expect((await stat(join(dir, 'm.png'))).size).toBeGreaterThan(100);
    expect((await cli('report', out, '--out', join(dir, 'r.html'), '--train', '300', '--test', '100', '--samples', '1')).code).toBe(0);
    expect(await readFile(join(dir, 'r.html'), 'utf8')).toContain('<h2>Test results</h2>');
  });

  it('trains on an IDX directory (--data) and evaluates on its test split', async () => {
    const data = join(dir, 'idx');
    await mkdir(data);
    // 12×12 images whose class (0..2) is the row band that is lit.
    const images = (n: number): Buffer => {
      const px = Buffer.alloc(n * 144);
      for (let s = 0; s < n; s++) for (let i = 0; i < 4; i++) for (let j = 0; j < 12; j++) px[s * 144 + ((s % 3) * 4 + i) * 12 + j] = 255;
      return Buffer.concat([header(0x08, [n, 12, 12]), px]);
    };
    const labels = (n: number): Buffer => Buffer.concat([header(0x08, [n]), Buffer.from(Array.from({ length: n }, (_, s) => s % 3))]);
    await writeFile(join(data, 'train-images-idx3-ubyte.gz'), gzipSync(images(60)));
    await writeFile(join(data, 'train-labels-idx1-ubyte.gz'), gzipSync(labels(60)));
    await writeFile(join(data, 't10k-images-idx3-ubyte'), images(12));
    await writeFile(join(data, 't10k-labels-idx1-ubyte'), labels(12));
    const out = join(dir, 'bands');
    const r = await cli('train', '--data', data, '--epochs', '4', '--batch-size', '10', '--no-augment', '--verbose', '0', '--out', out);
    expect(r.code).toBe(0);
    expect((await cli('summary', out)).out).toMatch(/dense_\d+ \(Dense\) +\[null, 3\]/);
    expect((await cli('evaluate', out, '--data', data)).out).toMatch(/accuracy: 1\.0000/);
  });

  it('reports bad input as a message and status 1', async () => {
    const r = await cli('train', '--epochs', 'many');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/expected --epochs to be a non-negative integer but received 'many'/);
    const missing = await cli('summary', join(dir, 'nothing-here'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/loadModel: model.json: cannot read it/);
    expect((await cli('train', '--arch', 'alexnet', '--train', '10', '--test', '10')).err).toMatch(/architecture: expected one of lenet5, tutorial, resnet but received '?alexnet'?/);
  });
});
