/**
 * Merge layers: several inputs of one shape (Concatenate: one shape but along its axis) into one output.
 * Keras's semantics and names: Add, Subtract (two inputs), Multiply, Average, Maximum, Minimum, Concatenate.
 */
import { describe, fail } from '../errors.js';
import * as ops from '../ops/index.js';
import type { Shape, Tensor } from '../tensor.js';
import { Layer, sameShape, type BackwardContext, type ForwardContext, type LayerArgs } from './layer.js';

/** What a merge application keeps: its inputs, and the running results of a maximum or minimum's fold. */
export interface MergeSaved {
  xs?: readonly Tensor[];
  folds?: Tensor[];
}

/** The shared part of the elementwise merges: several inputs of one shape, folded left by one binary op. */
abstract class ElementwiseMerge extends Layer<MergeSaved> {
  override get arity(): 'many' {
    return 'many';
  }
  override computeOutputShapes(inputShapes: readonly Shape[]): number[] {
    if (inputShapes.length < 2) fail(this.where, 'at least two inputs', `${inputShapes.length}`);
    inputShapes.forEach((s, i) => {
      if (!sameShape(s, inputShapes[0])) fail(this.where, `inputs of one shape: input ${i} of shape [N, ${inputShapes[0].join(', ')}]`, `[N, ${s.join(', ')}]`);
    });
    return [...inputShapes[0]];
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(): ops.OpProgram<Tensor> {
    return fail(this.where, 'its inputs as an array (a merge layer takes several)', 'one tensor');
  }
  *backwardProgram(): ops.OpProgram<Tensor | undefined> {
    return fail(this.where, 'its backward through callBackwardProgram (a merge layer has several inputs)', 'backwardProgram');
  }
  override *callProgram(xs: readonly Tensor[], ctx: ForwardContext, state: MergeSaved): ops.OpProgram<Tensor> {
    this.checkInputs(xs);
    return yield* this.merge(xs, ctx, state);
  }
  override *callBackwardProgram(dy: Tensor, ctx: BackwardContext, state: MergeSaved): ops.OpProgram<(Tensor | undefined)[]> {
    return yield* this.mergeBackward(dy, ctx, state);
  }
  protected abstract merge(xs: readonly Tensor[], ctx: ForwardContext, state: MergeSaved): ops.OpProgram<Tensor>;
  protected abstract mergeBackward(dy: Tensor, ctx: BackwardContext, state: MergeSaved): ops.OpProgram<(Tensor | undefined)[]>;
  protected ownConfig(): Record<string, unknown> {
    return {};
  }
}

/** The inputs folded left: op(op(x0, x1), x2)... */
function* fold(xs: readonly Tensor[], op: (a: Tensor, b: Tensor) => ops.OpRequest, folds?: Tensor[]): ops.OpProgram<Tensor> {
  let acc = xs[0];
  for (let i = 1; i < xs.length; i++) {
    folds?.push(acc);
    acc = yield op(acc, xs[i]);
  }
  return acc;
}

/** x0 + x1 + ...: the residual connection of ResNets. @example layers.add().apply([h, skip]) */
export class Add extends ElementwiseMerge {
  static override readonly className = 'Add';
  constructor(args: LayerArgs = {}) {
    super(args, 'add');
  }
  protected *merge(xs: readonly Tensor[]): ops.OpProgram<Tensor> {
    return yield* fold(xs, ops.request.add);
  }
  protected *mergeBackward(dy: Tensor): ops.OpProgram<(Tensor | undefined)[]> {
    return this.inputShapes.map(() => dy);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
  /** The op producing one input can add the other (a residual connection), at inference. */
  override isResidualAdd(): boolean {
    return true;
  }
}

/** x0 - x1 (exactly two inputs). */
export class Subtract extends ElementwiseMerge {
  static override readonly className = 'Subtract';
  constructor(args: LayerArgs = {}) {
    super(args, 'subtract');
  }
  override computeOutputShapes(inputShapes: readonly Shape[]): number[] {
    if (inputShapes.length !== 2) fail(this.where, 'exactly two inputs', `${inputShapes.length}`);
    return super.computeOutputShapes(inputShapes);
  }
  protected *merge(xs: readonly Tensor[]): ops.OpProgram<Tensor> {
    return yield ops.request.subtract(xs[0], xs[1]);
  }
  protected *mergeBackward(dy: Tensor, ctx: BackwardContext): ops.OpProgram<(Tensor | undefined)[]> {
    return [dy, ctx.needInputGrad(1) ? yield ops.request.scale(dy, -1) : undefined];
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
}

/** x0 * x1 * ... elementwise. */
export class Multiply extends ElementwiseMerge {
  static override readonly className = 'Multiply';
  constructor(args: LayerArgs = {}) {
    super(args, 'multiply');
  }
  protected *merge(xs: readonly Tensor[], _ctx: ForwardContext, state: MergeSaved): ops.OpProgram<Tensor> {
    state.xs = xs;
    return yield* fold(xs, ops.request.multiply);
  }
  /** dx_i = dy times every other input. */
  protected *mergeBackward(dy: Tensor, ctx: BackwardContext, state: MergeSaved): ops.OpProgram<(Tensor | undefined)[]> {
    const xs = this.saved(state.xs);
    const out: (Tensor | undefined)[] = [];
    for (let i = 0; i < xs.length; i++) {
      if (!ctx.needInputGrad(i)) {
        out.push(undefined);
        continue;
      }
      let g = dy;
      for (let j = 0; j < xs.length; j++) if (j !== i) g = yield ops.request.multiply(g, xs[j]);
      out.push(g);
    }
    return out;
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: false };
  }
}

/** The mean of the inputs. */
export class Average extends ElementwiseMerge {
  static override readonly className = 'Average';
  constructor(args: LayerArgs = {}) {
    super(args, 'average');
  }
  protected *merge(xs: readonly Tensor[]): ops.OpProgram<Tensor> {
    return yield ops.request.scale(yield* fold(xs, ops.request.add), 1 / xs.length);
  }
  protected *mergeBackward(dy: Tensor): ops.OpProgram<(Tensor | undefined)[]> {
    const g = yield ops.request.scale(dy, 1 / this.inputShapes.length);
    return this.inputShapes.map(() => g);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
}

/** Maximum (or, with min, minimum) of the inputs, folded left; the gradient goes to the input that gave each value. */
abstract class Extremum extends ElementwiseMerge {
  protected abstract readonly kind: 'max' | 'min';
  protected *merge(xs: readonly Tensor[], _ctx: ForwardContext, state: MergeSaved): ops.OpProgram<Tensor> {
    state.xs = xs;
    state.folds = [];
    return yield* fold(xs, this.kind === 'max' ? ops.request.maximum : ops.request.minimum, state.folds);
  }
  /** Back through the fold: at step i the running result and x_i split the gradient of the next result. */
  protected *mergeBackward(dy: Tensor, ctx: BackwardContext, state: MergeSaved): ops.OpProgram<(Tensor | undefined)[]> {
    const xs = this.saved(state.xs);
    const folds = state.folds!;
    const out: (Tensor | undefined)[] = new Array(xs.length);
    let g = dy;
    for (let i = xs.length - 1; i >= 1; i--) {
      const gx = ctx.run.alloc(dy.shape, dy.dtype);
      g = yield ops.request.route(this.kind, g, folds[i - 1], xs[i], gx);
      out[i] = gx;
    }
    out[0] = g;
    return out;
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: false };
  }
}

/** The elementwise maximum of the inputs (NaN where any is). */
export class Maximum extends Extremum {
  static override readonly className = 'Maximum';
  protected readonly kind = 'max';
  constructor(args: LayerArgs = {}) {
    super(args, 'maximum');
  }
}

/** The elementwise minimum of the inputs (NaN where any is). */
export class Minimum extends Extremum {
  static override readonly className = 'Minimum';
  protected readonly kind = 'min';
  constructor(args: LayerArgs = {}) {
    super(args, 'minimum');
  }
}

export interface ConcatenateArgs extends LayerArgs {
  /** The axis to join along, counting the batch axis as 0 (default -1, the channels of NHWC). */
  axis?: number;
}

/** The inputs joined along an axis (Inception and DenseNet blocks, U-Net skips). @example layers.concatenate({ axis: -1 }).apply([a, b]) */
export class Concatenate extends Layer<MergeSaved> {
  static override readonly className = 'Concatenate';
  readonly axis: number;
  constructor(args: ConcatenateArgs = {}) {
    super(args, 'concatenate');
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis) || this.axis === 0) fail(this.where, 'axis to be a non-zero integer (0 is the batch axis)', describe(args.axis));
  }
  override get arity(): 'many' {
    return 'many';
  }
  /** The axis in a shape without the batch axis. */
  private sampleAxis(rank: number): number {
    const a = this.axis < 0 ? this.axis + rank + 1 : this.axis;
    if (a < 1 || a > rank) fail(this.where, `axis in [${-rank}, ${rank}] for inputs of rank ${rank + 1}`, describe(this.axis));
    return a - 1;
  }
  override computeOutputShapes(inputShapes: readonly Shape[]): number[] {
    if (inputShapes.length < 2) fail(this.where, 'at least two inputs', `${inputShapes.length}`);
    const rank = inputShapes[0].length;
    const a = this.sampleAxis(rank);
    const out = [...inputShapes[0]];
    inputShapes.forEach((s, i) => {
      if (s.length !== rank || s.some((d, k) => k !== a && d !== out[k])) {
        fail(this.where, `input ${i} of shape [N, ${out.map((d, k) => (k === a ? '*' : d)).join(', ')}] (equal but along the axis)`, `[N, ${s.join(', ')}]`);
      }
      if (i > 0) out[a] += s[a];
    });
    return out;
  }
  computeOutputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(): ops.OpProgram<Tensor> {
    return fail(this.where, 'its inputs as an array (a merge layer takes several)', 'one tensor');
  }
  *backwardProgram(): ops.OpProgram<Tensor | undefined> {
    return fail(this.where, 'its backward through callBackwardProgram (a merge layer has several inputs)', 'backwardProgram');
  }
  override *callProgram(xs: readonly Tensor[]): ops.OpProgram<Tensor> {
    this.checkInputs(xs);
    return yield ops.request.concatenate(xs, this.sampleAxis(xs[0].rank - 1) + 1);
  }
  override *callBackwardProgram(dy: Tensor, ctx: BackwardContext): ops.OpProgram<(Tensor | undefined)[]> {
    const shapes = this.inputShapes;
    const a = this.sampleAxis(shapes[0].length);
    const out: (Tensor | undefined)[] = [];
    let begin = 0;
    for (const [i, s] of shapes.entries()) {
      out.push(ctx.needInputGrad(i) ? yield ops.request.sliceAxis(dy, a + 1, begin, s[a]) : undefined);
      begin += s[a];
    }
    return out;
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
  protected ownConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
}
