// Keras's own files: a Keras 2 .h5 (topology in the root's model_config attribute, weights by name under
// model_weights) and a Keras 3 .keras (a zip of config.json, metadata.json and model.weights.h5 with each layer's
// variables by position), written here with h5wasm and fflate in Keras's layouts from a model TF.js builds; the
// imports must predict what TF.js predicts (tolerance as in tfjs.test.ts: 1e-5 of the largest output).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConvkitError, loadModel, randomNormal, Tensor } from '../../src/index.js';
import { writeH5, writeKeras } from '../helpers/keras.js';
import { tfjs, type Tf } from '../helpers/tfjs.js';

let tf: Tf;
let root: string;
beforeAll(async () => {
  tf = await tfjs();
  await h5wasm.ready;
  root = await mkdtemp(join(tmpdir(), 'convkit-keras-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A small Functional model with a residual add, a causal Conv1D branch reshaped back, and batch norm. */
function tfModel(): Tf {
  const x = tf.input({ shape: [8, 8, 3], name: 'image' });
  let h = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'stem', activation: 'relu6' }).apply(x);
  const b = tf.layers.batchNormalization({ name: 'bn' }).apply(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw', depthMultiplier: 1 }).apply(h));
  h = tf.layers.add({ name: 'residual' }).apply([h, b]);
  h = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(h);
  h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h);
  const y = tf.layers.dense({ units: 3, name: 'head', activation: 'softmax' }).apply(h);
  const m = tf.model({ inputs: x, outputs: y, name: 'small' });
  const bn = m.getLayer('bn');
  bn.setWeights(bn.getWeights().map((w: Tf, i: number) => tf.add(w, tf.randomUniform(w.shape, 0.1, 0.6, 'float32', 10 + i))));
  return m;
}

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}

describe('Keras files load and predict as the model that wrote them', () => {
  for (const kind of ['h5', 'keras'] as const) {
    it(`a Keras ${kind === 'h5' ? '2 .h5' : '3 .keras'} file`, async () => {
      const m = tfModel();
      const path = join(root, `small.${kind}`);
      await (kind === 'h5' ? writeH5(tf, m, path) : writeKeras(tf, m, path));
      const ck = await loadModel(path);
      const x = randomNormal([3, 8, 8, 3], { seed: 4 });
      const want = m.predict(tf.tensor(x.data, x.shape)).dataSync();
      const got = ((await ck.predict(x)) as Tensor).data;
      expect(relDiff(got, want)).toBeLessThan(1e-5);
      expect(ck.layers.map((l) => l.name)).toEqual(['image', 'stem', 'dw', 'bn', 'residual', 'pool', 'gap', 'head']);
    });
  }

  it('refuses broken files, naming the file and what is wrong, and never crashes', async () => {
    const m = tfModel();
    const h5 = join(root, 'ok.h5');
    await writeH5(tf, m, h5);
    const bytes = await readFile(h5);
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated.h5', bytes.subarray(0, Math.floor(bytes.length / 2)), /truncated\.h5: not a readable HDF5 file/],
      ['garbage.h5', new Uint8Array(4096).fill(7), /garbage\.h5: not a readable HDF5 file/],
      ['notzip.keras', strToU8('PK this is not a zip'), /notzip\.keras: not a readable zip/],
      ['empty.keras', zipSync({ 'metadata.json': strToU8('{}') }), /empty\.keras: a zip without config\.json/],
    ];
    for (const [name, data, message] of cases) {
      const p = join(root, name);
      await writeFile(p, data);
      const err = await loadModel(p).catch((e) => e);
      expect(err, name).toBeInstanceOf(ConvkitError);
      expect(err.message, name).toMatch(message);
    }
    // a weights-only file (save_weights) holds no model
    const weightsOnly = join(root, 'weights-only.h5');
    const f = new h5wasm.File(weightsOnly, 'w');
    f.create_group('dense');
    f.close();
    await expect(loadModel(weightsOnly)).rejects.toThrow(/no model_config attribute: a weights-only file/);
    // a .keras whose variables do not fit the layers
    const k = join(root, 'bad.keras');
    await writeKeras(tf, m, k);
    const { unzipSync } = await import('fflate');
    const entries = unzipSync(new Uint8Array(await readFile(k)));
    const tmp = join(root, 'bad.h5');
    await writeFile(tmp, entries['model.weights.h5']);
    const wf = new h5wasm.File(tmp, 'a');
    (wf.get('layers/head/vars') as Tf).create_dataset({ name: '2', data: new Float32Array(3), shape: [3] });
    wf.close();
    entries['model.weights.h5'] = new Uint8Array(await readFile(tmp));
    await writeFile(k, zipSync(entries));
    await expect(loadModel(k)).rejects.toThrow(/layers\/head\/vars: 3 variables where layer 'head' \(Dense\) has 2 \(kernel, bias\)/);
  });
});
