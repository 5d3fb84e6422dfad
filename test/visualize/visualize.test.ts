// Pictures decoded back and checked: a known filter's tile values, feature maps against the layer's own
// output through the colour map, the curves and confusion matrix SVGs, the HTML report's parts; gradient
// ascent raises the filter's response.
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { input, layers, losses, metrics, model, randomUniform, sequential, Tensor, visualize } from '../../src/index.js';

const decode = (png: Buffer) => PNG.sync.read(png);
const pixel = (p: PNG, x: number, y: number): number[] => Array.from(p.data.subarray((y * p.width + x) * 4, (y * p.width + x) * 4 + 3));

describe('visualize', () => {
  it('filters: a first-layer kernel is a tile of its values, min black and max white', async () => {
    const m = sequential([layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 1], name: 'c1' })], { seed: 1 });
    const k = new Float32Array(18);
    for (let i = 0; i < 9; i++) {
      k[i * 2] = i; // filter 0: 0..8 row-major
      k[i * 2 + 1] = 8 - i; // filter 1: reversed
    }
    m.setWeights([new Tensor(k, [3, 3, 1, 2]), new Tensor(new Float32Array(2), [2])]);
    const pic = await visualize.filters(m, 'c1', { scale: 1, columns: 2 });
    const png = decode(pic.png);
    expect([png.width, png.height]).toEqual([pic.width, pic.height]);
    expect([png.width, png.height]).toEqual([2 * 4 + 1, 4 + 1]); // two 3x3 tiles, 1-pixel gaps
    for (let i = 0; i < 9; i++) {
      const [x, y] = [1 + (i % 3), 1 + Math.floor(i / 3)];
      expect(pixel(png, x, y)).toEqual(Array(3).fill(Math.round((255 * i) / 8)));
      expect(pixel(png, 5 + (i % 3), y)).toEqual(Array(3).fill(Math.round((255 * (8 - i)) / 8)));
    }
    // deeper kernels: a row per filter, a tile per input channel
    const deep = sequential([layers.conv2d({ filters: 3, kernelSize: 2, inputShape: [6, 6, 5], name: 'c2' })], { seed: 2 });
    const d = await visualize.filters(deep, 'c2', { scale: 2 });
    expect([d.width, d.height]).toEqual([5 * 5 + 1, 3 * 5 + 1]);
    await expect(visualize.filters(deep, deep.layers[0].name === 'c2' ? 'c2' : '', { method: 'weights' })).resolves.toBeDefined();
    const dense = sequential([layers.dense({ units: 2, inputShape: [3], name: 'd' })], { seed: 1 });
    await expect(visualize.filters(dense, 'd')).rejects.toThrow(/visualize.filters: layer 'd' has no 2-D convolution kernel/);
  });

  it("featureMaps: each tile is the layer's output for the image, through viridis", async () => {
    const m = sequential([
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [6, 6, 1], name: 'a' }),
      layers.conv2d({ filters: 2, kernelSize: 3, name: 'b' }),
    ], { seed: 3 });
    const image = randomUniform([6, 6, 1], { seed: 4 });
    const pic = await visualize.featureMaps(m, 'a', image, { scale: 1, columns: 4 });
    const png = decode(pic.png);
    const out = (await model({ inputs: m.inputs, outputs: m.getLayer('a').output }).predict(image)) as Tensor;
    for (let c = 0; c < 4; c++) {
      let [lo, hi] = [Infinity, -Infinity];
      for (let p = 0; p < 36; p++) [lo, hi] = [Math.min(lo, out.data[p * 4 + c]), Math.max(hi, out.data[p * 4 + c])];
      for (let p = 0; p < 36; p++) {
        const want = visualize.viridis((out.data[p * 4 + c] - lo) / (hi - lo || 1));
        expect(pixel(png, 1 + c * 7 + (p % 6), 1 + Math.floor(p / 6))).toEqual(want);
      }
    }
    await expect(visualize.featureMaps(m, 'b', randomUniform([5, 5, 1], { seed: 1 }))).rejects.toThrow(/shape \[N, 6, 6, 1\]/);
  });

  it("filters by gradient ascent: the input found raises the filter's mean response above a random input's", async () => {
    const m = sequential([
      layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: [10, 10, 1], name: 'a' }),
      layers.conv2d({ filters: 2, kernelSize: 3, name: 'deep' }),
    ], { seed: 5 });
    const pic = await visualize.filters(m, 'deep', { method: 'activation', steps: 30, scale: 1 });
    const png = decode(pic.png);
    expect([png.width, png.height]).toEqual([2 * 11 + 1, 11 + 1]);
    const probe = model({ inputs: m.inputs, outputs: m.getLayer('deep').output });
    const response = async (x: Tensor, f: number): Promise<number> => {
      const y = (await probe.predict(x)) as Tensor;
      let s = 0;
      for (let p = 0; p < y.size / 2; p++) s += y.data[p * 2 + f];
      return s / (y.size / 2);
    };
    // the tile is the found input normalized to [0, 255]: compare its response with the start's (0.5 ± 0.05)
    const found = new Tensor(new Float32Array(100), [1, 10, 10, 1]);
    for (let p = 0; p < 100; p++) found.data[p] = pixel(png, 1 + (p % 10), 1 + Math.floor(p / 10))[0] / 255;
    const start = new Tensor(new Float32Array(100).fill(0.5), [1, 10, 10, 1]);
    expect(await response(found, 0)).toBeGreaterThan(await response(start, 0));
  });

  it('history and confusion matrix as SVG; the report gathers everything', async () => {
    const m = sequential([
      layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1] }),
      layers.flatten(),
      layers.dense({ units: 3 }),
    ], { seed: 6 });
    m.compile({ optimizer: 'adam', loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const x = randomUniform([30, 8, 8, 1], { seed: 7 });
    const y = Int32Array.from({ length: 30 }, (_, i) => i % 3);
    const h = await m.fit(x, y, { epochs: 3, batchSize: 10, validationSplit: 0.2, verbose: 0 });
    const svg = visualize.history(h);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(4); // loss and accuracy, train and validation
    expect(svg).toContain('>loss<');
    expect(svg).toContain('>accuracy<');
    const cm = visualize.confusionMatrix(metrics.confusionMatrix([0, 1, 1, 2], [0, 1, 2, 2]), ['cat', 'dog', 'owl']);
    expect(cm).toContain('>owl<');
    expect(cm.match(/<rect/g)).toHaveLength(9);
    expect(() => visualize.confusionMatrix([[1, 2]])).toThrow(/square matrix/);
    const html = await visualize.report(m, { history: h, x, y, classNames: ['a', 'b', 'c'], samples: 2 });
    for (const part of ['<h2>Model</h2>', '<h2>Training</h2>', '<h2>Test results</h2>', 'Confusion matrix', '<h2>Filters of', '<h2>Feature maps</h2>']) expect(html).toContain(part);
    const images = [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)];
    expect(images.length).toBe(1 + 2 * 2); // one layer's filters; per sample, the sample and its maps
    for (const [, b64] of images) expect(decode(Buffer.from(b64, 'base64')).width).toBeGreaterThan(0);
    // a graph model with two inputs still gets its summary and filters
    const a = input({ shape: [6, 6, 1] });
    const two = model({ inputs: [a, input({ shape: [2] })], outputs: layers.flatten().apply(layers.conv2d({ filters: 2, kernelSize: 3 }).apply(a)) });
    expect(await visualize.report(two)).toContain('<h2>Filters of');
  });
});
