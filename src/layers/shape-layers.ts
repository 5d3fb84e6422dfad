import { fail } from '../errors.js';
import type { OpProgram } from '../ops/index.js';
import { sizeOf, type Shape, type Tensor } from '../tensor.js';
import { Layer, type ForwardContext, type LayerArgs } from './layer.js';

/** (N, ...) -> (N, product): a view in NHWC order (the row-major order of the data), no copy. */
export class Flatten extends Layer {
  static override readonly className = 'Flatten';
  constructor(args: LayerArgs = {}) {
    super(args, 'flatten');
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [sizeOf(inputShape)];
  }
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext): OpProgram<Tensor> {
    return x.reshape([x.shape[0], -1]);
  }
  *backwardProgram(dy: Tensor): OpProgram<Tensor> {
    return dy.reshape([dy.shape[0], ...this.inputShape]);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
  protected ownConfig(): Record<string, unknown> {
    return {};
  }
}

export interface ReshapeArgs extends LayerArgs {
  /** The output shape without the batch axis; one entry may be -1. */
  targetShape: number[];
}

/** (N, ...) -> (N, ...targetShape), a view. @example layers.reshape({ targetShape: [28, 28, 1] }) */
export class Reshape extends Layer {
  static override readonly className = 'Reshape';
  readonly targetShape: number[];
  constructor(args: ReshapeArgs) {
    super(args, 'reshape');
    if (!Array.isArray(args?.targetShape) || args.targetShape.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1))) {
      fail(this.where, 'targetShape as an array of positive integers (one may be -1)', args?.targetShape);
    }
    this.targetShape = [...args.targetShape];
  }
  computeOutputShape(inputShape: Shape): number[] {
    const size = sizeOf(inputShape);
    const out = [...this.targetShape];
    const free = out.indexOf(-1);
    if (free >= 0) out[free] = size / sizeOf(out.filter((_, i) => i !== free));
    if (!Number.isInteger(out[free] ?? 1) || sizeOf(out) !== size) {
      fail(this.where, `a targetShape with ${size} values (input [N, ${inputShape.join(', ')}])`, `[${this.targetShape.join(', ')}]`);
    }
    return out;
  }
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext): OpProgram<Tensor> {
    return x.reshape([x.shape[0], ...this.outputShape]);
  }
  *backwardProgram(dy: Tensor): OpProgram<Tensor> {
    return dy.reshape([dy.shape[0], ...this.inputShape]);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
  protected ownConfig(): Record<string, unknown> {
    return { targetShape: this.targetShape };
  }
}
