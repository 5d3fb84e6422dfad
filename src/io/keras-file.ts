/**
 * Keras's own files: Keras 3's `.keras` (a zip of config.json, metadata.json and model.weights.h5, whose weights
 * sit by position under layers/<name>/vars/<i>) and Keras 2's `.h5` (the topology in the root's model_config
 * attribute, the weights by name under model_weights/<layer>, as the layer's weight_names attribute lists them).
 *
 * HDF5 is read with h5wasm (the HDF5 library itself compiled to WebAssembly: any file Keras writes, whatever its
 * layout version or chunking), in a worker thread: a malformed file can make the library spin forever or fail
 * deep inside, so the worker has a deadline (terminated past it) and a cap on what it may read, and hands back a
 * plain dump of attributes and datasets. Zips are read with fflate, each entry's size checked before inflating.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { unzipSync } from 'fflate';
import { ConvkitError } from '../errors.js';
import type { Model } from '../model/model.js';
import { FileError, readRegularFile } from './files.js';
import type { Json } from './keras/layer-config.js';
import { buildKerasModel, convkitWeightName, isKeras3, kerasWeightOrder, modelConfigFromKeras, type FileWeight, type KerasModel, type WeightTable } from './keras/topology.js';

/** Keras files past this are not CNNs convkit runs (and a zip claiming more is refused before inflating). */
const MAX_BYTES = 2 ** 31;
/** What one HDF5 read may hand back: a dataset, and all of them (elements; compressed data can claim more than the file). */
const MAX_DATASET_VALUES = 2 ** 28;
const MAX_TOTAL_VALUES = 2 ** 29;

function fail(file: string, what: string): never {
  throw new ConvkitError(`loadModel: ${file}: ${what}`, 'loadModel');
}

/** An HDF5 file's attributes (by object path, '' the root) and datasets, as plain values. */
interface H5Dump {
  attrs: Record<string, Record<string, unknown>>;
  datasets: Record<string, { shape: number[]; values?: Float32Array; problem?: string }>;
}

/**
 * The worker (CommonJS source: a worker made from a string is not transformed by any bundler). It walks the
 * file, reading string and numeric attributes and numeric datasets within the caps, and posts the dump (an
 * H5Dump) or the library's error.
 */
const HDF5_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const h5wasm = (await import(workerData.h5wasm)).default;
  await h5wasm.ready;
  const f = new h5wasm.File(workerData.path, 'r');
  const dump = { attrs: {}, datasets: {} };
  const transfer = [];
  let total = 0;
  const walk = (g, path, depth) => {
    const attrs = {};
    for (const [k, a] of Object.entries(g.attrs)) {
      const v = a.value;
      attrs[k] = ArrayBuffer.isView(v) ? Array.from(v) : v;
    }
    dump.attrs[path] = attrs;
    if (depth > 64) return;
    for (const key of g.keys()) {
      const child = g.get(key);
      const here = path ? path + '/' + key : key;
      if (!child) continue;
      if (typeof child.keys === 'function') { walk(child, here, depth + 1); continue; }
      if (child.shape === undefined) continue;
      const shape = child.shape ?? [];
      const n = shape.reduce((a, b) => a * b, 1);
      if (n > workerData.maxDataset || total + n > workerData.maxTotal) {
        dump.datasets[here] = { shape, problem: n + ' values, more than a model weight may hold' };
        continue;
      }
      const v = child.value;
      if (!ArrayBuffer.isView(v) || v instanceof DataView || v instanceof BigInt64Array || v instanceof BigUint64Array) {
        dump.datasets[here] = { shape, problem: 'not an array of numbers' };
        continue;
      }
      const values = Float32Array.from(v);
      total += n;
      transfer.push(values.buffer);
      dump.datasets[here] = { shape, values };
    }
  };
  walk(f, '', 0);
  f.close();
  parentPort.postMessage({ dump }, transfer);
})().catch((e) => parentPort.postMessage({ error: String(e?.message ?? e) }));
`;

/** The dump of the HDF5 file at path, read in a worker that is given a deadline. */
async function readHdf5(file: string, path: string, bytes: number): Promise<H5Dump> {
  const deadlineMs = 5_000 + bytes / 1e4; // 5 s, and 1 s per 10 MB
  const worker = new Worker(HDF5_WORKER, {
    eval: true,

    workerData: { path, h5wasm: import.meta.resolve('h5wasm/node'), maxDataset: MAX_DATASET_VALUES, maxTotal: MAX_TOTAL_VALUES },
  });
  try {
    const reply = await new Promise<{ dump?: H5Dump; error?: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ConvkitError(`loadModel: ${file}: reading it as HDF5 did not finish in ${Math.round(deadlineMs / 1000)} s: the file is malformed`, 'loadModel')), deadlineMs);
      worker.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.once('error', (e) => {
        clearTimeout(timer);
        resolve({ error: e.message });
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ error: `the HDF5 reader stopped (exit code ${code})` });
      });
    });
    // (the library also prints its own diagnostics of a malformed file, straight to the process's stderr)
    if (!reply.dump) fail(file, `not a readable HDF5 file (${reply.error})`);
    return reply.dump;
  } finally {
    await worker.terminate();
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray(v) ? String.fromCharCode(...(v as number[])) : String(v));
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(text) : typeof v === 'string' ? [v] : []);

/** A dumped dataset as a weight: its values checked finite. */
function datasetWeight(file: string, dump: H5Dump, path: string, what: string): FileWeight {
  const d = dump.datasets[path];
  if (!d) fail(file, `${what}: no dataset ${path}`);
  if (d.problem || !d.values) fail(file, `${what}: ${d.problem}`);
  const values = d.values;
  return {
    shape: d.shape,
    values: () => {
      const bad = values.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) fail(file, `${what} holds ${values[bad]} at index ${bad}`);
      return values;
    },
  };
}

/** Keras 2's .h5: topology from the root attributes, weights by name. */
function fromH5(file: string, dump: H5Dump): { keras: KerasModel; table: WeightTable; keras3: boolean } {
  const root = dump.attrs[''] ?? {};
  if (root.model_config === undefined) fail(file, 'no model_config attribute: a weights-only file (save_weights) holds no model; save the model with model.save');
  let topology: Json;
  try {
    topology = JSON.parse(text(root.model_config)) as Json;
  } catch {
    return fail(file, 'its model_config attribute is not valid JSON');
  }
  const version = root.keras_version;
  const src = { file, keras3: typeof version === 'string' ? version.startsWith('3.') : isKeras3(topology) };
  const keras = modelConfigFromKeras(src, topology);
  const classOf = new Map(keras.config.layers.map((l) => [String(l.config.name), l.className]));
  const base = dump.attrs.model_weights ? 'model_weights' : '';
  const table: WeightTable = new Map();
  const layerNames = strings(dump.attrs[base]?.layer_names);
  for (const layer of layerNames) {
    const group = base ? `${base}/${layer}` : layer;
    if (!dump.attrs[group]) fail(file, `model_weights has no group for layer '${layer}'`);
    const list = strings(dump.attrs[group].weight_names).filter((n) => n !== '');
    if (list.length === 0) continue;
    if (!classOf.has(layer)) fail(file, `model_weights holds weights of layer '${layer}', which the model does not have`);
    const weights = new Map<string, FileWeight>();
    for (const path of list) {
      const name = convkitWeightName(classOf.get(layer), path.split('/').at(-1)!);
      if (weights.has(name)) fail(file, `model_weights/${layer}: the weight '${name}' appears twice`);
      weights.set(name, datasetWeight(file, dump, `${group}/${path}`, `the weight '${layer}/${path}'`));
    }
    table.set(layer, weights);
  }
  return { keras, table, keras3: src.keras3 };
}

/** Keras 3's model.weights.h5: each layer's variables by position under layers/<name>/vars. */
function fromKeras3Weights(file: string, dump: H5Dump, keras: KerasModel): WeightTable {
  const byName = new Map(keras.config.layers.map((l) => [String(l.config.name), l]));
  const vars = new Map<string, { index: number; path: string }[]>();
  for (const path of Object.keys(dump.datasets)) {
    const m = /^(.*\/)?([^/]+)\/vars\/(\d+)$/.exec(path);
    if (!m) continue;
    const group = path.slice(0, path.lastIndexOf('/'));
    vars.set(group, [...(vars.get(group) ?? []), { index: Number(m[3]), path }]);
  }
  const table: WeightTable = new Map();
  for (const [group, list] of vars) {
    const layer = group.split('/').at(-2)!;
    const config = byName.get(layer);
    if (!config) fail(file, `${group}: variables of layer '${layer}', which the model does not have`);
    const order = kerasWeightOrder(config);
    list.sort((a, b) => a.index - b.index);
    if (order.length !== list.length || list.some((v, i) => v.index !== i)) {
      fail(file, `${group}: ${list.length} variables where layer '${layer}' (${config.className}) has ${order.length} (${order.join(', ')})`);
    }
    if (table.has(layer)) fail(file, `${group}: a second set of variables for layer '${layer}'`);
    table.set(layer, new Map(list.map((v, i) => [order[i], datasetWeight(file, dump, v.path, `the variable ${v.path}`)])));
  }
  return table;
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
    const { keras, table, keras3 } = fromH5(path, await readHdf5(path, path, bytes.length));
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
  let dump: H5Dump;
  try {
    dump = await readHdf5(path, tmp, weightsBytes.length);
  } finally {
    await rm(tmp, { force: true });
  }
  return buildKerasModel(src, keras, fromKeras3Weights(path, dump, keras));
}
