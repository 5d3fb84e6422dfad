// TF.js in the test process (its pure-JS CPU backend): writes Layers models as TF.js's own save does (model.json
// + one shard, optionally quantized as tensorflowjs_converter quantizes), and reads the ones convkit writes.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tf = any;

let loaded: Tf | undefined;
/** @tensorflow/tfjs with its CPU backend, loaded once (quietly). */
export async function tfjs(): Promise<Tf> {
  if (loaded) return loaded;
  const warn = console.warn;
  const log = console.log;
  console.warn = () => {};
  console.log = () => {};
  try {
    loaded = require('@tensorflow/tfjs');
    await loaded.setBackend('cpu');
    await loaded.ready();
  } finally {
    console.warn = warn;
    console.log = log;
  }
  return loaded;
}

type Quantize = 'uint8' | 'uint16' | 'float16';

function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign | Math.round((mant | 0x800000) / 2 ** (14 - exp)); // subnormal
  if (exp >= 31) return sign | 0x7c00;
  const rounded = Math.round(mant / 2 ** 13);
  return rounded === 1024 ? sign | ((exp + 1) << 10) : sign | (exp << 10) | rounded;
}

/** Weights quantized as tensorflowjs_converter does: affine uint8/uint16 over [min, max], or float16. */
function quantize(values: Float32Array, dtype: Quantize): { bytes: Uint8Array; quantization: Record<string, unknown> } {
  if (dtype === 'float16') {
    const out = new Uint16Array(values.length);
    values.forEach((v, i) => (out[i] = toHalf(v)));
    return { bytes: new Uint8Array(out.buffer), quantization: { dtype: 'float16', original_dtype: 'float32' } };
  }
  const levels = dtype === 'uint8' ? 255 : 65535;
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (min === max) max = min + 1;
  min = Math.min(min, 0);
  max = Math.max(max, 0);
  const scale = (max - min) / levels;
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  values.forEach((v, i) => (q[i] = Math.round((v - min) / scale)));
  return { bytes: new Uint8Array(q.buffer), quantization: { dtype, min, scale, original_dtype: 'float32' } };
}

/**
 * Saves a tfjs model into dir as TF.js's file format: model.json and `shards` weight files (the weights split
 * across them at arbitrary byte boundaries, as TF.js's 4 MiB shards split them), quantized when asked.
 */
export async function saveTfjs(tf: Tf, model: Tf, dir: string, opts: { quantize?: Quantize; shards?: number; keras3Topology?: boolean } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  let artifacts: Tf;
  await model.save(tf.io.withSaveHandler(async (a: Tf) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  let data = new Uint8Array(artifacts.weightData);
  let specs = artifacts.weightSpecs;
  if (opts.quantize) {
    const parts: Uint8Array[] = [];
    let at = 0;
    specs = specs.map((s: Tf) => {
      const n = s.shape.reduce((a: number, b: number) => a * b, 1);
      const values = new Float32Array(data.buffer.slice(at, at + 4 * n));
      at += 4 * n;
      const q = quantize(values, opts.quantize!);
      parts.push(q.bytes);
      return { ...s, quantization: q.quantization };
    });
    data = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
    }
  }
  const shards = opts.shards ?? 1;
  const size = Math.ceil(data.length / shards);
  const paths: string[] = [];
  for (let i = 0; i < shards; i++) {
    const name = `group1-shard${i + 1}of${shards}.bin`;
    paths.push(name);
    await writeFile(join(dir, name), data.subarray(i * size, Math.min(data.length, (i + 1) * size)));
  }
  const json = { format: 'layers-model', generatedBy: 'TensorFlow.js tfjs-layers', convertedBy: null, modelTopology: artifacts.modelTopology, weightsManifest: [{ paths, weights: specs }] };
  await writeFile(join(dir, 'model.json'), JSON.stringify(json));
}

/** Loads a TF.js Layers model from dir with TF.js's own loader (its weights decoded, dequantized, by TF.js). */
export async function loadTfjs(tf: Tf, dir: string): Promise<Tf> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) for (const p of group.paths) buffers.push(await readFile(join(dir, p)));
  const total = buffers.reduce((s, b) => s + b.length, 0);
  const weightData = new Uint8Array(total);
  let o = 0;
  for (const b of buffers) {
    weightData.set(b, o);
    o += b.length;
  }
  const weightSpecs = json.weightsManifest.flatMap((g: Tf) => g.weights);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: weightData.buffer }));
}
