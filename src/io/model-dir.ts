/**
 * convkit's own model directory: model.json (topology, training state, weights manifest, a checksum of
 * itself) and one weights file it names, `weights-<id>.bin` (little-endian float32 tensors, back to back).
 *
 * Saving never loses the model: the new weights go to a fresh file, then model.json is replaced by a rename,
 * the one moment the directory switches from the old model to the new; the old weights file is removed after.
 * A crash at any point leaves the old model or the new one, complete. Saves to one directory are serialized
 * (withDirLock), and each removes what killed saves left behind.
 *
 * Loading trusts nothing: model.json must be a regular file of bounded size whose checksum matches; every
 * field is checked before use; the manifest must lay its entries back to back over exactly the weights file,
 * whose size is checked before it is read and whose CRC-32 must match; weights are taken from it by name and
 * shape while the layers are built (no initializer allocates anything first), and must be finite.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ConvkitError, describe } from '../errors.js';
import type { LayerConfig } from '../layers/index.js';
import { modelFromConfig } from '../model/from-config.js';
import type { Model, ModelConfig, NodeRef } from '../model/model.js';
import type { TrainingConfig } from '../model/training.js';
import { MAX_TENSOR_SIZE, sharedArray, sizeOf, Tensor, type DType } from '../tensor.js';
import { FileError, freshName, readRegularFile, removeStale, syncDir, withDirLock, writeDurably } from './files.js';

const FORMAT = 'convkit-model';
/** 2: weights-<id>.bin and a checksum of model.json. 1 (weights.bin, no checksum) is still read. */
const FORMAT_VERSION = 2;
const OPTIMIZER_PREFIX = 'optimizer/';
const MODEL_JSON = 'model.json';
/** model.json holds a topology, never weights: a ResNet-152's is well under 1 MiB. */
const MAX_MODEL_JSON_BYTES = 32 * 2 ** 20;
const WEIGHTS_FILE = /^weights(-[0-9a-f]{8,32})?\.bin$/;
const CHECKSUM = /"checksum": "crc32:([0-9a-f]{8})"\n}\n?$/;
const CHECKSUM_PLACEHOLDER = '"checksum": "crc32:00000000"';
/** Counters a file may set: enough for any real training run, far from where += 1 stops changing a double. */
const MAX_COUNT = 2 ** 31 - 1;

interface ManifestEntry {
  name: string;
  shape: number[];
  /** Byte offset in the weights file; every value is little-endian float32. */
  offset: number;
}

interface Manifest {
  file: string;
  byteLength: number;
  crc32: number;
  entries: ManifestEntry[];
}

interface ModelJson {
  format: string;
  formatVersion: number;
  modelConfig: ModelConfig;
  trainingConfig?: TrainingConfig;
  optimizerIterations?: number;
  epochsTrained: number;
  weights: Manifest;
  checksum?: string;
}

/** What the model's tensors are saved as: named, in save order. */
function namedTensors(model: Model): { name: string; tensor: Tensor }[] {
  const named = model.params().map((p) => ({ name: p.name, tensor: p.value }));
  const opt = model.optimizer;
  if (opt) for (const s of opt.getSlotWeights(model.params())) named.push({ name: OPTIMIZER_PREFIX + s.name, tensor: s.tensor });
  return named;
}

function serializeWeights(named: { name: string; tensor: Tensor }[]): { bytes: Uint8Array; entries: ManifestEntry[] } {
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
  return { bytes, entries };
}

/**
 * model.json's text for `json`, its last field a CRC-32 of the whole text (computed with the field's digits
 * zeroed). Exported for tests that write model.json files by hand.
 */
export function modelJsonText(json: object): string {
  const { checksum: _, ...rest } = json as { checksum?: unknown };
  const text = `${JSON.stringify({ ...rest, checksum: 'crc32:00000000' }, null, 2)}\n`;
  const sum = crc32(Buffer.from(text, 'utf8')).toString(16).padStart(8, '0');
  return text.replace(new RegExp(`${CHECKSUM_PLACEHOLDER}\n}\n$`), `"checksum": "crc32:${sum}"\n}\n`);
}

/** A fresh weights file name, `weights-<16 hex>.bin`. */
export function freshWeightsFile(): string {
  return `weights-${randomBytes(8).toString('hex')}.bin`;
}

/** Serializes a model into dir; see Sequential.save. */
export async function saveModel(model: Model, dir: string): Promise<void> {
  const { bytes, entries } = serializeWeights(namedTensors(model));
  const opt = model.optimizer;
  const weightsFile = freshWeightsFile();
  const text = modelJsonText({
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    modelConfig: model.getConfig(),
    trainingConfig: model.getTrainingConfig(),
    optimizerIterations: opt?.iterations,
    epochsTrained: model.epochsTrained,
    weights: { file: weightsFile, byteLength: bytes.length, crc32: crc32(bytes), entries },
  });
  await commitModelDir(dir, weightsFile, bytes, text);
}

/**
 * Writes a model directory's weights file and model.json (convkit's or TF.js's), the rename of model.json being
 * the moment the directory switches to the new model; then removes the weights the replaced model.json named
 * and whatever killed saves left. Saves to one directory are serialized.
 */
export async function commitModelDir(dir: string, weightsFile: string, bytes: Uint8Array, modelJson: string): Promise<void> {
  await withDirLock(dir, async () => {
    const tmpJson = freshName(`${MODEL_JSON}.tmp-`);
    let committed = false;
    try {
      await writeDurably(join(dir, weightsFile), bytes);
      await writeDurably(join(dir, tmpJson), new TextEncoder().encode(modelJson));
      await rename(join(dir, tmpJson), join(dir, MODEL_JSON)); // the commit point
      committed = true;
      await syncDir(dir);
    } finally {
      // Under the lock nothing else writes here: every weights file but the ones model.json names, and every
      // temporary file, is a leftover (the replaced model's weights, or what a killed save wrote).
      const keep = committed ? [weightsFile] : await referencedWeights(dir);
      await removeStale(dir, (name) => (WEIGHTS_FILE.test(name) && !keep.includes(name)) || name.startsWith(`${MODEL_JSON}.tmp-`));
    }
  });
}

/** The weights files the directory's model.json names (convkit's or TF.js's), if it can be read at all. */
async function referencedWeights(dir: string): Promise<string[]> {
  try {
    const json = JSON.parse((await readRegularFile(join(dir, MODEL_JSON), MAX_MODEL_JSON_BYTES)).toString('utf8')) as {
      weights?: { file?: unknown };
      weightsManifest?: { paths?: unknown[] }[];
    };
    const files = [json?.weights?.file, ...(Array.isArray(json?.weightsManifest) ? json.weightsManifest.flatMap((g) => (Array.isArray(g?.paths) ? g.paths : [])) : [])];
    return files.filter((f): f is string => typeof f === 'string');
  } catch {
    return [];
  }
}

/** Checks values read from one file, naming the file and the field in every refusal. */
class FieldCheck {
  constructor(
    readonly dir: string,
    readonly file: string,
  ) {}

  error(what: string): ConvkitError {
    return new ConvkitError(`loadModel: ${this.file}: ${what} (in ${this.dir})`, 'loadModel');
  }

  fail(field: string, expected: string, received: unknown): never {
    let got = describe(received);
    if (got.length > 80) got = `${got.slice(0, 77)}...`;
    throw this.error(`${field}: expected ${expected} but received ${got}`);
  }

  object(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, 'an object', v);
    return v as Record<string, unknown>;
  }

  array(v: unknown, field: string, maxLength: number): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'an array', v);
    if (v.length > maxLength) this.fail(field, `at most ${maxLength} entries`, `${v.length} entries`);
    return v;
  }

  int(v: unknown, field: string, lo: number, hi: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) this.fail(field, `an integer in [${lo}, ${hi}]`, v);
    return v;
  }

  string(v: unknown, field: string, maxLength = 1024): string {
    if (typeof v !== 'string' || v.length === 0 || v.length > maxLength) this.fail(field, `a string of 1 to ${maxLength} characters`, v);
    return v;
  }
}

/** The manifest's entries, each checked, laid back to back from offset 0 over exactly byteLength bytes. */
function checkManifest(c: FieldCheck, v: unknown, version: number): Manifest {
  const m = c.object(v, 'weights');
  const file = c.string(m.file, 'weights.file', 64);
  if (!(version === 1 ? file === 'weights.bin' : WEIGHTS_FILE.test(file))) {
    c.fail('weights.file', version === 1 ? "'weights.bin'" : 'a file name weights-<hex>.bin in the same directory', file);
  }
  const byteLength = c.int(m.byteLength, 'weights.byteLength', 0, Number.MAX_SAFE_INTEGER);
  const crc = c.int(m.crc32, 'weights.crc32', 0, 2 ** 32 - 1);
  const raw = c.array(m.entries, 'weights.entries', 1_000_000);
  const seen = new Set<string>();
  const entries: ManifestEntry[] = [];
  let next = 0;
  raw.forEach((r, i) => {
    const field = `weights.entries[${i}]`;
    const e = c.object(r, field);
    const name = c.string(e.name, `${field}.name`);
    if (seen.has(name)) c.fail(`${field}.name`, 'a name no other entry has', name);
    seen.add(name);
    const shape = c.array(e.shape, `${field}.shape`, 8).map((d, k) => c.int(d, `${field}.shape[${k}]`, 0, MAX_TENSOR_SIZE));
    if (sizeOf(shape) > MAX_TENSOR_SIZE) c.fail(`${field}.shape`, `at most ${MAX_TENSOR_SIZE} values`, shape);
    const offset = c.int(e.offset, `${field}.offset`, 0, Number.MAX_SAFE_INTEGER);
    // back to back, in order: no entry can alias another or leave a gap for something unchecked
    if (offset !== next) c.fail(`${field}.offset`, `${next} (right after the entry before)`, offset);
    next += sizeOf(shape) * 4;
    entries.push({ name, shape, offset });
  });
  if (next !== byteLength) c.fail('weights.byteLength', `${next} (the entries' total)`, byteLength);
  return { file, byteLength, crc32: crc, entries };
}

/** model.json's text and parsed content, with its checksum verified (format version 2). */
async function readModelJson(dir: string, c: FieldCheck): Promise<Record<string, unknown>> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(join(dir, MODEL_JSON), MAX_MODEL_JSON_BYTES);
  } catch (e) {
    throw c.error(`cannot read it: ${e instanceof FileError ? e.message : (e as Error).message}`);
  }
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // V8's message quotes the text, which may be any file a symlink points to: say where, not what.
    throw c.error(`not valid JSON (${bytes.length} bytes); the file is corrupt or truncated`);
  }
  const json = c.object(parsed, '(top level)');
  if (json.format !== FORMAT) throw c.error(`not a convkit model (format ${describe(json.format)})`);
  const version = c.int(json.formatVersion, 'formatVersion', 1, FORMAT_VERSION);
  if (version >= 2) {
    const m = CHECKSUM.exec(text);
    if (!m) throw c.error('no checksum at its end: it was cut short or edited');
    const zeroed = `${text.slice(0, m.index)}${CHECKSUM_PLACEHOLDER}\n}${text.endsWith('\n') ? '\n' : ''}`;
    if (crc32(Buffer.from(zeroed, 'utf8')).toString(16).padStart(8, '0') !== m[1]) {
      throw c.error('its checksum does not match its content: it was corrupted or edited after it was saved');
    }
  }
  return json;
}

/** The tensor of a manifest entry, in dtype, checked finite. */
function readEntry(c: FieldCheck, bytes: Buffer, e: ManifestEntry, dtype: DType): Tensor {
  const n = sizeOf(e.shape);
  const data = sharedArray(dtype, n);
  const view = new DataView(bytes.buffer, bytes.byteOffset + e.offset, n * 4);
  for (let k = 0; k < n; k++) {
    const v = view.getFloat32(4 * k, true);
    if (!Number.isFinite(v)) throw c.error(`the weight '${e.name}' holds ${v} at index ${k}`);
    data[k] = v;
  }
  return new Tensor(data, e.shape);
}

/**
 * Rebuilds a model saved with `model.save(dir)`: layers, weights, and when it was compiled, the optimizer
 * with its state, so `fit` continues exactly where the saved run stopped.
 * @example const model = await loadModel('out/digits')
 * @throws ConvkitError naming the file and the field for anything wrong: a missing, oversized or non-regular
 * file, invalid JSON, a checksum mismatch, an unknown format or layer, a manifest that does not lay out the
 * weights file exactly, a truncated or corrupt weights file, weights that do not fit the layers or are not finite.
 */
export async function loadConvkitModel(dir: string): Promise<Model> {
  if (typeof dir !== 'string' || dir === '') throw new ConvkitError(`loadModel: expected a directory path but received ${describe(dir)}`, 'loadModel');
  const c = new FieldCheck(dir, MODEL_JSON);
  const json = await readModelJson(dir, c);
  const version = json.formatVersion as number;
  const manifest = checkManifest(c, json.weights, version);
  const epochsTrained = c.int(json.epochsTrained ?? 0, 'epochsTrained', 0, MAX_COUNT);
  const iterations = c.int(json.optimizerIterations ?? 0, 'optimizerIterations', 0, MAX_COUNT);
  const config = c.object(json.modelConfig, 'modelConfig');
  const layerConfigs = c.array(config.layers, 'modelConfig.layers', 100_000).map((l, i) => {
    const o = c.object(l, `modelConfig.layers[${i}]`);
    c.string(o.className, `modelConfig.layers[${i}].className`, 256);
    c.object(o.config, `modelConfig.layers[${i}].config`);
    return o as unknown as LayerConfig;
  });
  const className = (config.className ?? 'Sequential') as ModelConfig['className'];
  if (className !== 'Sequential' && className !== 'Functional') c.fail('modelConfig.className', "'Sequential' or 'Functional'", config.className);
  const name = c.string(config.name, 'modelConfig.name', 256);
  if (config.dtype !== 'float32' && config.dtype !== 'float64') c.fail('modelConfig.dtype', "'float32' or 'float64'", config.dtype);
  const dtype = config.dtype as DType;
  if (typeof config.seed !== 'number' || !Number.isFinite(config.seed)) c.fail('modelConfig.seed', 'a finite number', config.seed);
  const training = json.trainingConfig === undefined ? undefined : c.object(json.trainingConfig, 'trainingConfig');

  const w = new FieldCheck(dir, manifest.file);
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(join(dir, manifest.file), manifest.byteLength, manifest.byteLength);
  } catch (e) {
    throw w.error(`cannot read it: ${e instanceof FileError ? e.message : (e as Error).message}`);
  }
  if (crc32(bytes) !== manifest.crc32) throw w.error('its CRC-32 does not match the one model.json records: it is corrupt or from another save');

  const byName = new Map(manifest.entries.map((e) => [e.name, e]));
  const used = new Set<string>();
  const source = (param: string, shape: readonly number[]): Tensor => {
    const e = byName.get(param);
    if (!e) throw w.error(`it has no weight '${param}', which the layers in model.json need`);
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
      throw w.error(`the weight '${param}' has shape [${e.shape.join(', ')}] but the layer needs [${shape.join(', ')}]`);
    }
    used.add(param);
    return readEntry(w, bytes, e, dtype);
  };
  let model: Model;
  try {
    model = modelFromConfig({ className, name, dtype, seed: config.seed as number, layers: layerConfigs, inputLayers: config.inputLayers as NodeRef[], outputLayers: config.outputLayers as NodeRef[] }, source);
  } catch (e) {
    if (e instanceof ConvkitError && e.where === 'loadModel') throw e;
    throw c.error(`modelConfig describes a model that cannot be built: ${(e as Error).message}`);
  }
  const stray = manifest.entries.find((e) => !used.has(e.name) && !e.name.startsWith(OPTIMIZER_PREFIX));
  if (stray) throw w.error(`it has a weight '${stray.name}' that no layer has`);

  model.epochsTrained = epochsTrained;
  if (training) {
    try {
      model.compile(training as never);
      const opt = model.optimizer!;
      opt.iterations = iterations;
      const slots = manifest.entries.filter((e) => e.name.startsWith(OPTIMIZER_PREFIX));
      opt.setSlotWeights(model.params(), slots.map((e) => ({ name: e.name.slice(OPTIMIZER_PREFIX.length), tensor: readEntry(w, bytes, e, dtype) })));
    } catch (e) {
      if (e instanceof ConvkitError && e.where === 'loadModel') throw e;
      throw c.error(`trainingConfig does not fit the model: ${(e as Error).message}`);
    }
  }
  return model;
}
