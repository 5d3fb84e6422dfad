// TF.js Layers models both ways, against TF.js itself (its pure-JS CPU backend, in this process): models TF.js
// builds and saves load in convkit and predict what TF.js predicts; models convkit saves in TF.js's format load
// in TF.js (loadLayersModel) and predict what convkit predicts. Tolerance: the two compute in float32 with other
// summation orders; over these small networks (sums of at most a few hundred products per layer, a dozen
// layers) the differences measured stay under 1e-6 of the output's largest magnitude, and 1e-5 of it leaves
// room while a wrong weight layout, padding or activation moves outputs by 1e-2 or more.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { architectures, ConvkitError, input, layers, loadModel, losses, model, optimizers, randomNormal, randomUniform, sequential, Tensor } from '../../src/index.js';
import { loadTfjs, saveTfjs, tfjs, type Tf } from '../helpers/tfjs.js';

let tf: Tf;
let root: string;
beforeAll(async () => {
  tf = await tfjs();
  root = await mkdtemp(join(tmpdir(), 'convkit-tfjs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let dirs = 0;
const fresh = () => join(root, `m${dirs++}`);

/** max |a - b| over max |b|. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}

const TOL = 1e-5;

/** A MobileNet-v2-style TF.js Functional model: zero padding, strided conv with ReLU6, inverted residual blocks
 * (expand 1x1, depthwise 3x3, batch norm, ReLU6, project 1x1, residual add), then a classifier. */
function tfMobileNetLike(tf: Tf): Tf {
  const x = tf.input({ shape: [16, 16, 3] });
  let h = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(x);
  h = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, useBias: false }).apply(h);
  h = tf.layers.batchNormalization({ momentum: 0.9 }).apply(h);
  h = tf.layers.reLU({ maxValue: 6 }).apply(h);
  for (let block = 0; block < 2; block++) {
    let b = tf.layers.conv2d({ filters: 24, kernelSize: 1, useBias: false }).apply(h);
    b = tf.layers.batchNormalization().apply(b);
    b = tf.layers.reLU({ maxValue: 6 }).apply(b);
    b = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }).apply(b);
    b = tf.layers.batchNormalization().apply(b);
    b = tf.layers.activation({ activation: 'relu6' }).apply(b);
    b = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false }).apply(b);
    b = tf.layers.batchNormalization().apply(b);
    h = tf.layers.add().apply([h, b]);
  }
  h = tf.layers.separableConv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(h);
  h = tf.layers.globalAveragePooling2d({}).apply(h);
  h = tf.layers.dropout({ rate: 0.2 }).apply(h);
  const y = tf.layers.dense({ units: 5, activation: 'softmax' }).apply(h);
  const m = tf.model({ inputs: x, outputs: y });
  // batch normalization with statistics that are not the initial ones
  for (const l of m.layers) {
    if (l.getClassName() === 'BatchNormalization') {
      const ws = l.getWeights();
      l.setWeights(ws.map((w: Tf, i: number) => tf.add(w, tf.mul(tf.randomUniform(w.shape, 0, 0.5, 'float32', i + 1), i === 3 ? 1 : i % 2 ? 1 : -1))));
    }
  }
  return m;
}

async function predictBoth(tfModel: Tf, ck: Awaited<ReturnType<typeof loadModel>>, shape: number[]): Promise<[Float32Array, Float32Array]> {
  const x = randomNormal(shape, { seed: 7 });
  const want = tfModel.predict(tf.tensor(x.data, x.shape)).dataSync() as Float32Array;
  const got = (await ck.predict(x)) as Tensor;
  return [Float32Array.from(got.data), want];
}

describe('TF.js Layers models load in convkit and predict as TF.js does', () => {
  it('a MobileNet-style Functional model (residual adds, depthwise convolutions, batch norm, ReLU6, zero padding), in 3 shards', async () => {
    const m = tfMobileNetLike(tf);
    const dir = fresh();
    await saveTfjs(tf, m, dir, { shards: 3 });
    expect((await readdir(dir)).filter((f) => f.endsWith('.bin'))).toHaveLength(3);
    const ck = await loadModel(join(dir, 'model.json'));
    const [got, want] = await predictBoth(m, ck, [4, 16, 16, 3]);
    expect(relDiff(got, want)).toBeLessThan(TOL);
    // the directory works too, and the import is a model like any other: it trains
    const again = await loadModel(dir);
    again.compile({ optimizer: 'adam', loss: losses.sparseCategoricalCrossentropy() });
    const { loss } = await again.trainOnBatch(randomUniform([4, 16, 16, 3], { seed: 1 }), [0, 1, 2, 3]);
    expect(Number.isFinite(loss)).toBe(true);
  });

  for (const quantize of ['uint8', 'uint16', 'float16'] as const) {
    it(`the same model with ${quantize}-quantized weights predicts what TF.js predicts from them`, async () => {
      const m = tfMobileNetLike(tf);
      const dir = fresh();
      await saveTfjs(tf, m, dir, { quantize, shards: 2 });
      const ck = await loadModel(join(dir, 'model.json'));
      const theirs = await loadTfjs(tf, dir); // TF.js's own dequantization
      const [got, want] = await predictBoth(theirs, ck, [4, 16, 16, 3]);
      expect(relDiff(got, want)).toBeLessThan(TOL);
      // and the quantization really changed the weights: the float model predicts otherwise
      const [, exact] = await predictBoth(m, ck, [4, 16, 16, 3]);
      if (quantize !== 'uint16') expect(relDiff(want, exact)).toBeGreaterThan(1e-6);
    });
  }

  it("refuses TF.js's own bilinear upsampling, which samples otherwise than Keras's (and convkit's)", async () => {
    const m = tf.sequential({ layers: [tf.layers.upSampling2d({ inputShape: [3, 3, 1], interpolation: 'bilinear' })] });
    const dir = fresh();
    await saveTfjs(tf, m, dir);
    await expect(loadModel(dir)).rejects.toThrow(/layer 'up_sampling2d_UpSampling2D\d+' \(UpSampling2D\): interpolation 'bilinear' as TF.js computes it/);
  });

  it('a Sequential model of the other layers TF.js has (1-D and 3-D convolution and pooling, transposed convolution, upsampling, cropping, normalization, activations)', async () => {
    const cases: [number[], () => Tf[]][] = [
      [[20, 3], () => [
        tf.layers.conv1d({ inputShape: [20, 3], filters: 4, kernelSize: 3, padding: 'valid', dilationRate: 2, activation: 'elu' }),
        tf.layers.maxPooling1d({ poolSize: 2 }),
        tf.layers.conv1d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh' }),
        tf.layers.averagePooling1d({ poolSize: 2, padding: 'same' }),
        tf.layers.layerNormalization(),
        tf.layers.globalMaxPooling1d({}),
        tf.layers.dense({ units: 3, activation: 'selu' }),
      ]],
      [[4, 6, 6, 2], () => [
        tf.layers.conv3d({ inputShape: [4, 6, 6, 2], filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling3d({ poolSize: [1, 2, 2] }),
        tf.layers.averagePooling3d({ poolSize: 2, padding: 'same' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, activation: 'softplus' }),
      ]],
      [[5, 5, 3], () => [
        tf.layers.conv2dTranspose({ inputShape: [5, 5, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' }),
        tf.layers.cropping2D({ cropping: [[1, 0], [0, 2]] }),
        tf.layers.upSampling2d({ size: [2, 1] }),
        tf.layers.conv2d({ filters: 4, kernelSize: 2, strides: 2, activation: 'softsign', dilationRate: 1 }),
        tf.layers.leakyReLU({ alpha: 0.1 }),
        tf.layers.prelu({ sharedAxes: [1, 2], alphaInitializer: 'glorotNormal' }),
        tf.layers.elu(),
        tf.layers.averagePooling2d({ poolSize: 2, strides: 1 }),
        tf.layers.reshape({ targetShape: [24, 4] }),
        tf.layers.dense({ units: 6, activation: 'swish' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'hardSigmoid' }),
        tf.layers.softmax(),
      ]],
    ];
    for (const [shape, make] of cases) {
      const m = tf.sequential({ layers: make() });
      const dir = fresh();
      await saveTfjs(tf, m, dir);
      const ck = await loadModel(dir);
      const [got, want] = await predictBoth(m, ck, [3, ...shape]);
      expect(relDiff(got, want), `${shape}`).toBeLessThan(TOL);
    }
  });
});

describe('convkit models saved in TF.js format load in TF.js and back in convkit', () => {
  it('a trained ResNet-8 (a graph: residual adds, batch norm): TF.js predicts what convkit does; reloaded in convkit, the same bits', async () => {
    const net = architectures.resnet({ depth: 8, inputShape: [16, 16, 3], classes: 4, seed: 2 });
    net.compile({ optimizer: optimizers.sgd({ learningRate: 0.05 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    await net.fit(randomUniform([16, 16, 16, 3], { seed: 3 }), Int32Array.from({ length: 16 }, (_, i) => i % 4), { epochs: 1, batchSize: 8, verbose: 0 });
    const dir = fresh();
    await net.save(dir, { format: 'tfjs' });
    const theirs = await loadTfjs(tf, dir);
    const [got, want] = await predictBoth(theirs, net, [4, 16, 16, 3]);
    expect(relDiff(got, want)).toBeLessThan(TOL);
    const back = await loadModel(dir);
    const x = randomNormal([4, 16, 16, 3], { seed: 9 });
    expect(Array.from(((await back.predict(x)) as Tensor).data)).toEqual(Array.from(((await net.predict(x)) as Tensor).data));
  });

  it('a Sequential of many layer kinds, and a two-input graph with a shared layer', async () => {
    const seq = sequential([
      layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu6', inputShape: [10, 10, 2] }),
      layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'swish' }),
      layers.separableConv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'gelu' }),
      layers.conv2dTranspose({ filters: 3, kernelSize: 2, strides: 2, activation: 'mish' }),
      layers.layerNormalization(),
      layers.prelu(),
      layers.zeroPadding2d({ padding: [[1, 0], [0, 1]] }),
      layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
      layers.flatten(),
      layers.dense({ units: 4, activation: 'hardSigmoid', alpha: 0.2 }),
    ], { seed: 4 });
    const dir = fresh();
    await seq.save(dir, { format: 'tfjs' });
    const [got, want] = await predictBoth(await loadTfjs(tf, dir), seq, [3, 10, 10, 2]);
    expect(relDiff(got, want)).toBeLessThan(TOL);

    const a = input({ shape: [8], name: 'a' });
    const b = input({ shape: [8], name: 'b' });
    const shared = layers.dense({ units: 8, activation: 'tanh', name: 'shared' });
    const sum = layers.add().apply([shared.apply(a), shared.apply(b)]);
    const both = model({ inputs: [a, b], outputs: layers.dense({ units: 2, name: 'out' }).apply(layers.concatenate().apply([sum, a])), seed: 5 });
    const dir2 = fresh();
    await both.save(dir2, { format: 'tfjs' });
    const theirs = await loadTfjs(tf, dir2);
    const [xa, xb] = [randomNormal([3, 8], { seed: 1 }), randomNormal([3, 8], { seed: 2 })];
    const want2 = theirs.predict([tf.tensor(xa.data, xa.shape), tf.tensor(xb.data, xb.shape)]).dataSync();
    expect(relDiff(((await both.predict([xa, xb])) as Tensor).data, want2)).toBeLessThan(TOL);
    expect(Array.from(((await (await loadModel(dir2)).predict([xa, xb])) as Tensor).data)).toEqual(Array.from(((await both.predict([xa, xb])) as Tensor).data));
  });

  it('refuses, naming the layer, what TF.js cannot express', async () => {
    const cases: [() => ReturnType<typeof sequential>, RegExp][] = [
      [() => sequential([layers.groupNormalization({ groups: 2, inputShape: [4, 4, 4] })]), /layer 'group_normalization_\d+' \(GroupNormalization\): TF.js has no GroupNormalization layer/],
      [() => sequential([layers.conv2d({ filters: 4, kernelSize: 3, groups: 2, inputShape: [6, 6, 4] })]), /groups 2: TF.js's convolutions have no groups/],
      [() => sequential([layers.dense({ units: 2, activation: 'hardSwish', inputShape: [3] })]), /TF.js has no activation 'hard_silu'/],
      [() => sequential([layers.dense({ units: 2, activation: 'hardSigmoid', inputShape: [3] })]), /TF.js's hardSigmoid has alpha 0.2/],
      [() => sequential([layers.conv2d({ filters: 2, kernelSize: 3, padding: [[1, 0], [0, 1]], inputShape: [6, 6, 1] })]), /Keras has only 'same', 'valid'/],
      [() => sequential([layers.upSampling2d({ interpolation: 'bilinear', inputShape: [3, 3, 1] })]), /TF.js's UpSampling2D samples without half-pixel centres/],
    ];
    for (const [make, message] of cases) await expect(make().save(fresh(), { format: 'tfjs' })).rejects.toThrow(message);
  });
});

describe('Keras topologies TF.js does not write: Keras 3 and wrapped model_config, checked by hand', () => {
  /**
   * A Keras 3 Functional model as its converter writes it: input [3, 3, 1] -> Conv2D (2x2, ones, bias 0.5,
   * relu) and the input through a 1x1 Conv2D with kernel 2 (no bias), cropped to 2x2 -> Add -> Flatten -> Dense
   * (kernel 1, bias 0). For x = 1..9 row-major: conv = window sums + 0.5 = [12.5, 16.5, 24.5, 28.5]; the other
   * branch 2x at rows/cols 0..1 = [2, 4, 8, 10]; the sum is [14.5, 20.5, 32.5, 38.5], and the Dense 106.
   */
  const keras3 = {
    format: 'layers-model',
    modelTopology: {
      keras_version: '3.5.0',
      backend: 'tensorflow',
      model_config: {
        module: 'keras.src.models.functional',
        class_name: 'Functional',
        config: {
          name: 'hand',
          trainable: true,
          layers: [
            { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 3, 3, 1], dtype: 'float32', sparse: false, name: 'image' }, registered_name: null, name: 'image', inbound_nodes: [] },
            {
              module: 'keras.layers', class_name: 'Conv2D', registered_name: null, name: 'conv',
              config: {
                name: 'conv', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
                filters: 1, kernel_size: [2, 2], strides: [1, 1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1,
                activation: 'relu', use_bias: true, kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
                bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null }, kernel_regularizer: null, bias_regularizer: null,
                activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
              },
              build_config: { input_shape: [null, 3, 3, 1] },
              inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { shape: [null, 3, 3, 1], dtype: 'float32', keras_history: ['image', 0, 0] } }], kwargs: {} }],
            },
            {
              module: 'keras.layers', class_name: 'Conv2D', registered_name: null, name: 'double',
              config: { name: 'double', filters: 1, kernel_size: [1, 1], use_bias: false, activation: 'linear', padding: 'valid', data_format: 'channels_last', dtype: 'float32' },
              inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: ['image', 0, 0] } }], kwargs: {} }],
            },
            {
              module: 'keras.layers', class_name: 'Cropping2D', name: 'crop', config: { name: 'crop', cropping: [[0, 1], [0, 1]], data_format: 'channels_last' },
              inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: ['double', 0, 0] } }], kwargs: {} }],
            },
            {
              module: 'keras.layers', class_name: 'Add', name: 'add', config: { name: 'add' },
              inbound_nodes: [{ args: [[{ class_name: '__keras_tensor__', config: { keras_history: ['conv', 0, 0] } }, { class_name: '__keras_tensor__', config: { keras_history: ['crop', 0, 0] } }]], kwargs: {} }],
            },
            { module: 'keras.layers', class_name: 'Flatten', name: 'flat', config: { name: 'flat', data_format: 'channels_last' }, inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: ['add', 0, 0] } }], kwargs: {} }] },
            {
              module: 'keras.layers', class_name: 'Dense', name: 'head', config: { name: 'head', units: 1, activation: 'linear', use_bias: true },
              inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: ['flat', 0, 0] } }], kwargs: {} }],
            },
          ],
          input_layers: ['image', 0, 0],
          output_layers: ['head', 0, 0],
        },
      },
    },
    weightsManifest: [{
      paths: ['w.bin'],
      weights: [
        { name: 'conv/kernel', shape: [2, 2, 1, 1], dtype: 'float32' },
        { name: 'conv/bias', shape: [1], dtype: 'float32' },
        { name: 'double/kernel', shape: [1, 1, 1, 1], dtype: 'float32' },
        { name: 'head/kernel', shape: [4, 1], dtype: 'float32' },
        { name: 'head/bias', shape: [1], dtype: 'float32' },
      ],
    }],
  };
  const weights = new Float32Array([1, 1, 1, 1, 0.5, 2, 1, 1, 1, 1, 0]);
  const x = new Tensor(Float32Array.from({ length: 9 }, (_, i) => i + 1), [1, 3, 3, 1]);

  async function write(json: unknown, bin: Uint8Array = new Uint8Array(weights.buffer)): Promise<string> {
    const dir = fresh();
    await (await import('node:fs/promises')).mkdir(dir);
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await writeFile(join(dir, 'w.bin'), bin);
    return dir;
  }

  it('Keras 3 style (inbound nodes as __keras_tensor__ arguments, bare input/output references, dtype policies) predicts 106', async () => {
    const m = await loadModel(await write(keras3));
    expect(Array.from(((await m.predict(x)) as Tensor).data)).toEqual([106]);
    expect(m.layers.map((l) => l.name)).toEqual(['image', 'conv', 'double', 'crop', 'add', 'flat', 'head']);
  });

  it('Keras 2 style (inbound nodes as [name, node, tensor, kwargs], topology without model_config) predicts 106 too', async () => {
    const k2 = structuredClone(keras3) as Tf;
    const config = k2.modelTopology.model_config;
    for (const l of config.config.layers) {
      l.inbound_nodes = l.inbound_nodes.map((n: Tf) => (Array.isArray(n.args[0]) ? n.args[0] : n.args).map((t: Tf) => [...t.config.keras_history, {}]));
      delete l.module;
      if (l.config.batch_shape) l.config = { batch_input_shape: l.config.batch_shape, name: l.config.name, dtype: 'float32' };
    }
    config.config.input_layers = [['image', 0, 0]];
    config.config.output_layers = [['head', 0, 0]];
    k2.modelTopology = { ...config, keras_version: '2.15.0', backend: 'tensorflow' };
    const m = await loadModel(join(await write(k2), 'model.json'));
    expect(Array.from(((await m.predict(x)) as Tensor).data)).toEqual([106]);
  });

  it('refuses what it cannot read, naming the file, the layer and the option, the weight or the shard', async () => {
    const cases: [(j: Tf) => void, RegExp, Uint8Array?][] = [
      [(j) => (j.modelTopology.model_config.config.layers[1].config.data_format = 'channels_first'), /layer 'conv' \(Conv2D\): the option data_format = 'channels_first' is not supported/],
      [(j) => (j.modelTopology.model_config.config.layers[1].config.kernel_constraint = { class_name: 'MaxNorm', config: {} }), /layer 'conv' \(Conv2D\): the option kernel_constraint = .* is not supported/],
      [(j) => (j.modelTopology.model_config.config.layers[5].class_name = 'Lambda'), /layer 'flat': the Keras layer class 'Lambda' is not supported/],
      [(j) => (j.modelTopology.model_config.config.layers[5].class_name = 'Functional'), /layer 'flat': a model nested in the model is not supported/],
      [(j) => (j.modelTopology.model_config.config.layers[1].config.activation = 'tanhshrink'), /layer 'conv' \(Conv2D\): activation: the activation 'tanhshrink' is not supported/],
      [(j) => j.weightsManifest[0].weights.splice(4, 1), /the shards hold 44 bytes but its weights take 40/],
      [(j) => (j.weightsManifest[0].weights[4].name = 'head/other'), /layer 'head' needs the weight 'bias', which the file does not hold/],
      [(j) => (j.weightsManifest[0].weights[3].shape = [2, 2]), /layer 'head' \(Dense\): the weight 'kernel' has shape \[2, 2\] but the layer needs \[4, 1\]/],
      [(j) => (j.weightsManifest[0].weights[4].name = 'ghost/bias'), /the weight 'ghost\/bias' names no layer of the model/],
      [(j) => (j.weightsManifest[0].paths = ['../../etc/passwd']), /the shard path '..\/..\/etc\/passwd' does not name a file beside model.json/],
      [(j) => (j.weightsManifest[0].paths = ['missing.bin']), /missing.bin: cannot read this weight shard/],
      [(j) => (j.format = 'graph-model'), /a TF.js graph model/],
      [() => {}, /too few for weight 'head\/bias'/, new Uint8Array(weights.buffer).subarray(0, 40)],
      [() => {}, /weight 'conv\/bias' holds NaN at index 0/, new Uint8Array(new Float32Array([1, 1, 1, 1, NaN, 2, 1, 1, 1, 1, 0]).buffer)],
    ];
    for (const [edit, message, bin] of cases) {
      const j = structuredClone(keras3) as Tf;
      edit(j);
      const err = await loadModel(await write(j, bin)).catch((e) => e);
      expect(err, String(message)).toBeInstanceOf(ConvkitError);
      expect(err.message, String(message)).toMatch(message);
      expect(err.message).toMatch(/^loadModel: \S+(model\.json|\.bin): /);
    }
  });
});

describe('loadModel tells formats apart', () => {
  it('a convkit directory still loads as before, and a JSON file that is neither is refused', async () => {
    const m = sequential([layers.dense({ units: 2, inputShape: [3] })], { seed: 1 });
    const dir = fresh();
    await m.save(dir);
    const x = randomNormal([2, 3], { seed: 1 });
    expect(Array.from(((await (await loadModel(join(dir, 'model.json'))).predict(x)) as Tensor).data)).toEqual(Array.from(((await m.predict(x)) as Tensor).data));
    const other = join(fresh() + '.json');
    await writeFile(other, JSON.stringify({ hello: 1 }));
    await expect(loadModel(other)).rejects.toThrow(/not a TF.js Layers model/);
    // a TF.js save over a convkit save replaces it whole (one model.json, one weights file)
    await m.save(dir, { format: 'tfjs' });
    expect((await readdir(dir)).length).toBe(2);
    expect(JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')).format).toBe('layers-model');
  });
});
