/**
 * Keras's own files: Keras 3's `.keras` (a zip of config.json, metadata.json and model.weights.h5, whose weights
 * sit by position under layers/<name>/vars/<i>) and Keras 2's `.h5` (the topology in the root's model_config
 * attribute, the weights by name under model_weights/<layer>, as the layer's weight_names attribute lists them).
 * HDF5 is read with h5wasm (the HDF5 library itself, compiled to WebAssembly: any HDF5 file Keras writes,
 * whatever its layout version or chunking, and a malformed file fails inside WebAssembly as an exception rather
 * than a crash); zips with fflate.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { ConvkitError, describe } from '../errors.js';
import type { Model } from '../model/model.js';
import { FileError, readRegularFile } from './files.js';
import type { Json } from './keras/layer-config.js';
import { buildKerasModel, convkitWeightName, isKeras3, kerasWeightOrder, modelConfigFromKeras, type FileWeight, type KerasModel, type WeightTable } from './keras/topology.js';

/** Keras files past this are not CNNs convkit runs (and a zip claiming more is refused before inflating). */
const MAX_BYTES = 2 ** 31;

type H5 = typeof import('h5wasm/node').default;
type H5Group = InstanceType<H5['Group']>;
type H5Dataset = InstanceType<H5['Dataset']>;

let h5: Promise<H5> | undefined;
async function hdf5(): Promise<H5> {
  h5 ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return h5;
}

function fail(file: string, what: string): never {
  throw new ConvkitError(`loadModel: ${file}: ${what}`, 'loadModel');
}

/** A dataset's values as float32 and its shape, checked finite. */
function datasetWeight(file: string, d: H5Dataset, what: string): FileWeight {
  const shape = d.shape ?? [];
  return {
    shape,
    values: () => {
      const v = d.value;
      if (!ArrayBuffer.isView(v) || v instanceof DataView || v instanceof BigInt64Array || v instanceof BigUint64Array) fail(file, `${what} is not an array of numbers`);
      const out = Float32Array.from(v as Float32Array);
      const bad = out.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) fail(file, `${what} holds ${out[bad]} at index ${bad}`);
      return out;
    },
  };
}

const text = (v: unknown): string => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v));

/** Keras 2's .h5: topology from the root attributes, weights by name. */
function readH5(file: string, f: H5Group): { keras: KerasModel; table: WeightTable; keras3: boolean } {
  const configAttr = f.attrs.model_config?.value;
  if (configAttr === undefined || configAttr === null) fail(file, 'no model_config attribute: a weights-only file (save_weights) holds no model; save the model with model.save');
  let topology: Json;
  try {
    topology = JSON.parse(text(configAttr)) as Json;
  } catch {
    return fail(file, 'its model_config attribute is not valid JSON');
  }
  const version = f.attrs.keras_version?.value;
  const src = { file, keras3: typeof version === 'string' ? version.startsWith('3.') : isKeras3(topology) };
  const keras = modelConfigFromKeras(src, topology);
  const classOf = new Map(keras.config.layers.map((l) => [String(l.config.name), l.className]));
  const root = f.get('model_weights') ?? f;
  if (!(root instanceof Object) || typeof (root as H5Group).keys !== 'function') fail(file, 'no model_weights group');
  const group = root as H5Group;
  const table: WeightTable = new Map();
  const names = group.attrs.layer_names?.value;
  const layerNames = Array.isArray(names) ? names.map(text) : group.keys();
  for (const layer of layerNames) {
    const g = group.get(layer) as H5Group | null;
    if (!g || typeof g.keys !== 'function') fail(file, `model_weights has no group for layer '${layer}'`);
    const weightNames = g.attrs.weight_names?.value;
    const list = Array.isArray(weightNames) ? weightNames.map(text).filter((n) => n !== '') : [];
    if (list.length === 0) continue;
    if (!classOf.has(layer)) fail(file, `model_weights holds weights of layer '${layer}', which the model does not have`);
    const weights = new Map<string, FileWeight>();
    for (const path of list) {
      const d = g.get(path) as H5Dataset | null;
      if (!d || typeof (d as H5Dataset).shape === 'undefined') fail(file, `model_weights/${layer}: no dataset '${path}'`);
      const name = convkitWeightName(classOf.get(layer), path.split('/').at(-1)!);
      if (weights.has(name)) fail(file, `model_weights/${layer}: the weight '${name}' appears twice`);
      weights.set(name, datasetWeight(file, d, `the weight '${layer}/${path}'`));
    }
    table.set(layer, weights);
  }
  return { keras, table, keras3: src.keras3 };
}

/** Keras 3's model.weights.h5: each layer's variables by position under layers/<name>/vars. */
function readKeras3Weights(file: string, f: H5Group, keras: KerasModel): WeightTable {
  const byName = new Map(keras.config.layers.map((l) => [String(l.config.name), l]));
  const table: WeightTable = new Map();
  const visit = (g: H5Group, path: string): void => {
    for (const key of g.keys()) {
      const child = g.get(key) as H5Group | null;
      if (!child || typeof child.keys !== 'function') continue;
      const here = path ? `${path}/${key}` : key;
      if (key === 'vars') {
        const layer = path.split('/').at(-1)!;
        const datasets = child.keys().sort((a, b) => Number(a) - Number(b));
        if (datasets.length === 0) continue;
        const config = byName.get(layer);
        if (!config) fail(file, `${here}: variables of layer '${layer}', which the model does not have`);
        const order = kerasWeightOrder(config);
        if (order.length !== datasets.length) fail(file, `${here}: ${datasets.length} variables where layer '${layer}' (${config.className}) has ${order.length} (${order.join(', ')})`);
        const weights = new Map<string, FileWeight>();
        datasets.forEach((k, i) => weights.set(order[i], datasetWeight(file, child.get(k) as H5Dataset, `the variable ${here}/${k}`)));
        table.set(layer, weights);
      } else {
        visit(child, here);
      }
    }
  };
  visit(f, '');
  return table;
}

/**
 * Runs fn on the HDF5 file at path, closing it after; any failure of the library becomes a ConvkitError (the
 * library also prints its own diagnostics of a malformed file to stderr).
 */
async function withH5<T>(file: string, path: string, fn: (f: H5Group) => T): Promise<T> {
  const lib = await hdf5();
  let f: InstanceType<H5['File']> | undefined;
  try {
    f = new lib.File(path, 'r');
    return fn(f);
  } catch (e) {
    if (e instanceof ConvkitError) throw e;
    return fail(file, `not a readable HDF5 file (${(e as Error).message ?? describe(e)})`);
  } finally {
    try {
      f?.close();
    } catch {
      // closing a file the library could not open
    }
  }
}

/** Keras 3's .keras zip: its entries, each bounded in size before it is inflated. */
function unzip(file: string, bytes: Uint8Array): Record<string, Uint8Array> {
  const wanted = new Set(['config.json', 'metadata.json', 'model.weights.h5']);
  try {
    return unzipSync(bytes, {
      filter: (entry) => {
        if (!wanted.has(entry.name)) return false;
        if (entry.originalSize > MAX_BYTES) fail(file, `${entry.name} inflates to ${entry.originalSize} bytes, more than the ${MAX_BYTES} allowed`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof ConvkitError) throw e;
    return fail(file, `not a readable zip (${(e as Error).message})`);
  }
}

/**
 * Reads a Keras model file: Keras 3's `.keras` or Keras 2's `.h5`.
 * @throws ConvkitError naming the file, the layer and the weight for anything convkit cannot read or build.
 */
export async function loadKerasFile(path: string): Promise<Model> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, MAX_BYTES);
  } catch (e) {
    return fail(path, `cannot read it: ${e instanceof FileError ? e.message : (e as Error).message}`);
  }
  const isZip = bytes[0] === 0x50 && bytes[1] === 0x4b;
  if (!isZip) {
    const { keras, table, keras3 } = await withH5(path, path, (f) => {
      const r = readH5(path, f);
      // read every weight while the file is open
      for (const weights of r.table.values()) for (const [k, w] of weights) weights.set(k, { shape: w.shape, values: once(w.values()) });
      return r;
    });
    return buildKerasModel({ file: path, keras3 }, keras, table);
  }
  const entries = unzip(path, bytes);
  if (!entries['config.json']) fail(path, 'a zip without config.json: not a Keras 3 .keras file');
  let topology: Json;
  try {
    topology = JSON.parse(new TextDecoder().decode(entries['config.json'])) as Json;
  } catch {
    return fail(path, 'config.json is not valid JSON');
  }
  const src = { file: path, keras3: true };
  const keras = modelConfigFromKeras(src, topology);
  const weightsBytes = entries['model.weights.h5'];
  if (!weightsBytes) fail(path, 'no model.weights.h5 in the archive');
  // h5wasm reads files: the weights go to a private temporary file for the time of the read
  const tmp = join(tmpdir(), `convkit-${process.pid}-${randomBytes(6).toString('hex')}.weights.h5`);
  await writeFile(tmp, weightsBytes, { mode: 0o600, flag: 'wx' });
  try {
    const table = await withH5(path, tmp, (f) => {
      const t = readKeras3Weights(path, f, keras);
      for (const weights of t.values()) for (const [k, w] of weights) weights.set(k, { shape: w.shape, values: once(w.values()) });
      return t;
    });
    return buildKerasModel(src, keras, table);
  } finally {
    await rm(tmp, { force: true });
  }
}

const once = (v: Float32Array) => (): Float32Array => v;
