/**
 * TF.js's Layers format both ways: model.json (a Keras topology and a weights manifest) and the weight shards
 * it lists, as TF.js's `model.save` and tensorflowjs_converter write them (several groups and shards, weights
 * quantized to uint8, uint16 or float16 and dequantized here); and the same format written from a convkit model
 * for TF.js's `loadLayersModel`.
 */
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { ConvkitError, describe } from '../errors.js';
import type { Model } from '../model/model.js';
import { sharedArray, sizeOf } from '../tensor.js';
import { FileError, readRegularFile } from './files.js';
import type { Json } from './keras/layer-config.js';
import {
  buildKerasModel, convkitWeightName, isKeras3, isTfjsWritten, kerasTopology, kerasWeightName, modelConfigFromKeras, splitWeightPath, TFJS_TARGET,
  type FileWeight, type WeightTable,
} from './keras/topology.js';
import { commitModelDir, freshWeightsFile } from './model-dir.js';

const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;
/** A shard TF.js writes is 4 MiB; converters may write larger ones, never this large. */
const MAX_SHARD_BYTES = 2 ** 31;

const BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

function fail(file: string, what: string): never {
  throw new ConvkitError(`loadModel: ${file}: ${what}`, 'loadModel');
}

/** float16 bits as a number (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
}

/** A manifest entry, checked: name, shape, and a stored type convkit can read as float32. */
function manifestWeight(file: string, v: unknown, field: string): ManifestWeight {
  const o = v as Json;
  if (typeof o?.name !== 'string' || o.name === '') fail(file, `${field}.name: expected a weight name but received ${describe(o?.name)}`);
  const name = o.name;
  if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isInteger(d) || d < 0)) fail(file, `weight '${name}': shape ${describe(o.shape)} is not a list of sizes`);
  const dtype = String(o.dtype ?? 'float32');
  if (dtype !== 'float32') fail(file, `weight '${name}': dtype ${describe(dtype)} (convkit's weights are float32)`);
  const q = o.quantization as Json | undefined;
  if (q !== undefined && q !== null) {
    const qd = String(q.dtype);
    if (qd !== 'uint8' && qd !== 'uint16' && qd !== 'float16') fail(file, `weight '${name}': quantization to ${describe(q.dtype)} is not supported (uint8, uint16 and float16 are)`);
    if (qd !== 'float16' && (typeof q.min !== 'number' || typeof q.scale !== 'number' || !Number.isFinite(q.min) || !Number.isFinite(q.scale))) {
      fail(file, `weight '${name}': ${qd} quantization needs a finite min and scale (received ${describe(q.min)}, ${describe(q.scale)})`);
    }
    return { name, shape: o.shape as number[], dtype, quantization: { dtype: qd, min: q.min as number, scale: q.scale as number } };
  }
  return { name, shape: o.shape as number[], dtype };
}

/** A group's shards as one run of bytes, read where they are (a weight may straddle two shards). */
class ShardBytes {
  readonly length: number;
  private readonly starts: number[] = [];
  constructor(private readonly shards: Buffer[]) {
    let at = 0;
    for (const b of shards) {
      this.starts.push(at);
      at += b.length;
    }
    this.length = at;
  }
  /** Bytes [start, start + n): a view into one shard, or a copy of the pieces across shards. */
  slice(start: number, n: number): Buffer {
    let i = this.starts.length - 1;
    while (i > 0 && this.starts[i] > start) i--;
    const from = start - this.starts[i];
    if (from + n <= this.shards[i].length) return this.shards[i].subarray(from, from + n);
    const out = Buffer.alloc(n);
    let done = 0;
    for (let k = i; done < n; k++) {
      const piece = this.shards[k].subarray(k === i ? from : 0, Math.min(this.shards[k].length, (k === i ? from : 0) + n - done));
      piece.copy(out, done);
      done += piece.length;
    }
    return out;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One entry's values from its bytes (into the shared memory a model's weights live in), dequantized, checked finite. */
function decode(file: string, w: ManifestWeight, bytes: Buffer): Float32Array {
  const n = sizeOf(w.shape);
  const out = sharedArray('float32', n) as Float32Array;
  const q = w.quantization;
  if (!q && LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, 4 * n));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    if (!q) for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
    else if (q.dtype === 'float16') for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
    else if (q.dtype === 'uint8') for (let i = 0; i < n; i++) out[i] = bytes[i] * q.scale! + q.min!;
    else for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, true) * q.scale! + q.min!;
  }
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[i])) fail(file, `weight '${w.name}' holds ${out[i]} at index ${i}`);
  return out;
}

/** A shard's path from the manifest, refused unless it names a file beside model.json. */
function shardPath(file: string, dir: string, p: unknown): string {
  if (typeof p !== 'string' || p === '' || /^[a-z]+:\/\//i.test(p) || isAbsolute(p) || normalize(p).split(/[\\/]/).includes('..')) {
    fail(file, `weightsManifest: the shard path ${describe(p)} does not name a file beside model.json`);
  }
  return join(dir, decodeURIComponent(p));
}

/**
 * Reads a TF.js Layers model: `path` is its model.json (or the directory holding it).
 * @throws ConvkitError naming the file, the layer and the weight for anything convkit cannot read or build.
 */
export async function loadTfjsModel(jsonPath: string, json: Json): Promise<Model> {
  const file = jsonPath;
  const dir = dirname(jsonPath);
  if (json.format === 'graph-model') fail(file, 'a TF.js graph model (a converted SavedModel): convkit reads Layers models (Keras topologies)');
  const topology = json.modelTopology;
  if (typeof topology !== 'object' || topology === null) fail(file, 'no modelTopology: not a TF.js Layers model');
  const src = { file, keras3: isKeras3(topology as Json), tfjs: isTfjsWritten(topology as Json) };
  const keras = modelConfigFromKeras(src, topology);
  const classOf = new Map(keras.config.layers.map((l) => [String(l.config.name), l.className]));
  const layerNames = new Set(classOf.keys());

  const groups = json.weightsManifest ?? [];
  if (!Array.isArray(groups)) fail(file, `weightsManifest: expected a list of groups but received ${describe(groups)}`);
  const table: WeightTable = new Map();
  for (const [g, group] of groups.entries()) {
    const paths = (group as Json)?.paths;
    const weights = (group as Json)?.weights;
    if (!Array.isArray(paths) || !Array.isArray(weights)) fail(file, `weightsManifest[${g}]: expected { paths, weights }`);
    const entries = weights.map((w, i) => manifestWeight(file, w, `weightsManifest[${g}].weights[${i}]`));
    const shards = await Promise.all(
      paths.map(async (p) => {
        const path = shardPath(file, dir, p);
        try {
          return await readRegularFile(path, MAX_SHARD_BYTES);
        } catch (e) {
          return fail(path, `cannot read this weight shard: ${e instanceof FileError ? e.message : (e as Error).message}`);
        }
      }),
    );
    const bytes = new ShardBytes(shards);
    let at = 0;
    for (const w of entries) {
      const n = sizeOf(w.shape) * BYTES[w.quantization?.dtype ?? w.dtype];
      if (at + n > bytes.length) fail(file, `weightsManifest[${g}]: the shards (${paths.join(', ')}) hold ${bytes.length} bytes, too few for weight '${w.name}' at byte ${at} (${n} bytes): a shard is truncated or missing`);
      const where = splitWeightPath(w.name, layerNames);
      const start = at;
      at += n;
      if (!where) {
        if (/^optimizer|\/iter$|^training/i.test(w.name) || (group as Json).group === 'optimizer') continue; // optimizer state: not imported
        fail(file, `the weight '${w.name}' names no layer of the model`);
      }
      const layerWeights = table.get(where.layer) ?? new Map<string, FileWeight>();
      table.set(where.layer, layerWeights);
      const weight = convkitWeightName(classOf.get(where.layer), where.weight);
      if (layerWeights.has(weight)) fail(file, `the weight '${where.layer}/${weight}' appears twice in the manifest`);
      layerWeights.set(weight, { shape: w.shape, values: () => decode(file, w, bytes.slice(start, n)) });
    }
    if (at !== bytes.length) fail(file, `weightsManifest[${g}]: the shards hold ${bytes.length} bytes but its weights take ${at}: they belong to another model.json`);
  }
  return buildKerasModel(src, keras, table);
}

/** The weight as TF.js stores it: depthwise kernels [kh, kw, C, M], PReLU's alpha with its shared axes as 1. */
function tfjsShape(model: Model, layerName: string, weight: string, shape: readonly number[]): number[] {
  const layer = model.getLayer(layerName);
  const cls = (layer.constructor as { className?: string }).className;
  const config = layer.getConfig().config as Json;
  if ((cls === 'DepthwiseConv2D' || (cls === 'SeparableConv2D' && weight === 'depthwise_kernel')) && shape.length === 4) {
    const m = Number(config.depthMultiplier ?? 1);
    return [shape[0], shape[1], shape[3] / m, m];
  }
  if (cls === 'PReLU') return [...layer.inputShape.slice(0, -1).map(() => 1), shape[0]];
  return [...shape];
}

/**
 * Writes `model` as a TF.js Layers model into `dir`: model.json (topology and weights manifest) and one weights
 * file, replacing what was there as convkit's own saves do (never half-written).
 * @throws ConvkitError naming the layer and what TF.js cannot express.
 */
export async function saveTfjsModel(model: Model, dir: string): Promise<void> {
  const modelTopology = kerasTopology(model, TFJS_TARGET);
  const specs: { name: string; shape: number[]; dtype: 'float32' }[] = [];
  const parts: Float32Array[] = [];
  for (const layer of model.layers) {
    const cls = (layer.constructor as { className?: string }).className ?? '';
    for (const p of layer.params()) {
      const weight = p.name.slice(p.name.lastIndexOf('/') + 1);
      specs.push({ name: `${layer.name}/${kerasWeightName(cls, weight)}`, shape: tfjsShape(model, layer.name, weight, p.value.shape), dtype: 'float32' });
      parts.push(Float32Array.from(p.value.data));
    }
  }
  const bytes = new Uint8Array(parts.reduce((s, a) => s + a.byteLength, 0));
  let at = 0;
  for (const a of parts) {
    bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  const weightsFile = freshWeightsFile();
  const json = {
    format: 'layers-model',
    generatedBy: 'convkit',
    convertedBy: null,
    modelTopology,
    weightsManifest: [{ paths: [weightsFile], weights: specs }],
  };
  await commitModelDir(dir, weightsFile, bytes, `${JSON.stringify(json)}\n`);
}

/** model.json's parsed content, bounded in size. */
export async function readJsonFile(path: string): Promise<Json> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, MAX_MODEL_JSON_BYTES);
  } catch (e) {
    return fail(path, `cannot read it: ${e instanceof FileError ? e.message : (e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return fail(path, `not valid JSON (${bytes.length} bytes); the file is corrupt or truncated`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail(path, 'expected a JSON object at the top level');
  return parsed as Json;
}
