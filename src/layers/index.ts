import { describe, fail } from '../errors.js';
import { Activation, ELU, LeakyReLU, PReLU, ReLU, Softmax, type ActivationArgs, type ELUArgs, type LeakyReLUArgs, type PReLUArgs, type ReLUArgs } from './activation.js';
import { BatchNormalization, type BatchNormalizationArgs } from './batch-normalization.js';
import { GroupNormalization, LayerNormalization, type GroupNormalizationArgs, type LayerNormalizationArgs } from './group-normalization.js';
import { Conv2D, DepthwiseConv2D, type Conv2DArgs, type DepthwiseConv2DArgs } from './conv2d.js';
import { Dense, type DenseArgs } from './dense.js';
import { Dropout, SpatialDropout2D, type DropoutArgs } from './dropout.js';
import { Conv1D, type Conv1DArgs } from './conv1d.js';
import { Conv3D, type Conv3DArgs } from './conv3d.js';
import { Conv2DTranspose, type Conv2DTransposeArgs } from './conv2d-transpose.js';
import { SeparableConv2D, type SeparableConv2DArgs } from './separable-conv2d.js';
import { Cropping2D, UpSampling2D, ZeroPadding2D, type Cropping2DArgs, type UpSampling2DArgs, type ZeroPadding2DArgs } from './spatial.js';
import type { Layer, LayerArgs, LayerConfig } from './layer.js';
import {
  AveragePooling1D, AveragePooling2D, AveragePooling3D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalMaxPooling1D,
  GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPooling1D, MaxPooling2D, MaxPooling3D, type Pooling1DArgs, type Pooling2DArgs, type Pooling3DArgs,
} from './pooling.js';
import { Flatten, Reshape, type ReshapeArgs } from './shape-layers.js';
import { InputLayer } from './input-layer.js';
import { Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, type ConcatenateArgs } from './merge.js';

export { Layer, type LayerArgs, type LayerConfig, type Param, type ForwardContext, type BackwardContext, type BuildContext, type WeightSource } from './layer.js';
export {
  Activation, ELU, LeakyReLU, ReLU, Softmax, GroupNormalization, LayerNormalization, Add, Average, AveragePooling1D, AveragePooling2D, BatchNormalization, Concatenate, Conv1D, Conv2D, Conv2DTranspose, Cropping2D, Dense,
  DepthwiseConv2D, Dropout, Flatten, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, InputLayer, MaxPooling1D,
  MaxPooling2D, Maximum, Minimum, Multiply, PReLU, Reshape, SeparableConv2D, SpatialDropout2D, Subtract, UpSampling2D, ZeroPadding2D,
  Conv3D, MaxPooling3D, AveragePooling3D, GlobalAveragePooling3D, GlobalMaxPooling3D,
};
export type {
  ActivationArgs, ELUArgs, LeakyReLUArgs, ReLUArgs, BatchNormalizationArgs, GroupNormalizationArgs, LayerNormalizationArgs, ConcatenateArgs, Conv1DArgs, Conv2DArgs, Conv2DTransposeArgs, Cropping2DArgs, DenseArgs, DepthwiseConv2DArgs,
  DropoutArgs, PReLUArgs, Pooling1DArgs, Pooling2DArgs, Conv3DArgs, Pooling3DArgs, ReshapeArgs, SeparableConv2DArgs, UpSampling2DArgs, ZeroPadding2DArgs,
};

/**
 * 2-D convolution (nhwc input, hwio kernel).
 * @example layers.conv2d({ filters: 32, kernelSize: 5, padding: 'same', activation: 'relu', inputShape: [28, 28, 1] })
 * @throws ConvkitError naming the layer for bad arguments, or when its input does not fit.
 */
export const conv2d = (args: Conv2DArgs): Conv2D => new Conv2D(args);
/** @example layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }) */
export const depthwiseConv2d = (args: DepthwiseConv2DArgs): DepthwiseConv2D => new DepthwiseConv2D(args);
/** @example layers.conv1d({ filters: 16, kernelSize: 3, padding: 'causal', inputShape: [100, 2] }) */
export const conv1d = (args: Conv1DArgs): Conv1D => new Conv1D(args);
/** @example layers.conv3d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 32, 32, 3] }) */
export const conv3d = (args: Conv3DArgs): Conv3D => new Conv3D(args);
/** @example layers.maxPooling3d({ poolSize: [1, 2, 2] }) */
export const maxPooling3d = (args: Pooling3DArgs = {}): MaxPooling3D => new MaxPooling3D(args);
/** @example layers.averagePooling3d({ poolSize: 2 }) */
export const averagePooling3d = (args: Pooling3DArgs = {}): AveragePooling3D => new AveragePooling3D(args);
/** @example layers.globalAveragePooling3d() */
export const globalAveragePooling3d = (args: LayerArgs = {}): GlobalAveragePooling3D => new GlobalAveragePooling3D(args);
/** @example layers.globalMaxPooling3d() */
export const globalMaxPooling3d = (args: LayerArgs = {}): GlobalMaxPooling3D => new GlobalMaxPooling3D(args);
/** @example layers.conv2dTranspose({ filters: 16, kernelSize: 3, strides: 2, padding: 'same' }) */
export const conv2dTranspose = (args: Conv2DTransposeArgs): Conv2DTranspose => new Conv2DTranspose(args);
/** @example layers.separableConv2d({ filters: 64, kernelSize: 3, padding: 'same' }) */
export const separableConv2d = (args: SeparableConv2DArgs): SeparableConv2D => new SeparableConv2D(args);
/** @example layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }) */
export const zeroPadding2d = (args: ZeroPadding2DArgs = {}): ZeroPadding2D => new ZeroPadding2D(args);
/** @example layers.cropping2d({ cropping: 2 }) */
export const cropping2d = (args: Cropping2DArgs = {}): Cropping2D => new Cropping2D(args);
/** @example layers.upSampling2d({ size: 2, interpolation: 'bilinear' }) */
export const upSampling2d = (args: UpSampling2DArgs = {}): UpSampling2D => new UpSampling2D(args);
/** @example layers.maxPooling1d({ poolSize: 2 }) */
export const maxPooling1d = (args: Pooling1DArgs = {}): MaxPooling1D => new MaxPooling1D(args);
/** @example layers.averagePooling1d({ poolSize: 2 }) */
export const averagePooling1d = (args: Pooling1DArgs = {}): AveragePooling1D => new AveragePooling1D(args);
/** @example layers.globalAveragePooling1d() */
export const globalAveragePooling1d = (args: LayerArgs = {}): GlobalAveragePooling1D => new GlobalAveragePooling1D(args);
/** @example layers.globalMaxPooling1d() */
export const globalMaxPooling1d = (args: LayerArgs = {}): GlobalMaxPooling1D => new GlobalMaxPooling1D(args);
/** @example layers.spatialDropout2d({ rate: 0.2 }) */
export const spatialDropout2d = (args: DropoutArgs): SpatialDropout2D => new SpatialDropout2D(args);
/** @example layers.maxPooling2d({ poolSize: 2 }) */
export const maxPooling2d = (args: Pooling2DArgs = {}): MaxPooling2D => new MaxPooling2D(args);
/** @example layers.averagePooling2d({ poolSize: 2, strides: 2 }) */
export const averagePooling2d = (args: Pooling2DArgs = {}): AveragePooling2D => new AveragePooling2D(args);
/** @example layers.globalAveragePooling2d() */
export const globalAveragePooling2d = (args: LayerArgs = {}): GlobalAveragePooling2D => new GlobalAveragePooling2D(args);
/** @example layers.globalMaxPooling2d() */
export const globalMaxPooling2d = (args: LayerArgs = {}): GlobalMaxPooling2D => new GlobalMaxPooling2D(args);
/** @example layers.dense({ units: 10 }) */
export const dense = (args: DenseArgs): Dense => new Dense(args);
/** @example layers.flatten() */
export const flatten = (args: LayerArgs = {}): Flatten => new Flatten(args);
/** @example layers.reshape({ targetShape: [784] }) */
export const reshape = (args: ReshapeArgs): Reshape => new Reshape(args);
/** @example layers.activation({ activation: 'relu' }) */
export const activation = (args: ActivationArgs): Activation => new Activation(args);
/** Keras's ReLU layer (maxValue 6: ReLU6). @example layers.reLU({ maxValue: 6 }) */
export const reLU = (args: ReLUArgs = {}): ReLU => new ReLU(args);
/** @example layers.leakyReLU({ alpha: 0.1 }) */
export const leakyReLU = (args: LeakyReLUArgs = {}): LeakyReLU => new LeakyReLU(args);
/** @example layers.elu() */
export const elu = (args: ELUArgs = {}): ELU => new ELU(args);
/** @example layers.softmax() */
export const softmax = (args: LayerArgs = {}): Softmax => new Softmax(args);
/** @example layers.prelu() */
export const prelu = (args: PReLUArgs = {}): PReLU => new PReLU(args);
/** @example layers.dropout({ rate: 0.5 }) */
export const dropout = (args: DropoutArgs): Dropout => new Dropout(args);
/** @example layers.batchNormalization() */
export const batchNormalization = (args: BatchNormalizationArgs = {}): BatchNormalization => new BatchNormalization(args);

/** Each sample normalized over its last axes (default the channels). @example layers.layerNormalization() */
export const layerNormalization = (args: LayerNormalizationArgs = {}): LayerNormalization => new LayerNormalization(args);
/** Channels in groups, each normalized per sample. @example layers.groupNormalization({ groups: 8 }) */
export const groupNormalization = (args: GroupNormalizationArgs = {}): GroupNormalization => new GroupNormalization(args);

/** x0 + x1 + ... (a residual connection). @example layers.add().apply([h, skip]) */
export const add = (args: LayerArgs = {}): Add => new Add(args);
/** x0 - x1. @example layers.subtract().apply([a, b]) */
export const subtract = (args: LayerArgs = {}): Subtract => new Subtract(args);
/** x0 * x1 * ... elementwise. */
export const multiply = (args: LayerArgs = {}): Multiply => new Multiply(args);
/** The mean of the inputs. */
export const average = (args: LayerArgs = {}): Average => new Average(args);
/** The elementwise maximum of the inputs. */
export const maximum = (args: LayerArgs = {}): Maximum => new Maximum(args);
/** The elementwise minimum of the inputs. */
export const minimum = (args: LayerArgs = {}): Minimum => new Minimum(args);
/** The inputs joined along an axis (default -1, channels). @example layers.concatenate().apply([a, b]) */
export const concatenate = (args: ConcatenateArgs = {}): Concatenate => new Concatenate(args);

type LayerClass = { new (config: never): Layer; readonly className: string };

const REGISTRY = new Map<string, LayerClass>(
  [
    Conv2D, DepthwiseConv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Dense, Flatten, Reshape, Activation, PReLU,
    Dropout, BatchNormalization, InputLayer, Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Conv1D, Conv2DTranspose, SeparableConv2D,
    ZeroPadding2D, Cropping2D, UpSampling2D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, SpatialDropout2D, ReLU,
    LeakyReLU, ELU, Softmax, LayerNormalization, GroupNormalization, Conv3D, MaxPooling3D, AveragePooling3D, GlobalAveragePooling3D, GlobalMaxPooling3D,
  ].map(
    (c) => [c.className, c as LayerClass],
  ),
);

/**
 * Makes a custom layer class loadable from model.json.
 * @example registerLayer(MyLayer) // MyLayer.className = 'MyLayer'
 */
export function registerLayer(cls: LayerClass): void {
  if (typeof cls?.className !== 'string' || cls.className === '') fail('registerLayer', 'a Layer class with a static className', describe(cls));
  REGISTRY.set(cls.className, cls);
}

/**
 * Rebuilds a layer from `layer.getConfig()` output.
 * @throws ConvkitError for an unknown className (the message lists the known ones).
 */
export function layerFromConfig(config: LayerConfig): Layer {
  const cls = REGISTRY.get(config?.className);
  if (!cls) fail('layerFromConfig', `a known layer className (${[...REGISTRY.keys()].join(', ')})`, describe(config?.className));
  return new cls(stripUndefined(config.config ?? {}) as never);
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
}
