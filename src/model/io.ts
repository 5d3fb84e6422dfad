import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ConvkitError } from '../errors.js';
import { Tensor, sizeOf } from '../tensor.js';
import { Sequential, type ModelConfig } from './sequential.js';
import { layerFromConfig } from '../layers/index.js';

/** Bumped when model.json changes incompatibly. */
const FORMAT = 'convkit-model';
const FORMAT_VERSION = 1;
const OPTIMIZER_PREFIX = 'optimizer/';

interface ManifestEntry {
  name: string;
  shape: number[];
  /** Byte offset in weights.bin; every value is little-endian float32. */
  offset: number;
}

interface ModelJson {
  format: string;
  formatVersion: number;
  modelConfig: ModelConfig;
  trainingConfig?: ReturnType<Sequential['getTrainingConfig']>;
  optimizerIterations?: number;
  epochsTrained: number;
  weights: { file: 'weights.bin'; byteLength: number; crc32: number; entries: ManifestEntry[] };
}

function err(dir: string, what: string): ConvkitError {
  return new ConvkitError(`loadModel: ${what} (in ${dir})`, 'loadModel');
}

/**
 * Writes a file so that readers see either the old content or the complete new one: into a temporary
 * sibling, flushed to disk, then renamed over the target. The temporary file is removed on failure.
 */
async function writeAtomically(path: string, data: Uint8Array): Promise<string> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return tmp;
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Serializes a model; see Sequential.save. */
export async function saveModel(model: Sequential, dir: string): Promise<void> {
  const named = model.params().map((p) => ({ name: p.name, tensor: p.value }));
  const opt = model.optimizer;
  if (opt) for (const s of opt.getSlotWeights(model.params())) named.push({ name: OPTIMIZER_PREFIX + s.name, tensor: s.tensor });
  const entries: ManifestEntry[] = [];
  let offset = 0;
  for (const { name, tensor } of named) {
    entries.push({ name, shape: [...tensor.shape], offset });
    offset += tensor.size * 4;
  }
  const bytes = new Uint8Array(offset);
  const view = new DataView(bytes.buffer);
  named.forEach(({ tensor }, i) => {
    const at = entries[i].offset;
    for (let k = 0; k < tensor.size; k++) view.setFloat32(at + 4 * k, tensor.data[k], true);
  });
  const json: ModelJson = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    modelConfig: model.getConfig(),
    trainingConfig: model.getTrainingConfig(),
    optimizerIterations: opt?.iterations,
    epochsTrained: model.epochsTrained,
    weights: { file: 'weights.bin', byteLength: bytes.length, crc32: crc32(bytes), entries },
  };
  await mkdir(dir, { recursive: true });
  const weightsPath = join(dir, 'weights.bin');
  const jsonPath = join(dir, 'model.json');
  const tmpWeights = await writeAtomically(weightsPath, bytes);
  let tmpJson: string | undefined;
  try {
    tmpJson = await writeAtomically(jsonPath, new TextEncoder().encode(JSON.stringify(json, null, 2)));
    // Both files are complete on disk before either replaces its target; model.json records weights.bin's
    // length and checksum, so a crash between the two renames is reported at load, never loaded silently.
    await rename(tmpWeights, weightsPath);
    await rename(tmpJson, jsonPath);
  } catch (e) {
    await rm(tmpWeights, { force: true });
    if (tmpJson) await rm(tmpJson, { force: true });
    throw e;
  }
}

/**
 * Rebuilds a model saved with `model.save(dir)`: layers, weights, and when it was compiled, the optimizer
 * with its state, so `fit` continues exactly where the saved run stopped.
 * @example const model = await loadModel('out/digits')
 * @throws ConvkitError saying what is wrong: a missing file, invalid JSON, an unknown format or layer, a truncated
 * or corrupt weights.bin, or weights that do not match the layers.
 */
export async function loadModel(dir: string): Promise<Sequential> {
  let text: string;
  try {
    text = await readFile(join(dir, 'model.json'), 'utf8');
  } catch (e) {
    throw err(dir, `cannot read model.json: ${(e as Error).message}`);
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (e) {
    throw err(dir, `model.json is not valid JSON (${(e as Error).message}); the file is corrupt or truncated`);
  }
  if (json?.format !== FORMAT) throw err(dir, `model.json is not a convkit model (format ${JSON.stringify(json?.format)})`);
  if (json.formatVersion !== FORMAT_VERSION) throw err(dir, `model.json has format version ${json.formatVersion}; this convkit reads ${FORMAT_VERSION}`);
  const manifest = json.weights;
  if (!manifest || !Array.isArray(manifest.entries) || typeof manifest.byteLength !== 'number') throw err(dir, 'model.json has no weights manifest');

  let bytes: Uint8Array;
  try {
    bytes = await readFile(join(dir, 'weights.bin'));
  } catch (e) {
    throw err(dir, `cannot read weights.bin: ${(e as Error).message}`);
  }
  if (bytes.length < manifest.byteLength) throw err(dir, `weights.bin is truncated: ${bytes.length} bytes, expected ${manifest.byteLength}`);
  if (bytes.length > manifest.byteLength) throw err(dir, `weights.bin has ${bytes.length} bytes, expected ${manifest.byteLength}: it belongs to another model.json`);
  if (crc32(bytes) !== manifest.crc32) throw err(dir, 'weights.bin is corrupt or from another save: its CRC-32 does not match the one model.json records');

  const config = json.modelConfig;
  if (!config || !Array.isArray(config.layers)) throw err(dir, 'model.json has no modelConfig.layers');
  let model: Sequential;
  try {
    model = new Sequential(
      config.layers.map((c) => layerFromConfig(c)),
      { dtype: config.dtype, seed: config.seed, name: config.name },
    );
  } catch (e) {
    throw err(dir, `model.json describes a model that cannot be built: ${(e as Error).message}`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (e: ManifestEntry): Tensor => {
    const n = sizeOf(e.shape);
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset + 4 * n > bytes.length) throw err(dir, `weights entry '${e.name}' lies outside weights.bin`);
    const data = model.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
    for (let k = 0; k < n; k++) data[k] = view.getFloat32(e.offset + 4 * k, true);
    return new Tensor(data, e.shape);
  };
  const byName = new Map(manifest.entries.map((e) => [e.name, e]));
  const params = model.params();
  for (const p of params) {
    const e = byName.get(p.name);
    if (!e) throw err(dir, `weights.bin has no entry for '${p.name}'`);
    if (e.shape.length !== p.value.rank || e.shape.some((d, i) => d !== p.value.shape[i])) {
      throw err(dir, `weights entry '${p.name}' has shape [${e.shape.join(', ')}] but the layer expects [${p.value.shape.join(', ')}]`);
    }
    p.value.data.set(read(e).data);
  }
  const known = new Set(params.map((p) => p.name));
  const slots = manifest.entries.filter((e) => !known.has(e.name));
  const stray = slots.find((e) => !e.name.startsWith(OPTIMIZER_PREFIX));
  if (stray) throw err(dir, `weights.bin has an entry '${stray.name}' that matches no layer weight`);

  model.epochsTrained = json.epochsTrained ?? 0;
  if (json.trainingConfig) {
    try {
      model.compile(json.trainingConfig);
      const opt = model.optimizer!;
      opt.iterations = json.optimizerIterations ?? 0;
      opt.setSlotWeights(params, slots.map((e) => ({ name: e.name.slice(OPTIMIZER_PREFIX.length), tensor: read(e) })));
    } catch (e) {
      if (e instanceof ConvkitError && e.where === 'loadModel') throw e;
      throw err(dir, `the saved training state does not fit the model: ${(e as Error).message}`);
    }
  }
  return model;
}
