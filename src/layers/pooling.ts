import { describe, fail } from '../errors.js';
import * as ops from '../ops/index.js';
import type { Shape, Tensor } from '../tensor.js';
import { pair, positiveInt } from '../validate.js';
import { Layer, type BackwardContext, type ForwardContext, type LayerArgs } from './layer.js';

export interface Pooling2DArgs extends LayerArgs {
  /** Default 2. */
  poolSize?: number | [number, number];
  /** Default poolSize. */
  strides?: number | [number, number];
  /** Default 'valid'. */
  padding?: ops.Padding;
}

function checkNhwc(where: string, inputShape: Shape): void {
  if (inputShape.length !== 3) fail(where, 'input of shape [N, height, width, channels] (nhwc)', `[N, ${inputShape.join(', ')}]`);
}

/** What a pooling application keeps: its input (max pooling routes by it; average pooling needs only its shape). */
export interface PoolSaved {
  x?: Tensor;
}

/** The shared part of every pooling layer: forward keeps x; backward hands dy and x to the op's gradient. */
abstract class PoolingBase extends Layer<PoolSaved> {
  protected abstract pool(x: Tensor): ops.OpRequest;
  protected abstract poolBackward(dy: Tensor, x: Tensor): ops.OpRequest;
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    state.x = x;
    return yield this.pool(x);
  }
  *backwardProgram(dy: Tensor, _ctx: BackwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    return yield this.poolBackward(dy, this.saved(state.x));
  }
}

abstract class Pooling2D extends PoolingBase {
  protected readonly opts: ops.Pool2DOptions;

  constructor(args: Pooling2DArgs, prefix: string) {
    super(args, prefix);
    const poolSize = args.poolSize ?? 2;
    pair(this.where, 'poolSize', poolSize);
    this.opts = { poolSize, strides: args.strides ?? poolSize, padding: args.padding ?? 'valid' };
  }

  computeOutputShape(inputShape: Shape): number[] {
    checkNhwc(this.where, inputShape);
    try {
      return ops.pool2dOutputShape([1, ...inputShape], this.opts).slice(1);
    } catch (e) {
      return fail(this.where, `an input that fits its pool size, strides and padding (${(e as Error).message})`, `[N, ${inputShape.join(', ')}]`);
    }
  }

  protected ownConfig(): Record<string, unknown> {
    return { ...this.opts };
  }
}

/** Max over each window; backward routes the gradient to the first maximum. @example layers.maxPooling2d({ poolSize: 2 }) */
export class MaxPooling2D extends Pooling2D {
  static override readonly className = 'MaxPooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(args, 'max_pooling2d');
  }
  /** Fusion capability: its window, strides and padding, for an op that pools another op's output (ops.conv2dMaxPool). */
  override maxPoolOptions(): ops.Pool2DOptions {
    return { ...this.opts };
  }
  protected pool(x: Tensor): ops.OpRequest {
    return ops.request.maxPool2d(x, this.opts);
  }
  protected poolBackward(dy: Tensor, x: Tensor): ops.OpRequest {
    return ops.request.maxPool2dBackward(dy, x, this.opts);
  }
  /**
   * backwardProgram continued through the activation whose output this layer pooled (the previous layer's,
   * see Conv2D.pooledActivation): the gradient at that activation's input, in one op.
   */
  *backwardThroughProgram(dy: Tensor, state: PoolSaved, activation: ops.PooledActivation): ops.OpProgram<Tensor> {
    return yield ops.request.maxPool2dBackward(dy, this.saved(state.x), { ...this.opts, ...activation });
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: false };
  }
}

/** Mean over each window (padded cells left out of the divisor). */
export class AveragePooling2D extends Pooling2D {
  static override readonly className = 'AveragePooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(args, 'average_pooling2d');
  }
  protected pool(x: Tensor): ops.OpRequest {
    return ops.request.avgPool2d(x, this.opts);
  }
  protected poolBackward(dy: Tensor, x: Tensor): ops.OpRequest {
    return ops.request.avgPool2dBackward(dy, x.shape, this.opts);
  }
  // its backward reads only x's shape, which a freed buffer still has
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
}

abstract class GlobalPooling2D extends PoolingBase {
  computeOutputShape(inputShape: Shape): number[] {
    checkNhwc(this.where, inputShape);
    return [inputShape[2]];
  }
  protected ownConfig(): Record<string, unknown> {
    return {};
  }
}

/** (N,H,W,C) -> (N,C), the mean over H and W. */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  static override readonly className = 'GlobalAveragePooling2D';
  constructor(args: LayerArgs = {}) {
    super(args, 'global_average_pooling2d');
  }
  protected pool(x: Tensor): ops.OpRequest {
    return ops.request.globalAvgPool2d(x);
  }
  protected poolBackward(dy: Tensor, x: Tensor): ops.OpRequest {
    return ops.request.globalAvgPool2dBackward(dy, x.shape);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
}

/** (N,H,W,C) -> (N,C), the max over H and W. */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  static override readonly className = 'GlobalMaxPooling2D';
  constructor(args: LayerArgs = {}) {
    super(args, 'global_max_pooling2d');
  }
  protected pool(x: Tensor): ops.OpRequest {
    return ops.request.globalMaxPool2d(x);
  }
  protected poolBackward(dy: Tensor, x: Tensor): ops.OpRequest {
    return ops.request.globalMaxPool2dBackward(dy, x);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: false };
  }
}

export interface Pooling1DArgs extends LayerArgs {
  /** Default 2. */
  poolSize?: number;
  /** Default poolSize. */
  strides?: number;
  /** Default 'valid'. */
  padding?: 'valid' | 'same';
}

function checkNwc(where: string, inputShape: Shape): void {
  if (inputShape.length !== 2) fail(where, 'input of shape [N, steps, channels] (nwc)', `[N, ${inputShape.join(', ')}]`);
}

/** A [N, steps, channels] tensor as the [N, 1, steps, channels] view the 2-D ops read. */
const asRow = (t: Tensor): Tensor => t.reshape([t.shape[0], 1, t.shape[1], t.shape[2]]);

/** 1-D pooling over NWC input: the 2-D pooling of one row, on a [N, 1, steps, channels] view. */
abstract class Pooling1D extends PoolingBase {
  protected readonly opts: ops.Pool2DOptions;
  private readonly args1d: Pooling1DArgs;

  constructor(args: Pooling1DArgs, prefix: string) {
    super(args, prefix);
    const p = positiveInt(this.where, 'poolSize', args.poolSize ?? 2);
    const s = positiveInt(this.where, 'strides', args.strides ?? p);
    const padding = args.padding ?? 'valid';
    if (padding !== 'valid' && padding !== 'same') fail(this.where, "padding 'valid' or 'same'", describe(padding));
    this.args1d = { poolSize: p, strides: s, padding };
    this.opts = { poolSize: [1, p], strides: [1, s], padding };
  }
  computeOutputShape(inputShape: Shape): number[] {
    checkNwc(this.where, inputShape);
    try {
      return ops.pool2dOutputShape([1, 1, ...inputShape], this.opts).slice(2);
    } catch (e) {
      return fail(this.where, `an input that fits its pool size, strides and padding (${(e as Error).message})`, `[N, ${inputShape.join(', ')}]`);
    }
  }
  override *forwardProgram(x: Tensor, _ctx: ForwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    state.x = asRow(x);
    const y: Tensor = yield this.pool(state.x);
    return y.reshape([x.shape[0], ...this.outputShape]);
  }
  override *backwardProgram(dy: Tensor, _ctx: BackwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    const dx: Tensor = yield this.poolBackward(asRow(dy), this.saved(state.x));
    return dx.reshape([dy.shape[0], ...this.inputShape]);
  }
  protected ownConfig(): Record<string, unknown> {
    return { ...this.args1d };
  }
}

/** Max over each window of steps. @example layers.maxPooling1d({ poolSize: 2 }) */
export class MaxPooling1D extends Pooling1D {
  static override readonly className = 'MaxPooling1D';
  constructor(args: Pooling1DArgs = {}) {
    super(args, 'max_pooling1d');
  }
  protected pool(x: Tensor): ops.OpRequest {
    return ops.request.maxPool2d(x, this.opts);
  }
  protected poolBackward(dy: Tensor, x: Tensor): ops.OpRequest {
    return ops.request.maxPool2dBackward(dy, x, this.opts);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: false };
  }
}

/** Mean over each window of steps (padded steps left out of the divisor). */
export class AveragePooling1D extends Pooling1D {
  static override readonly className = 'AveragePooling1D';
  constructor(args: Pooling1DArgs = {}) {
    super(args, 'average_pooling1d');
  }
  protected pool(x: Tensor): ops.OpRequest {
    return ops.request.avgPool2d(x, this.opts);
  }
  protected poolBackward(dy: Tensor, x: Tensor): ops.OpRequest {
    return ops.request.avgPool2dBackward(dy, x.shape, this.opts);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
}

/** (N, steps, C) -> (N, C) through the 2-D global pool of a [N, 1, steps, C] view. */
abstract class GlobalPooling1D extends PoolingBase {
  computeOutputShape(inputShape: Shape): number[] {
    checkNwc(this.where, inputShape);
    return [inputShape[1]];
  }
  override *forwardProgram(x: Tensor, _ctx: ForwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    state.x = asRow(x);
    return yield this.pool(state.x);
  }
  override *backwardProgram(dy: Tensor, _ctx: BackwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    const dx: Tensor = yield this.poolBackward(dy, this.saved(state.x));
    return dx.reshape([dy.shape[0], ...this.inputShape]);
  }
  protected ownConfig(): Record<string, unknown> {
    return {};
  }
}

/** (N, steps, C) -> (N, C), the mean over the steps. */
export class GlobalAveragePooling1D extends GlobalPooling1D {
  static override readonly className = 'GlobalAveragePooling1D';
  constructor(args: LayerArgs = {}) {
    super(args, 'global_average_pooling1d');
  }
  protected pool(x: Tensor): ops.OpRequest {
    return ops.request.globalAvgPool2d(x);
  }
  protected poolBackward(dy: Tensor, x: Tensor): ops.OpRequest {
    return ops.request.globalAvgPool2dBackward(dy, x.shape);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
}

/** (N, steps, C) -> (N, C), the max over the steps. */
export class GlobalMaxPooling1D extends GlobalPooling1D {
  static override readonly className = 'GlobalMaxPooling1D';
  constructor(args: LayerArgs = {}) {
    super(args, 'global_max_pooling1d');
  }
  protected pool(x: Tensor): ops.OpRequest {
    return ops.request.globalMaxPool2d(x);
  }
  protected poolBackward(dy: Tensor, x: Tensor): ops.OpRequest {
    return ops.request.globalMaxPool2dBackward(dy, x);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: false };
  }
}

export interface Pooling3DArgs extends LayerArgs {
  /** Default 2 (on every axis). */
  poolSize?: ops.Triple;
  /** Default poolSize. */
  strides?: ops.Triple;
  /** Default 'valid'. */
  padding?: 'valid' | 'same';
}

function checkNdhwc(where: string, inputShape: Shape): void {
  if (inputShape.length !== 4) fail(where, 'input of shape [N, depth, height, width, channels] (ndhwc)', `[N, ${inputShape.join(', ')}]`);
}

/** 3-D pooling over NDHWC volumes (ops.maxPool3d, ops.avgPool3d). */
abstract class Pooling3D extends Layer<PoolSaved> {
  protected readonly opts: ops.Pool3DOptions;

  constructor(args: Pooling3DArgs, prefix: string) {
    super(args, prefix);
    const poolSize = args.poolSize ?? 2;
    const padding = args.padding ?? 'valid';
    if (padding !== 'valid' && padding !== 'same') fail(this.where, "padding 'valid' or 'same'", describe(padding));
    this.opts = { poolSize, strides: args.strides ?? poolSize, padding };
    ops.pool3dInfo([1, 1, 1, 1, 1], { ...this.opts, padding: 'same' }, this.where); // checks the sizes now
  }

  computeOutputShape(inputShape: Shape): number[] {
    checkNdhwc(this.where, inputShape);
    try {
      return ops.pool3dOutputShape([1, ...inputShape], this.opts).slice(1);
    } catch (e) {
      return fail(this.where, `an input that fits its pool size, strides and padding (${(e as Error).message})`, `[N, ${inputShape.join(', ')}]`);
    }
  }

  protected ownConfig(): Record<string, unknown> {
    return { ...this.opts };
  }
}

/** Max over each window of a volume. @example layers.maxPooling3d({ poolSize: [1, 2, 2] }) */
export class MaxPooling3D extends Pooling3D {
  static override readonly className = 'MaxPooling3D';
  constructor(args: Pooling3DArgs = {}) {
    super(args, 'max_pooling3d');
  }
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    state.x = x;
    return yield* ops.programs.maxPool3d(x, this.opts);
  }
  *backwardProgram(dy: Tensor, _ctx: BackwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    return yield* ops.programs.maxPool3dBackward(dy, this.saved(state.x), this.opts);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: false };
  }
}

/** Mean over each window of a volume (padded cells left out of the divisor). */
export class AveragePooling3D extends Pooling3D {
  static override readonly className = 'AveragePooling3D';
  constructor(args: Pooling3DArgs = {}) {
    super(args, 'average_pooling3d');
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    state.x = x;
    return yield* ops.programs.avgPool3d(x, this.opts);
  }
  *backwardProgram(dy: Tensor, _ctx: BackwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    return yield* ops.programs.avgPool3dBackward(dy, this.saved(state.x).shape, this.opts);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
}

abstract class GlobalPooling3D extends Layer<PoolSaved> {
  computeOutputShape(inputShape: Shape): number[] {
    checkNdhwc(this.where, inputShape);
    return [inputShape[3]];
  }
  protected ownConfig(): Record<string, unknown> {
    return {};
  }
}

/** (N,D,H,W,C) -> (N,C), the mean over D, H and W. */
export class GlobalAveragePooling3D extends GlobalPooling3D {
  static override readonly className = 'GlobalAveragePooling3D';
  constructor(args: LayerArgs = {}) {
    super(args, 'global_average_pooling3d');
  }
  override touchesValues(): boolean {
    return false;
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    state.x = x;
    return yield* ops.programs.globalAvgPool3d(x);
  }
  *backwardProgram(dy: Tensor, _ctx: BackwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    return yield* ops.programs.globalAvgPool3dBackward(dy, this.saved(state.x).shape);
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: false, output: false };
  }
}

/** (N,D,H,W,C) -> (N,C), the max over D, H and W. */
export class GlobalMaxPooling3D extends GlobalPooling3D {
  static override readonly className = 'GlobalMaxPooling3D';
  constructor(args: LayerArgs = {}) {
    super(args, 'global_max_pooling3d');
  }
  *forwardProgram(x: Tensor, _ctx: ForwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    state.x = x;
    return yield* ops.programs.globalMaxPool3d(x);
  }
  *backwardProgram(dy: Tensor, _ctx: BackwardContext, state: PoolSaved): ops.OpProgram<Tensor> {
    return yield* ops.programs.globalMaxPool3dBackward(dy, this.saved(state.x));
  }
  override keeps(): { inputs: boolean; output: boolean } {
    return { inputs: true, output: false };
  }
}
