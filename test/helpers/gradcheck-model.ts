import { Sequential } from '../../src/model/sequential.js';
import type { Tensor } from '../../src/tensor.js';
import { gradcheck } from './gradcheck.js';

/**
 * Checks a float64 model's input gradient and every trainable parameter's gradient by central differences,
 * through the model API: L = sum(model.forward(x, training) * r). Training mode with a fixed step, so
 * dropout masks and batch statistics are part of the function being differentiated.
 */
export function checkModelGradients(model: Sequential, x: Tensor, opts: { tol?: number } = {}): string[] {
  const run = (input: Tensor): Tensor => model.forward(input, { training: true, step: 3 });
  gradcheck(run, x, (input, dy) => {
    run(input);
    return model.backward(dy)!;
  }, opts);
  const checked = ['input'];
  for (const p of model.params().filter((q) => q.trainable)) {
    // gradcheck perturbs p.value in place, which is exactly the weight the forward pass reads.
    gradcheck(() => run(x), p.value, (_, dy) => {
      run(x);
      model.backward(dy, { inputGradient: false });
      return p.grad!;
    }, opts);
    checked.push(p.name);
  }
  return checked;
}
