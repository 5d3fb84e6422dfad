// Inference sessions (model.inferenceSession()): the model's outputs bit for bit, a snapshot of its weights, and
// on the native backend each weight prepared once per form its kernel reads.
import { afterAll, describe, expect, it } from 'vitest';
import { getBackend, setBackend, type BackendName } from '../../src/backend/index.js';
import { input, layers, losses, model, optimizers, randomNormal, randomUniform, Tensor, type Model } from '../../src/index.js';
import { loadNative, nativeInfo, setNativeIsa } from '../../src/native.js';
import { nativeAvailable } from '../helpers/backends.js';
import { demoModel } from '../helpers/models.js';

const bits = (t: Tensor): number[] => [...new Uint32Array(Float32Array.from(t.data).buffer)];

/**
 * Each kind of prepared weight at a batch of 16: a 3x3 convolution of 16 channels over 16x16 (Winograd F(4x4, 3x3)
 * from 4096 output pixels), a 1x1 convolution (a GEMM over x), a strided one (the lowered GEMM), a depthwise one
 * (read as it is), a residual add and a batch normalization folded in, and dense layers (the GEMM's panels from
 * the tile's height of rows on).
 */
function everyForm(seed = 4): Model<Tensor> {
  const x = input({ shape: [16, 16, 3] });
  const stem = layers.conv2d({ filters: 16, kernelSize: 1, activation: 'relu' }).apply(x);
  const w = layers.batchNormalization().apply(layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(stem));
  const res = layers.activation({ activation: 'relu' }).apply(layers.add().apply([w, stem]));
  const down = layers.conv2d({ filters: 24, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(res);
  const dw = layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu' }).apply(down);
  const pooled = layers.globalAveragePooling2d().apply(dw);
  const out = layers.dense({ units: 5 }).apply(layers.dense({ units: 40, activation: 'relu' }).apply(pooled));
  return model({ inputs: x, outputs: out, seed });
}

const images = randomUniform([21, 16, 16, 3], { seed: 7 });
const digits = randomUniform([21, 28, 28, 1], { seed: 8 });

const backends: BackendName[] = nativeAvailable ? ['reference', 'native'] : ['reference'];
const initial = getBackend();
afterAll(() => setBackend(initial));

describe.each(backends)('inference sessions on %s', (name) => {
  it("give the model's outputs bit for bit, sync and async, over batches with a tail", async () => {
    setBackend(name);
    for (const [m, x] of [[everyForm(), images], [demoModel(), digits]] as const) {
      const session = m.inferenceSession();
      expect(session.inputShape).toEqual(m.inputShape);
      expect(session.outputShape).toEqual(m.outputShape);
      const want = m.predictSync(x, { batchSize: 16 });
      expect(bits(session.predictSync(x, { batchSize: 16 }))).toEqual(bits(want));
      expect(bits(await session.predict(x, { batchSize: 16 }))).toEqual(bits(want));
      // again, with every form prepared by now
      expect(bits(await session.predict(x, { batchSize: 16 }))).toEqual(bits(want));
      expect(await session.predictClasses(x, { batchSize: 16 })).toEqual(await m.predictClasses(x, { batchSize: 16 }));
    }
  });

  it("are snapshots: the model's training and setWeights afterwards do not reach them", async () => {
    setBackend(name);
    const m = everyForm(5);
    m.compile({ optimizer: optimizers.sgd({ learningRate: 0.5 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const session = m.inferenceSession();
    const before = bits(session.predictSync(images));
    await m.trainOnBatch(images, Int32Array.from({ length: 21 }, (_, i) => i % 5));
    expect(bits(m.predictSync(images))).not.toEqual(before);
    m.setWeights(m.getWeights().map((w) => randomNormal(w.shape, { seed: 9 })));
    expect(bits(session.predictSync(images))).toEqual(before);
    expect(bits(m.inferenceSession().predictSync(images))).toEqual(bits(m.predictSync(images)));
  });
});

describe.skipIf(!nativeAvailable)('prepared weights on the native backend', () => {
  // counts the addon's prepare calls (the native backend looks them up on the addon at each call)
  function countPrepares(): { counts: Record<string, number>; restore: () => void } {
    const addon = loadNative().addon! as unknown as Record<string, (...args: unknown[]) => unknown>;
    const counts: Record<string, number> = { prepareMatmulWeights: 0, prepareConv2dWeights: 0 };
    const originals = Object.keys(counts).map((k) => [k, addon[k]] as const);
    for (const [k, f] of originals) addon[k] = (...args: unknown[]) => (counts[k]++, f(...args));
    return { counts, restore: () => originals.forEach(([k, f]) => (addon[k] = f)) };
  }

  it('prepares each weight once per form its kernel reads, and nothing for the model itself', async () => {
    setBackend('native');
    const m = everyForm(6);
    const { counts, restore } = countPrepares();
    try {
      m.predictSync(images, { batchSize: 16 });
      expect(counts).toEqual({ prepareMatmulWeights: 0, prepareConv2dWeights: 0 });
      const session = m.inferenceSession();
      session.predictSync(images, { batchSize: 16 });
      // batches of 16 and 5: the dense layers' panels from 16 rows on (below the tile's height they read the
      // matrix as it is); the 1x1, 3x3 and strided filters, the 3x3 one also as a Winograd transform for 16
      const first = { ...counts };
      expect(first.prepareMatmulWeights).toBeGreaterThanOrEqual(1);
      expect(first.prepareConv2dWeights).toBeGreaterThanOrEqual(3);
      await session.predict(images, { batchSize: 16 });
      session.predictSync(images, { batchSize: 16 });
      expect(counts).toEqual(first);
    } finally {
      restore();
    }
  });

  it('prepares again for another ISA and gives that ISA\'s outputs', () => {
    setBackend('native');
    const isa = nativeInfo().isa;
    const m = everyForm(7);
    const session = m.inferenceSession();
    try {
      for (const other of nativeInfo().availableIsas) {
        setNativeIsa(other);
        expect(bits(session.predictSync(images, { batchSize: 16 }))).toEqual(bits(m.predictSync(images, { batchSize: 16 })));
      }
    } finally {
      setNativeIsa(isa);
    }
  });
});
