// Hand-computed anchors for the layers real networks add around convolutions: transposed and separable
// convolution, 1-D convolution (causal padding) and pooling, zero padding, cropping, upsampling (nearest
// and TF's half-pixel bilinear), spatial dropout; then a network of all of them trains, saves and loads.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getBackend, input, layers, loadModel, losses, model, ops, optimizers, randomNormal, sequential, setBackend, Tensor } from '../../src/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { nativeAvailable } from '../helpers/backends.js';

const t = (data: number[], shape: number[]) => new Tensor(Float32Array.from(data), shape);

/** One layer as a model with the given weights, run in inference. */
async function run(layer: Layer, x: Tensor, weights?: Tensor[]): Promise<Tensor> {
  const m = sequential([layer], { seed: 1 });
  if (weights) m.setWeights(weights);
  return (await m.predict(x)) as Tensor;
}

describe('Conv2DTranspose', () => {
  it('computes output sizes as Keras does (deconv_output_length)', () => {
    const shape = (args: Parameters<typeof layers.conv2dTranspose>[0], inputShape: number[]) =>
      sequential([layers.conv2dTranspose({ ...args, inputShape })]).outputShape;
    expect(shape({ filters: 4, kernelSize: 3, strides: 2 }, [5, 5, 1])).toEqual([11, 11, 4]);
    expect(shape({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }, [5, 5, 1])).toEqual([10, 10, 4]);
    expect(shape({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', outputPadding: 0 }, [5, 5, 1])).toEqual([9, 9, 4]);
    expect(shape({ filters: 4, kernelSize: 3, strides: 2, outputPadding: 1 }, [5, 5, 1])).toEqual([12, 12, 4]);
    expect(shape({ filters: 4, kernelSize: 1, strides: 3 }, [4, 2, 1])).toEqual([12, 6, 4]);
    expect(shape({ filters: 4, kernelSize: 3, dilationRate: 2 }, [4, 4, 1])).toEqual([8, 8, 4]);
    expect(() => layers.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 2, outputPadding: 2 })).toThrow(/outputPadding to be integers in \[0, strides\)/);
  });

  it('stamps the kernel, unflipped, at each input pixel times the stride (TF conv2d_transpose)', async () => {
    const k = t([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3, 1, 1]);
    const y = await run(layers.conv2dTranspose({ filters: 1, kernelSize: 3, useBias: false, inputShape: [1, 1, 1] }), t([2], [1, 1, 1, 1]), [k]);
    expect([...y.data]).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18]);
    // 2x2 kernel of ones at stride 2: each pixel becomes a 2x2 block
    const blocks = await run(layers.conv2dTranspose({ filters: 1, kernelSize: 2, strides: 2, useBias: false, inputShape: [2, 2, 1] }), t([1, 2, 3, 4], [1, 2, 2, 1]), [t([1, 1, 1, 1], [2, 2, 1, 1])]);
    expect([...blocks.data]).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it("'same' crops the stamped output to input x stride, an odd extra row at the bottom", async () => {
    // valid would give 5 values for one row [a, b] at stride 2 with kernel [1, 10, 100]: [a, 10a, 100a + b, 10b, 100b]
    const layer = layers.conv2dTranspose({ filters: 1, kernelSize: [1, 3], strides: [1, 2], padding: 'same', useBias: false, inputShape: [1, 2, 1] });
    const y = await run(layer, t([1, 2], [1, 1, 2, 1]), [t([1, 10, 100], [1, 3, 1, 1])]);
    // TF pads the matching convolution by 1 in total: 0 before, 1 after, so the first 4 of the 5 remain
    expect([...y.data]).toEqual([1, 10, 102, 20]);
  });
});

describe('SeparableConv2D', () => {
  it('is the depthwise convolution, then the 1x1 convolution with bias and activation', async () => {
    const x = randomNormal([2, 5, 5, 3], { seed: 1 });
    const layer = layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu', inputShape: [5, 5, 3] });
    const m = sequential([layer], { seed: 2 });
    const [dw, pw, b] = m.getWeights();
    expect(dw.shape).toEqual([3, 3, 1, 6]);
    expect(pw.shape).toEqual([1, 1, 6, 4]);
    const want = ops.conv2d(ops.conv2d(x, dw, { padding: 'same', groups: 3 }), pw, { bias: b, activation: 'relu' });
    expect([...((await m.predict(x)) as Tensor).data]).toEqual([...want.data]);
  });
});

describe('1-D convolution and pooling', () => {
  it("'causal' padding: each output sees only inputs at or before its step", async () => {
    const layer = layers.conv1d({ filters: 1, kernelSize: 2, padding: 'causal', useBias: false, inputShape: [4, 1] });
    const y = await run(layer, t([1, 2, 3, 4], [1, 4, 1]), [t([1, 10], [2, 1, 1])]);
    expect([...y.data]).toEqual([10, 21, 32, 43]);
    const dilated = layers.conv1d({ filters: 1, kernelSize: 2, dilationRate: 2, padding: 'causal', useBias: false, inputShape: [4, 1] });
    expect([...(await run(dilated, t([1, 2, 3, 4], [1, 4, 1]), [t([1, 10], [2, 1, 1])])).data]).toEqual([10, 20, 31, 42]);
  });

  it('kernel [k, in, out] as Keras stores it; pools over steps', async () => {
    const m = sequential([layers.conv1d({ filters: 2, kernelSize: 3, inputShape: [6, 4] }), layers.maxPooling1d({ poolSize: 2 }), layers.globalAveragePooling1d()], { seed: 1 });
    expect(m.getWeights()[0].shape).toEqual([3, 4, 2]);
    expect(m.layers.map((l) => l.outputShape)).toEqual([[4, 2], [2, 2], [2]]);
    const x = t([1, 5, 2, 8, 3, 3, 0, 1], [1, 8, 1]);
    expect([...(await run(layers.maxPooling1d({ poolSize: 3, strides: 2, inputShape: [8, 1] }), x)).data]).toEqual([5, 8, 3]);
    expect([...(await run(layers.averagePooling1d({ poolSize: 2, inputShape: [8, 1] }), x)).data]).toEqual([3, 5, 3, 0.5]);
    expect([...(await run(layers.globalMaxPooling1d({ inputShape: [8, 1] }), x)).data]).toEqual([8]);
  });
});

describe('padding, cropping, upsampling', () => {
  it('zeroPadding2d and cropping2d take n, [h, w] or [[top, bottom], [left, right]]', async () => {
    const y = await run(layers.zeroPadding2d({ padding: [[1, 0], [0, 2]], inputShape: [1, 1, 1] }), t([5], [1, 1, 1, 1]));
    expect(y.shape).toEqual([1, 2, 3, 1]);
    expect([...y.data]).toEqual([0, 0, 0, 5, 0, 0]);
    const x = t([...Array(16).keys()], [1, 4, 4, 1]);
    expect([...(await run(layers.cropping2d({ cropping: [[1, 0], [1, 2]], inputShape: [4, 4, 1] }), x)).data]).toEqual([5, 9, 13]);
    expect((await run(layers.zeroPadding2d({ padding: [1, 2], inputShape: [4, 4, 1] }), x)).shape).toEqual([1, 6, 8, 1]);
    expect(() => sequential([layers.cropping2d({ cropping: 2, inputShape: [4, 4, 1] })])).toThrow(/an input larger than its cropping/);
    expect(() => layers.zeroPadding2d({ padding: [[1, -1], [0, 0]] })).toThrow(/padding\[0\]\[1\] \(bottom\) to be a non-negative integer/);
  });

  it('zeroPadding2d writes zeros all around, whatever the buffer it is given held (a reused one)', () => {
    const pad = layers.zeroPadding2d({ padding: [[2, 1], [1, 3]], inputShape: [3, 2, 2] });
    sequential([pad]);
    const x = t(Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i + 1), [2, 3, 2, 2]);
    const stale = { alloc: (shape: number[]) => new Tensor(new Float32Array(shape.reduce((a, d) => a * d, 1)).fill(Number.NaN), shape) };
    const y = pad.forwardProgram(x, { training: false, step: 0, run: stale, keep: false }).next().value as Tensor;
    expect(y.shape).toEqual([2, 6, 6, 2]);
    y.data.forEach((v, i) => {
      const [n, h, w, c] = [Math.floor(i / 72), Math.floor(i / 12) % 6, Math.floor(i / 2) % 6, i % 2];
      const inside = h >= 2 && h < 5 && w >= 1 && w < 3;
      expect(v).toBe(inside ? x.data[((n * 3 + h - 2) * 2 + w - 1) * 2 + c] : 0);
    });
  });

  it('upSampling2d nearest repeats pixels; bilinear matches TF resize (half-pixel centres)', async () => {
    const x = t([0, 1, 2, 3], [1, 2, 2, 1]);
    const near = await run(layers.upSampling2d({ size: [2, 3], inputShape: [2, 2, 1] }), x);
    expect([...near.data]).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 2, 2, 2, 3, 3, 3]);
    const bil = await run(layers.upSampling2d({ size: 2, interpolation: 'bilinear', inputShape: [2, 2, 1] }), x);
    // tf.image.resize([[0, 1], [2, 3]], [4, 4], 'bilinear')
    expect([...bil.data]).toEqual([0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
  });

  it('spatialDropout2d zeroes whole maps, scales the rest, and is the identity at inference', async () => {
    const m = sequential([layers.spatialDropout2d({ rate: 0.5, inputShape: [3, 3, 40] })], { seed: 4 });
    const x = new Tensor(new Float32Array(2 * 9 * 40).fill(1), [2, 3, 3, 40]);
    const y = (await m.forward(x, { training: true, step: 1 })) as Tensor;
    let dropped = 0;
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 40; c++) {
        const map = Array.from({ length: 9 }, (_, p) => y.data[(n * 9 + p) * 40 + c]);
        expect(new Set(map).size, `map ${n},${c}`).toBe(1);
        expect([0, 2]).toContain(map[0]);
        if (map[0] === 0) dropped++;
      }
    expect(dropped).toBeGreaterThan(20);
    expect(dropped).toBeLessThan(60);
    expect([...((await m.predict(x)) as Tensor).data]).toEqual([...x.data]);
  });
});

describe('a network of the new layers', () => {
  /**
   * A small U-Net-like net: separable and strided convs down (group norm, swish), transposed conv and bilinear
   * upsampling up, a skip; then a causal 1-D conv over the pixels and layer norm before the head.
   */
  function unet(): ReturnType<typeof model> {
    const x = input({ shape: [12, 12, 2] });
    const a = layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(layers.zeroPadding2d({ padding: 2 }).apply(x));
    const c = layers.cropping2d({ cropping: 2 }).apply(a);
    const conv = layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }).apply(layers.spatialDropout2d({ rate: 0.1 }).apply(c));
    const down = layers.activation({ activation: 'swish' }).apply(layers.groupNormalization({ groups: 4 }).apply(conv));
    const up1 = layers.conv2dTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(down);
    const up2 = layers.upSampling2d({ interpolation: 'bilinear' }).apply(layers.conv2d({ filters: 8, kernelSize: 1 }).apply(down));
    const merged = layers.concatenate().apply([c, up1, up2]);
    const seq = layers.reshape({ targetShape: [144, 24] }).apply(merged);
    const s = layers.globalMaxPooling1d().apply(layers.maxPooling1d({ poolSize: 4 }).apply(layers.conv1d({ filters: 8, kernelSize: 3, padding: 'causal', activation: 'relu' }).apply(seq)));
    return model({ inputs: x, outputs: layers.dense({ units: 3 }).apply(layers.layerNormalization().apply(s)), seed: 7 });
  }

  for (const backend of ['reference', ...(nativeAvailable ? ['native'] : [])] as const) {
    it(`trains (the loss falls), saves and loads with the same predictions (${backend})`, async () => {
      const previous = getBackend();
      setBackend(backend);
      try {
        const m = unet();
        m.compile({ optimizer: optimizers.adam({ learningRate: 0.01 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
        const x = randomNormal([24, 12, 12, 2], { seed: 3 });
        const y = Int32Array.from({ length: 24 }, (_, i) => (x.data[i * 288] > 0 ? 1 : 0) + (x.data[i * 288 + 1] > 0 ? 1 : 0));
        const history = await m.fit(x, y, { batchSize: 8, epochs: 12, verbose: 0, seed: 1 });
        const curve = history.history.loss;
        expect(curve.at(-1)!).toBeLessThan(0.6 * curve[0]);
        const dir = await mkdtemp(join(tmpdir(), 'convkit-layers-'));
        try {
          await m.save(dir);
          const again = await loadModel(dir);
          expect([...((await again.predict(x)) as Tensor).data]).toEqual([...((await m.predict(x)) as Tensor).data]);
          expect(again.layers.map((l) => l.getConfig())).toEqual(m.layers.map((l) => l.getConfig()));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      } finally {
        setBackend(previous);
      }
    }, 60_000);
  }
});

describe('3-D convolution and pooling (video)', () => {
  /** Clips [frames 4, 8, 8, 1] of a dot that moves right (class 1) or left (class 0) one pixel per frame. */
  function clips(n: number, seed: number): { x: Tensor; y: Int32Array } {
    let s = seed;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const x = new Float32Array(n * 4 * 8 * 8);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      const row = Math.floor(rnd() * 8);
      const start = y[i] === 1 ? Math.floor(rnd() * 4) : 4 + Math.floor(rnd() * 4);
      for (let f = 0; f < 4; f++) x[((i * 4 + f) * 8 + row) * 8 + start + (y[i] === 1 ? f : -f)] = 1;
    }
    return { x: new Tensor(x, [n, 4, 8, 8, 1]), y };
  }

  it('layer shapes and Keras-layout kernels', () => {
    const m = sequential([
      layers.conv3d({ filters: 4, kernelSize: [3, 3, 3], strides: [1, 2, 2], padding: 'same', inputShape: [5, 9, 9, 2] }),
      layers.maxPooling3d({ poolSize: [2, 2, 2], padding: 'same' }),
      layers.averagePooling3d({ poolSize: [1, 2, 2] }),
      layers.globalMaxPooling3d(),
    ], { seed: 1 });
    expect(m.layers.map((l) => l.outputShape)).toEqual([[5, 5, 5, 4], [3, 3, 3, 4], [3, 1, 1, 4], [4]]);
    expect(m.params()[0].value.shape).toEqual([3, 3, 3, 2, 4]);
    expect(() => layers.conv3d({ filters: 2, kernelSize: [3, 3] as never })).toThrow(/Conv3D.*kernelSize to be a positive integer or \[d, h, w\]/);
    expect(() => sequential([layers.conv3d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 3] })])).toThrow(/Conv3D.*\[N, depth, height, width, channels\]/);
  });

  for (const backend of ['reference', ...(nativeAvailable ? ['native'] : [])] as const) {
    it(`a conv3d net learns the direction of motion, saves and loads (${backend})`, async () => {
      const previous = getBackend();
      setBackend(backend);
      try {
        const m = sequential([
          layers.conv3d({ filters: 8, kernelSize: [2, 3, 3], padding: 'same', activation: 'relu', inputShape: [4, 8, 8, 1] }),
          layers.maxPooling3d({ poolSize: [1, 2, 2] }),
          layers.conv3d({ filters: 8, kernelSize: [3, 3, 3], padding: 'same', activation: 'relu' }),
          layers.globalAveragePooling3d(),
          layers.dense({ units: 2 }),
        ], { seed: 3 });
        m.compile({ optimizer: optimizers.adam({ learningRate: 0.01 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
        const train = clips(128, 1);
        await m.fit(train.x, train.y, { batchSize: 16, epochs: 15, verbose: 0, seed: 1 });
        const test = clips(64, 2);
        const logs = await m.evaluate(test.x, test.y);
        expect(logs.accuracy).toBeGreaterThanOrEqual(0.9);
        const dir = await mkdtemp(join(tmpdir(), 'convkit-3d-'));
        try {
          await m.save(dir);
          const again = await loadModel(dir);
          expect([...((await again.predict(test.x)) as Tensor).data]).toEqual([...((await m.predict(test.x)) as Tensor).data]);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      } finally {
        setBackend(previous);
      }
    }, 60_000);
  }
});
