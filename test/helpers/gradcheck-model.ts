import { expect } from 'vitest';
import { Sequential } from '../../src/model/sequential.js';
import { randomNormal, type Tensor } from '../../src/tensor.js';

/**
 * Checks a float64 model's input gradient and every trainable parameter's gradient by central differences,
 * through the model API: L = sum(model.forward(x, training) * r) for a fixed random r, so dL/dy = r. Training
 * mode with a fixed step, so dropout masks and batch statistics are part of the function differentiated.
 * Same bounds as helpers/gradcheck.ts (h = 1e-5 in float64, relative tolerance 1e-6), but async, as the
 * model API is.
 */
export async function checkModelGradients(model: Sequential, x: Tensor, opts: { h?: number; tol?: number } = {}): Promise<string[]> {
  if (x.dtype !== 'float64' || model.dtype !== 'float64') throw new Error('checkModelGradients: needs a float64 model and input');
  const h = opts.h ?? 1e-5;
  const tol = opts.tol ?? 1e-6;
  const run = (input: Tensor): Promise<Tensor> => model.forward(input, { training: true, step: 3 });
  const r = randomNormal((await run(x)).shape, { seed: 7, dtype: 'float64' });
  const loss = async (): Promise<number> => {
    const y = await run(x);
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i] * r.data[i];
    return s;
  };
  await run(x);
  const dx = (await model.backward(r))!;
  const analytic: [string, Tensor, Tensor][] = [['input', x, dx]];
  for (const p of model.params().filter((q) => q.trainable)) analytic.push([p.name, p.value, p.grad!.clone()]);
  for (const [name, value, grad] of analytic) {
    expect(grad.shape).toEqual(value.shape);
    // Perturbing value.data in place is perturbing exactly what the forward pass reads.
    for (let i = 0; i < value.size; i++) {
      const save = value.data[i];
      value.data[i] = save + h;
      const lp = await loss();
      value.data[i] = save - h;
      const lm = await loss();
      value.data[i] = save;
      const numeric = (lp - lm) / (2 * h);
      const err = Math.abs(grad.data[i] - numeric) / Math.max(1, Math.abs(grad.data[i]), Math.abs(numeric));
      if (err > tol) throw new Error(`gradcheck ${name}[${i}]: analytic ${grad.data[i]}, numeric ${numeric} (rel err ${err.toExponential(2)})`);
    }
  }
  return analytic.map(([name]) => name);
}
