import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getBackend, setBackend } from '../../src/backend/index.js';
import * as layers from '../../src/layers/index.js';
import { loadModel } from '../../src/io/load.js';
import { modelJsonText } from '../../src/io/model-dir.js';
import { sequential, type Sequential } from '../../src/model/sequential.js';
import * as optimizers from '../../src/optimizers/index.js';
import * as losses from '../../src/losses/index.js';
import { imageAugmenter } from '../../src/data/augment.js';
import { randomNormal, randomUniform, type Tensor } from '../../src/tensor.js';

// Lets a test make file writes or renames fail part-way, as a full disk or a crash would.
const faults = vi.hoisted(() => ({ failWrite: false, failRenameOf: '' }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    open: async (...args: Parameters<typeof fs.open>) => {
      const fh = await fs.open(...args);
      if (!faults.failWrite) return fh;
      return new Proxy(fh, {
        get(target, key) {
          if (key === 'writeFile') {
            return async (data: Uint8Array) => {
              await target.write(data.subarray(0, data.length >> 1));
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            };
          }
          const v = Reflect.get(target, key) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
    rename: async (from: string, to: string) => {
      if (faults.failRenameOf && to.endsWith(faults.failRenameOf)) throw new Error(`simulated crash before renaming ${to}`);
      return fs.rename(from, to);
    },
  };
});

function smallModel(seed = 1): Sequential {
  const model = sequential(
    [
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 1] }),
      layers.batchNormalization(),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dropout({ rate: 0.3 }),
      layers.dense({ units: 3 }),
    ],
    { seed },
  );
  model.compile({ optimizer: optimizers.adam({ learningRate: 0.01 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  return model;
}

const x = randomUniform([40, 8, 8, 1], { seed: 3 });
const y = Int32Array.from({ length: 40 }, (_, i) => (i * 7) % 3);
const bits = (ts: Tensor[]): number[][] => ts.map((t) => [...new Uint32Array(Float32Array.from(t.data).buffer)]);

/** The directory's files, the weights file's random id replaced by <id>. */
const files = async (d: string) => (await readdir(d)).map((f) => f.replace(/^weights-[0-9a-f]{16}\.bin$/, 'weights-<id>.bin')).sort();
const weightsPath = async (d: string) => join(d, (await readdir(d)).find((f) => f.startsWith('weights'))!);
/** Edits model.json and writes it back with a valid checksum, as a careful forger would. */
async function editModelJson(d: string, edit: (json: Record<string, any>) => void): Promise<void> {
  const json = JSON.parse(await readFile(join(d, 'model.json'), 'utf8'));
  edit(json);
  await writeFile(join(d, 'model.json'), modelJsonText(json));
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convkit-save-'));
  faults.failWrite = false;
  faults.failRenameOf = '';
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('save and load', () => {
  it('save -> load -> predict gives identical outputs, weights and training state', async () => {
    const model = smallModel();
    await model.fit(x, y, { batchSize: 8, epochs: 1, verbose: 0 });
    await model.save(dir);
    expect(await files(dir)).toEqual(['model.json', 'weights-<id>.bin']);
    const again = await loadModel(dir);
    expect(bits(again.getWeights())).toEqual(bits(model.getWeights()));
    expect(bits([await again.predict(x)])).toEqual(bits([await model.predict(x)]));
    expect(again.getConfig()).toEqual(model.getConfig());
    expect(again.getTrainingConfig()).toEqual(model.getTrainingConfig());
    expect(again.optimizer!.iterations).toBe(5);
    expect(again.epochsTrained).toBe(1);
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')).weights;
    expect(manifest.entries[0]).toEqual({ name: model.params()[0].name, shape: [3, 3, 1, 4], offset: 0 });
    expect(manifest.entries.some((e: { name: string }) => e.name.startsWith('optimizer/'))).toBe(true);
  });

  it('resuming from a checkpoint continues exactly: 2 epochs == 1 epoch, save, load, 1 more', async () => {
    const opts = { batchSize: 8, verbose: 0 as const, augment: imageAugmenter({ rotationRange: 10, widthShiftRange: 0.1 }) };
    const straight = smallModel();
    await straight.fit(x, y, { ...opts, epochs: 2 });
    const first = smallModel();
    await first.fit(x, y, { ...opts, epochs: 1 });
    await first.save(dir);
    const resumed = await loadModel(dir);
    await resumed.fit(x, y, { ...opts, epochs: 1 });
    expect(resumed.epochsTrained).toBe(2);
    expect(bits(resumed.getWeights())).toEqual(bits(straight.getWeights()));
    // And the check has teeth: one epoch fewer is different.
    expect(bits(first.getWeights())).not.toEqual(bits(straight.getWeights()));
  });

  it('refuses a truncated weights file', async () => {
    await smallModel().save(dir);
    const path = await weightsPath(dir);
    const w = await readFile(path);
    await writeFile(path, w.subarray(0, w.length - 10));
    await expect(loadModel(dir)).rejects.toThrow(/loadModel: weights-[0-9a-f]+\.bin: cannot read it: it has \d+ bytes where model.json says \d+: it is truncated/);
  });

  it('refuses a corrupt weights file (one flipped bit)', async () => {
    await smallModel().save(dir);
    const path = await weightsPath(dir);
    const w = await readFile(path);
    w[17] ^= 0x04;
    await writeFile(path, w);
    await expect(loadModel(dir)).rejects.toThrow(/weights-[0-9a-f]+\.bin: its CRC-32 does not match/);
  });

  it('refuses a truncated, edited or non-JSON model.json, and a missing directory', async () => {
    await smallModel().save(dir);
    const text = await readFile(join(dir, 'model.json'), 'utf8');
    await writeFile(join(dir, 'model.json'), text.slice(0, text.length / 2));
    await expect(loadModel(dir)).rejects.toThrow(/loadModel: model.json: not valid JSON \(\d+ bytes\); the file is corrupt or truncated/);
    await writeFile(join(dir, 'model.json'), text.replace('"epochsTrained": 0', '"epochsTrained": 1'));
    await expect(loadModel(dir)).rejects.toThrow(/model.json: its checksum does not match its content/);
    await writeFile(join(dir, 'model.json'), '{"format": "keras"}');
    await expect(loadModel(dir)).rejects.toThrow(/not a convkit model/);
    await expect(loadModel(join(dir, 'nope'))).rejects.toThrow(/loadModel: model.json: cannot read it: cannot open it: ENOENT/);
  });

  it('refuses weights that do not match the layers, naming the weight and both shapes', async () => {
    await smallModel().save(dir);
    await editModelJson(dir, (json) => (json.modelConfig.layers[5].config.units = 4));
    await expect(loadModel(dir)).rejects.toThrow(/the weight 'dense_\d+\/kernel' has shape \[64, 3\] but the layer needs \[64, 4\]/);
    await editModelJson(dir, (json) => {
      json.modelConfig.layers[5].config.units = 3;
      json.modelConfig.layers[0].className = 'Conv9D';
    });
    await expect(loadModel(dir)).rejects.toThrow(/cannot be built: .*known layer className/);
  });

  it('refuses a weights file from another model', async () => {
    await smallModel().save(dir);
    const other = join(dir, 'other');
    const big = sequential([layers.dense({ units: 50, inputShape: [50] })]);
    await big.save(other);
    await writeFile(await weightsPath(dir), await readFile(await weightsPath(other)));
    await expect(loadModel(dir)).rejects.toThrow(/it belongs to another model.json/);
  });

  it('leaves no half-written file when a write fails part-way: the previous save stays loadable', async () => {
    const a = smallModel(1);
    await a.save(dir);
    const before = await a.predict(x);
    const b = smallModel(2);
    faults.failWrite = true;
    await expect(b.save(dir)).rejects.toThrow(/ENOSPC/);
    faults.failWrite = false;
    expect(await files(dir)).toEqual(['model.json', 'weights-<id>.bin']);
    expect(bits([await (await loadModel(dir)).predict(x)])).toEqual(bits([before]));
  });

  it('a save that fails before model.json is replaced leaves the previous model, and its leftovers are removed', async () => {
    const a = smallModel(1);
    await a.save(dir);
    const before = await a.predict(x);
    faults.failRenameOf = 'model.json';
    await expect(smallModel(2).save(dir)).rejects.toThrow(/simulated crash/);
    faults.failRenameOf = '';
    expect(await files(dir)).toEqual(['model.json', 'weights-<id>.bin']);
    expect(bits([await (await loadModel(dir)).predict(x)])).toEqual(bits([before]));
  });

  it('still loads the format version 1 directories earlier convkit wrote (weights.bin, no checksum)', async () => {
    const m = smallModel(3);
    await m.fit(x, y, { batchSize: 8, epochs: 1, verbose: 0 });
    await m.save(dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    delete json.checksum;
    json.formatVersion = 1;
    const { rename } = await import('node:fs/promises');
    await rename(await weightsPath(dir), join(dir, 'weights.bin'));
    json.weights.file = 'weights.bin';
    await writeFile(join(dir, 'model.json'), JSON.stringify(json, null, 2));
    const again = await loadModel(dir);
    expect(bits(again.getWeights())).toEqual(bits(m.getWeights()));
    expect(again.optimizer!.iterations).toBe(5);
    // saving over it moves it to the current format and removes weights.bin
    await again.save(dir);
    expect(await files(dir)).toEqual(['model.json', 'weights-<id>.bin']);
  });

  it('an uncompiled float64 model loads as float64 with its weights rounded to float32 (the file format)', async () => {
    const m = sequential([layers.dense({ units: 2, inputShape: [3] })], { dtype: 'float64', seed: 4 });
    await m.save(dir);
    const again = await loadModel(dir);
    expect(again.dtype).toBe('float64');
    expect(again.optimizer).toBeUndefined();
    expect(again.getWeights().map((w) => [...w.data])).toEqual(m.getWeights().map((w) => [...w.data].map(Math.fround)));
    const previous = getBackend();
    setBackend('reference'); // native is float32-only
    try {
      expect((await again.forward(randomNormal([2, 3], { seed: 1, dtype: 'float64' }))).dtype).toBe('float64');
    } finally {
      setBackend(previous);
    }
  });
});
