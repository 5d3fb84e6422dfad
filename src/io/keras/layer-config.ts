/**
 * Keras layer configs (what Keras and TF.js write: snake_case keys, channels_last) to convkit's layer configs
 * and back. Every key a Keras config may hold is either read, or known not to change what the layer computes
 * (names, dtype policies, build records, constraints left at null...); any other key with a value that is not
 * Keras's default is refused, naming the layer and the key, so nothing a model relies on is dropped silently.
 */
import { ConvkitError, describe } from '../../errors.js';
import { ACTIVATION_NAMES } from '../../layers/activations.js';
import type { LayerConfig } from '../../layers/index.js';

export type Json = Record<string, unknown>;

/** What the import knows about the file: where it is (for messages) and which Keras wrote it. */
export interface KerasSource {
  file: string;
  /** Keras 3 (its hard_sigmoid is relu6(x + 3) / 6; Keras 2's and TF.js's is clip(0.2x + 0.5)). */
  keras3: boolean;
  /** Written by TF.js's layers (its bilinear upsampling samples otherwise than Keras's). */
  tfjs?: boolean;
}

/** Keys that never change what a layer computes once it is built, whatever their value. */
const META_KEYS = new Set(['name', 'trainable', 'build_config', 'module', 'registered_name', 'batch_input_shape', 'batch_shape', 'input_shape', 'batch_size', 'input_dim', 'seed', 'autocast', 'fused']);
/** Keys Keras writes with these values by default (anything else changes the layer and is refused unless read). */
const DEFAULTS: Readonly<Record<string, unknown>> = {
  data_format: 'channels_last',
  renorm: false,
  synchronized: false,
  rms_scaling: false,
  keepdims: false,
  sparse: false,
  ragged: false,
};

/** One Keras layer config being read: each key taken is marked, and `finish` refuses what was left. */
class KerasLayerReader {
  private readonly taken = new Set<string>();
  constructor(
    readonly src: KerasSource,
    readonly className: string,
    readonly name: string,
    readonly c: Json,
  ) {}

  error(what: string): ConvkitError {
    return new ConvkitError(`loadModel: ${this.src.file}: layer '${this.name}' (${this.className}): ${what}`, 'loadModel');
  }

  has(key: string): boolean {
    return this.c[key] !== undefined && this.c[key] !== null;
  }

  raw(key: string): unknown {
    this.taken.add(key);
    return this.c[key];
  }

  num(key: string, fallback?: number): number {
    const v = this.raw(key) ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.error(`${key}: expected a number but received ${describe(v)}`);
    return v;
  }

  optionalNum(key: string): number | undefined {
    return this.has(key) ? this.num(key) : (this.raw(key), undefined);
  }

  int(key: string, fallback?: number): number {
    const v = this.num(key, fallback);
    if (!Number.isInteger(v)) throw this.error(`${key}: expected an integer but received ${v}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key) ?? fallback;
    if (typeof v !== 'boolean') throw this.error(`${key}: expected true or false but received ${describe(v)}`);
    return v;
  }

  str(key: string, allowed: readonly string[], fallback?: string): string {
    const v = this.raw(key) ?? fallback;
    if (typeof v !== 'string' || !allowed.includes(v)) throw this.error(`${key}: expected one of ${allowed.map((a) => `'${a}'`).join(', ')} but received ${describe(v)}`);
    return v;
  }

  /** An integer or a list of `n` integers (Keras's kernel_size, strides, ...), as a number when all agree. */
  ints(key: string, n: number, fallback?: number): number | number[] {
    const v = this.raw(key) ?? fallback;
    const list = typeof v === 'number' ? Array(n).fill(v) : v;
    if (!Array.isArray(list) || list.length !== n || list.some((d) => !Number.isInteger(d) || d < 0)) {
      throw this.error(`${key}: expected an integer or ${n} integers but received ${describe(v)}`);
    }
    return list.every((d) => d === list[0]) ? list[0] : list;
  }

  /** Keras's activation names as convkit's (the aliases convkit knows), with hard_sigmoid's slope by version. */
  activation(key = 'activation'): { activation: string; alpha?: number } {
    const v = this.raw(key) ?? 'linear';
    const name = typeof v === 'object' && v !== null ? (v as Json).class_name ?? (v as Json).config : v;
    if (typeof name !== 'string') throw this.error(`${key}: expected an activation name but received ${describe(v)}`);
    const canonical = ACTIVATIONS_FROM_KERAS[name] ?? name;
    if (!ACTIVATION_NAMES.includes(canonical as never)) throw this.error(`${key}: the activation ${describe(name)} is not supported (${ACTIVATION_NAMES.join(', ')} and their Keras spellings are)`);
    if (canonical === 'hardSigmoid' && !this.src.keras3) return { activation: canonical, alpha: 0.2 };
    return { activation: canonical };
  }

  initializer(key: string): { className: string; config: Json } | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    return initializerFromKeras(v, (what) => this.error(`${key}: ${what}`));
  }

  regularizer(key: string): { className: string; config: Json } | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    const o = v as Json;
    const cls = String(o.class_name ?? '');
    const cfg = (o.config ?? {}) as Json;
    const l1 = typeof cfg.l1 === 'number' ? cfg.l1 : 0;
    const l2 = typeof cfg.l2 === 'number' ? cfg.l2 : 0;
    if (cls === 'L2' || cls === 'l2') return { className: 'l2', config: { l2 } };
    if (cls === 'L1' || cls === 'l1') return { className: 'l1', config: { l1 } };
    if (cls === 'L1L2' || cls === 'l1_l2') return { className: 'l1l2', config: { l1, l2 } };
    throw this.error(`${key}: the regularizer ${describe(cls)} is not supported (L1, L2 and L1L2 are)`);
  }

  /** Refuses every key not taken that holds something other than Keras's default. */
  finish(): void {
    for (const [key, v] of Object.entries(this.c)) {
      if (this.taken.has(key) || META_KEYS.has(key) || v === null || v === undefined) continue;
      if (key === 'dtype') {
        const policy = typeof v === 'object' ? ((v as Json).config as Json | undefined)?.name : v;
        if (policy === 'float32') continue;
        throw this.error(`dtype ${describe(policy)} is not supported (float32 is)`);
      }
      if (Object.hasOwn(DEFAULTS, key) && DEFAULTS[key] === v) continue;
      throw this.error(`the option ${key} = ${describe(v)} is not supported`);
    }
  }
}

const ACTIVATIONS_FROM_KERAS: Readonly<Record<string, string>> = {
  gelu_new: 'geluTanh',
  hard_sigmoid: 'hardSigmoid',
  hardSigmoid: 'hardSigmoid',
  hard_swish: 'hardSwish',
  hard_silu: 'hardSwish',
  leaky_relu: 'leakyRelu',
  silu: 'swish',
};

const ACTIVATIONS_TO_KERAS: Readonly<Record<string, string>> = {
  hardSigmoid: 'hard_sigmoid',
  hardSwish: 'hard_silu',
  leakyRelu: 'leaky_relu',
  geluTanh: 'gelu_new',
};

const INITIALIZERS_FROM_KERAS: Readonly<Record<string, string>> = {
  GlorotUniform: 'glorotUniform',
  GlorotNormal: 'glorotNormal',
  HeNormal: 'heNormal',
  HeUniform: 'heUniform',
  LecunNormal: 'lecunNormal',
  LecunUniform: 'lecunUniform',
  RandomNormal: 'randomNormal',
  RandomUniform: 'randomUniform',
  TruncatedNormal: 'truncatedNormal',
  VarianceScaling: 'varianceScaling',
  Zeros: 'zeros',
  Ones: 'ones',
  Constant: 'constant',
};

function initializerFromKeras(v: unknown, error: (what: string) => ConvkitError): { className: string; config: Json } {
  const o = (typeof v === 'string' ? { class_name: v, config: {} } : v) as Json;
  const given = String(o?.class_name ?? '');
  const snake = given.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
  const cls = INITIALIZERS_FROM_KERAS[given] ?? INITIALIZERS_FROM_KERAS[snake.charAt(0).toUpperCase() + snake.slice(1)];
  if (!cls) throw error(`the initializer ${describe(given)} is not supported (${Object.keys(INITIALIZERS_FROM_KERAS).join(', ')} are)`);
  const c = (o.config ?? {}) as Json;
  const config: Json = {};
  if (typeof c.seed === 'number') config.seed = c.seed;
  if (cls === 'randomNormal' || cls === 'truncatedNormal') Object.assign(config, { mean: c.mean ?? 0, stddev: c.stddev ?? 0.05 });
  if (cls === 'randomUniform') Object.assign(config, { minval: c.minval ?? -0.05, maxval: c.maxval ?? 0.05 });
  if (cls === 'constant') config.value = c.value ?? 0;
  if (cls === 'varianceScaling') {
    const mode = { fan_in: 'fanIn', fan_out: 'fanOut', fan_avg: 'fanAvg' }[String(c.mode ?? 'fan_in')];
    // TF.js's and Keras 2's 'normal' is the truncated normal
    const distribution = { truncated_normal: 'truncatedNormal', normal: 'truncatedNormal', untruncated_normal: 'untruncatedNormal', uniform: 'uniform' }[String(c.distribution ?? 'truncated_normal')];
    if (!mode || !distribution) throw error(`VarianceScaling mode ${describe(c.mode)} or distribution ${describe(c.distribution)} is not supported`);
    Object.assign(config, { scale: c.scale ?? 1, mode, distribution });
  }
  return { className: cls, config };
}

/** Reads the parts every convolution shares. */
function convCommon(r: KerasLayerReader, rank: number, padding: readonly string[]): Json {
  return {
    kernelSize: r.ints('kernel_size', rank),
    strides: r.ints('strides', rank, 1),
    padding: r.str('padding', padding, 'valid'),
    dilationRate: r.ints('dilation_rate', rank, 1),
    useBias: r.bool('use_bias', true),
    ...r.activation(),
    biasInitializer: r.initializer('bias_initializer'),
  };
}

function normalizationCommon(r: KerasLayerReader): Json {
  return {
    epsilon: r.num('epsilon', 1e-3),
    center: r.bool('center', true),
    scale: r.bool('scale', true),
    gammaInitializer: r.initializer('gamma_initializer'),
    betaInitializer: r.initializer('beta_initializer'),
  };
}

function poolCommon(r: KerasLayerReader, rank: number): Json {
  const poolSize = r.ints('pool_size', rank, 2);
  return { poolSize, strides: r.has('strides') ? r.ints('strides', rank) : (r.raw('strides'), poolSize), padding: r.str('padding', ['valid', 'same'], 'valid') };
}

/** A Keras axis (an integer or a one-element list) that must be the last axis: -1, or checked later as positive. */
function lastAxis(r: KerasLayerReader, key: string): Json {
  let v = r.raw(key) ?? -1;
  if (Array.isArray(v) && v.length === 1) v = v[0];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw r.error(`${key}: expected the channels axis (-1) but received ${describe(v)}`);
  return { [TRAILING]: [v] };
}

/** A key a reader may add: Keras axes (counted with the batch axis) that must be the input's last ones. */
const TRAILING = '__trailingAxes';

type FromKeras = (r: KerasLayerReader) => Json;

const conv = (rank: number, padding: readonly string[]): FromKeras => (r) => ({
  filters: r.int('filters'),
  ...convCommon(r, rank, padding),
  groups: r.int('groups', 1),
  kernelInitializer: r.initializer('kernel_initializer'),
  kernelRegularizer: r.regularizer('kernel_regularizer'),
});

const pool = (rank: number): FromKeras => (r) => poolCommon(r, rank);
const none: FromKeras = () => ({});

/** Per Keras class: convkit's class and the convkit config read from Keras's. */
const FROM_KERAS: Readonly<Record<string, [string, FromKeras]>> = {
  InputLayer: ['InputLayer', none],
  Conv1D: ['Conv1D', conv(1, ['valid', 'same', 'causal'])],
  Conv2D: ['Conv2D', conv(2, ['valid', 'same'])],
  Conv3D: ['Conv3D', conv(3, ['valid', 'same'])],
  DepthwiseConv2D: ['DepthwiseConv2D', (r) => ({
    ...convCommon(r, 2, ['valid', 'same']),
    depthMultiplier: r.int('depth_multiplier', 1),
    depthwiseInitializer: r.initializer('depthwise_initializer'),
    depthwiseRegularizer: r.regularizer('depthwise_regularizer'),
  })],
  SeparableConv2D: ['SeparableConv2D', (r) => ({
    filters: r.int('filters'),
    ...convCommon(r, 2, ['valid', 'same']),
    depthMultiplier: r.int('depth_multiplier', 1),
    depthwiseInitializer: r.initializer('depthwise_initializer'),
    pointwiseInitializer: r.initializer('pointwise_initializer'),
    depthwiseRegularizer: r.regularizer('depthwise_regularizer'),
    pointwiseRegularizer: r.regularizer('pointwise_regularizer'),
  })],
  Conv2DTranspose: ['Conv2DTranspose', (r) => ({
    filters: r.int('filters'),
    ...convCommon(r, 2, ['valid', 'same']),
    outputPadding: r.has('output_padding') ? r.ints('output_padding', 2) : (r.raw('output_padding'), undefined),
    kernelInitializer: r.initializer('kernel_initializer'),
    kernelRegularizer: r.regularizer('kernel_regularizer'),
  })],
  Dense: ['Dense', (r) => ({
    units: r.int('units'),
    ...r.activation(),
    useBias: r.bool('use_bias', true),
    kernelInitializer: r.initializer('kernel_initializer'),
    biasInitializer: r.initializer('bias_initializer'),
    kernelRegularizer: r.regularizer('kernel_regularizer'),
  })],
  BatchNormalization: ['BatchNormalization', (r) => {
    for (const key of ['moving_mean_initializer', 'moving_variance_initializer']) r.initializer(key);
    return { ...lastAxis(r, 'axis'), momentum: r.num('momentum', 0.99), ...normalizationCommon(r) };
  }],
  LayerNormalization: ['LayerNormalization', (r) => {
    const v = r.raw('axis') ?? -1;
    const axes = (Array.isArray(v) ? v : [v]) as number[];
    if (axes.length === 0 || axes.some((a) => !Number.isInteger(a))) throw r.error(`axis: expected an axis or a list of axes but received ${describe(v)}`);
    // Keras normalizes over the listed axes; convkit over one axis and every one after it: the list must be such a run
    if (axes.length === 1) return { axis: axes[0], ...normalizationCommon(r) };
    const sorted = [...axes].sort((a, b) => a - b);
    if (sorted[0] < 1 || sorted.some((a, i) => a !== sorted[0] + i)) throw r.error(`axis ${JSON.stringify(v)}: convkit normalizes over one run of trailing axes`);
    return { axis: sorted[0], [TRAILING]: sorted, ...normalizationCommon(r) };
  }],
  GroupNormalization: ['GroupNormalization', (r) => ({ ...lastAxis(r, 'axis'), groups: r.int('groups', 32), ...normalizationCommon(r) })],
  Activation: ['Activation', (r) => r.activation()],
  ReLU: ['ReLU', (r) => ({ maxValue: r.optionalNum('max_value'), negativeSlope: r.num('negative_slope', 0), threshold: r.num('threshold', 0) })],
  LeakyReLU: ['LeakyReLU', (r) => ({ alpha: r.has('negative_slope') ? r.num('negative_slope') : (r.raw('negative_slope'), r.num('alpha', 0.3)) })],
  ELU: ['ELU', (r) => ({ alpha: r.num('alpha', 1) })],
  Softmax: ['Softmax', (r) => lastAxis(r, 'axis')],
  PReLU: ['PReLU', (r) => {
    r.raw('shared_axes'); // checked against the weight's shape when it is loaded
    return { alphaInitializer: r.initializer('alpha_initializer') };
  }],
  Dropout: ['Dropout', (r) => ({ rate: r.num('rate') })],
  SpatialDropout2D: ['SpatialDropout2D', (r) => ({ rate: r.num('rate') })],
  Flatten: ['Flatten', none],
  Reshape: ['Reshape', (r) => {
    const t = r.raw('target_shape');
    if (!Array.isArray(t) || t.some((d) => !Number.isInteger(d))) throw r.error(`target_shape: expected a list of integers but received ${describe(t)}`);
    return { targetShape: t };
  }],
  MaxPooling1D: ['MaxPooling1D', pool(1)],
  MaxPooling2D: ['MaxPooling2D', pool(2)],
  MaxPooling3D: ['MaxPooling3D', pool(3)],
  AveragePooling1D: ['AveragePooling1D', pool(1)],
  AveragePooling2D: ['AveragePooling2D', pool(2)],
  AveragePooling3D: ['AveragePooling3D', pool(3)],
  GlobalAveragePooling1D: ['GlobalAveragePooling1D', none],
  GlobalAveragePooling2D: ['GlobalAveragePooling2D', none],
  GlobalAveragePooling3D: ['GlobalAveragePooling3D', none],
  GlobalMaxPooling1D: ['GlobalMaxPooling1D', none],
  GlobalMaxPooling2D: ['GlobalMaxPooling2D', none],
  GlobalMaxPooling3D: ['GlobalMaxPooling3D', none],
  ZeroPadding2D: ['ZeroPadding2D', (r) => ({ padding: r.raw('padding') ?? 1 })],
  Cropping2D: ['Cropping2D', (r) => ({ cropping: r.raw('cropping') ?? 0 })],
  UpSampling2D: ['UpSampling2D', (r) => {
    const interpolation = r.str('interpolation', ['nearest', 'bilinear'], 'nearest');
    // TF.js's resizeBilinear here does not use half-pixel centres; convkit's (and Keras's) does
    if (interpolation === 'bilinear' && r.src.tfjs) throw r.error("interpolation 'bilinear' as TF.js computes it (without half-pixel centres) is not supported; convkit's bilinear is Keras's");
    return { size: r.ints('size', 2, 2), interpolation };
  }],
  Add: ['Add', none],
  Subtract: ['Subtract', none],
  Multiply: ['Multiply', none],
  Average: ['Average', none],
  Maximum: ['Maximum', none],
  Minimum: ['Minimum', none],
  Concatenate: ['Concatenate', (r) => ({ axis: r.int('axis', -1) })],
};

/** Keras's older and shorter spellings of the same classes. */
const CLASS_ALIASES: Readonly<Record<string, string>> = {
  Convolution1D: 'Conv1D',
  Convolution2D: 'Conv2D',
  Convolution3D: 'Conv3D',
  SeparableConvolution2D: 'SeparableConv2D',
  Conv2DTranspose: 'Conv2DTranspose',
  Deconvolution2D: 'Conv2DTranspose',
  Convolution2DTranspose: 'Conv2DTranspose',
  MaxPool1D: 'MaxPooling1D',
  MaxPool2D: 'MaxPooling2D',
  MaxPool3D: 'MaxPooling3D',
  AvgPool1D: 'AveragePooling1D',
  AvgPool2D: 'AveragePooling2D',
  AvgPool3D: 'AveragePooling3D',
  GlobalAvgPool1D: 'GlobalAveragePooling1D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
  GlobalAvgPool3D: 'GlobalAveragePooling3D',
  GlobalMaxPool1D: 'GlobalMaxPooling1D',
  GlobalMaxPool2D: 'GlobalMaxPooling2D',
  GlobalMaxPool3D: 'GlobalMaxPooling3D',
};

/** The Keras classes the import reads. */
export const KERAS_CLASSES: readonly string[] = Object.keys(FROM_KERAS);

/**
 * A Keras layer (class name and config) as a convkit layer config, its name kept, and the axes (counted with the
 * batch axis) that must be its input's last ones, which only the input's rank can confirm.
 * @throws ConvkitError naming the file, the layer and the class or option convkit does not support.
 */
export function layerConfigFromKeras(src: KerasSource, className: string, config: Json, fallbackName: string): { layer: LayerConfig; trailingAxes?: number[] } {
  const name = typeof config?.name === 'string' ? config.name : fallbackName;
  const cls = CLASS_ALIASES[className] ?? className;
  const entry = Object.hasOwn(FROM_KERAS, cls) ? FROM_KERAS[cls] : undefined;
  if (!entry) {
    const nested = className === 'Functional' || className === 'Sequential' || className === 'Model';
    throw new ConvkitError(
      `loadModel: ${src.file}: layer '${name}': ${nested ? 'a model nested in the model is not supported (save the inner model\'s layers in the outer model)' : `the Keras layer class ${describe(className)} is not supported`}` +
        ` (supported: ${KERAS_CLASSES.join(', ')})`,
      'loadModel',
    );
  }
  const r = new KerasLayerReader(src, cls, name, config ?? {});
  const { [TRAILING]: trailing, ...own } = entry[1](r);
  r.finish();
  const cleaned = Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined));
  const axes = (trailing as number[] | undefined)?.filter((a) => a !== -1);
  return { layer: { className: entry[0], config: { name, ...cleaned } } as LayerConfig, trailingAxes: axes?.length ? axes : undefined };
}

/** The input shape (without the batch axis) a Keras layer config declares, if any. */
export function declaredInputShape(config: Json): number[] | undefined {
  const batch = config.batch_input_shape ?? config.batch_shape;
  if (Array.isArray(batch)) return batch.slice(1) as number[];
  if (Array.isArray(config.input_shape)) return config.input_shape as number[];
  return undefined;
}

// ---- convkit to Keras (TF.js's loadLayersModel reads what this writes)

const snake = (k: string): string => k.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);

const INITIALIZERS_TO_KERAS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(INITIALIZERS_FROM_KERAS).map(([k, v]) => [v, k]));

function initializerToKeras(v: unknown): Json | null {
  if (v === undefined || v === null) return null;
  const o = v as { className: string; config: Json };
  const c = { ...(o.config ?? {}) };
  if (o.className === 'varianceScaling') {
    c.mode = snake(String(c.mode ?? 'fanIn'));
    c.distribution = snake(String(c.distribution ?? 'truncatedNormal'));
  }
  if (o.className === 'ones') return { class_name: 'Ones', config: {} };
  return { class_name: INITIALIZERS_TO_KERAS[o.className] ?? o.className, config: { seed: null, ...c } };
}

function regularizerToKeras(v: unknown): Json | null {
  if (v === undefined || v === null) return null;
  const c = (v as { config: Json }).config;
  return { class_name: 'L1L2', config: { l1: c.l1 ?? 0, l2: c.l2 ?? 0 } };
}

/** What TF.js's layers cannot express, per class and option: the export refuses these, naming them. */
export interface KerasExportTarget {
  /** Activations the reader knows by these names. */
  activations: ReadonlySet<string>;
  /** Layer classes the reader has. */
  classes: ReadonlySet<string>;
}

/**
 * A convkit layer config as a Keras layer config (snake_case, channels_last, Keras 2 conventions as TF.js reads
 * them).
 * @throws ConvkitError naming the layer and what the target cannot express.
 */
export function layerConfigToKeras(layer: LayerConfig, target: KerasExportTarget, input: { shape: readonly number[]; declare: boolean }): { class_name: string; config: Json } {
  const cls = layer.className;
  const c = layer.config as Json;
  const name = String(c.name);
  const refuse = (what: string): never => {
    throw new ConvkitError(`save: layer '${name}' (${cls}): ${what}`, 'save');
  };
  if (!target.classes.has(cls)) refuse(`TF.js has no ${cls} layer`);
  const out: Json = { name, trainable: true, dtype: 'float32' };
  if (input.declare) out.batch_input_shape = [null, ...input.shape];
  const act = (): void => {
    const a = String(c.activation ?? 'linear');
    // TF.js's activations take no parameter: its hard_sigmoid is clip(0.2x + 0.5), its leaky_relu slope 0.2
    const fixed = a === 'hardSigmoid' ? 0.2 : a === 'leakyRelu' ? 0.2 : a === 'elu' ? 1 : undefined;
    const alpha = c.alpha ?? (a === 'hardSigmoid' ? 1 / 6 : fixed);
    if (alpha !== fixed) refuse(`activation ${a} with alpha ${alpha}: TF.js's ${a} has ${fixed === undefined ? 'none' : `alpha ${fixed}`}`);
    const keras = ACTIVATIONS_TO_KERAS[a] ?? a;
    if (!target.activations.has(keras)) refuse(`TF.js has no activation ${describe(keras)}`);
    out.activation = keras;
  };
  const copy = (...keys: string[]): void => {
    for (const k of keys) if (c[k] !== undefined) out[snake(k)] = c[k];
  };
  const pairOf = (v: unknown, n: number): unknown => (typeof v === 'number' ? Array(n).fill(v) : v);
  const convLike = (rank: number): void => {
    if (typeof c.padding !== 'string') refuse(`padding ${JSON.stringify(c.padding)}: Keras has only 'same', 'valid' (and 'causal' for Conv1D)`);
    if ((c.groups ?? 1) !== 1) refuse(`groups ${c.groups}: TF.js's convolutions have no groups`);
    out.kernel_size = pairOf(c.kernelSize, rank);
    out.strides = pairOf(c.strides ?? 1, rank);
    out.padding = c.padding;
    out.dilation_rate = pairOf(c.dilationRate ?? 1, rank);
    out.data_format = 'channels_last';
    out.use_bias = c.useBias ?? true;
    act();
    out.bias_initializer = initializerToKeras(c.biasInitializer) ?? { class_name: 'Zeros', config: {} };
  };
  switch (cls) {
    case 'InputLayer':
      return { class_name: cls, config: { name, batch_input_shape: [null, ...(c.inputShape as number[])], dtype: 'float32', sparse: false } };
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D':
      out.filters = c.filters;
      convLike({ Conv1D: 1, Conv2D: 2, Conv3D: 3 }[cls]);
      out.kernel_initializer = initializerToKeras(c.kernelInitializer);
      out.kernel_regularizer = regularizerToKeras(c.kernelRegularizer);
      break;
    case 'DepthwiseConv2D':
      convLike(2);
      out.depth_multiplier = c.depthMultiplier ?? 1;
      out.depthwise_initializer = initializerToKeras(c.depthwiseInitializer);
      out.depthwise_regularizer = regularizerToKeras(c.depthwiseRegularizer);
      break;
    case 'SeparableConv2D':
      out.filters = c.filters;
      convLike(2);
      out.depth_multiplier = c.depthMultiplier ?? 1;
      out.depthwise_initializer = initializerToKeras(c.depthwiseInitializer);
      out.pointwise_initializer = initializerToKeras(c.pointwiseInitializer);
      out.depthwise_regularizer = regularizerToKeras(c.depthwiseRegularizer);
      out.pointwise_regularizer = regularizerToKeras(c.pointwiseRegularizer);
      break;
    case 'Conv2DTranspose':
      if (c.outputPadding !== undefined) refuse("outputPadding: TF.js's Conv2DTranspose has none");
      out.filters = c.filters;
      convLike(2);
      out.kernel_initializer = initializerToKeras(c.kernelInitializer);
      out.kernel_regularizer = regularizerToKeras(c.kernelRegularizer);
      break;
    case 'Dense':
      out.units = c.units;
      act();
      out.use_bias = c.useBias ?? true;
      out.kernel_initializer = initializerToKeras(c.kernelInitializer);
      out.bias_initializer = initializerToKeras(c.biasInitializer) ?? { class_name: 'Zeros', config: {} };
      out.kernel_regularizer = regularizerToKeras(c.kernelRegularizer);
      break;
    case 'BatchNormalization':
      Object.assign(out, { axis: -1, momentum: c.momentum ?? 0.99, epsilon: c.epsilon ?? 1e-3, center: c.center ?? true, scale: c.scale ?? true });
      out.gamma_initializer = initializerToKeras(c.gammaInitializer) ?? { class_name: 'Ones', config: {} };
      out.beta_initializer = initializerToKeras(c.betaInitializer) ?? { class_name: 'Zeros', config: {} };
      out.moving_mean_initializer = { class_name: 'Zeros', config: {} };
      out.moving_variance_initializer = { class_name: 'Ones', config: {} };
      break;
    case 'LayerNormalization':
      if ((c.axis ?? -1) !== -1) refuse(`axis ${c.axis}: TF.js's LayerNormalization export supports the last axis`);
      Object.assign(out, { axis: -1, epsilon: c.epsilon ?? 1e-3, center: c.center ?? true, scale: c.scale ?? true });
      out.gamma_initializer = initializerToKeras(c.gammaInitializer) ?? { class_name: 'Ones', config: {} };
      out.beta_initializer = initializerToKeras(c.betaInitializer) ?? { class_name: 'Zeros', config: {} };
      break;
    case 'Activation':
      act();
      break;
    case 'ReLU':
      if ((c.negativeSlope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) refuse("TF.js's ReLU layer has only maxValue");
      out.max_value = c.maxValue ?? null;
      break;
    case 'LeakyReLU':
      out.alpha = c.alpha ?? 0.3;
      break;
    case 'ELU':
      if ((c.alpha ?? 1) !== 1) refuse(`alpha ${c.alpha}: TF.js's ELU layer has alpha 1 only`);
      out.alpha = 1;
      break;
    case 'Softmax':
      out.axis = -1;
      break;
    case 'PReLU':
      out.alpha_initializer = initializerToKeras(c.alphaInitializer);
      // convkit's alpha is per channel: shared over every other axis
      out.shared_axes = input.shape.length > 1 ? input.shape.slice(0, -1).map((_, i) => i + 1) : null;
      break;
    case 'Dropout':
    case 'SpatialDropout2D':
      out.rate = c.rate;
      break;
    case 'Flatten':
      out.data_format = 'channels_last';
      break;
    case 'Reshape':
      out.target_shape = c.targetShape;
      break;
    case 'ZeroPadding2D':
    case 'Cropping2D':
      copy(cls === 'ZeroPadding2D' ? 'padding' : 'cropping');
      out.data_format = 'channels_last';
      break;
    case 'UpSampling2D':
      if (c.interpolation === 'bilinear') refuse("interpolation 'bilinear': TF.js's UpSampling2D samples without half-pixel centres, so it would compute another image");
      out.size = pairOf(c.size ?? 2, 2);
      out.interpolation = c.interpolation ?? 'nearest';
      out.data_format = 'channels_last';
      break;
    case 'Concatenate':
      out.axis = c.axis ?? -1;
      break;
    default:
      if (/Pooling[123]D$/.test(cls) && !cls.startsWith('Global')) {
        const rank = Number(cls.at(-2));
        out.pool_size = pairOf(c.poolSize ?? 2, rank);
        out.strides = pairOf(c.strides ?? c.poolSize ?? 2, rank);
        out.padding = c.padding ?? 'valid';
        out.data_format = 'channels_last';
      } else if (cls.startsWith('Global')) {
        out.data_format = 'channels_last';
      }
  }
  return { class_name: cls, config: out };
}
