import { describe, fail } from '../errors.js';
import { InputLayer } from '../layers/input-layer.js';
import { layerFromConfig } from '../layers/index.js';
import type { Layer, LayerConfig, WeightSource } from '../layers/layer.js';
import type { DType, Tensor } from '../tensor.js';
import { Model, type ModelConfig } from './model.js';

export interface SequentialOptions {
  /** float32 (default) or float64 (for gradient checks on the reference backend). */
  dtype?: DType;
  /** Seeds the initializers, dropout masks, shuffling and augmentation. Default 1. */
  seed?: number;
  name?: string;
}

let sequentialCount = 0;

/**
 * A stack of layers, each feeding the next: the one-path graph model (Keras's Sequential). The first layer
 * says the input shape (inputShape, no batch axis); `layers` are the given ones, in order.
 */
export class Sequential extends Model<Tensor> {
  /** `weights` (loadModel's) supplies every weight instead of the initializers. */
  constructor(layers: Layer[], opts: SequentialOptions & { weights?: WeightSource } = {}) {
    if (!Array.isArray(layers) || layers.length === 0) fail('sequential', 'a non-empty array of layers', describe(layers));
    layers.forEach((layer, i) => {
      if (!(layer && typeof layer.apply === 'function') || layer instanceof InputLayer) fail('sequential', `a layer at index ${i}`, describe(layer));
    });
    const shape = layers[0].declaredInputShape;
    if (!shape) fail('sequential', 'inputShape on the first layer (e.g. inputShape: [28, 28, 1])', 'none');
    const dtype = opts.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') fail('sequential', "dtype 'float32' or 'float64'", describe(dtype));
    const x = new InputLayer({ shape, dtype, name: `${layers[0].name}_input` }).output;
    let y = x;
    for (const layer of layers) y = layer.apply(y);
    super({ inputs: x, outputs: y, name: opts.name ?? `sequential_${++sequentialCount}`, seed: opts.seed }, { layers, weights: opts.weights });
  }

  override isSequential(): boolean {
    return true;
  }

  /**
   * A new, uncompiled model of layers [0, k) with copies of their weights: the features a trained network
   * computes at layer k, e.g. as input to another classifier. (A graph model does the same with
   * `model({ inputs: m.inputs, outputs: m.getLayer(name).output })`, sharing the weights.)
   * @example const features = await model.truncate(6).predict(x)
   * @throws ConvkitError for k outside [1, layers.length].
   */
  truncate(k: number): Sequential {
    if (!Number.isInteger(k) || k < 1 || k > this.layers.length) fail('truncate', `a layer count in [1, ${this.layers.length}]`, describe(k));
    const kept = this.layers.slice(0, k);
    const copy = new Sequential(
      kept.map((l, i) => layerFromConfig(withInputShape(l.getConfig(), i === 0 ? l.inputShape : undefined))),
      { dtype: this.dtype, seed: this.seed, name: `${this.name}_features` },
    );
    copy.setWeights(kept.flatMap((l) => l.getWeights()));
    return copy;
  }

  /** The layers' configs in order: everything but weights needed to rebuild the model. */
  override getConfig(): ModelConfig {
    return { className: 'Sequential', name: this.name, dtype: this.dtype, seed: this.seed, layers: this.layers.map((l) => l.getConfig()) };
  }
}

function withInputShape(c: LayerConfig, inputShape: number[] | undefined): LayerConfig {
  return { className: c.className, config: { ...c.config, inputShape } };
}

/**
 * A model from a list of layers; the first needs `inputShape` (no batch axis).
 * @example
 * const model = sequential([
 *   layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
 *   layers.flatten(),
 *   layers.dense({ units: 10 }),
 * ], { seed: 1 });
 * @throws ConvkitError when a layer's input does not fit (the message names the layer and both shapes).
 */
export function sequential(layers: Layer[], opts: SequentialOptions = {}): Sequential {
  return new Sequential(layers, opts);
}
