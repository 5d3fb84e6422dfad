import { describe, fail } from '../errors.js';
import type * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { positiveInt } from '../validate.js';
import { Conv2D, type Conv2DArgs } from './conv2d.js';

export interface Conv1DArgs extends Omit<Conv2DArgs, 'kernelSize' | 'strides' | 'dilationRate' | 'padding'> {
  kernelSize: number;
  strides?: number;
  dilationRate?: number;
  /** 'valid' (default), 'same', or 'causal' (left-padded by dilationRate * (kernelSize - 1): y[t] sees x[..t]). */
  padding?: 'valid' | 'same' | 'causal';
}

/**
 * 1-D convolution over NWC input [N, steps, channels] with a kernel [kernelSize, channels / groups, filters]
 * (Keras's layout): the 2-D convolution of one row, run by the same kernels on a [N, 1, steps, channels] view.
 * @example layers.conv1d({ filters: 32, kernelSize: 5, padding: 'causal', inputShape: [128, 3] })
 */
export class Conv1D extends Conv2D {
  static override readonly className: string = 'Conv1D';
  private readonly args1d: Conv1DArgs;

  constructor(args: Conv1DArgs) {
    const where = `Conv1D${args?.name ? ` '${args.name}'` : ''}`;
    const k = positiveInt(where, 'kernelSize', args?.kernelSize);
    const s = positiveInt(where, 'strides', args.strides ?? 1);
    const d = positiveInt(where, 'dilationRate', args.dilationRate ?? 1);
    const padding = args.padding ?? 'valid';
    if (padding !== 'valid' && padding !== 'same' && padding !== 'causal') fail(where, "padding 'valid', 'same' or 'causal'", describe(padding));
    const pad: ops.Padding = padding === 'causal' ? [[0, 0], [d * (k - 1), 0]] : padding;
    super({ ...args, kernelSize: [1, k], strides: [1, s], dilationRate: [1, d], padding: pad }, 'conv1d');
    this.args1d = args;
  }

  protected override nhwcShape(shape: readonly number[]): number[] {
    if (shape.length !== 3) fail(this.where, 'input of shape [N, steps, channels] (nwc)', `[${['N', ...shape.slice(1)].join(', ')}]`);
    return [shape[0], 1, shape[1], shape[2]];
  }
  protected override fromNhwc(t: Tensor, like: readonly number[]): Tensor {
    return t.reshape([t.shape[0], ...like]);
  }
  protected override outputShapeOf(nhwc: number[]): number[] {
    return nhwc.slice(1);
  }
  protected override storedKernelShape(inChannels: number): number[] {
    return this.kernelShape(inChannels).slice(1);
  }
  // MaxPooling2D cannot follow a 1-D layer, and MaxPooling1D declares no fusion
  override fusesMaxPool(): boolean {
    return false;
  }
  protected override ownConfig(): Record<string, unknown> {
    const a = this.args1d;
    return {
      ...super.ownConfig(),
      kernelSize: a.kernelSize,
      strides: a.strides ?? 1,
      padding: a.padding ?? 'valid',
      dilationRate: a.dilationRate ?? 1,
    };
  }
}
