import { describe, expect, it } from 'vitest';
import { getBackend, setBackend, withBackend, type BackendName } from '../../src/backend/index.js';
import * as layers from '../../src/layers/index.js';
import * as losses from '../../src/losses/index.js';
import { sequential } from '../../src/model/sequential.js';
import { freshOutputs, runProgramSync } from '../../src/ops/index.js';
import type { BackwardContext, Param } from '../../src/layers/layer.js';
import { randomNormal, type Tensor } from '../../src/tensor.js';
import { nativeAvailable, nativeSkipReason, nativeVariants, useNativeVariant } from '../helpers/backends.js';

if (!nativeAvailable) console.warn(`model parity skipped: the native addon is not loadable (${nativeSkipReason})`);

/** Loss, input gradient and every weight gradient of one training-mode step, on the given backend. */
async function step(backend: BackendName): Promise<{ loss: number; grads: Tensor[] }> {
  const previous = getBackend();
  setBackend(backend);
  try {
    return await stepOn();
  } finally {
    setBackend(previous);
  }
}

async function stepOn(): Promise<{ loss: number; grads: Tensor[] }> {
  const model = sequential(
    [
      layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [12, 12, 3] }),
      layers.batchNormalization(),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, activation: 'elu' }),
      layers.averagePooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 16, activation: 'tanh' }),
      layers.dropout({ rate: 0.25 }),
      layers.dense({ units: 5 }),
    ],
    { seed: 3 },
  );
  const x = randomNormal([6, 12, 12, 3], { seed: 4 });
  const labels = Int32Array.from([0, 1, 2, 3, 4, 0]);
  const out = await model.forward(x, { training: true, step: 2 });
  const { loss, grad } = losses.sparseCategoricalCrossentropy({ fromLogits: true }).compute(out, labels);
  const dx = (await model.backward(grad))!;
  return { loss, grads: [dx, ...model.params().filter((p) => p.trainable).map((p) => p.grad!)] };
}

/** |a - b| <= 1e-4·|b| + 1e-5·max|b| elementwise: float32 sums in another order, relative to the tensor's scale. */
function expectNear(a: Tensor, b: Tensor, what: string): void {
  let scale = 0;
  for (let i = 0; i < b.size; i++) scale = Math.max(scale, Math.abs(b.data[i]));
  for (let i = 0; i < b.size; i++) {
    const tol = 1e-4 * Math.abs(b.data[i]) + 1e-5 * scale;
    if (!(Math.abs(a.data[i] - b.data[i]) <= tol)) throw new Error(`${what}[${i}]: native ${a.data[i]} vs reference ${b.data[i]} (tol ${tol})`);
  }
}

describe.skipIf(!nativeAvailable)('a whole model on native matches the reference backend', () => {
  it.each(nativeVariants())('loss and every gradient: $label', async (variant) => {
    useNativeVariant(variant);
    const native = await step('native');
    const ref = await step('reference');
    expect(native.loss).toBeCloseTo(ref.loss, 5);
    expect(native.grads).toHaveLength(ref.grads.length);
    native.grads.forEach((g, i) => expectNear(g, ref.grads[i], i === 0 ? 'dx' : `grad ${i}`));
  });
});

describe('training runs Conv2D + MaxPooling2D as fused ops, forward and backward', () => {
  const backends: BackendName[] = nativeAvailable ? ['reference', 'native'] : ['reference'];
  for (const backend of backends) {
    it(`the same bits as each layer's own forward and backward (${backend})`, () => {
      withBackend(backend, () => {
        const model = sequential(
          [
            layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [9, 9, 3] }),
            layers.maxPooling2d({ poolSize: 2 }),
            layers.conv2d({ filters: 5, kernelSize: 2, activation: 'sigmoid' }),
            layers.maxPooling2d({ poolSize: 2, strides: 1 }),
            layers.conv2d({ filters: 4, kernelSize: 1, activation: 'elu' }), // not through the pooling
            layers.maxPooling2d({ poolSize: 2 }),
            layers.flatten(),
            layers.dense({ units: 3 }),
          ],
          { seed: 8 },
        );
        const x = randomNormal([4, 9, 9, 3], { seed: 9 });
        const grads = () => model.layers.flatMap((l) => l.params().map((p) => Array.from(p.grad!.data)));
        // layer by layer: each layer's own forward, then each one's own backward
        const states = model.layers.map((l) => l.newState());
        let h: Tensor = x;
        model.layers.forEach((layer, i) => (h = runProgramSync(layer.callProgram([h], { training: true, step: 0, run: freshOutputs }, states[i]))));
        const dy = randomNormal(h.shape, { seed: 10 });
        let g: Tensor = dy;
        const own = new Map<Param, Tensor>();
        const ctx: BackwardContext = {
          run: freshOutputs,
          needInputGrad: () => true,
          *grad(p, t) {
            own.set(p, t);
          },
        };
        for (let i = model.layers.length - 1; i >= 0; i--) [g] = runProgramSync(model.layers[i].callBackwardProgram(g, ctx, states[i])) as Tensor[];
        for (const l of model.layers) for (const p of l.params()) p.grad = own.get(p);
        const layerGrads = grads();
        // the model, which fuses
        expect(Array.from(model.forwardSync(x, { training: true }).data)).toEqual(Array.from(h.data));
        expect(Array.from(model.backwardSync(dy)!.data)).toEqual(Array.from(g.data));
        expect(grads()).toEqual(layerGrads);
      });
    });
  }
});

describe('predict and evaluate fuse Conv2D + MaxPooling2D', () => {
  const build = () =>
    sequential(
      [
        layers.conv2d({ filters: 6, kernelSize: 5, padding: 'same', activation: 'relu', inputShape: [14, 14, 1] }),
        layers.maxPooling2d({ poolSize: 2 }),
        layers.conv2d({ filters: 10, kernelSize: 3, activation: 'elu' }), // elu runs after the op: not fused
        layers.maxPooling2d({ poolSize: 2 }),
        layers.depthwiseConv2d({ kernelSize: 1, activation: 'leakyRelu' }),
        layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
        layers.flatten(),
        layers.dense({ units: 4 }),
      ],
      { seed: 5 },
    );
  const x = randomNormal([20, 14, 14, 1], { seed: 6 });
  const backends: BackendName[] = nativeAvailable ? ['reference', 'native'] : ['reference'];

  for (const backend of backends) {
    it(`predict gives forward's bits (${backend})`, async () => {
      const previous = getBackend();
      setBackend(backend);
      try {
        const model = build();
        const unfused = await model.forward(x);
        expect(Array.from((await model.predict(x, { batchSize: 20 })).data)).toEqual(Array.from(unfused.data));
        // The same batch size: others may take other GEMM paths (the GEMV kernel below a tile's rows, longer k
        // blocks for taller products), which sum in other orders; activations are position-independent.
        expect(Array.from(model.predictSync(x, { batchSize: 20 }).data)).toEqual(Array.from(model.forwardSync(x).data));
      } finally {
        setBackend(previous);
      }
    });
  }
});
