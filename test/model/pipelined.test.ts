// predict and evaluate start their ops on the compute thread without waiting for each (runProgramAsync's
// `pipelined`), and wait only where JS reads or writes values: before layers computed in JS, before reading the
// outputs, at batch boundaries and at the end. Wrong waits would show as wrong values (a JS layer reading an
// output not yet written) or as a Promise settling while ops still use its buffers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, getBackend, setBackend, withBackendImpl } from '../../src/backend/index.js';
import type { Backend, StartedKernel, StartKernels } from '../../src/backend/types.js';
import { ConvkitError, input, layers, model, ops, randomNormal, Tensor, type Shape } from '../../src/index.js';
import { Layer, type BackwardContext, type ForwardContext } from '../../src/layers/layer.js';
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
  override inferenceTouchesValues(): boolean {
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
