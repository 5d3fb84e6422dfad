// An async kernel owns what it reads and writes until its Promise settles: JS that transfers, detaches or
// shrinks a typed array meanwhile can neither corrupt memory nor change the result. Plain ArrayBuffers are
// staged (inputs copied at the call, outputs copied back at settle if their array is still there); a model's
// weights, optimizer state and op outputs live in SharedArrayBuffers, which JS cannot detach or shrink.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { architectures, losses, ops, optimizers, randomNormal, randomUniform, setBackend, Tensor } from '../../src/index.js';
import { loadNative, type NativeAddon } from '../../src/native.js';
import { nativeAvailable } from '../helpers/backends.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const detach = (buffer: ArrayBufferLike): void => void structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
const n = 512;
const a = randomNormal([n, n], { seed: 1 });
const b = randomNormal([n, n], { seed: 2 });

describe.skipIf(!nativeAvailable)('async kernels own their memory until they settle', () => {
  const addon = loadNative().addon as NativeAddon;
  const matmulInto = (x: Float32Array, y: Float32Array) => addon.matmulAsync(x, b.data as Float32Array, y, n, n, n, false, false, null, 'linear', 0);
  setBackend('native');
  const want = ops.matmul(a, b);

  it('an input transferred away and collected mid-kernel still gives the result of the values at the call', async () => {
    for (let round = 0; round < 5; round++) {
      const x = a.data.slice() as Float32Array;
      const y = new Float32Array(n * n);
      const done = matmulInto(x, y);
      detach(x.buffer);
      gc();
      await done;
      expect(y).toEqual(want.data);
    }
  });

  it('an input whose resizable ArrayBuffer is shrunk to 0 mid-kernel is read as it was at the call', async () => {
    for (let round = 0; round < 5; round++) {
      const rab = new ArrayBuffer(n * n * 4, { maxByteLength: n * n * 4 });
      const x = new Float32Array(rab);
      x.set(a.data);
      const y = new Float32Array(n * n);
      const done = matmulInto(x, y);
      rab.resize(0);
      await done;
      expect(y).toEqual(want.data);
    }
  });

  it('an output detached mid-kernel rejects the Promise, naming the op and the array', async () => {
    const y = new Float32Array(n * n);
    const done = matmulInto(a.data as Float32Array, y);
    detach(y.buffer);
    gc();
    await expect(done).rejects.toThrow(/matmul: y was detached or resized while the kernel ran/);
  });

  it('optimizerStepAsync whose weights are transferred and collected mid-update rejects instead of writing freed memory', async () => {
    for (let round = 0; round < 5; round++) {
      const w = randomNormal([1 << 20], { seed: 3 });
      const g = randomNormal([1 << 20], { seed: 4 });
      const slots = [new Tensor(new Float32Array(1 << 20), [1 << 20]), new Tensor(new Float32Array(1 << 20), [1 << 20])];
      const info = { rule: 'adam' as const, lr: 1e-3, scale: 1, decay: 0, momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.999, rho: 0, epsilon: 1e-7 };
      const done = ops.optimizerStepAsync(w, g, slots, info);
      detach(w.data.buffer);
      gc();
      await expect(done).rejects.toThrow(/optimizerStep: w was detached or resized/);
    }
  });

  it('an input transferred right after ops.matmulAsync is called does not change its result', async () => {
    const x = new Tensor(a.data.slice(), a.shape);
    const done = ops.matmulAsync(x, b);
    detach(x.data.buffer);
    gc();
    expect((await done).data).toEqual(want.data);
  });

  it('a detached array given to a kernel is refused with a TypeError naming it', () => {
    const x = a.data.slice() as Float32Array;
    detach(x.buffer);
    expect(() => matmulInto(x, new Float32Array(n * n))).toThrow(/matmul: a's ArrayBuffer is detached/);
  });

  it("a model's weights and optimizer state cannot be detached, so training reads them in place", async () => {
    const model = architectures.lenet5({ seed: 1 });
    model.compile({ optimizer: optimizers.adam({ learningRate: 1e-3 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    await model.trainOnBatch(randomUniform([8, 28, 28, 1], { seed: 5 }), [0, 1, 2, 3, 4, 5, 6, 7]);
    for (const p of model.params()) {
      expect(p.value.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(() => detach(p.value.data.buffer)).toThrow();
    }
    for (const s of model.optimizer!.getSlotWeights(model.params())) expect(s.tensor.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    const step = model.trainOnBatch(randomUniform([8, 28, 28, 1], { seed: 6 }), [7, 6, 5, 4, 3, 2, 1, 0]);
    for (const p of model.params()) expect(() => detach(p.value.data.buffer)).toThrow();
    expect(Number.isFinite((await step).loss)).toBe(true);
  });

  it('what predict returns is a plain ArrayBuffer that can be transferred', async () => {
    const model = architectures.lenet5({ seed: 1 });
    const y = await model.predict(randomUniform([4, 28, 28, 1], { seed: 7 }));
    expect(y.data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(() => detach(y.data.buffer)).not.toThrow();
  });
});
