import { afterAll, describe, expect, it } from 'vitest';
import { getBackend, setBackend, type BackendName } from '../../src/backend/index.js';
import { ConvkitError } from '../../src/errors.js';
import * as layers from '../../src/layers/index.js';
import * as losses from '../../src/losses/index.js';
import { Layer, type BackwardContext, type ForwardContext } from '../../src/layers/layer.js';
import { lenet5 } from '../../src/model/architectures.js';
import * as ops from '../../src/ops/index.js';
import { sequential, type Sequential } from '../../src/model/sequential.js';
import * as optimizers from '../../src/optimizers/index.js';
import { randomNormal, randomUniform, Tensor, type Shape } from '../../src/tensor.js';
import { nativeAvailable, nativeSkipReason } from '../helpers/backends.js';
import { demoModel as demo, everyLayerModel as everyLayer } from '../helpers/models.js';

if (!nativeAvailable) console.warn(`sync variants run on the reference backend only: the native addon is not loadable (${nativeSkipReason})`);

const bits = (t: Tensor): number[] => [...new Uint32Array(Float32Array.from(t.data).buffer)];
const weightBits = (m: Sequential): number[][] => m.getWeights().map(bits);

const digits = randomUniform([11, 28, 28, 1], { seed: 5 });
const digitLabels = Int32Array.from({ length: 11 }, (_, i) => (i * 7) % 10);
const small = randomNormal([8, 10, 10, 3], { seed: 6 });
const smallLabels = Int32Array.from([0, 1, 2, 0, 1, 2, 2, 1]);

const backends: BackendName[] = nativeAvailable ? ['reference', 'native'] : ['reference'];
const initial = getBackend();
afterAll(() => setBackend(initial));

describe.each(backends)('the Sync variants on %s give the async results bit for bit', (name) => {
  const on = (): void => setBackend(name);

  it('predictSync == predict on the demo network, over batches with a tail', async () => {
    on();
    const m = demo();
    const expected = await m.predict(digits, { batchSize: 4 });
    const got = m.predictSync(digits, { batchSize: 4 });
    expect(got.shape).toEqual([11, 10]);
    expect(bits(got)).toEqual(bits(expected));
  });

  it('evaluateSync == evaluate on the demo network', async () => {
    on();
    const m = demo();
    expect(m.evaluateSync(digits, digitLabels, { batchSize: 5 })).toEqual(await m.evaluate(digits, digitLabels, { batchSize: 5 }));
  });

  it('trainOnBatchSync leaves the same weights as trainOnBatch from the same seed', async () => {
    on();
    for (const make of [demo, everyLayer]) {
      const [x, y] = make === demo ? [digits, digitLabels] : [small, smallLabels];
      const viaAsync = make();
      const viaSync = make();
      for (let step = 0; step < 3; step++) {
        const a = await viaAsync.trainOnBatch(x, y);
        const s = viaSync.trainOnBatchSync(x, y);
        expect(s).toEqual(a);
      }
      expect(weightBits(viaSync)).toEqual(weightBits(viaAsync));
    }
  });

  it('forwardSync and backwardSync == forward and backward, input gradient included', async () => {
    on();
    const viaAsync = everyLayer();
    const viaSync = everyLayer();
    const dy = randomNormal([8, 3], { seed: 7 });
    const y = await viaAsync.forward(small, { training: true, step: 4 });
    const ys = viaSync.forwardSync(small, { training: true, step: 4 });
    expect(bits(ys)).toEqual(bits(y));
    const dx = (await viaAsync.backward(dy))!;
    const dxs = viaSync.backwardSync(dy)!;
    expect(bits(dxs)).toEqual(bits(dx));
    expect(viaSync.params().map((p) => p.grad && bits(p.grad))).toEqual(viaAsync.params().map((p) => p.grad && bits(p.grad)));
    expect(viaSync.backwardSync(dy, { inputGradient: false })).toBeUndefined();
  });
});

const doubled = (t: Tensor): Tensor => new Tensor(t.data.map((v) => 2 * v), t.shape);

/** A custom layer as a user writes one: y = relu(x) · 2, its forward and backward each written once. */
class DoubledRelu extends Layer<{ x?: Tensor }> {
  static override readonly className = 'DoubledRelu';
  constructor() {
    super({}, 'doubled_relu');
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: { x?: Tensor }): ops.OpProgram<Tensor> {
    state.x = x;
    const y = yield ops.request.activation('relu', x);
    return doubled(y);
  }
  *backwardProgram(dy: Tensor, _ctx: BackwardContext, state: { x?: Tensor }): ops.OpProgram<Tensor> {
    const dx = yield ops.request.activationBackward('relu', dy, this.saved(state.x), this.saved(state.x));
    return doubled(dx);
  }
  protected ownConfig(): Record<string, unknown> {
    return {};
  }
}

describe('a custom layer', () => {
  it('runs under both drivers with the same results', async () => {
    const make = (): Sequential => sequential([layers.dense({ units: 4, inputShape: [3] }), new DoubledRelu(), layers.dense({ units: 2 })], { seed: 4 });
    const [a, b] = [make(), make()];
    const x = randomNormal([5, 3], { seed: 8 });
    const dy = randomNormal([5, 2], { seed: 9 });
    expect(bits(b.forwardSync(x, { training: true }))).toEqual(bits(await a.forward(x, { training: true })));
    expect(bits(b.backwardSync(dy)!)).toEqual(bits((await a.backward(dy))!));
  });
});

describe('Sync variants and bad input', () => {
  it('throw (not reject) the ConvkitErrors of their async twins, naming the call or the layer', async () => {
    const m = sequential([layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1], name: 'first' }), layers.flatten(), layers.dense({ units: 2, name: 'head' })]);
    const wrongShape = randomNormal([2, 5, 4, 1], { seed: 1 });
    expect(() => m.predictSync(wrongShape)).toThrow(ConvkitError);
    expect(() => m.predictSync(wrongShape)).toThrow(/^predictSync: expected x of shape \[N, 5, 5, 1\] but received \[2, 5, 4, 1\]$/);
    await expect(m.predict(wrongShape)).rejects.toThrow(/^predict: expected x of shape \[N, 5, 5, 1\] but received \[2, 5, 4, 1\]$/);
    expect(() => m.predictSync(randomNormal([2, 5, 5, 1], { seed: 1 }), { batchSize: 0 })).toThrow(/predictSync: expected batchSize to be a positive integer/);

    // forward does not cast, so the first layer rejects a float64 input, by name, the same way both ways.
    const wrongDtype = randomNormal([2, 5, 5, 1], { seed: 1, dtype: 'float64' });
    const layerMessage = "Conv2D 'first': expected input of dtype float32 (the model's) but received 'float64'";
    expect(() => m.forwardSync(wrongDtype)).toThrow(layerMessage);
    await expect(m.forward(wrongDtype)).rejects.toThrow(layerMessage);

    const fresh = sequential([layers.dense({ units: 2, inputShape: [3], name: 'only' })]);
    expect(() => fresh.backwardSync(randomNormal([1, 2], { seed: 1 }))).toThrow(`${fresh.name}: backward called before forward`);

    expect(() => m.trainOnBatchSync(randomNormal([2, 5, 5, 1], { seed: 1 }), [0, 1])).toThrow(/trainOnBatchSync: the model is not compiled/);
    expect(() => m.evaluateSync(randomNormal([2, 5, 5, 1], { seed: 1 }), [0, 1])).toThrow(/evaluateSync: the model is not compiled/);
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    expect(() => m.trainOnBatchSync(randomNormal([2, 5, 5, 1], { seed: 1 }), [0, 1, 1])).toThrow(/trainOnBatchSync: expected 2 labels \(one per sample of x\) but received 3/);
    expect(() => m.evaluateSync(randomNormal([2, 5, 5, 1], { seed: 1 }), [0])).toThrow(/evaluateSync: expected 2 labels/);
  });

  it('trainOnBatchSync refuses to run inside an async training step, and the model trains on afterwards', async () => {
    const m = everyLayer();
    const pending = m.trainOnBatch(small, smallLabels);
    expect(() => m.trainOnBatchSync(small, smallLabels)).toThrow(/a training step is already running/);
    await pending;
    expect(m.trainOnBatchSync(small, smallLabels).loss).toBeGreaterThan(0);
  });
});

describe.skipIf(!nativeAvailable)('a kernel failing inside a training step (native refuses float64)', () => {
  it('reaches the caller through the step, which releases its guard, both ways', async () => {
    const m = sequential([layers.dense({ units: 2, inputShape: [3] })], { dtype: 'float64' });
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const x = randomNormal([2, 3], { seed: 1, dtype: 'float64' });
    setBackend('native');
    expect(() => m.trainOnBatchSync(x, [0, 1])).toThrow(/float32/);
    await expect(m.trainOnBatch(x, [0, 1])).rejects.toThrow(/float32/);
    setBackend('reference');
    expect(m.trainOnBatchSync(x, [0, 1]).loss).toBeGreaterThan(0);
  });
});

describe.skipIf(!nativeAvailable)('a Sync call while an async one is in flight (native)', () => {
  it('predictSync runs to the end while predict waits on its worker, and neither result changes', async () => {
    setBackend('native');
    const m = demo();
    const x = randomUniform([256, 28, 28, 1], { seed: 9 });
    const expected = m.predictSync(x, { batchSize: 64 });
    // predict's first kernel is on the binding's compute thread when predictSync starts; the synchronous
    // kernels run on this thread and do not wait for that queue, so this must not deadlock.
    const inFlight = m.predict(x, { batchSize: 64 });
    const during = m.predictSync(x, { batchSize: 64 });
    expect(bits(during)).toEqual(bits(expected));
    expect(bits(await inFlight)).toEqual(bits(expected));
  });
});
