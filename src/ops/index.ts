/**
 * The `ops` namespace: every kernel, validated once and then run on the active backend. Each op family lives
 * in its own file and declares each op once (program.ts's defineOp); this file gives each declaration its
 * public names: `conv2d` (now), `conv2dAsync` (off the event loop) and `request.conv2d` (inside an OpProgram).
 * Layouts: x (N,H,W,C) nhwc; filter (KH,KW,C/groups,OC) hwio; dense (in,out).
 */
import { activationBackwardOp, activationOp, softmaxBackwardOp, softmaxOp } from './activation.js';
import { conv2dBackwardFilterOp, conv2dBackwardInputOp, conv2dMaxPoolOp, conv2dOp } from './conv.js';
import { conv3dBackwardFilterOp, conv3dBackwardInputOp, conv3dOp } from './conv3d.js';
export { conv3dInfo, conv3dOutputShape, type Conv3DInfo, type Conv3DOptions, type Padding3D, type Triple } from './conv3d.js';
import { addOp, concatenateOp, dropoutOp, maximumOp, minimumOp, multiplyOp, routeOp, scaleOp, sliceAxisOp, subtractOp } from './elementwise.js';
import { biasAddOp, biasGradOp, matmulOp } from './matmul.js';
import { channelAffine2Op, channelAffineOp, channelMomentsOp, channelSumsOp, groupNormBackwardOp, groupNormForwardOp } from './normalization.js';
export { groupNorm, groupNormInfo, layerNorm, layerNormInfo, type NormalizeOptions } from './normalization.js';
import { optimizerStepOp } from './optimizer.js';
import {
  avgPool2dBackwardOp, avgPool2dOp, globalAvgPool2dBackwardOp, globalAvgPool2dOp, globalMaxPool2dBackwardOp, globalMaxPool2dOp,
  maxPool2dBackwardOp, maxPool2dOp,
} from './pool.js';
import {
  avgPool3dBackwardOp, avgPool3dOp, globalAvgPool3dBackwardOp, globalAvgPool3dOp, globalMaxPool3dBackwardOp, globalMaxPool3dOp,
  maxPool3dBackwardOp, maxPool3dOp,
} from './pool3d.js';
export { pool3dInfo, pool3dOutputShape, type Pool3DInfo, type Pool3DOptions } from './pool3d.js';

export type { ActivationKind, Conv2DInfo, Epilogue, GroupNormInfo, OptimizerRule, OptimizerStepInfo, Pool2DInfo, UnaryKind } from '../backend/types.js';
export {
  relu, leakyRelu, elu, sigmoid, tanh, reluBackward, leakyReluBackward, eluBackward, sigmoidBackward, tanhBackward, ACTIVATIONS,
  type ActivationName, type FusedOptions,
} from './activation.js';
export type { MatmulOptions } from './matmul.js';
export { POOL_ACTIVATIONS, type MaxPool2DBackwardOptions, type PooledActivation } from './pool.js';
export { dropout, firstNonFinite, maximumBackward, minimumBackward, normalizeAxis } from './elementwise.js';
export { softmaxCrossEntropy, type Labels } from './loss.js';
export { conv2dInfo, conv2dOutputShape, pool2dInfo, pool2dOutputShape, type Conv2DOptions, type ExplicitPadding, type Padding, type Pair, type Pool2DOptions } from './shapes.js';
export { copyInTurns, freshOutputs, runProgramAsync, runProgramSync, SETTLE, TURN, unpipelined, type OpProgram, type OpRequest, type OutOptions, type RunContext } from './program.js';

export const matmul = matmulOp.now;
/** matmul computed off the event loop (native backend); do not write a or b until it resolves. */
export const matmulAsync = matmulOp.async;
export const biasAdd = biasAddOp.now;
export const biasAddAsync = biasAddOp.async;
export const biasGrad = biasGradOp.now;
export const biasGradAsync = biasGradOp.async;

export const conv2d = conv2dOp.now;
/** conv2d computed off the event loop (native backend); do not write x or filter until it resolves. */
export const conv2dAsync = conv2dOp.async;
export const conv2dMaxPool = conv2dMaxPoolOp.now;
export const conv2dMaxPoolAsync = conv2dMaxPoolOp.async;
export const conv2dBackwardInput = conv2dBackwardInputOp.now;
export const conv2dBackwardInputAsync = conv2dBackwardInputOp.async;
export const conv2dBackwardFilter = conv2dBackwardFilterOp.now;
export const conv2dBackwardFilterAsync = conv2dBackwardFilterOp.async;

/** 3-D convolution (ndhwc, kernel [kd, kh, kw, C/groups, OC]), lowered onto conv2d: see conv3d.ts. */
export const conv3d = conv3dOp.now;
/** conv3d computed off the event loop (native backend); do not write x or filter until it resolves. */
export const conv3dAsync = conv3dOp.async;
export const conv3dBackwardInput = conv3dBackwardInputOp.now;
export const conv3dBackwardInputAsync = conv3dBackwardInputOp.async;
export const conv3dBackwardFilter = conv3dBackwardFilterOp.now;
export const conv3dBackwardFilterAsync = conv3dBackwardFilterOp.async;

export const maxPool2d = maxPool2dOp.now;
export const maxPool2dAsync = maxPool2dOp.async;
export const avgPool2d = avgPool2dOp.now;
export const avgPool2dAsync = avgPool2dOp.async;
export const maxPool2dBackward = maxPool2dBackwardOp.now;
export const maxPool2dBackwardAsync = maxPool2dBackwardOp.async;
export const avgPool2dBackward = avgPool2dBackwardOp.now;
export const avgPool2dBackwardAsync = avgPool2dBackwardOp.async;
export const globalAvgPool2d = globalAvgPool2dOp.now;
export const globalAvgPool2dAsync = globalAvgPool2dOp.async;
export const globalMaxPool2d = globalMaxPool2dOp.now;
export const globalMaxPool2dAsync = globalMaxPool2dOp.async;
export const globalAvgPool2dBackward = globalAvgPool2dBackwardOp.now;
export const globalAvgPool2dBackwardAsync = globalAvgPool2dBackwardOp.async;
export const globalMaxPool2dBackward = globalMaxPool2dBackwardOp.now;
export const globalMaxPool2dBackwardAsync = globalMaxPool2dBackwardOp.async;

/** 3-D pooling (ndhwc), as 2-D poolings over each slice and then over depth: see pool3d.ts. */
export const maxPool3d = maxPool3dOp.now;
export const maxPool3dAsync = maxPool3dOp.async;
export const maxPool3dBackward = maxPool3dBackwardOp.now;
export const avgPool3d = avgPool3dOp.now;
export const avgPool3dAsync = avgPool3dOp.async;
export const avgPool3dBackward = avgPool3dBackwardOp.now;
export const globalAvgPool3d = globalAvgPool3dOp.now;
export const globalAvgPool3dBackward = globalAvgPool3dBackwardOp.now;
export const globalMaxPool3d = globalMaxPool3dOp.now;
export const globalMaxPool3dBackward = globalMaxPool3dBackwardOp.now;

export const softmax = softmaxOp.now;
export const softmaxBackward = softmaxBackwardOp.now;
/** Any activation by name (layers use this). */
export const activation = activationOp.now;
export const activationAsync = activationOp.async;
/** Backward of `activation`: pass the forward input x and output y; each kind uses the one it needs. */
export const activationBackward = activationBackwardOp.now;
export const activationBackwardAsync = activationBackwardOp.async;

export const add = addOp.now;
export const addAsync = addOp.async;
export const subtract = subtractOp.now;
export const multiply = multiplyOp.now;
export const maximum = maximumOp.now;
export const minimum = minimumOp.now;
export const scale = scaleOp.now;
export const concatenate = concatenateOp.now;
/** concatenate computed off the event loop (native backend); do not write the inputs until it resolves. */
export const concatenateAsync = concatenateOp.async;
export const sliceAxis = sliceAxisOp.now;

export const channelMoments = channelMomentsOp.now;
export const channelSums = channelSumsOp.now;
export const channelAffine = channelAffineOp.now;
export const channelAffine2 = channelAffine2Op.now;

export const optimizerStep = optimizerStepOp.now;
/** optimizerStep computed off the event loop (native backend); do not touch w, g or the slots until it resolves. */
export const optimizerStepAsync = optimizerStepOp.async;

/**
 * The ops as OpRequests, for OpPrograms: the same checks, throwing the same errors, when the request is made;
 * the kernel runs when a driver takes it, writing an output the driver's RunContext supplies.
 * @example const y: Tensor = yield ops.request.conv2d(x, w, { padding: 'same' }); // inside an OpProgram
 * @throws ConvkitError as the op of the same name does.
 */
export const request = {
  matmul: matmulOp.request,
  biasAdd: biasAddOp.request,
  biasGrad: biasGradOp.request,
  conv2d: conv2dOp.request,
  conv2dMaxPool: conv2dMaxPoolOp.request,
  conv2dBackwardInput: conv2dBackwardInputOp.request,
  conv2dBackwardFilter: conv2dBackwardFilterOp.request,
  maxPool2d: maxPool2dOp.request,
  maxPool2dBackward: maxPool2dBackwardOp.request,
  avgPool2d: avgPool2dOp.request,
  avgPool2dBackward: avgPool2dBackwardOp.request,
  globalAvgPool2d: globalAvgPool2dOp.request,
  globalAvgPool2dBackward: globalAvgPool2dBackwardOp.request,
  globalMaxPool2d: globalMaxPool2dOp.request,
  globalMaxPool2dBackward: globalMaxPool2dBackwardOp.request,
  softmax: softmaxOp.request,
  softmaxBackward: softmaxBackwardOp.request,
  activation: activationOp.request,
  activationBackward: activationBackwardOp.request,
  dropout: dropoutOp.request,
  add: addOp.request,
  subtract: subtractOp.request,
  multiply: multiplyOp.request,
  maximum: maximumOp.request,
  minimum: minimumOp.request,
  route: routeOp.request,
  scale: scaleOp.request,
  concatenate: concatenateOp.request,
  sliceAxis: sliceAxisOp.request,
  channelMoments: channelMomentsOp.request,
  channelSums: channelSumsOp.request,
  channelAffine: channelAffineOp.request,
  channelAffine2: channelAffine2Op.request,
  groupNormForward: groupNormForwardOp.request,
  groupNormBackward: groupNormBackwardOp.request,
  optimizerStep: optimizerStepOp.request,
};

/**
 * The ops that are programs of other ops (the 3-D convolutions and poolings), for OpPrograms: `yield*` one to run
 * its kernels as part of the caller's program.
 * @example const y: Tensor = yield* ops.programs.conv3d(x, w, { padding: 'same' });
 */
export const programs = {
  conv3d: conv3dOp.program,
  conv3dBackwardInput: conv3dBackwardInputOp.program,
  conv3dBackwardFilter: conv3dBackwardFilterOp.program,
  maxPool3d: maxPool3dOp.program,
  maxPool3dBackward: maxPool3dBackwardOp.program,
  avgPool3d: avgPool3dOp.program,
  avgPool3dBackward: avgPool3dBackwardOp.program,
  globalAvgPool3d: globalAvgPool3dOp.program,
  globalAvgPool3dBackward: globalAvgPool3dBackwardOp.program,
  globalMaxPool3d: globalMaxPool3dOp.program,
  globalMaxPool3dBackward: globalMaxPool3dBackwardOp.program,
};
