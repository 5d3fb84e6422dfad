import { describe, fail } from '../errors.js';
import type { OpProgram } from '../ops/index.js';
import type { DType, Shape, Tensor } from '../tensor.js';
import { Layer, type ForwardContext, type LayerArgs } from './layer.js';
import { LayerNode, type SymbolicTensor } from './symbolic.js';

export interface InputArgs {
  /** The shape of one sample, without the batch axis, e.g. [28, 28, 1]. */
  shape: number[];
  name?: string;
  /** Default 'float32'. */
  dtype?: DType;
}

/** Where a model's input enters: the layer behind `input()`, with no weights and no computation. */
export class InputLayer extends Layer {
  static override readonly className = 'InputLayer';
  readonly dtypeOfInput: DType;

  constructor(args: InputArgs & LayerArgs) {
    super({ name: args?.name, inputShape: args?.shape ?? args?.inputShape }, 'input');
    if (!this.declaredInputShape) fail('input', 'shape as an array of positive integers (without the batch axis)', describe(args?.shape));
    this.dtypeOfInput = args.dtype ?? 'float32';
    if (this.dtypeOfInput !== 'float32' && this.dtypeOfInput !== 'float64') fail(this.where, "dtype 'float32' or 'float64'", describe(args.dtype));
    this.nodes.push(new LayerNode(this, 0, [], this.declaredInputShape, this.dtypeOfInput));
  }

  override computeOutputShapes(inputShapes: readonly Shape[]): number[] {
    return inputShapes.length === 0 ? [...this.declaredInputShape!] : super.computeOutputShapes(inputShapes);
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  override apply(): SymbolicTensor {
    return fail(this.where, 'nothing: an input layer starts a model (use its output, input() returns it)', 'a call to apply');
  }
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext): OpProgram<Tensor> {
    return x;
  }
  *backwardProgram(dy: Tensor): OpProgram<Tensor> {
    return dy;
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
  protected ownConfig(): Record<string, unknown> {
    return { dtype: this.dtypeOfInput };
  }
}

/**
 * A model input: a symbolic tensor of one sample's shape (no batch axis) that layers apply to.
 * @example const x = input({ shape: [28, 28, 1], name: 'image' });
 * @throws ConvkitError for a shape that is not positive integers, or an unknown dtype.
 */
export function input(args: InputArgs): SymbolicTensor {
  return new InputLayer(args).output;
}
