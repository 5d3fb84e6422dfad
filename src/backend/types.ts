import type { Tensor } from '../tensor.js';

/**
 * The contract every backend implements. `src/ops/` validates arguments and resolves options (padding,
 * output sizes) into the plain `*Info` records below before calling a backend, so a backend receives only
 * consistent shapes; the native backend still re-checks every size before it touches memory. Outputs are
 * passed in (see Backend); the native backend accepts float32 only.
 */

/** A resolved 2-D convolution. x (N,H,W,C) nhwc, filter (KH,KW,C/G,OC) hwio -> y (N,OH,OW,OC). */
export interface Conv2DInfo {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  groups: number;
}

/** A resolved 2-D pooling. x (N,H,W,C) -> y (N,OH,OW,C). Padded cells never win a max and never count in an average. */
export interface Pool2DInfo {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  poolH: number;
  poolW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

export type UnaryKind =
  | 'relu' | 'leakyRelu' | 'elu' | 'sigmoid' | 'tanh' | 'relu6' | 'hardSigmoid' | 'hardSwish' | 'swish' | 'gelu' | 'geluTanh'
  | 'softplus' | 'softsign' | 'selu' | 'mish' | 'exponential';
export type ActivationKind = UnaryKind | 'linear';

/** The geometry of a group (or layer) normalization: x viewed as [n][s][g][k], channels last. */
export interface GroupNormInfo {
  n: number;
  s: number;
  g: number;
  k: number;
  epsilon: number;
}

/** The kinds whose derivative comes from their output y (the others' from their input x). */
export const FROM_OUTPUT: ReadonlySet<UnaryKind> = new Set(['sigmoid', 'tanh', 'relu6', 'hardSigmoid', 'exponential']);

/**
 * The alpha an activation uses when the caller gives none: leakyRelu's slope 0.2, elu's alpha 1, and
 * hardSigmoid's slope 1/6 (Keras 3's relu6(x + 3) / 6; Keras 2 and TF.js use 0.2). The others ignore it.
 */
export function defaultAlpha(kind: ActivationKind | 'softmax'): number {
  return kind === 'leakyRelu' ? 0.2 : kind === 'hardSigmoid' ? 1 / 6 : 1;
}
/** An activation whose derivative its output gives, which a max pooling's backward can apply. */
export interface PoolActivation {
  kind: Exclude<UnaryKind, 'elu'>;
  alpha: number;
}

/** What a fused op applies to its result before storing it: y = act(y * scale + bias + residual). */
export interface Epilogue {
  /** Shape [outChannels] (the last axis of the output). */
  scale?: Tensor;
  /** Shape [outChannels]. */
  bias?: Tensor;
  /** The output's shape. */
  residual?: Tensor;
  activation?: ActivationKind;
  /** Slope for leakyRelu (default 0.2), alpha for elu (default 1). */
  alpha?: number;
}

/** The kernels that can take long enough to matter to an event loop; a backend may offer them as Promises. */
export const ASYNC_KERNELS = [
  'matmul', 'biasAdd', 'biasGrad', 'conv2d', 'conv2dMaxPool', 'conv2dBackwardInput', 'conv2dBackwardFilter', 'maxPool2d', 'maxPool2dBackward',
  'avgPool2d', 'avgPool2dBackward', 'globalAvgPool2d', 'globalAvgPool2dBackward', 'globalMaxPool2d', 'globalMaxPool2dBackward',
  'unary', 'unaryBackward', 'softmax', 'softmaxBackward', 'optimizerStep', 'binary', 'binaryRoute', 'scale', 'concat', 'slice',
  'channelMoments', 'channelSums', 'channelAffine', 'channelAffine2', 'groupNormForward', 'groupNormBackward',
] as const;
export type AsyncKernelName = (typeof ASYNC_KERNELS)[number];

/** Every kernel an op can request: the async ones and the quick ones that always run on the calling thread. */
export type KernelName = AsyncKernelName | 'dropout';

/** The elementwise binary kernels; max and min propagate NaN. */
export type BinaryKind = 'add' | 'sub' | 'mul' | 'max' | 'min';

/**
 * The same kernels, computed off the calling thread: the Promise resolves with the output once it is
 * complete, and the inputs must not be written until then.
 */
export type AsyncKernels = { [K in AsyncKernelName]: (...args: Parameters<Backend[K]>) => Promise<Tensor> };

/** A kernel started off the calling thread: its output, written once `done` resolves. */
export interface StartedKernel {
  readonly out: Tensor;
  readonly done: Promise<void>;
}

/**
 * The same kernels started without waiting: kernels started one after another run in that order, each after the
 * previous one has finished, so one may read what an earlier one writes. Inputs in plain (not shared) buffers
 * are copied when the kernel starts and outputs in them written back when it is done: a kernel must not start
 * on a plain buffer an unfinished one writes.
 */
export type StartKernels = { [K in AsyncKernelName]: (...args: Parameters<Backend[K]>) => StartedKernel };

export type OptimizerRule = 'sgd' | 'adam' | 'rmsprop' | 'adagrad' | 'adadelta' | 'adamax' | 'nadam';

/** One optimizer step's hyperparameters; a rule reads the fields it names. */
export interface OptimizerStepInfo {
  rule: OptimizerRule;
  /** The learning rate; for adam the bias-corrected step size lr·sqrt(1-b2^t)/(1-b1^t), for adamax lr/(1-b1^t). */
  lr: number;
  /** Gradient multiplier (clipping), 1 for none. */
  scale: number;
  /** Decoupled weight decay lr·weightDecay, applied first as w -= decay·w; 0 for none. */
  decay: number;
  /** sgd, rmsprop. */
  momentum: number;
  /** sgd. */
  nesterov: boolean;
  /** adam, adamax, nadam. */
  beta1: number;
  beta2: number;
  /** rmsprop, adadelta. */
  rho: number;
  /** adam, rmsprop, adagrad, adadelta, adamax, nadam. */
  epsilon: number;
  /**
   * nadam, which reads w -= lr·(mCoef·m + gCoef·g) / (sqrt(vCoef·v) + epsilon): the step's momentum schedule
   * and bias corrections (see optimizers.Nadam). Ignored by the other rules.
   */
  mCoef?: number;
  gCoef?: number;
  vCoef?: number;
  /** Throw a NonFiniteError when the update leaves a weight NaN or ±Inf (default true). */
  checkFinite?: boolean;
}

/**
 * Every kernel writes its result into `out`, given last, which the caller allocated with the op's output
 * shape and the inputs' dtype (from a model's memory plan, or fresh); the kernel overwrites it in full and
 * returns it. Kernels never allocate their outputs.
 */
export interface Backend {
  readonly name: 'reference' | 'native';
  /** Present when the backend can compute off the event loop (native); absent for reference. */
  readonly async?: AsyncKernels;
  /** Present with `async`: the same kernels, started in order without waiting. */
  readonly start?: StartKernels;

  /** a (M,K) or (K,M) if transposeA, b (K,N) or (N,K) if transposeB -> out (M,N), then the epilogue. */
  matmul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean, epilogue: Epilogue | undefined, out: Tensor): Tensor;
  /** x (..., C) + bias (C). */
  biasAdd(x: Tensor, bias: Tensor, out: Tensor): Tensor;
  /** dy (..., C) -> out (C): the sum over every axis but the last. */
  biasGrad(dy: Tensor, out: Tensor): Tensor;

  conv2d(x: Tensor, filter: Tensor, info: Conv2DInfo, epilogue: Epilogue | undefined, out: Tensor): Tensor;
  /**
   * maxPool2d(conv2d(x, filter, info, epilogue), pool) in one op, without writing the convolution's output unless
   * convOutput is given (it then receives it): pool's batch, inH, inW and channels are the convolution's batch,
   * outH, outW and outC.
   */
  conv2dMaxPool(x: Tensor, filter: Tensor, info: Conv2DInfo, pool: Pool2DInfo, epilogue: Epilogue | undefined, convOutput: Tensor | undefined, out: Tensor): Tensor;
  /** dy (N,OH,OW,OC), filter (KH,KW,C/G,OC) -> dx (N,H,W,C). */
  conv2dBackwardInput(dy: Tensor, filter: Tensor, info: Conv2DInfo, out: Tensor): Tensor;
  /** x (N,H,W,C), dy (N,OH,OW,OC) -> dfilter (KH,KW,C/G,OC). */
  conv2dBackwardFilter(x: Tensor, dy: Tensor, info: Conv2DInfo, out: Tensor): Tensor;

  maxPool2d(x: Tensor, info: Pool2DInfo, out: Tensor): Tensor;
  /**
   * Routes dy to the first maximum of each window of x (row-major order within the window). With `through`,
   * x is the output of that activation (relu, leakyRelu with alpha > 0, sigmoid or tanh) and the result is the
   * gradient at its input: unaryBackward(kind, result, x, alpha) of the plain one, in one pass.
   */
  maxPool2dBackward(dy: Tensor, x: Tensor, info: Pool2DInfo, through: PoolActivation | undefined, out: Tensor): Tensor;
  avgPool2d(x: Tensor, info: Pool2DInfo, out: Tensor): Tensor;
  avgPool2dBackward(dy: Tensor, info: Pool2DInfo, out: Tensor): Tensor;
  /** x (N,H,W,C) -> (N,C). */
  globalAvgPool2d(x: Tensor, out: Tensor): Tensor;
  /** dy (N,C) -> dx (N,H,W,C) of out's shape. */
  globalAvgPool2dBackward(dy: Tensor, out: Tensor): Tensor;
  globalMaxPool2d(x: Tensor, out: Tensor): Tensor;
  /** Routes dy to the first maximum over H,W of each (n, c). */
  globalMaxPool2dBackward(dy: Tensor, x: Tensor, out: Tensor): Tensor;

  /** Elementwise activation; alpha is leakyRelu's slope or elu's alpha. */
  unary(kind: UnaryKind, x: Tensor, alpha: number, out: Tensor): Tensor;
  /**
   * dx = dy * f'(.) where `saved` is the forward INPUT x for relu, leakyRelu and elu, and the forward
   * OUTPUT y for sigmoid and tanh (their derivatives are cheapest from y).
   */
  unaryBackward(kind: UnaryKind, dy: Tensor, saved: Tensor, alpha: number, out: Tensor): Tensor;

  /**
   * Inverted dropout: mask (x's shape) receives 1 / (1 - rate) where the i-th draw of Rng(seed) (src/random.ts)
   * is at least rate * 2^32 and 0 elsewhere; out = x * mask. Both backends give the same bits.
   */
  dropout(x: Tensor, rate: number, seed: number, mask: Tensor, out: Tensor): Tensor;
  /** a kind b elementwise (same shapes); max and min are NaN where either operand is. */
  binary(kind: BinaryKind, a: Tensor, b: Tensor, out: Tensor): Tensor;
  /**
   * The gradient of y = max(a, b) or min(a, b): out (da) = dy where a gave y (ties and NaNs included) and 0
   * elsewhere; db = dy where b did and 0 elsewhere.
   */
  binaryRoute(kind: 'max' | 'min', dy: Tensor, a: Tensor, b: Tensor, db: Tensor, out: Tensor): Tensor;
  /** x * c. */
  scale(x: Tensor, c: number, out: Tensor): Tensor;
  /** The inputs joined along `axis` (their shapes equal but there); out has the joined shape. */
  concat(xs: readonly Tensor[], axis: number, out: Tensor): Tensor;
  /** x's entries [begin, begin + out.shape[axis]) along `axis`. */
  slice(x: Tensor, axis: number, begin: number, out: Tensor): Tensor;

  /** Softmax over the last axis of x (..., C). */
  softmax(x: Tensor, out: Tensor): Tensor;
  /** dx = y * (dy - sum(dy * y)) over the last axis, from the softmax output y. */
  softmaxBackward(dy: Tensor, y: Tensor, out: Tensor): Tensor;
  /** logits (N,C), labels: class ids in [0, C). Mean loss over N, and grad = dlogits = (softmax - onehot) / N. */
  softmaxCrossEntropySparse(logits: Tensor, labels: Int32Array, grad: Tensor): number;
  /** logits (N,C), targets (N,C) probabilities (one-hot or soft). */
  softmaxCrossEntropyDense(logits: Tensor, targets: Tensor, grad: Tensor): number;

  /**
   * Per channel (the last axis) of x: out (2, C), float64 = [mean, biased variance] over every other axis,
   * accumulated in double.
   */
  channelMoments(x: Tensor, out: Tensor): Tensor;
  /** Per channel of a and b (one shape): out (2, C), float64 = [sum of a, sum of a * b]; without b, row 1 is unspecified. */
  channelSums(a: Tensor, b: Tensor | undefined, out: Tensor): Tensor;
  /** x * s + t, s and t (C) per channel, as float32 ops (a product rounded, then a sum rounded) for float32 x. */
  channelAffine(x: Tensor, s: Tensor, t: Tensor, out: Tensor): Tensor;
  /** (a * sa + b * sb) + t per channel, each product and sum rounded in x's dtype. */
  channelAffine2(a: Tensor, b: Tensor, sa: Tensor, sb: Tensor, t: Tensor, out: Tensor): Tensor;

  /**
   * Group normalization of x viewed as [n][s][g][k] (layer normalization: s = g = 1): each (sample, group)'s
   * s * k values by their mean and biased variance, then y = xhat * gamma + beta per channel (g * k of them).
   * stats (2, n * g) float64 receives [mean, 1 / sqrt(variance + epsilon)]; xhat, when given, the normalized x.
   */
  groupNormForward(x: Tensor, gamma: Tensor | undefined, beta: Tensor | undefined, info: GroupNormInfo, xhat: Tensor | undefined, stats: Tensor, out: Tensor): Tensor;
  /** Its input gradient from dy, xhat and invStd (n * g, float64); paramSums (2, g * k) float64, when given, = [sum dy, sum dy * xhat]. */
  groupNormBackward(dy: Tensor, xhat: Tensor, gamma: Tensor | undefined, invStd: Tensor, info: GroupNormInfo, paramSums: Tensor | undefined, out: Tensor): Tensor;

  /** The index of the first NaN or ±Inf in x, or -1 when every value is finite. */
  firstNonFinite(x: Tensor): number;

  /**
   * One optimizer step in place: updates w and the rule's slots (sgd: [velocity] with momentum, adam: [m, v],
   * rmsprop: [v] or [v, momentum], adagrad: [accumulator], adadelta: [accumulatedGrad, accumulatedDelta])
   * from the gradient g; returns w (its `out` is w itself). Both backends give the same bits for float32.
   * Throws a NonFiniteError when info.checkFinite is not false and a weight ends up NaN or ±Inf.
   */
  optimizerStep(w: Tensor, g: Tensor, slots: readonly Tensor[], info: OptimizerStepInfo, out: Tensor): Tensor;
}
