import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getBackend, setBackend } from '../../src/backend/index.js';
import * as layers from '../../src/layers/index.js';
import { loadModel } from '../../src/model/io.js';
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
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
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

  it('refuses a truncated weights.bin', async () => {
    await smallModel().save(dir);
    const w = await readFile(join(dir, 'weights.bin'));
    await writeFile(join(dir, 'weights.bin'), w.subarray(0, w.length - 10));
    await expect(loadModel(dir)).rejects.toThrow(/weights.bin is truncated: \d+ bytes, expected \d+/);
  });

  it('refuses a corrupt weights.bin (one flipped bit)', async () => {
    await smallModel().save(dir);
    const w = await readFile(join(dir, 'weights.bin'));
    w[17] ^= 0x04;
    await writeFile(join(dir, 'weights.bin'), w);
    await expect(loadModel(dir)).rejects.toThrow(/weights.bin is corrupt/);
  });

  it('refuses a truncated or non-JSON model.json, and a missing directory', async () => {
    await smallModel().save(dir);
    const text = await readFile(join(dir, 'model.json'), 'utf8');
    await writeFile(join(dir, 'model.json'), text.slice(0, text.length / 2));
    await expect(loadModel(dir)).rejects.toThrow(/model.json is not valid JSON .*corrupt or truncated/);
    await writeFile(join(dir, 'model.json'), '{"format": "keras"}');
    await expect(loadModel(dir)).rejects.toThrow(/not a convkit model/);
    await expect(loadModel(join(dir, 'nope'))).rejects.toThrow(/cannot read model.json/);
  });

  it('refuses weights that do not match the layers, naming the weight and both shapes', async () => {
    await smallModel().save(dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.modelConfig.layers[5].config.units = 4;
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toThrow(/weights entry 'dense_\d+\/kernel' has shape \[64, 3\] but the layer expects \[64, 4\]/);
    json.modelConfig.layers[5].config.units = 3;
    json.modelConfig.layers[0].className = 'Conv9D';
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toThrow(/cannot be built: .*known layer className/);
  });

  it('refuses a weights.bin from another model', async () => {
    await smallModel().save(dir);
    const other = join(dir, 'other');
    const big = sequential([layers.dense({ units: 50, inputShape: [50] })]);
    await big.save(other);
    await writeFile(join(dir, 'weights.bin'), await readFile(join(other, 'weights.bin')));
    await expect(loadModel(dir)).rejects.toThrow(/belongs to another model.json/);
  });

  it('leaves no half-written file when a write fails part-way: the previous save stays loadable', async () => {
    const a = smallModel(1);
    await a.save(dir);
    const before = await a.predict(x);
    const b = smallModel(2);
    faults.failWrite = true;
    await expect(b.save(dir)).rejects.toThrow(/ENOSPC/);
    faults.failWrite = false;
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
    expect(bits([await (await loadModel(dir)).predict(x)])).toEqual(bits([before]));
  });

  it('a crash between the two renames is detected at load, never loaded silently', async () => {
    await smallModel(1).save(dir);
    faults.failRenameOf = 'model.json';
    await expect(smallModel(2).save(dir)).rejects.toThrow(/simulated crash/);
    faults.failRenameOf = '';
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
    await expect(loadModel(dir)).rejects.toThrow(/weights.bin is corrupt or from another save/);
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
