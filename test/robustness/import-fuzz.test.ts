// The import fuzz: mutated TF.js Layers models (model.json truncated, bit-flipped, hostile values anywhere in its
// tree, keys removed; shards truncated, flipped, replaced by a FIFO, a directory or a symlink to a secret), Keras
// 2 .h5 and Keras 3 .keras files (truncated, bytes flipped or zeroed, hostile config.json re-zipped), each loaded
// in a child process with a timeout. Every load must end in a model or a ConvkitError from loadModel that names
// the file: never a signal, a hang, another kind of error, memory beyond a bound, or another file's contents.
// The children run without loader-fuzz's address-space cap: h5wasm's WebAssembly memory reserves more address
// space than that cap allows; their peak RSS is checked instead.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/index.js';
import { onBestIsaRun } from '../helpers/backends.js';
import { paths, type Json } from '../helpers/json-paths.js';
import { writeH5, writeKeras } from '../helpers/keras.js';
import { saveTfjs, tfjs, type Tf } from '../helpers/tfjs.js';

const loader = fileURLToPath(new URL('../helpers/model-files/load-one.mjs', import.meta.url));
const SECRET = 'SECRET-51c0: this text must never appear in an error message';
const CASES = 360;
const PER_CHILD = 60;

interface Outcome {
  dir: string;
  ok: boolean;
  convkitError?: boolean;
  where?: string;
  message?: string;
  ms: number;
  maxRssMiB: number;
}

function loadInChild(paths: string[]): Promise<{ outcomes: Outcome[]; code: number | null; signal: string | null; stderr: string; unfinished?: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [loader, ...paths], { timeout: 120_000, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: string }) | null;
      const outcomes = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Outcome);
      const done = new Set(outcomes.map((o) => o.dir));
      resolve({ outcomes, code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, stderr, unfinished: paths.find((p) => !done.has(p)) });
    });
  });
}

const HOSTILE: unknown[] = [1e308, -1, 0, 0.5, 3e7, 2 ** 31, '', 'x'.repeat(3000), '../../secret.txt', true, null, {}, [], [[[[1]]]], 'constructor', '__proto__', { class_name: 'toString' }];


describe.skipIf(!onBestIsaRun)('import fuzz', () => {
  let root: string;
  let tfjsDir: string;
  let tfjsJson: string;
  let shards: Buffer[];
  let h5: Buffer;
  let keras: Buffer;

  beforeAll(async () => {
    const tf: Tf = await tfjs();
    root = await mkdtemp(join(tmpdir(), 'convkit-import-fuzz-'));
    await writeFile(join(root, 'secret.txt'), SECRET);
    const x = tf.input({ shape: [8, 8, 2] });
    let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu6' }).apply(x);
    h = tf.layers.add().apply([h, tf.layers.batchNormalization().apply(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }).apply(h))]);
    const m = tf.model({ inputs: x, outputs: tf.layers.dense({ units: 3 }).apply(tf.layers.globalAveragePooling2d({}).apply(h)) });
    tfjsDir = join(root, 'base-tfjs');
    await saveTfjs(tf, m, tfjsDir, { quantize: 'uint8', shards: 2 });
    tfjsJson = await readFile(join(tfjsDir, 'model.json'), 'utf8');
    shards = [await readFile(join(tfjsDir, 'group1-shard1of2.bin')), await readFile(join(tfjsDir, 'group1-shard2of2.bin'))];
    await writeH5(tf, m, join(root, 'base.h5'));
    h5 = await readFile(join(root, 'base.h5'));
    await writeKeras(tf, m, join(root, 'base.keras'));
    keras = await readFile(join(root, 'base.keras'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it(`${CASES} mutated TF.js models and Keras files: a model or a ConvkitError naming the file, never a crash or hang`, async () => {
    const rng = new Rng(20261206);
    const int = (n: number) => Math.floor(rng.uniform(0, n));
    const pick = <T>(a: readonly T[]): T => a[int(a.length)];
    const flip = (b: Buffer, n: number): Buffer => {
      const c = Buffer.from(b);
      for (let i = 0; i < n; i++) c[int(c.length)] ^= 1 << int(8);
      return c;
    };
    type Case = { path: string; label: string };
    const tfjsCase = async (i: number): Promise<Case> => {
      const dir = join(root, `tfjs-${i}`);
      await mkdir(dir);
      let json = tfjsJson;
      const bins = [...shards];
      const kind = int(7);
      let label = '';
      if (kind === 0) {
        json = json.slice(0, int(json.length));
        label = 'model.json truncated';
      } else if (kind === 1) {
        const parsed = JSON.parse(json) as Json;
        const [p, parent, key] = pick(paths(parsed));
        (parent as Json)[key as string] = structuredClone(pick(HOSTILE));
        json = JSON.stringify(parsed);
        label = `hostile ${p.join('.')}`;
      } else if (kind === 2) {
        const parsed = JSON.parse(json) as Json;
        const [p, parent, key] = pick(paths(parsed));
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Json)[key as string];
        json = JSON.stringify(parsed);
        label = `removed ${p.join('.')}`;
      } else if (kind === 3) {
        json = flip(Buffer.from(json), 1).toString('latin1');
        label = 'model.json bit flip';
      } else if (kind === 4) {
        const s = int(2);
        bins[s] = bins[s].subarray(0, int(bins[s].length));
        label = `shard ${s} truncated`;
      } else if (kind === 5) {
        const s = int(2);
        bins[s] = flip(bins[s], 1 + int(4));
        label = `shard ${s} flipped`;
      } else {
        label = 'shard special';
      }
      await writeFile(join(dir, 'model.json'), json);
      await writeFile(join(dir, 'group1-shard1of2.bin'), bins[0]);
      await writeFile(join(dir, 'group1-shard2of2.bin'), bins[1]);
      if (kind === 6) {
        const target = join(dir, `group1-shard${1 + int(2)}of2.bin`);
        await rm(target);
        const special = int(3);
        if (special === 0) execFileSync('mkfifo', [target]);
        else if (special === 1) await mkdir(target);
        else await symlink(join(root, 'secret.txt'), target);
        label = `shard is ${['a FIFO', 'a directory', 'a symlink to a secret'][special]}`;
      }
      return { path: join(dir, 'model.json'), label };
    };
    const kerasCase = async (i: number): Promise<Case> => {
      const isH5 = int(2) === 0;
      const base = isH5 ? h5 : keras;
      const path = join(root, `case-${i}.${isH5 ? 'h5' : 'keras'}`);
      const kind = int(4);
      let data: Uint8Array;
      let label: string;
      if (kind === 0) {
        data = base.subarray(0, int(base.length));
        label = 'truncated';
      } else if (kind === 1) {
        data = flip(base, 1 + int(8));
        label = 'bits flipped';
      } else if (kind === 2) {
        const c = Buffer.from(base);
        const at = int(c.length);
        c.fill(0, at, Math.min(c.length, at + 1 + int(256)));
        data = c;
        label = 'bytes zeroed';
      } else if (!isH5) {
        const entries = unzipSync(new Uint8Array(keras));
        const config = JSON.parse(new TextDecoder().decode(entries['config.json'])) as Json;
        const [p, parent, key] = pick(paths(config));
        (parent as Json)[key as string] = structuredClone(pick(HOSTILE));
        entries['config.json'] = strToU8(JSON.stringify(config));
        data = zipSync(entries);
        label = `config.json hostile ${p.join('.')}`;
      } else {
        data = flip(base, 64);
        label = 'many bits flipped';
      }
      await writeFile(path, data);
      return { path, label: `${isH5 ? '.h5' : '.keras'} ${label}` };
    };
    const cases: Case[] = [];
    for (let i = 0; i < CASES; i++) cases.push(await (i % 2 === 0 ? tfjsCase(i) : kerasCase(i)));

    const batches: string[][] = [];
    for (let i = 0; i < cases.length; i += PER_CHILD) batches.push(cases.slice(i, i + PER_CHILD).map((c) => c.path));
    const labelOf = new Map(cases.map((c) => [c.path, c.label]));
    const results = [];
    for (let i = 0; i < batches.length; i += 2) results.push(...(await Promise.all(batches.slice(i, i + 2).map(loadInChild))));
    let refused = 0;
    for (const r of results) {
      const stuck = r.unfinished && `${labelOf.get(r.unfinished)} (${r.unfinished})`;
      expect({ code: r.code, signal: r.signal }, `a loader child ended abnormally at ${stuck}: ${r.stderr.slice(-600)}`).toEqual({ code: 0, signal: null });
      for (const o of r.outcomes) {
        const what = `${labelOf.get(o.dir)} (${o.dir}): ${o.message}`;
        expect(o.maxRssMiB, what).toBeLessThan(600);
        expect(o.ms, what).toBeLessThan(10_000);
        if (o.ok) continue;
        refused++;
        expect(o.convkitError, what).toBe(true);
        expect(o.where, what).toBe('loadModel');
        // the file's path (a TF.js model.json too damaged to parse is reported by convkit's loader: the name, then the directory)
        expect(o.message, what).toMatch(/^loadModel: (\/\S+|model\.json): /);
        expect(o.message, what).not.toContain('SECRET');
      }
    }
    expect(results.reduce((n, r) => n + r.outcomes.length, 0)).toBe(CASES);
    expect(refused).toBeGreaterThan(CASES * 0.6);
  }, 600_000);

  it('the unmutated files load', async () => {
    const r = await loadInChild([join(tfjsDir, 'model.json'), join(root, 'base.h5'), join(root, 'base.keras')]);
    expect(r.outcomes.map((o) => o.ok)).toEqual([true, true, true]);
  });
});
