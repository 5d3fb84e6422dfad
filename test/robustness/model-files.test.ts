// Model directories under crashes, concurrency and forgery: a save killed at any moment leaves the old model
// or the new one, concurrent saves serialize, leftovers are cleaned; loading refuses manifests that alias or
// duplicate tensors, non-finite weights, names that are Object.prototype's, counters that break fit, bad
// hyperparameters and files that are not regular files, allocating nothing the files cannot back.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { architectures, ConvkitError, layers, losses, optimizers, randomUniform, sequential, type Tensor } from '../../src/index.js';
import { loadModel } from '../../src/io/load.js';
import { modelJsonText } from '../../src/io/model-dir.js';
import { onBestIsaRun } from '../helpers/backends.js';

const saver = fileURLToPath(new URL('../helpers/model-files/saver.mjs', import.meta.url));
const x = randomUniform([2, 28, 28, 1], { seed: 9 });
const bits = (t: Tensor): number[] => [...new Uint32Array(Float32Array.from(t.data).buffer)];

type Json = Record<string, any>;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convkit-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const weightsName = async (d: string) => (await readdir(d)).find((f) => /^weights-[0-9a-f]+\.bin$/.test(f))!;
async function edit(d: string, fn: (json: Json) => void): Promise<void> {
  const json = JSON.parse(await readFile(join(d, 'model.json'), 'utf8'));
  fn(json);
  await writeFile(join(d, 'model.json'), modelJsonText(json));
}
const trained = async () => {
  const m = sequential([layers.dense({ units: 4, inputShape: [3], name: 'a' }), layers.dense({ units: 2, name: 'b' })], { seed: 1 });
  m.compile({ optimizer: optimizers.adam({ learningRate: 0.01 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
  await m.trainOnBatch(randomUniform([4, 3], { seed: 2 }), [0, 1, 1, 0]);
  return m;
};

describe.skipIf(!onBestIsaRun)('saves survive kills and concurrency', () => {
  const want = [architectures.tutorial({ seed: 1 }), architectures.tutorial({ seed: 2 })].map((m) => bits(m.predictSync(x)));

  it('SIGKILL at a random moment of repeated saves, 20 times: the directory always loads as one of the two models', async () => {
    let sawFirst = 0;
    for (let round = 0; round < 20; round++) {
      const child = spawn(process.execPath, [saver, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 5 + ((round * 37) % 120)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const got = bits(await (await loadModel(dir)).predict(x));
      const which = want.findIndex((w) => w.every((v, i) => v === got[i]));
      expect(which, `round ${round}: the directory holds neither model`).toBeGreaterThanOrEqual(0);
      sawFirst += which === 0 ? 1 : 0;
    }
    // a killed save leaves its temporary files and lock; the next save removes them
    execFileSync(process.execPath, [saver, dir, 'once', '2']);
    const left = await readdir(dir);
    expect(left.filter((f) => f !== 'model.json' && !/^weights-[0-9a-f]+\.bin$/.test(f))).toEqual([]);
    expect(left.length).toBe(2);
    expect(bits(await (await loadModel(dir)).predict(x))).toEqual(want[1]);
    expect(sawFirst).toBeGreaterThan(0);
  }, 120_000);

  it('20 rounds of two concurrent saves to one directory in one process: each round loads as one of them', async () => {
    const models = [architectures.tutorial({ seed: 1 }), architectures.tutorial({ seed: 2 })];
    for (let round = 0; round < 20; round++) {
      await Promise.all([models[round % 2].save(dir), models[1 - (round % 2)].save(dir)]);
      const got = bits(await (await loadModel(dir)).predict(x));
      // serialized in call order: the second save of the round is what stays
      expect(got).toEqual(want[1 - (round % 2)]);
    }
    expect((await readdir(dir)).length).toBe(2);
  }, 120_000);

  it('a lock left empty by a save killed between creating and writing it is taken over once it is 2 s old', async () => {
    const m = architectures.tutorial({ seed: 1 });
    await m.save(dir);
    const lock = join(dir, '.convkit-save.lock');
    await writeFile(lock, '');
    const old = new Date(Date.now() - 5000);
    await utimes(lock, old, old);
    await m.save(dir);
    expect((await readdir(dir)).sort().filter((f) => f.startsWith('.'))).toEqual([]);
    // a fresh one is waited for (its writer may be about to fill it in), and taken over when it ages
    await writeFile(lock, '');
    const started = Date.now();
    await m.save(dir);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  }, 30_000);

  it('two processes saving to one directory at once serialize; the result loads', async () => {
    const run = (which: string) =>
      new Promise<number>((resolve) => execFile(process.execPath, [saver, dir, 'once', which], (err) => resolve((err as { code?: number } | null)?.code ?? 0)));
    for (let round = 0; round < 5; round++) {
      expect(await Promise.all([run('1'), run('2')])).toEqual([0, 0]);
      const got = bits(await (await loadModel(dir)).predict(x));
      expect(want.some((w) => w.every((v, i) => v === got[i]))).toBe(true);
      expect((await readdir(dir)).length).toBe(2);
    }
  }, 120_000);
});

describe('loading refuses forged and hostile model directories', () => {
  it('a 3e7-unit Dense over a tiny weights file is refused at once, before anything that size is allocated', async () => {
    const m = sequential([layers.dense({ units: 3, inputShape: [4], name: 'big' })]);
    await m.save(dir);
    await edit(dir, (j) => (j.modelConfig.layers[0].config.units = 3e7));
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    await expect(loadModel(dir)).rejects.toThrow(/weights-[0-9a-f]+\.bin: the weight 'big\/kernel' has shape \[4, 3\] but the layer needs \[4, 30000000\]/);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
  });

  it('duplicated entry names and an offset pointing at another tensor are refused (the checksum now covers model.json)', async () => {
    const m = await trained();
    await m.save(dir);
    const text = await readFile(join(dir, 'model.json'), 'utf8');
    await edit(dir, (j) => (j.weights.entries[1].name = j.weights.entries[0].name));
    await expect(loadModel(dir)).rejects.toThrow(/model.json: weights.entries\[1\].name: expected a name no other entry has but received 'a\/kernel'/);
    await writeFile(join(dir, 'model.json'), text);
    await edit(dir, (j) => (j.weights.entries[2].offset = j.weights.entries[0].offset));
    await expect(loadModel(dir)).rejects.toThrow(/model.json: weights.entries\[2\].offset: expected \d+ \(right after the entry before\) but received 0/);
    // without forging the checksum, any edit is caught
    await writeFile(join(dir, 'model.json'), text.replace('"offset": 48', '"offset": 0'));
    await expect(loadModel(dir)).rejects.toThrow(/model.json: its checksum does not match/);
  });

  it('NaN or infinite weights are refused, naming the weight and the index', async () => {
    await (await trained()).save(dir);
    const file = join(dir, await weightsName(dir));
    const w = await readFile(file);
    w.writeFloatLE(NaN, 4 * 5);
    await writeFile(file, w);
    await edit(dir, (j) => (j.weights.crc32 = crc32(w)));
    await expect(loadModel(dir)).rejects.toThrow(/weights-[0-9a-f]+\.bin: the weight 'a\/kernel' holds NaN at index 5/);
  });

  it("class names that are Object.prototype's ('constructor', 'toString') are refused at load, not at fit", async () => {
    await (await trained()).save(dir);
    const text = await readFile(join(dir, 'model.json'), 'utf8');
    for (const bad of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      for (const set of [
        (j: Json) => (j.trainingConfig.loss.className = bad),
        (j: Json) => (j.trainingConfig.optimizer.className = bad),
        (j: Json) => (j.trainingConfig.optimizer.config.learningRate = { className: bad, config: {} }),
        (j: Json) => (j.modelConfig.layers[0].className = bad),
      ]) {
        await writeFile(join(dir, 'model.json'), text);
        await edit(dir, set);
        const e = await loadModel(dir).catch((err: unknown) => err);
        expect(e, bad).toBeInstanceOf(ConvkitError);
        expect((e as Error).message, bad).toMatch(new RegExp(`^loadModel: model.json: .*['"]${bad}['"]`));
      }
    }
  });

  it('counters that would break fit and hyperparameters out of range are refused', async () => {
    await (await trained()).save(dir);
    const text = await readFile(join(dir, 'model.json'), 'utf8');
    const cases: [(j: Json) => void, RegExp][] = [
      [(j) => (j.epochsTrained = 2 ** 53), /epochsTrained: expected an integer in \[0, 2147483647\] but received 9007199254740992/],
      [(j) => (j.optimizerIterations = -5), /optimizerIterations: expected an integer in \[0, 2147483647\] but received -5/],
      [(j) => (j.optimizerIterations = 'abc'), /optimizerIterations: expected an integer .* but received 'abc'/],
      [(j) => (j.trainingConfig.optimizer.config.learningRate = -0.1), /trainingConfig does not fit the model: .*learningRate to be a finite number >= 0 but received -0.1/],
      [(j) => (j.trainingConfig.optimizer.config.epsilon = -1e-7), /epsilon to be a finite number >= 0 but received -1e-7/],
    ];
    for (const [set, message] of cases) {
      await writeFile(join(dir, 'model.json'), text);
      await edit(dir, set);
      await expect(loadModel(dir)).rejects.toThrow(message);
    }
  });

  it('model.json that is a FIFO is refused without hanging; a symlink to another file never has its content quoted', async () => {
    await (await trained()).save(dir);
    await rm(join(dir, 'model.json'));
    execFileSync('mkfifo', [join(dir, 'model.json')]);
    await expect(loadModel(dir)).rejects.toThrow(/model.json: cannot read it: it is not a regular file \(a FIFO\)/);
    await rm(join(dir, 'model.json'));
    const secret = join(dir, 'secret.txt');
    await writeFile(secret, 'password=hunter2 (never print me)');
    await symlink(secret, join(dir, 'model.json'));
    const e = (await loadModel(dir).catch((err: unknown) => err)) as Error;
    expect(e.message).toMatch(/model.json: not valid JSON \(\d+ bytes\)/);
    expect(e.message).not.toContain('hunter2');
  });
});
