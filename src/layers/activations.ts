import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { FROM_OUTPUT, type UnaryKind } from '../backend/types.js';
import { oneOf } from '../validate.js';

export type ActivationName = ops.ActivationName;
/** Every activation a layer accepts by name. */
export const ACTIVATION_NAMES: readonly ActivationName[] = [...ops.ACTIVATIONS, 'softmax'];

/** Keras's and TF.js's spellings of the same activations. */
const ALIASES: Readonly<Record<string, ActivationName>> = {
  leaky_relu: 'leakyRelu',
  hard_sigmoid: 'hardSigmoid',
  hard_swish: 'hardSwish',
  hard_silu: 'hardSwish',
  silu: 'swish',
  gelu_tanh: 'geluTanh',
};

/** An activation name, Keras's snake_case spellings and 'silu' included, as convkit's. */
export function activationName(where: string, name: unknown): ActivationName {
  const canonical = typeof name === 'string' && Object.hasOwn(ALIASES, name) ? ALIASES[name] : name;
  return oneOf(where, 'activation', canonical, ACTIVATION_NAMES);
}


/** What an activation step keeps for its backward: the op's result before (z) and after (y) the activation. */
export interface ActivationSaved {
  z?: Tensor;
  y?: Tensor;
}

/**
 * An activation applied after a layer's affine part, fused into the op when the kernel can and its derivative
 * can be taken from the output: relu and leakyRelu (alpha > 0) keep the sign of their input, so y stands in
 * for x in their backward; sigmoid, tanh, relu6, hardSigmoid and exponential use y anyway. The others (elu,
 * swish, gelu, ..., softmax) run as a separate op after it, keeping its input too. It holds no tensors
 * itself: each application's go in the `saved` object its layer keeps.
 */
export class ActivationStep {
  readonly kind: ActivationName;
  readonly alpha: number | undefined;
  readonly fused: boolean;

  constructor(where: string, kind: ActivationName | undefined, alpha: number | undefined) {
    this.kind = activationName(where, kind ?? 'linear');
    this.alpha = alpha;
    const fromSign = this.kind === 'linear' || this.kind === 'relu' || (this.kind === 'leakyRelu' && !(alpha !== undefined && alpha <= 0));
    this.fused = fromSign || (this.kind !== 'softmax' && FROM_OUTPUT.has(this.kind as UnaryKind));
  }

  /** The options to pass to a fused op (conv2d, matmul). */
  epilogue(): { activation?: ops.ActivationKind; alpha?: number } {
    return this.fused ? { activation: this.kind as ops.ActivationKind, alpha: this.alpha } : {};
  }

  /**
   * Takes the op's result (already activated when `applied`: by default when the step fuses, for ops that
   * took its epilogue) and returns the layer output, keeping what backward needs: nothing for linear, so a
   * model can free the output as soon as its readers are done.
   */
  *after(opResult: Tensor, saved: ActivationSaved, applied = this.fused): ops.OpProgram<Tensor> {
    const y = applied || this.kind === 'linear' ? opResult : yield ops.request.activation(this.kind, opResult, this.alpha);
    if (this.kind !== 'linear') {
      saved.z = applied ? undefined : opResult;
      saved.y = y;
    }
    return y;
  }

  /** dy -> dz, the gradient at the op's pre-activation result. */
  *backward(dy: Tensor, saved: ActivationSaved): ops.OpProgram<Tensor> {
    if (this.kind === 'linear') return dy;
    const y = saved.y!;
    return yield ops.request.activationBackward(this.kind, dy, saved.z ?? y, y, this.alpha);
  }

  /** The options under which a max pooling's backward applies this step's backward too, or undefined. */
  pooled(): ops.PooledActivation | undefined {
    return this.fused && this.kind !== 'linear' && ops.POOL_ACTIVATIONS.includes(this.kind as ops.ActivationKind) ? { activation: this.kind as ops.ActivationKind, alpha: this.alpha } : undefined;
  }
  config(): { activation: ActivationName; alpha?: number } {
    return this.alpha === undefined ? { activation: this.kind } : { activation: this.kind, alpha: this.alpha };
  }
}
