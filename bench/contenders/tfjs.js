// TensorFlow.js contenders: the pure-JS 'cpu' backend and the WASM (XNNPACK) backend, loaded offline.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

let tf;
export async function loadTfjs() {
  if (tf) return tf;
  try {
    tf = require('@tensorflow/tfjs');
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${dist}/`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  } catch (e) {
    console.log(`tfjs contenders unavailable (${e.message}); run 'npm install' in bench/`);
    tf = null;
  }
  return tf;
}

/** Runs fn with the named tfjs backend ('cpu' or 'wasm') active; returns undefined if it cannot. */
export async function withTfBackend(name, fn) {
  const t = await loadTfjs();
  if (!t) return undefined;
  if (!(await t.setBackend(name))) return undefined;
  await t.ready();
  return fn(t);
}

/** A TF.js Layers model from its files (model.json and the shards it lists), loaded by tfjs itself. */
export async function loadTfjsModel(tf, dir) {
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
  const groups = json.weightsManifest;
  const data = Buffer.concat(await Promise.all(groups.flatMap((g) => g.paths.map((p) => readFile(path.join(dir, p))))));
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: groups.flatMap((g) => g.weights), weightData }));
}

/** A tfjs functional model running a described convkit graph (lib/graph.js) with its weights (NHWC, as convkit). */
export function tfjsModel(tf, graph) {
  const values = new Map();
  const withWeights = [];
  for (const l of graph.layers) {
    const c = l.config;
    const ins = l.inputs.map((n) => values.get(n));
    let layer;
    switch (l.className) {
      case 'InputLayer':
        values.set(l.name, tf.input({ shape: graph.inputShape }));
        continue;
      case 'Conv2D':
        if (c.groups !== 1) throw new Error(`tfjs contender: ${l.name}: grouped convolution is not built here`);
        layer = tf.layers.conv2d({ filters: c.filters, kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, dilationRate: c.dilationRate, useBias: c.useBias, activation: c.activation });
        break;
      case 'BatchNormalization':
        layer = tf.layers.batchNormalization({ momentum: c.momentum, epsilon: c.epsilon, center: c.center, scale: c.scale });
        break;
      case 'Activation':
        layer = tf.layers.activation({ activation: c.activation });
        break;
      case 'Add':
        layer = tf.layers.add();
        break;
      case 'MaxPooling2D':
        layer = tf.layers.maxPooling2d({ poolSize: c.poolSize, strides: c.strides ?? c.poolSize, padding: c.padding });
        break;
      case 'GlobalAveragePooling2D':
        layer = tf.layers.globalAveragePooling2d({});
        break;
      case 'Flatten':
        layer = tf.layers.flatten();
        break;
      case 'Dropout':
        layer = tf.layers.dropout({ rate: c.rate });
        break;
      case 'Dense':
        layer = tf.layers.dense({ units: c.units, activation: c.activation, useBias: c.useBias });
        break;
      default:
        throw new Error(`tfjs contender: layer ${l.name} (${l.className}) is not built here`);
    }
    values.set(l.name, layer.apply(ins.length === 1 ? ins[0] : ins));
    withWeights.push([layer, l]);
  }
  const m = tf.model({ inputs: values.get(graph.layers[0].name), outputs: values.get(graph.output) });
  for (const [layer, l] of withWeights) {
    const order = l.className === 'BatchNormalization' ? ['gamma', 'beta', 'moving_mean', 'moving_variance'] : ['kernel', 'bias'];
    const ws = order.filter((k) => l.weights[k]).map((k) => tf.tensor(l.weights[k].data, l.weights[k].shape));
    if (ws.length) layer.setWeights(ws);
  }
  m.compile({ optimizer: tf.train.sgd(0.01), loss: tf.losses.softmaxCrossEntropy });
  return m;
}
