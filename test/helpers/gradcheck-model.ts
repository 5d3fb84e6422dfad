import { expect } from 'vitest';
import type { Model } from '../../src/model/model.js';
import { randomNormal, type Tensor } from '../../src/tensor.js';

/**
 * Checks a float64 model's input gradients and every trainable parameter's gradient by central differences,
 * through the model API: L = sum over outputs k of sum(y_k * r_k) for fixed random r_k, so dL/dy_k = r_k.
 * Training mode with a fixed step, so dropout masks and batch statistics are part of the function
 * differentiated. Same bounds as helpers/gradcheck.ts (h = 1e-5 in float64, relative tolerance 1e-6).
 * Returns the names of what was checked: 'input' (or 'input k' for several inputs), then each param.
 */
export async function checkModelGradients(model: Model, x: Tensor | Tensor[], opts: { h?: number; tol?: number } = {}): Promise<string[]> {
  const xs = Array.isArray(x) ? x : [x];
  if (model.dtype !== 'float64' || xs.some((t) => t.dtype !== 'float64')) throw new Error('checkModelGradients: needs a float64 model and inputs');
  const h = opts.h ?? 1e-5;
  const tol = opts.tol ?? 1e-6;
  const run = async (): Promise<Tensor[]> => {
    const y = await model.forward(xs, { training: true, step: 3 });
    return Array.isArray(y) ? y : [y];
  };
  const rs = (await run()).map((y, k) => randomNormal(y.shape, { seed: 7 + k, dtype: 'float64' }));
  const loss = async (): Promise<number> => {
    let s = 0;
    (await run()).forEach((y, k) => {
      for (let i = 0; i < y.size; i++) s += y.data[i] * rs[k].data[i];
    });
    return s;
  };
  await run();
  const dxRaw = await model.backward(rs.length === 1 ? rs[0] : rs);
  const dxs = Array.isArray(dxRaw) ? dxRaw : [dxRaw!];
  const analytic: [string, Tensor, Tensor][] = xs.map((t, k) => [xs.length === 1 ? 'input' : `input ${k}`, t, dxs[k]]);
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
