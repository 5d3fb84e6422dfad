// The loader fuzz: 1,200 mutated model directories (truncations, bit flips, hostile JSON written back with a
// valid checksum so the deeper checks are reached, broken manifests, files that are not regular files) of a
// sequential conv net, a dense net and a two-input, two-output graph, each loaded in a child process under a
// 2.5 GB address-space cap and a timeout. Every load must end in a model or a ConvkitError that names the file
// (and, for bad content, the field): never a signal, a hang, another kind of error, an allocation beyond what
// the files back, or a message that quotes another file's contents.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { input, layers, losses, model, optimizers, randomUniform, Rng, sequential } from '../../src/index.js';
import { modelJsonText } from '../../src/io/model-dir.js';
import { onBestIsaRun } from '../helpers/backends.js';
import { paths, type Json } from '../helpers/json-paths.js';

const loader = fileURLToPath(new URL('../helpers/model-files/load-one.mjs', import.meta.url));
const SECRET = 'SECRET-7f3a9c: this text must never appear in an error message';
const CASES = 1200;
const PER_CHILD = 150;

interface Outcome {
  dir: string;
  ok: boolean;
  convkitError?: boolean;
  where?: string;
  message?: string;
  maxRssMiB: number;
}

type Mutation = { label: string; apply: (d: string) => Promise<void> };

/** Loads `dirs` in one child under a 2.5 GB address-space cap; the outcomes, or how the child ended. */
function loadInChild(dirs: string[]): Promise<{ outcomes: Outcome[]; code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const script = `ulimit -v 2500000; exec "${process.execPath}" "${loader}" "$@"`;
    execFile('bash', ['-c', script, 'bash', ...dirs], { timeout: 120_000, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: string }) | null;
      const outcomes = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Outcome);
      resolve({ outcomes, code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, stderr });
    });
  });
}

const HOSTILE: unknown[] = [
  1e308, -1e308, 2 ** 53, 2 ** 31, 3e7, -1, -5, 0.5, 0, '3', '-1', 'abc', '', 'x'.repeat(5000), true, false, null, {}, [],
  [1, 2], { __proto__: { polluted: true } }, JSON.parse('{"__proto__": {"polluted": true}}'), 'constructor', 'toString',
  'hasOwnProperty', '__proto__', { className: 'constructor', config: {} }, { className: 'toString' }, [[[[[[[[[[[[1]]]]]]]]]]]],
];


describe.skipIf(!onBestIsaRun)('loader fuzz', () => {
  let root: string;
  const bases: { dir: string; json: Json; weightsFile: string; weights: Buffer; text: string }[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'convkit-fuzz-'));
    await writeFile(join(root, 'secret.txt'), SECRET);
    // a compiled, trained conv net (optimizer slots, BatchNorm statistics) and an uncompiled dense one
    const conv = sequential([
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 1] }),
      layers.batchNormalization(),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 3 }),
    ], { seed: 1 });
    conv.compile({ optimizer: optimizers.adam({ learningRate: 0.01 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    await conv.trainOnBatch(randomUniform([4, 8, 8, 1], { seed: 2 }), [0, 1, 2, 0]);
    const dense = sequential([layers.dense({ units: 5, inputShape: [7], activation: 'tanh' }), layers.dense({ units: 2 })], { seed: 3 });
    // a graph: two inputs, a shared layer, a residual add and a concatenation, two outputs
    const a = input({ shape: [6], name: 'a' });
    const b = input({ shape: [6], name: 'b' });
    const shared = layers.dense({ units: 6, activation: 'relu' });
    const sum = layers.add().apply([shared.apply(a), shared.apply(b), a]);
    const graph = model({ inputs: [a, b], outputs: [layers.dense({ units: 2 }).apply(sum), layers.dense({ units: 1 }).apply(layers.concatenate().apply([sum, b]))], seed: 4 });
    graph.compile({ optimizer: 'adam', loss: ['sparseCategoricalCrossentropy', 'meanSquaredError'] });
    await graph.trainOnBatch([randomUniform([3, 6], { seed: 5 }), randomUniform([3, 6], { seed: 6 })], [[0, 1, 1], randomUniform([3, 1], { seed: 7 })]);
    for (const [i, m] of [conv, dense, graph].entries()) {
      const dir = join(root, `base-${i}`);
      await m.save(dir);
      const text = await readFile(join(dir, 'model.json'), 'utf8');
      const json = JSON.parse(text) as Json;
      const weightsFile = (json.weights as Json).file as string;
      bases.push({ dir, json, weightsFile, weights: await readFile(join(dir, weightsFile)), text });
    }
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it(`${CASES} mutated directories: a model or a ConvkitError naming the file, in bounded memory, never a crash or hang`, async () => {
    const rng = new Rng(20261206);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.uniform(0, a.length))];
    const int = (n: number) => Math.floor(rng.uniform(0, n));

    const mutations: ((b: (typeof bases)[number]) => Mutation)[] = [
      (b) => ({ label: 'model.json truncated', apply: (d) => writeFile(join(d, 'model.json'), b.text.slice(0, int(b.text.length))) }),
      (b) => ({ label: 'weights truncated', apply: (d) => writeFile(join(d, b.weightsFile), b.weights.subarray(0, int(b.weights.length))) }),
      (b) => ({
        label: 'model.json bit flip',
        apply: (d) => {
          const t = Buffer.from(b.text);
          t[int(t.length)] ^= 1 << int(8);
          return writeFile(join(d, 'model.json'), t);
        },
      }),
      (b) => ({
        label: 'weights bit flip',
        apply: (d) => {
          const w = Buffer.from(b.weights);
          if (w.length) w[int(w.length)] ^= 1 << int(8);
          return writeFile(join(d, b.weightsFile), w);
        },
      }),
      (b) => {
        // hostile value anywhere in the tree, written back with a valid checksum
        const json = structuredClone(b.json);
        const all = paths(json).filter(([p]) => p[0] !== 'checksum');
        const [p, parent, key] = pick(all);
        if (rng.uniform(0, 1) < 0.05) {
          // nesting 100,000 deep, spliced into the text (JSON.stringify would overflow first), checksummed by hand
          (parent as Json)[key as string] = 'DEEP';
          const text = modelJsonText(json).replace('"DEEP"', `${'['.repeat(100_000)}1${']'.repeat(100_000)}`);
          const zeroed = text.replace(/"crc32:[0-9a-f]{8}"/, '"crc32:00000000"');
          const sum = crc32(Buffer.from(zeroed)).toString(16).padStart(8, '0');
          return { label: `deep ${p.join('.')}`, apply: (d) => writeFile(join(d, 'model.json'), zeroed.replace('"crc32:00000000"', `"crc32:${sum}"`)) };
        }
        const value = structuredClone(pick(HOSTILE));
        (parent as Json)[key as string] = value;
        return { label: `hostile ${p.join('.')} = ${JSON.stringify(value)?.slice(0, 40)}`, apply: (d) => writeFile(join(d, 'model.json'), modelJsonText(json)) };
      },
      (b) => {
        const json = structuredClone(b.json);
        const all = paths(json).filter(([p]) => p[0] !== 'checksum');
        const [p, parent, key] = pick(all);
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Json)[key as string];
        return { label: `removed ${p.join('.')}`, apply: (d) => writeFile(join(d, 'model.json'), modelJsonText(json)) };
      },
      (b) => {
        // manifest attacks: duplicates, aliasing offsets, shapes claiming more than the file
        const json = structuredClone(b.json);
        const entries = (json.weights as Json).entries as Json[];
        const [i, j] = [int(entries.length), int(entries.length)];
        const kind = int(5);
        if (kind === 0) entries[i].name = entries[j].name;
        else if (kind === 1) entries[i].offset = entries[j].offset;
        else if (kind === 2) (entries[i].shape as number[])[0] = 3e7;
        else if (kind === 3) entries.push({ ...entries[i], name: `${entries[i].name}-copy` });
        else [entries[i], entries[j]] = [entries[j], entries[i]];
        return { label: `manifest attack ${kind} on entries ${i}, ${j}`, apply: (d) => writeFile(join(d, 'model.json'), modelJsonText(json)) };
      },
      (b) => {
        // a Dense that claims a huge layer over the same small weights file
        const json = structuredClone(b.json);
        const cfgs = (json.modelConfig as Json).layers as Json[];
        const dense = cfgs.findIndex((c) => c.className === 'Dense');
        (cfgs[dense].config as Json).units = pick([3e7, 2 ** 31 - 1, 65536]);
        return { label: 'huge Dense', apply: (d) => writeFile(join(d, 'model.json'), modelJsonText(json)) };
      },
      (b) => {
        // NaN or Inf weights with a matching CRC
        const w = Buffer.from(b.weights);
        w.writeFloatLE(pick([NaN, Infinity, -Infinity]), 4 * int(w.length / 4));
        const json = structuredClone(b.json);
        (json.weights as Json).crc32 = crc32(w);
        return {
          label: 'non-finite weight',
          apply: async (d) => {
            await writeFile(join(d, b.weightsFile), w);
            await writeFile(join(d, 'model.json'), modelJsonText(json));
          },
        };
      },
      (b) => {
        const target = pick(['model.json', b.weightsFile]);
        const kind = int(4);
        return {
          label: `${target} is ${['a FIFO', 'a directory', 'a symlink to a secret', 'a symlink loop'][kind]}`,
          apply: async (d) => {
            await rm(join(d, target), { force: true });
            if (kind === 0) execFileSync('mkfifo', [join(d, target)]);
            else if (kind === 1) await mkdir(join(d, target));
            else if (kind === 2) await symlink(join(root, 'secret.txt'), join(d, target));
            else await symlink(join(d, target), join(d, target));
          },
        };
      },
    ];

    const cases: { dir: string; label: string }[] = [];
    for (let i = 0; i < CASES; i++) {
      const b = bases[i % bases.length];
      const m = pick(mutations)(b);
      const dir = join(root, `case-${i}`);
      await mkdir(dir);
      await writeFile(join(dir, 'model.json'), b.text);
      await writeFile(join(dir, b.weightsFile), b.weights);
      await m.apply(dir);
      cases.push({ dir, label: m.label });
    }
    expect(new Set(cases.map((c) => c.label.split(' ')[0])).size).toBeGreaterThanOrEqual(8);

    const batches: string[][] = [];
    for (let i = 0; i < cases.length; i += PER_CHILD) batches.push(cases.slice(i, i + PER_CHILD).map((c) => c.dir));
    const results = [];
    for (let i = 0; i < batches.length; i += 2) results.push(...(await Promise.all(batches.slice(i, i + 2).map(loadInChild))));

    const labelOf = new Map(cases.map((c) => [c.dir, c.label]));
    let refused = 0;
    for (const r of results) {
      expect({ code: r.code, signal: r.signal, stderr: r.stderr.slice(-1000) }, 'a loader child ended abnormally').toEqual({ code: 0, signal: null, stderr: expect.any(String) });
      for (const o of r.outcomes) {
        const what = `${labelOf.get(o.dir)} (${o.dir}): ${o.message}`;
        expect(o.maxRssMiB, what).toBeLessThan(400);
        if (o.ok) continue;
        refused++;
        expect(o.convkitError, what).toBe(true);
        expect(o.where, what).toBe('loadModel');
        expect(o.message, what).toMatch(/^loadModel: (model\.json|weights(-[0-9a-f]+)?\.bin): /);
        expect(o.message, what).not.toContain('SECRET');
      }
    }
    expect(results.reduce((n, r) => n + r.outcomes.length, 0)).toBe(CASES);
    expect(refused).toBeGreaterThan(CASES * 0.8);
  }, 300_000);

  it('the unmutated directories load', async () => {
    const r = await loadInChild(bases.map((b) => b.dir));
    expect(r.outcomes.map((o) => o.ok)).toEqual([true, true, true]);
  });

  it('lists nothing but model.json and its weights file in a saved directory', async () => {
    for (const b of bases) expect((await readdir(b.dir)).sort()).toEqual(['model.json', b.weightsFile]);
  });
});
