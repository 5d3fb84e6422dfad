// Keras's file layouts, written with h5wasm and fflate from a model TF.js builds: Keras 2's .h5 (topology in the
// root's model_config attribute, weights by name under model_weights) and Keras 3's .keras (a zip of config.json,
// metadata.json and model.weights.h5 holding each layer's variables by position, the topology in Keras 3's style).
import { readFile, writeFile } from 'node:fs/promises';
import { strToU8, zipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import type { Tf } from './tfjs.js';

/** The topology TF.js would save (Keras 2 conventions: [[name, node, tensor, kwargs]] inbound nodes). */
async function topologyOf(tf: Tf, m: Tf): Promise<Tf> {
  let topology: Tf;
  await m.save(tf.io.withSaveHandler(async (a: Tf) => {
    topology = a.modelTopology;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return topology;
}

/** Keras 2's .h5 layout. */
export async function writeH5(tf: Tf, m: Tf, path: string): Promise<void> {
  await h5wasm.ready;
  const topology = await topologyOf(tf, m);
  const f = new h5wasm.File(path, 'w');
  f.create_attribute('model_config', JSON.stringify(topology));
  f.create_attribute('keras_version', '2.15.0');
  f.create_attribute('backend', 'tensorflow');
  const mw = f.create_group('model_weights');
  mw.create_attribute('layer_names', m.layers.map((l: Tf) => l.name));
  for (const l of m.layers) {
    const g = mw.create_group(l.name);
    const weights = l.weights as Tf[];
    g.create_attribute('weight_names', weights.length ? weights.map((w: Tf) => `${l.name}/${w.originalName.split('/').at(-1)}:0`) : ['']);
    if (!weights.length) continue;
    const inner = g.create_group(l.name);
    for (const w of weights) inner.create_dataset({ name: `${w.originalName.split('/').at(-1)}:0`, data: w.read().dataSync() as Float32Array, shape: w.shape });
  }
  f.close();
}

/** Keras 3's .keras layout: the topology in Keras 3's style, variables by position. */
export async function writeKeras(tf: Tf, m: Tf, path: string): Promise<void> {
  await h5wasm.ready;
  const t = await topologyOf(tf, m);
  const tensor = (ref: Tf[]) => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: ref.slice(0, 3) } });
  const layers = t.config.layers.map((l: Tf) => ({
    module: 'keras.layers',
    class_name: l.class_name,
    registered_name: null,
    name: l.name,
    config: l.class_name === 'InputLayer' ? { batch_shape: l.config.batch_input_shape, dtype: 'float32', sparse: false, name: l.name } : { ...l.config, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null } },
    inbound_nodes: l.inbound_nodes.map((node: Tf[]) => ({ args: node.length === 1 ? [tensor(node[0])] : [node.map(tensor)], kwargs: {} })),
  }));
  const config = { module: 'keras.src.models.functional', class_name: 'Functional', config: { name: t.config.name, layers, input_layers: t.config.input_layers[0], output_layers: t.config.output_layers[0] }, registered_name: 'Functional' };
  const h5path = `${path}.weights.h5`;
  const f = new h5wasm.File(h5path, 'w');
  const top = f.create_group('layers');
  for (const l of m.layers) {
    const g = top.create_group(l.name);
    const vars = g.create_group('vars');
    (l.getWeights() as Tf[]).forEach((w, i) => vars.create_dataset({ name: String(i), data: w.dataSync() as Float32Array, shape: w.shape }));
  }
  f.close();
  const zip = zipSync({
    'metadata.json': strToU8(JSON.stringify({ keras_version: '3.5.0', date_saved: '2026-12-06@08:00:00' })),
    'config.json': strToU8(JSON.stringify(config)),
    'model.weights.h5': new Uint8Array(await readFile(h5path)),
  });
  await writeFile(path, zip);
}

