// predict, evaluate, trainOnBatch and fit start their ops on the compute thread without waiting for each
// (runProgramAsync's `pipelined`), and wait only where JS reads or writes values: around layers computed in JS,
// before reading the outputs, the losses, the regularizers, after each optimizer step, at batch boundaries and at
// the end. Wrong waits would show as wrong values (JS reading an output not yet written) or as a Promise settling
// while ops still use its buffers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, getBackend, setBackend, withBackendImpl } from '../../src/backend/index.js';
import type { Backend, StartedKernel, StartKernels } from '../../src/backend/types.js';
import { ConvkitError, initializers, input, layers, losses, model, ops, optimizers, randomNormal, regularizers, Tensor, type Model, type Shape } from '../../src/index.js';
import { Layer, type BackwardContext, type ForwardContext, type Param } from '../../src/layers/layer.js';
import { nativeAvailable, onBestIsaRun } from '../helpers/backends.js';

const bits = (t: Tensor): number[] => [...new Uint32Array(Float32Array.from(t.data).buffer)];

/** Convolutions big enough to be still running when the JS after them starts, each feeding a layer computed in JS. */
function jsAfterNativeModel() {
  const x = input({ shape: [32, 32, 8] });
  const conv = (filters: number) => layers.conv2d({ filters, kernelSize: 3, padding: 'same' });
  let h = layers.reLU({ threshold: 0.1, negativeSlope: 0.2 }).apply(conv(32).apply(x)); // JS loop
  h = layers.zeroPadding2d({ padding: 1 }).apply(conv(32).apply(h)); // JS copy
  h = layers.prelu().apply(conv(16).apply(h)); // JS loop
  h = layers.cropping2d({ cropping: 1 }).apply(h); // JS copy
  const skip = layers.batchNormalization().apply(conv(16).apply(h));
  h = layers.upSampling2d({ size: 2, interpolation: 'bilinear' }).apply(layers.add().apply([h, skip])); // JS
  h = layers.concatenate().apply([layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(h), h]);
  h = layers.conv2dTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }).apply(layers.maxPooling2d({ poolSize: 4 }).apply(h));
  h = layers.groupNormalization({ groups: 4 }).apply(h);
  const y = layers.dense({ units: 5, activation: 'softmax' }).apply(layers.globalAveragePooling2d().apply(h));
  return model<Tensor>({ inputs: x, outputs: y, seed: 3 });
}

/** Every kind of layer in training: those computed in JS next to convolutions big enough to be still running. */
function everyLayerModel(): Model {
  const x = input({ shape: [32, 32, 8] });
  const conv = (filters: number, more = {}) => layers.conv2d({ filters, kernelSize: 3, padding: 'same', ...more });
  // the first convolution's filter gradient is the step's last op: the regularizer must wait for it
  let h = conv(32, { kernelRegularizer: regularizers.l2({ l2: 1e-3 }) }).apply(x);
  h = layers.reLU({ threshold: 0.1, negativeSlope: 0.2 }).apply(layers.batchNormalization().apply(h)); // moments read in JS
  // its backward starts while the next convolution's backward runs
  h = layers.groupNormalization({ groups: 4 }).apply(h);
  h = layers.spatialDropout2d({ rate: 0.25, seed: 5 }).apply(conv(32).apply(h)); // maps scaled in JS
  h = layers.maxPooling2d({ poolSize: 2 }).apply(conv(32, { activation: 'relu' }).apply(h)); // one op
  const a = layers.prelu().apply(layers.zeroPadding2d({ padding: 1 }).apply(conv(16).apply(h)));
  const b = layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }).apply(layers.cropping2d({ cropping: 1 }).apply(a));
  const c = layers.layerNormalization().apply(layers.separableConv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(b));
  h = layers.concatenate().apply([
    layers.add().apply([b, c]),
    layers.multiply().apply([b, c]),
    layers.subtract().apply([b, c]),
    layers.maximum().apply([b, c]),
    layers.average().apply([b, c]),
  ]);
  h = layers.upSampling2d({ size: 2, interpolation: 'bilinear' }).apply(layers.averagePooling2d({ poolSize: 2 }).apply(h));
  h = layers.conv2dTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }).apply(layers.upSampling2d({ size: 2 }).apply(layers.maxPooling2d({ poolSize: 4 }).apply(h)));
  h = layers.dropout({ rate: 0.3, seed: 6 }).apply(layers.flatten().apply(h));
  const y = layers.dense({ units: 5, kernelRegularizer: regularizers.l1({ l1: 1e-4 }) }).apply(h);
  return model<Tensor>({ inputs: x, outputs: y, seed: 3 });
}

/**
 * 2 * conv2d(x) with its gradients, each doubled in JS from an op's output just written; it keeps touchesValues'
 * default, so pipelined runs wait for each of its ops.
 */
class DoubledConv extends Layer<{ x?: Tensor }> {
  static override readonly className = 'DoubledConv';
  private kernel!: Param;
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  protected override createWeights(): void {
    const c = this.inputShape[2];
    this.kernel = this.addWeight('kernel', [3, 3, c, c], initializers.glorotUniform());
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: { x?: Tensor }): ops.OpProgram<Tensor> {
    state.x = x;
    return doubled(yield ops.request.conv2d(x, this.kernel.value, { padding: 'same' }));
  }
  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: { x?: Tensor }): ops.OpProgram<Tensor | undefined> {
    yield* ctx.grad(this.kernel, doubled(yield ops.request.conv2dBackwardFilter(state.x!, dy, this.kernel.value.shape, { padding: 'same' })));
    return doubled(yield ops.request.conv2dBackwardInput(dy, this.kernel.value, state.x!.shape, { padding: 'same' }));
  }
  protected ownConfig(): Record<string, unknown> {
    return {};
  }
}

function doubled(t: Tensor): Tensor {
  for (let i = 0; i < t.size; i++) t.data[i] *= 2;
  return t;
}

/** The native backend with every started kernel logged: 'start k' when started, 'done k' when it has run. */
function loggingBackend(log: string[], fail?: (kernel: string, nth: number) => boolean): Backend {
  const b = backend();
  type Start = (...args: unknown[]) => StartedKernel;
  const start = {} as Record<string, Start>;
  let nth = 0;
  for (const [k, f] of Object.entries(b.start!)) {
    start[k] = (...args) => {
      const i = nth++;
      log.push(`start ${k}`);
      const s = (f as Start)(...args);
      const done = s.done.then(() => {
        log.push(`done ${k}`);
        if (fail?.(k, i)) throw new ConvkitError(`${k}: a failure injected by the test`, k);
      });
      return { out: s.out, done };
    };
  }
  return { ...b, start: start as unknown as StartKernels };
}

/** A layer that passes its input through in inference and throws: the error comes from JS between ops. */
class Throws extends Layer {
  static override readonly className = 'Throws';
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(_x: Tensor, _ctx: ForwardContext): ops.OpProgram<Tensor> {
    throw new ConvkitError('throws: thrown by the test', 'throws');
  }
  *backwardProgram(dy: Tensor, _ctx: BackwardContext): ops.OpProgram<Tensor> {
    return dy;
  }
  protected ownConfig(): Record<string, unknown> {
    return {};
  }
}

describe.skipIf(!nativeAvailable || !onBestIsaRun)('pipelined predict and evaluate (native)', () => {
  const initial = getBackend();
  beforeAll(() => setBackend('native'));
  afterAll(() => setBackend(initial));

  it('predict and evaluate give the Sync results bit for bit when layers computed in JS read what unfinished convolutions write', async () => {
    const m = jsAfterNativeModel();
    const x = randomNormal([24, 32, 32, 8], { seed: 4 });
    // three batches: the second and third reuse the first's buffers, so a read too early sees stale values
    const want = bits(m.predictSync(x, { batchSize: 8 }));
    for (let i = 0; i < 3; i++) expect(bits(await m.predict(x, { batchSize: 8 }))).toEqual(want);
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const labels = Int32Array.from({ length: 24 }, (_, i) => i % 5);
    expect(await m.evaluate(x, labels, { batchSize: 8 })).toEqual(m.evaluateSync(x, labels, { batchSize: 8 }));
  });

  // (convolutions of 0.5 to 4 ms by runAsyncRequest's estimates: none small enough to run on this thread)
  it('starts the next op before the previous one is done, and waits before layers computed in JS', async () => {
    const x = input({ shape: [16, 16, 8] });
    let h = layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same' }).apply(x);
    h = layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same' }).apply(h);
    h = layers.prelu().apply(h);
    const y = layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(h);
    const m = model<Tensor>({ inputs: x, outputs: y, seed: 1 });
    const xs = randomNormal([64, 16, 16, 8], { seed: 2 });
    const log: string[] = [];
    const got = await withBackendImpl(loggingBackend(log), () => m.predict(xs, { batchSize: 64 }));
    expect(bits(got)).toEqual(bits(m.predictSync(xs, { batchSize: 64 })));
    // both convolutions started at once; PReLU's JS waited for them; the last convolution ran alone
    expect(log).toEqual(['start conv2d', 'start conv2d', 'done conv2d', 'done conv2d', 'start conv2d', 'done conv2d']);
  });

  it('rejects with a kernel error reported after later ops started, after they are done, and stays usable', async () => {
    const x = input({ shape: [16, 16, 16] });
    let h = x;
    for (let i = 0; i < 4; i++) h = layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(h);
    const m = model<Tensor>({ inputs: x, outputs: h, seed: 1 });
    const xs = randomNormal([32, 16, 16, 16], { seed: 2 });
    const log: string[] = [];
    const run = withBackendImpl(loggingBackend(log, (_k, nth) => nth === 1), () => m.predict(xs));
    await expect(run).rejects.toThrow('conv2d: a failure injected by the test');
    expect(log.filter((e) => e.startsWith('done')).length).toBe(4);
    expect(bits(await m.predict(xs))).toEqual(bits(m.predictSync(xs)));
  });

  it('waits for the ops in flight before rejecting with an error thrown in JS', async () => {
    const x = input({ shape: [16, 16, 16] });
    const h = layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same' }).apply(x);
    const m = model<Tensor>({ inputs: x, outputs: new Throws({}).apply(h), seed: 1 });
    const log: string[] = [];
    const run = withBackendImpl(loggingBackend(log), () => m.predict(randomNormal([64, 16, 16, 16], { seed: 2 })));
    await expect(run).rejects.toThrow('throws: thrown by the test');
    expect(log).toEqual(['start conv2d', 'done conv2d']);
  });
});

describe.skipIf(!nativeAvailable || !onBestIsaRun)('pipelined training, and layers that touch values in JS (native)', () => {
  const initial = getBackend();
  beforeAll(() => setBackend('native'));
  afterAll(() => setBackend(initial));

  const weightBits = (m: Model): number[][] => m.getWeights().map(bits);

  it('trainOnBatch and fit leave the same weights and logs as trainOnBatchSync, with every kind of layer', async () => {
    const [pipelined, sync] = [everyLayerModel(), everyLayerModel()];
    for (const m of [pipelined, sync]) m.compile({ optimizer: optimizers.sgd({ learningRate: 0.01, momentum: 0.9, clipNorm: 1 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    expect(weightBits(pipelined)).toEqual(weightBits(sync));
    const x = randomNormal([8, 32, 32, 8], { seed: 4 });
    const labels = Int32Array.from({ length: 8 }, (_, i) => i % 5);
    for (let step = 0; step < 3; step++) expect(await pipelined.trainOnBatch(x, labels)).toEqual(sync.trainOnBatchSync(x, labels));
    expect(weightBits(pipelined)).toEqual(weightBits(sync));
    const history = await pipelined.fit(x, labels, { batchSize: 4, epochs: 1, shuffle: false, verbose: 0 });
    const logs = [sync.trainOnBatchSync(x.slice(0, 4), labels.subarray(0, 4)), sync.trainOnBatchSync(x.slice(4, 8), labels.subarray(4, 8))];
    expect(history.history.loss[0]).toBeCloseTo((logs[0].loss + logs[1].loss) / 2, 12);
    expect(weightBits(pipelined)).toEqual(weightBits(sync));
  });

  it("waits for each op of a layer that reads its ops' outputs in JS, forward and backward", async () => {
    const make = (): Model => {
      const x = input({ shape: [32, 32, 16] });
      const h = new DoubledConv({}).apply(layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(x));
      const y = layers.dense({ units: 4 }).apply(layers.globalAveragePooling2d().apply(layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(h)));
      const m = model<Tensor>({ inputs: x, outputs: y, seed: 2 });
      m.compile({ optimizer: 'sgd', loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
      return m;
    };
    const [pipelined, sync] = [make(), make()];
    const x = randomNormal([16, 32, 32, 16], { seed: 3 });
    expect(bits(await pipelined.predict(x))).toEqual(bits(sync.predictSync(x)));
    const labels = Int32Array.from({ length: 16 }, (_, i) => i % 4);
    for (let step = 0; step < 2; step++) expect(await pipelined.trainOnBatch(x, labels)).toEqual(sync.trainOnBatchSync(x, labels));
    expect(weightBits(pipelined)).toEqual(weightBits(sync));
  });

  it('names the weight an update left non-finite, as trainOnBatchSync does, with later updates started meanwhile', async () => {
    const make = (): Model => {
      const x = input({ shape: [600] });
      const y = layers.dense({ units: 3, name: 'head' }).apply(layers.dense({ units: 512, name: 'big' }).apply(x)); // 307,712 weights: updated on the compute thread
      const m = model<Tensor>({ inputs: x, outputs: y, seed: 2 });
      m.compile({ optimizer: optimizers.sgd({ learningRate: 1e38 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
      return m;
    };
    const x = randomNormal([64, 600], { seed: 3 });
    for (let i = 0; i < x.size; i++) x.data[i] *= 1e3;
    const labels = Int32Array.from({ length: 64 }, (_, i) => i % 3);
    let want = '';
    try {
      make().trainOnBatchSync(x, labels);
    } catch (e) {
      want = (e as Error).message;
    }
    expect(want).toMatch(/sgd: step 1 left the weight 'big\/kernel' non-finite/);
    await expect(make().trainOnBatch(x, labels)).rejects.toThrow(want);
  });
});
