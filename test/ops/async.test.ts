// The ...Async ops compute off the event loop on the native backend and give exactly the sync results;
// on the reference backend they compute at once and still return Promises.
import { describe, expect, it } from 'vitest';
import { ConvkitError, ops, randomNormal, setBackend, withBackend, type Tensor } from '../../src/index.js';
import { nativeAvailable } from '../helpers/backends.js';

const x = randomNormal([2, 9, 7, 5], { seed: 1 });
const w = randomNormal([3, 3, 5, 6], { seed: 2 });
const conv = { strides: 2, padding: 'same' as const };
const pool = { poolSize: 2, strides: 1, padding: 'same' as const };
const y = ops.pool2dOutputShape(x.shape, pool);

const pairs: [string, () => Tensor, () => Promise<Tensor>][] = [
  ['matmul', () => ops.matmul(x.reshape([18, 35]), w.reshape([45, 6]).slice(0, 35), { activation: 'relu' }), () => ops.matmulAsync(x.reshape([18, 35]), w.reshape([45, 6]).slice(0, 35), { activation: 'relu' })],
  ['conv2d', () => ops.conv2d(x, w, { ...conv, activation: 'tanh' }), () => ops.conv2dAsync(x, w, { ...conv, activation: 'tanh' })],
  ['conv2dBackwardInput', () => ops.conv2dBackwardInput(ops.conv2d(x, w, conv), w, x.shape, conv), () => ops.conv2dBackwardInputAsync(ops.conv2d(x, w, conv), w, x.shape, conv)],
  ['conv2dBackwardFilter', () => ops.conv2dBackwardFilter(x, ops.conv2d(x, w, conv), w.shape, conv), () => ops.conv2dBackwardFilterAsync(x, ops.conv2d(x, w, conv), w.shape, conv)],
  ['maxPool2d', () => ops.maxPool2d(x, pool), () => ops.maxPool2dAsync(x, pool)],
  ['maxPool2dBackward', () => ops.maxPool2dBackward(randomNormal(y, { seed: 3 }), x, pool), () => ops.maxPool2dBackwardAsync(randomNormal(y, { seed: 3 }), x, pool)],
  ['avgPool2d', () => ops.avgPool2d(x, pool), () => ops.avgPool2dAsync(x, pool)],
  ['avgPool2dBackward', () => ops.avgPool2dBackward(randomNormal(y, { seed: 3 }), x.shape, pool), () => ops.avgPool2dBackwardAsync(randomNormal(y, { seed: 3 }), x.shape, pool)],
  ['globalAvgPool2d', () => ops.globalAvgPool2d(x), () => ops.globalAvgPool2dAsync(x)],
  ['globalMaxPool2dBackward', () => ops.globalMaxPool2dBackward(randomNormal([2, 5], { seed: 4 }), x), () => ops.globalMaxPool2dBackwardAsync(randomNormal([2, 5], { seed: 4 }), x)],
  ['biasGrad', () => ops.biasGrad(x), () => ops.biasGradAsync(x)],
  ['activation elu', () => ops.activation('elu', x, 0.5), () => ops.activationAsync('elu', x, 0.5)],
  ['activation softmax', () => ops.activation('softmax', x), () => ops.activationAsync('softmax', x)],
  ['activationBackward sigmoid', () => ops.activationBackward('sigmoid', x, x, ops.sigmoid(x)), () => ops.activationBackwardAsync('sigmoid', x, x, ops.sigmoid(x))],
];

describe('async ops', () => {
  for (const backend of ['reference', 'native'] as const) {
    describe.skipIf(backend === 'native' && !nativeAvailable)(backend, () => {
      for (const [name, sync, async] of pairs) {
        it(`${name}Async equals ${name} exactly`, async () => {
          setBackend(backend);
          const want = sync();
          const got = await async();
          expect(got.shape).toEqual(want.shape);
          expect(Array.from(got.data)).toEqual(Array.from(want.data));
        });
      }

      it('bad arguments reject (never throw synchronously) with the same ConvkitError', async () => {
        setBackend(backend);
        const p = ops.conv2dAsync(x, randomNormal([3, 3, 4, 6], { seed: 5 }));
        expect(p).toBeInstanceOf(Promise);
        await expect(p).rejects.toThrow(ConvkitError);
        await expect(p).rejects.toThrow('conv2d: expected filter in-channels 5');
      });
    });
  }

  it.skipIf(!nativeAvailable)('the event loop keeps running while a large native conv computes', async () => {
    setBackend('native');
    const big = randomNormal([8, 56, 56, 64], { seed: 6 });
    const filter = randomNormal([3, 3, 64, 64], { seed: 7, stddev: 0.05 });
    const want = withBackend('native', () => ops.conv2d(big, filter, { padding: 'same' }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    const pending = ops.conv2dAsync(big, filter, { padding: 'same' });
    const returnedAfter = performance.now() - t0;
    const got = await pending;
    const took = performance.now() - t0;
    clearInterval(timer);
    expect(Array.from(got.data.subarray(0, 4096))).toEqual(Array.from(want.data.subarray(0, 4096)));
    // the call hands back its Promise before the kernel is done, and timers fire meanwhile
    expect(returnedAfter).toBeLessThan(took);
    expect(ticks, `timer ticks during a ${took.toFixed(1)} ms conv`).toBeGreaterThan(0);
  });

  it.skipIf(!nativeAvailable)('small ops run on the calling thread, but a long run of them still gives the event loop turns', async () => {
    setBackend('native');
    const small = randomNormal([64, 32], { seed: 8 });
    const want = withBackend('native', () => ops.relu(small));
    // 3,000 small activations with no batch boundary in between: a program the driver must break up itself
    function* program(): ops.OpProgram<Tensor> {
      let y = small;
      for (let i = 0; i < 3000; i++) y = yield ops.request.activation('relu', small);
      return y;
    }
    let turns = 0;
    const counter = setInterval(() => turns++, 0);
    const got = await ops.runProgramAsync(program());
    clearInterval(counter);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
    expect(turns, 'event-loop turns while 3,000 inline ops ran').toBeGreaterThan(0);
  });
});

