import { describe, fail } from '../errors.js';
import { Rng } from '../random.js';
import { zeros as zeroTensor, type DType, type Shape, type Tensor } from '../tensor.js';
import { finiteNumber, oneOf, own } from '../validate.js';

/** What an initializer serializes to in model.json. */
export interface InitializerConfig {
  className: string;
  config: Record<string, number | string | undefined>;
}

/**
 * Fills a new parameter tensor. `seed` is used when the initializer has none of its own; the model passes a
 * seed derived from its own seed and the parameter's position, so weights are reproducible by default.
 */
export interface Initializer {
  readonly className: string;
  init(shape: Shape, dtype: DType, seed: number): Tensor;
  getConfig(): InitializerConfig;
}

/** Fan-in and fan-out: dense [in, out]; conv hwio [kh, kw, in/groups, out] counts the receptive field. */
function fans(shape: Shape): [number, number] {
  if (shape.length < 2) return [shape[0] ?? 1, shape[0] ?? 1];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

type Sampler = (shape: Shape, rng: Rng) => (i: number) => number;

function random(className: string, opts: { seed?: number } & Record<string, number | string | undefined>, sampler: Sampler): Initializer {
  return {
    className,
    init(shape, dtype, seed) {
      const t = zeroTensor(shape, dtype);
      const next = sampler(shape, new Rng(opts.seed ?? seed));
      for (let i = 0; i < t.size; i++) t.data[i] = next(i);
      return t;
    },
    getConfig: () => ({ className, config: { ...opts } }),
  };
}

/** Normal truncated at two standard deviations (resampled), as Keras's variance-scaling initializers do. */
function truncatedNormal(rng: Rng, stddev: number): number {
  for (;;) {
    const v = rng.normal();
    if (Math.abs(v) <= 2) return v * stddev;
  }
}
// The stddev of a unit normal truncated to [-2, 2]; dividing by it keeps the intended variance.
const TRUNCATED_STD = 0.8796256610342398;

/** Glorot/Xavier uniform: U(-l, l), l = sqrt(6 / (fanIn + fanOut)). @example initializers.glorotUniform({ seed: 1 }) */
export function glorotUniform(opts: { seed?: number } = {}): Initializer {
  return random('glorotUniform', opts, (shape, rng) => {
    const [fi, fo] = fans(shape);
    const limit = Math.sqrt(6 / (fi + fo));
    return () => rng.uniform(-limit, limit);
  });
}

/** Glorot/Xavier normal: truncated N(0, 2 / (fanIn + fanOut)). */
export function glorotNormal(opts: { seed?: number } = {}): Initializer {
  return random('glorotNormal', opts, (shape, rng) => {
    const [fi, fo] = fans(shape);
    const std = Math.sqrt(2 / (fi + fo)) / TRUNCATED_STD;
    return () => truncatedNormal(rng, std);
  });
}

/** He normal (for relu): truncated N(0, 2 / fanIn). */
export function heNormal(opts: { seed?: number } = {}): Initializer {
  return random('heNormal', opts, (shape, rng) => {
    const std = Math.sqrt(2 / fans(shape)[0]) / TRUNCATED_STD;
    return () => truncatedNormal(rng, std);
  });
}

/** He uniform: U(-l, l), l = sqrt(6 / fanIn). */
export function heUniform(opts: { seed?: number } = {}): Initializer {
  return random('heUniform', opts, (shape, rng) => {
    const limit = Math.sqrt(6 / fans(shape)[0]);
    return () => rng.uniform(-limit, limit);
  });
}

export interface VarianceScalingOptions {
  /** Default 1. */
  scale?: number;
  /** The fan the variance is divided by: 'fanIn' (default), 'fanOut' or 'fanAvg' (their mean). */
  mode?: 'fanIn' | 'fanOut' | 'fanAvg';
  /** 'truncatedNormal' (default; at two standard deviations, rescaled), 'untruncatedNormal' or 'uniform'. */
  distribution?: 'truncatedNormal' | 'untruncatedNormal' | 'uniform';
  seed?: number;
}

/**
 * Keras's VarianceScaling: variance scale / fan, from a (truncated) normal or a uniform distribution; glorot,
 * he and lecun initializers are its special cases.
 * @example initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'truncatedNormal' })
 */
export function varianceScaling(opts: VarianceScalingOptions = {}): Initializer {
  const where = 'varianceScaling';
  const scale = finiteNumber(where, 'scale', opts.scale ?? 1);
  if (!(scale > 0)) fail(where, 'scale > 0', describe(scale));
  const mode = oneOf(where, 'mode', opts.mode ?? 'fanIn', ['fanIn', 'fanOut', 'fanAvg'] as const);
  const distribution = oneOf(where, 'distribution', opts.distribution ?? 'truncatedNormal', ['truncatedNormal', 'untruncatedNormal', 'uniform'] as const);
  return random(where, { ...opts, scale, mode, distribution }, (shape, rng) => {
    const [fi, fo] = fans(shape);
    const variance = scale / Math.max(1, mode === 'fanIn' ? fi : mode === 'fanOut' ? fo : (fi + fo) / 2);
    if (distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance);
      return () => rng.uniform(-limit, limit);
    }
    if (distribution === 'untruncatedNormal') return () => Math.sqrt(variance) * rng.normal();
    const std = Math.sqrt(variance) / TRUNCATED_STD;
    return () => truncatedNormal(rng, std);
  });
}

/** LeCun normal (for selu): truncated N(0, 1 / fanIn). */
export function lecunNormal(opts: { seed?: number } = {}): Initializer {
  return renamed('lecunNormal', opts, varianceScaling({ ...opts, scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' }));
}

/** LeCun uniform: U(-l, l), l = sqrt(3 / fanIn). */
export function lecunUniform(opts: { seed?: number } = {}): Initializer {
  return renamed('lecunUniform', opts, varianceScaling({ ...opts, scale: 1, mode: 'fanIn', distribution: 'uniform' }));
}

function renamed(className: string, opts: { seed?: number }, init: Initializer): Initializer {
  return { className, init: init.init, getConfig: () => ({ className, config: { ...opts } }) };
}

/** U(minval, maxval). @example initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 3 }) */
export function randomUniform(opts: { minval?: number; maxval?: number; seed?: number } = {}): Initializer {
  const minval = finiteNumber('randomUniform', 'minval', opts.minval ?? -0.05);
  const maxval = finiteNumber('randomUniform', 'maxval', opts.maxval ?? 0.05);
  if (!(maxval > minval)) fail('randomUniform', `maxval > minval (${minval})`, describe(maxval));
  return random('randomUniform', { ...opts, minval, maxval }, (_, rng) => () => rng.uniform(minval, maxval));
}

/** N(mean, stddev²) truncated at two standard deviations (resampled), as Keras's TruncatedNormal. */
export function truncatedNormalInit(opts: { mean?: number; stddev?: number; seed?: number } = {}): Initializer {
  const mean = finiteNumber('truncatedNormal', 'mean', opts.mean ?? 0);
  const stddev = finiteNumber('truncatedNormal', 'stddev', opts.stddev ?? 0.05);
  return random('truncatedNormal', { ...opts, mean, stddev }, (_, rng) => () => mean + truncatedNormal(rng, stddev));
}

/** N(mean, stddev²). @example initializers.randomNormal({ stddev: 0.01, seed: 3 }) */
export function randomNormal(opts: { mean?: number; stddev?: number; seed?: number } = {}): Initializer {
  const mean = finiteNumber('randomNormal', 'mean', opts.mean ?? 0);
  const stddev = finiteNumber('randomNormal', 'stddev', opts.stddev ?? 0.05);
  return random('randomNormal', { ...opts, mean, stddev }, (_, rng) => () => mean + stddev * rng.normal());
}

/** Every value `value`. @example initializers.constant({ value: 0.1 }) */
export function constant(opts: { value: number }): Initializer {
  const value = finiteNumber('constant', 'value', opts?.value);
  return {
    className: 'constant',
    init: (shape, dtype) => {
      const t = zeroTensor(shape, dtype);
      t.data.fill(value);
      return t;
    },
    getConfig: () => ({ className: 'constant', config: { value } }),
  };
}

/** Every value 0 (the default for biases). */
export function zeros(): Initializer {
  return { className: 'zeros', init: (shape, dtype) => zeroTensor(shape, dtype), getConfig: () => ({ className: 'zeros', config: {} }) };
}

/** Every value 1. */
export function ones(): Initializer {
  return constant({ value: 1 });
}

const REGISTRY: Record<string, (config: Record<string, unknown>) => Initializer> = {
  glorotUniform: (c) => glorotUniform(c as { seed?: number }),
  glorotNormal: (c) => glorotNormal(c as { seed?: number }),
  heNormal: (c) => heNormal(c as { seed?: number }),
  heUniform: (c) => heUniform(c as { seed?: number }),
  randomNormal: (c) => randomNormal(c as { seed?: number }),
  randomUniform: (c) => randomUniform(c as { seed?: number }),
  truncatedNormal: (c) => truncatedNormalInit(c as { seed?: number }),
  varianceScaling: (c) => varianceScaling(c as VarianceScalingOptions),
  lecunNormal: (c) => lecunNormal(c as { seed?: number }),
  lecunUniform: (c) => lecunUniform(c as { seed?: number }),
  constant: (c) => constant(c as { value: number }),
  zeros: () => zeros(),
  ones: () => ones(),
};

export type InitializerSpec = Initializer | InitializerConfig | keyof typeof REGISTRY;

/**
 * An initializer from an object, a name ('heNormal') or a serialized `{className, config}`.
 * @throws ConvkitError for an unknown name.
 */
export function getInitializer(where: string, spec: InitializerSpec): Initializer {
  if (typeof spec === 'object' && spec !== null && 'init' in spec) return spec;
  const [name, config] = typeof spec === 'string' ? [spec, {}] : [spec?.className, spec?.config ?? {}];
  const make = own(REGISTRY, name);
  if (!make) fail(where, `an initializer, one of ${Object.keys(REGISTRY).join(', ')}`, describe(spec));
  return make(config);
}
