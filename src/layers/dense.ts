import { fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import * as ops from '../ops/index.js';
import type { Shape, Tensor } from '../tensor.js';
import { positiveInt } from '../validate.js';
import { ActivationStep, type ActivationName } from './activations.js';
import { initializerOf, Layer, type ForwardContext, type LayerArgs, type Param } from './layer.js';
import { getRegularizer, type Regularizer } from './regularizers.js';

export interface DenseArgs extends LayerArgs {
  units: number;
  activation?: ActivationName;
  alpha?: number;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: Regularizer;
}

/**
 * Fully connected: y = act(x · kernel + bias), kernel [in, units]. Inputs of rank > 2 are treated as rows of
 * their last axis, as Keras does.
 */
export class Dense extends Layer {
  static override readonly className = 'Dense';
  readonly units: number;
  readonly useBias: boolean;
  private readonly act: ActivationStep;
  private readonly args: DenseArgs;
  private kernel!: Param;
  private bias: Param | undefined;
  private x2: Tensor | undefined;

  constructor(args: DenseArgs) {
    super(args, 'dense');
    this.args = args;
    this.units = positiveInt(this.where, 'units', args?.units);
    this.useBias = args.useBias ?? true;
    this.act = new ActivationStep(this.where, args.activation, args.alpha);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length < 1) fail(this.where, 'input of shape [N, features] (flatten images first)', `[N]`);
    return [...inputShape.slice(0, -1), this.units];
  }

  protected override createWeights(): void {
    const inputs = this.inputShape[this.inputShape.length - 1];
    const reg = getRegularizer(this.where, this.args.kernelRegularizer);
    this.kernel = this.addWeight('kernel', [inputs, this.units], initializerOf(this.where, this.args.kernelInitializer, 'glorotUniform'), true, reg);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], initializerOf(this.where, this.args.biasInitializer, 'zeros'));
  }

  *forwardProgram(x: Tensor, _ctx: ForwardContext): ops.OpProgram<Tensor> {
    this.checkInput(x);
    const x2 = x.reshape([-1, x.shape[x.rank - 1]]);
    this.x2 = x2;
    const z = yield ops.request.matmul(x2, this.kernel.value, { bias: this.bias?.value, ...this.act.epilogue() });
    const y = yield* this.act.after(z);
    return y.reshape([...x.shape.slice(0, -1), this.units]);
  }

  *backwardProgram(dy: Tensor, needInputGrad: boolean): ops.OpProgram<Tensor | undefined> {
    const x2 = this.saved(this.x2);
    const dz = yield* this.act.backward(dy.reshape([-1, this.units]));
    this.kernel.grad = yield ops.request.matmul(x2, dz, { transposeA: true });
    if (this.bias) this.bias.grad = yield ops.request.biasGrad(dz);
    if (!needInputGrad) return undefined;
    const dx2 = yield ops.request.matmul(dz, this.kernel.value, { transposeB: true });
    return dx2.reshape([dy.shape[0], ...this.inputShape]);
  }

  protected ownConfig(): Record<string, unknown> {
    const a = this.args;
    return {
      units: this.units,
      ...this.act.config(),
      useBias: this.useBias,
      kernelInitializer: initializerOf(this.where, a.kernelInitializer, 'glorotUniform').getConfig(),
      biasInitializer: initializerOf(this.where, a.biasInitializer, 'zeros').getConfig(),
      kernelRegularizer: getRegularizer(this.where, a.kernelRegularizer)?.getConfig(),
    };
  }
}
