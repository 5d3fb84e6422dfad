import { fail } from '../errors.js';
import type { InitializerSpec } from '../initializers/index.js';
import * as ops from '../ops/index.js';
import type { Shape, Tensor } from '../tensor.js';
import { positiveInt } from '../validate.js';
import { ActivationStep, type ActivationName, type ActivationSaved } from './activations.js';
import { initializerOf, Layer, type BackwardContext, type ForwardContext, type LayerArgs, type Param } from './layer.js';
import { getRegularizer, type Regularizer } from './regularizers.js';
import { fusedEpilogue } from './epilogue.js';
import type { InferenceEpilogue } from '../engine/plan.js';

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
/** What one application keeps: its input as rows, and its activation's tensors. */
interface DenseSaved {
  x2?: Tensor;
  act: ActivationSaved;
}

export class Dense extends Layer<DenseSaved> {
  static override readonly className = 'Dense';
  readonly units: number;
  readonly useBias: boolean;
  private readonly act: ActivationStep;
  private readonly args: DenseArgs;
  private kernel!: Param;
  private bias: Param | undefined;

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

  override newState(): DenseSaved {
    return { act: {} };
  }

  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: DenseSaved): ops.OpProgram<Tensor> {
    const x2 = x.reshape([-1, x.shape[x.rank - 1]]);
    state.x2 = x2;
    const z = yield ops.request.matmul(x2, this.kernel.value, { bias: this.bias?.value, ...this.act.epilogue() });
    const y = yield* this.act.after(z, state.act);
    return y.reshape([...x.shape.slice(0, -1), this.units]);
  }

  *backwardProgram(dy: Tensor, ctx: BackwardContext, state: DenseSaved): ops.OpProgram<Tensor | undefined> {
    const x2 = this.saved(state.x2);
    const dz = yield* this.act.backward(dy.reshape([-1, this.units]), state.act);
    yield* ctx.grad(this.kernel, yield ops.request.matmul(x2, dz, { transposeA: true }));
    if (this.bias) yield* ctx.grad(this.bias, yield ops.request.biasGrad(dz));
    if (!ctx.needInputGrad()) return undefined;
    const dx2 = yield ops.request.matmul(dz, this.kernel.value, { transposeB: true });
    return dx2.reshape([dy.shape[0], ...this.inputShape]);
  }

  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: this.act.kind !== 'linear' };
  }

  /** Fusion capability (EpilogueProducer): with no activation of its own, its op can apply what follows it at inference. */
  takesEpilogue(): boolean {
    return this.act.kind === 'linear';
  }

  /** The product with an inference epilogue (engine/plan.ts) in its op: a folded batch normalization, a residual, an activation. */
  *forwardEpilogueProgram(x: Tensor, ep: InferenceEpilogue, _ctx: ForwardContext, _state: DenseSaved): ops.OpProgram<Tensor> {
    this.checkInputs([x]);
    const x2 = x.reshape([-1, x.shape[x.rank - 1]]);
    const residual = ep.residual?.reshape([-1, this.units]);
    const y = yield ops.request.matmul(x2, this.kernel.value, { ...fusedEpilogue(ep, this.bias?.value, this.kernel.value), residual, activation: ep.activation, alpha: ep.alpha });
    return y.reshape([...x.shape.slice(0, -1), this.units]);
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
