/**
 * loadModel: a convkit model directory, a TF.js Layers model (model.json and its shards), or a Keras file
 * (.keras, .h5), told apart by the path and by model.json's content.
 */
import { basename, dirname, join } from 'node:path';
import { ConvkitError, describe } from '../errors.js';
import type { Model } from '../model/model.js';
import { readRegularFile } from './files.js';
import { loadKerasFile } from './keras-file.js';
import { loadConvkitModel } from './model-dir.js';
import { loadTfjsModel, readJsonFile } from './tfjs.js';

/** model.json's `format` and whether it holds a Keras topology, or undefined when it cannot be read as JSON. */
async function peek(path: string): Promise<{ format: unknown; topology: boolean } | undefined> {
  try {
    const json = JSON.parse((await readRegularFile(path, 64 * 2 ** 20)).toString('utf8')) as Record<string, unknown>;
    return { format: json?.format, topology: typeof json?.modelTopology === 'object' && json.modelTopology !== null };
  } catch {
    return undefined;
  }
}

/**
 * Loads a model from any format convkit reads:
 * - a directory convkit saved (`model.save(dir)`): layers, weights and the optimizer's state (training resumes exactly);
 * - a TF.js Layers model: its model.json (or the directory holding it) and the weight shards it lists, quantized or not;
 * - a Keras file: Keras 3's `.keras`, or Keras 2's `.h5` (`model.save('m.h5')`).
 * Imported models come uncompiled: compile them to train.
 * @example const model = await loadModel('mobilenet/model.json')
 * @throws ConvkitError naming the file and the field, layer or weight for anything it cannot read or build.
 */
export async function loadModel(path: string): Promise<Model> {
  if (typeof path !== 'string' || path === '') throw new ConvkitError(`loadModel: expected a path but received ${describe(path)}`, 'loadModel');
  if (/\.(keras|h5|hdf5)$/i.test(path)) return loadKerasFile(path);
  const jsonPath = /\.json$/i.test(path) ? path : join(path, 'model.json');
  const seen = await peek(jsonPath);
  if (seen && seen.format !== 'convkit-model' && seen.topology) return loadTfjsModel(jsonPath, await readJsonFile(jsonPath));
  if (/\.json$/i.test(path) && basename(path) !== 'model.json') {
    throw new ConvkitError(`loadModel: ${path}: not a TF.js Layers model (no modelTopology); a convkit model is loaded by its directory`, 'loadModel');
  }
  return loadConvkitModel(/\.json$/i.test(path) ? dirname(path) : path);
}
