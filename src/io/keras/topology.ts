/**
 * Keras model topologies (Sequential and Functional, as Keras 2, Keras 3 and TF.js write them) to convkit model
 * configs and back, and the weights they name (by layer and weight name, or by position within a layer) as the
 * weight source a model is built from.
 */
import { ConvkitError, describe } from '../../errors.js';
import type { LayerConfig, WeightSource } from '../../layers/index.js';
import { modelFromConfig } from '../../model/from-config.js';
import type { Model, ModelConfig, NodeRef } from '../../model/model.js';
import { Tensor, sizeOf } from '../../tensor.js';
import { declaredInputShape, layerConfigFromKeras, layerConfigToKeras, type Json, type KerasExportTarget, type KerasSource } from './layer-config.js';

export interface KerasModel {
  config: ModelConfig;
  /** Per layer, Keras axes that must be the last ones of its input. */
  trailingAxes: Map<string, number[]>;
}

function fail(src: KerasSource, what: string): never {
  throw new ConvkitError(`loadModel: ${src.file}: ${what}`, 'loadModel');
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a topology was written by TF.js's layers (its keras_version says so). */
export function isTfjsWritten(topology: Json): boolean {
  const version = topology.keras_version ?? (topology.model_config as Json | undefined)?.keras_version;
  return typeof version === 'string' && version.startsWith('tfjs');
}

/** Whether a topology was written by Keras 3 (its version, or its layers' shape). */
export function isKeras3(topology: Json): boolean {
  const version = topology.keras_version ?? (topology.model_config as Json | undefined)?.keras_version;
  if (typeof version === 'string') return version.startsWith('3.');
  return JSON.stringify(topology).includes('"__keras_tensor__"');
}

/** The model config a topology holds: the config itself, or wrapped in model_config. */
function modelJson(src: KerasSource, topology: unknown): { className: string; config: unknown } {
  let t = topology;
  if (isObject(t) && isObject(t.model_config)) t = t.model_config;
  if (!isObject(t) || typeof t.class_name !== 'string') fail(src, `expected a Keras model topology ({ class_name, config }) but received ${describe(t)}`);
  return { className: t.class_name, config: t.config };
}

/**
 * A Keras topology as a convkit model config.
 * @throws ConvkitError naming the file and the layer, reference or option that convkit cannot build.
 */
export function modelConfigFromKeras(src: KerasSource, topology: unknown): KerasModel {
  const { className, config } = modelJson(src, topology);
  const trailingAxes = new Map<string, number[]>();
  const convert = (l: unknown, i: number): LayerConfig => {
    if (!isObject(l) || typeof l.class_name !== 'string') fail(src, `layers[${i}]: expected { class_name, config } but received ${describe(l)}`);
    const cfg = (isObject(l.config) ? l.config : {}) as Json;
    const fallback = typeof l.name === 'string' ? l.name : `layer_${i}`;
    const { layer, trailingAxes: axes } = layerConfigFromKeras(src, l.class_name, cfg, fallback);
    if (axes) trailingAxes.set(String(layer.config.name), axes);
    return layer;
  };
  const name = String((isObject(config) ? config.name : undefined) ?? 'model');
  if (className === 'Sequential') {
    const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
    if (!Array.isArray(list) || list.length === 0) fail(src, 'a Sequential model with no layers');
    let inputShape: number[] | undefined;
    const rest = list.filter((l, i) => {
      if (!isObject(l) || l.class_name !== 'InputLayer') return true;
      if (i !== 0) fail(src, `layers[${i}]: an InputLayer after the first layer`);
      inputShape = declaredInputShape(l.config as Json);
      return false;
    });
    inputShape ??= isObject(rest[0]) ? declaredInputShape(rest[0].config as Json) : undefined;
    if (!inputShape || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
      fail(src, `the first layer declares no input shape of known sizes (${describe(inputShape)}): convkit builds models with every size but the batch known`);
    }
    const layers = rest.map(convert);
    if (layers.length === 0) fail(src, 'a Sequential model with no layers');
    layers[0] = { ...layers[0], config: { ...layers[0].config, inputShape } } as LayerConfig;
    return { config: { className: 'Sequential', name, dtype: 'float32', seed: 1, layers }, trailingAxes };
  }
  if (className !== 'Functional' && className !== 'Model') fail(src, `the model class ${describe(className)} is not supported (Sequential, Functional and Model are)`);
  if (!isObject(config) || !Array.isArray(config.layers)) fail(src, 'a Functional model config without layers');
  const layers = config.layers.map((l, i) => {
    const layer = isObject(l) && l.class_name === 'InputLayer' ? inputLayer(src, l, i) : convert(l, i);
    const nodes = isObject(l) ? l.inbound_nodes : undefined;
    return { ...layer, inboundNodes: inboundNodes(src, String(layer.config.name), nodes) };
  });
  const ends = (v: unknown, field: string): NodeRef[] => {
    // Keras 3 writes one input or output as a bare reference
    const list = Array.isArray(v) && typeof v[0] === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0) fail(src, `${field}: expected a list of [layer, node, tensor] but received ${describe(v)}`);
    return list.map((r, i) => reference(src, r, `${field}[${i}]`));
  };
  return { config: { className: 'Functional', name, dtype: 'float32', seed: 1, layers, inputLayers: ends(config.input_layers, 'input_layers'), outputLayers: ends(config.output_layers, 'output_layers') }, trailingAxes };
}

function inputLayer(src: KerasSource, l: Json, i: number): LayerConfig {
  const cfg = (l.config ?? {}) as Json;
  const name = String(cfg.name ?? l.name ?? `input_${i}`);
  const shape = declaredInputShape(cfg);
  if (!shape || shape.some((d) => !Number.isInteger(d) || d < 1)) fail(src, `input '${name}' has no shape of known sizes (${describe(shape)})`);
  const dtype = typeof cfg.dtype === 'object' ? ((cfg.dtype as Json).config as Json)?.name : cfg.dtype;
  if (dtype !== undefined && dtype !== null && dtype !== 'float32') fail(src, `input '${name}': dtype ${describe(dtype)} is not supported (float32 is)`);
  return { className: 'InputLayer', config: { name, inputShape: shape } } as LayerConfig;
}

/** A [layer, node, tensor] reference; a layer's outputs beyond its first do not exist in convkit. */
function reference(src: KerasSource, r: unknown, field: string): NodeRef {
  if (!Array.isArray(r) || typeof r[0] !== 'string' || !Number.isInteger(r[1]) || !Number.isInteger(r[2] ?? 0)) {
    fail(src, `${field}: expected [layer name, node index, tensor index] but received ${describe(r)}`);
  }
  if ((r[2] ?? 0) !== 0) fail(src, `${field}: output ${r[2]} of layer '${r[0]}' (convkit layers have one output)`);
  return [r[0], r[1], 0];
}

/** Keyword arguments a call may carry without changing what convkit computes. */
function checkKwargs(src: KerasSource, layer: string, kwargs: unknown): void {
  if (!isObject(kwargs)) return;
  for (const [k, v] of Object.entries(kwargs)) {
    if (v === null || v === undefined || k === 'training' || k === 'mask') continue;
    fail(src, `layer '${layer}' is called with ${k} = ${describe(v)}, which convkit does not support`);
  }
}

/** A layer's inbound nodes in either style: Keras 2's [[name, node, tensor, kwargs], ...], or Keras 3's { args, kwargs }. */
function inboundNodes(src: KerasSource, layer: string, nodes: unknown): NodeRef[][] {
  if (nodes === undefined || nodes === null) return [];
  if (!Array.isArray(nodes)) fail(src, `layer '${layer}': inbound_nodes: expected a list but received ${describe(nodes)}`);
  return nodes.map((node, k) => {
    const field = `layer '${layer}': inbound_nodes[${k}]`;
    if (isObject(node)) {
      checkKwargs(src, layer, node.kwargs);
      const refs: NodeRef[] = [];
      const walk = (a: unknown): void => {
        if (Array.isArray(a)) a.forEach(walk);
        else if (isObject(a) && a.class_name === '__keras_tensor__') refs.push(reference(src, (a.config as Json)?.keras_history, field));
        else if (a !== null && a !== undefined) fail(src, `${field}: an argument ${describe(a)} that is not a tensor`);
      };
      walk(node.args);
      return refs;
    }
    if (!Array.isArray(node)) fail(src, `${field}: expected a list of references but received ${describe(node)}`);
    return node.map((r, j) => {
      if (Array.isArray(r)) checkKwargs(src, layer, r[3]);
      return reference(src, r, `${field}[${j}]`);
    });
  });
}

/** Convkit's weight names of a layer, in the order Keras keeps them (files that store weights by position). */
export function kerasWeightOrder(layer: LayerConfig): string[] {
  const c = layer.config as Json;
  const bias = c.useBias === false ? [] : ['bias'];
  const affine = [...(c.scale === false ? [] : ['gamma']), ...(c.center === false ? [] : ['beta'])];
  switch (layer.className) {
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D':
    case 'Conv2DTranspose':
    case 'DepthwiseConv2D':
    case 'Dense':
      return ['kernel', ...bias];
    case 'SeparableConv2D':
      return ['depthwise_kernel', 'pointwise_kernel', ...bias];
    case 'BatchNormalization':
      return [...affine, 'moving_mean', 'moving_variance'];
    case 'LayerNormalization':
    case 'GroupNormalization':
      return affine;
    case 'PReLU':
      return ['alpha'];
    default:
      return [];
  }
}

/** A weight as a file holds it: its shape and its values (read when the layer asks for it). */
export interface FileWeight {
  shape: number[];
  values: () => Float32Array;
}

/** Weights by layer, then by convkit weight name. */
export type WeightTable = Map<string, Map<string, FileWeight>>;

/** A weight name as a file spells it ('kernel:0', 'depthwise_kernel') as the layer's convkit name. */
export function convkitWeightName(className: string | undefined, weight: string): string {
  const w = weight.replace(/:\d+$/, '');
  return className === 'DepthwiseConv2D' && w === 'depthwise_kernel' ? 'kernel' : w;
}

/** Whether a file's weight of `from` may be read as convkit's `to` (the same values in the same order). */
function sameLayout(className: string, weight: string, from: readonly number[], to: readonly number[]): boolean {
  if (sizeOf(from) !== sizeOf(to)) return false;
  const squeeze = (s: readonly number[]): string => s.filter((d) => d !== 1).join(',');
  if (squeeze(from) === squeeze(to)) return className === 'PReLU' || from.length === to.length || className === 'LayerNormalization';
  // Keras's depthwise kernel [kh, kw, C, M] is convkit's [kh, kw, 1, C·M], element for element
  return (className === 'DepthwiseConv2D' || className === 'SeparableConv2D') && weight.endsWith('kernel') && from.length === 4 && from[0] === to[0] && from[1] === to[1];
}

/**
 * The model a topology describes, with its weights from `table`; every weight a layer needs must be there with
 * its shape, and every weight there must be used.
 * @throws ConvkitError naming the file, the layer and the weight.
 */
export function buildKerasModel(src: KerasSource, keras: KerasModel, table: WeightTable): Model {
  const classOf = new Map(keras.config.layers.map((l) => [String(l.config.name), l.className]));
  const used = new Set<string>();
  const source: WeightSource = (full, shape) => {
    const cut = full.lastIndexOf('/');
    const [layer, weight] = [full.slice(0, cut), full.slice(cut + 1)];
    const w = table.get(layer)?.get(weight);
    if (!w) fail(src, `layer '${layer}' needs the weight '${weight}', which the file does not hold (it has: ${[...(table.get(layer)?.keys() ?? [])].join(', ') || 'none for this layer'})`);
    const cls = classOf.get(layer) ?? '';
    if (w.shape.join(',') !== shape.join(',') && !sameLayout(cls, weight, w.shape, shape)) {
      fail(src, `layer '${layer}' (${cls}): the weight '${weight}' has shape [${w.shape.join(', ')}] but the layer needs [${shape.join(', ')}]`);
    }
    used.add(`${layer}/${weight}`);
    return new Tensor(w.values(), [...shape]);
  };
  let model: Model;
  try {
    model = modelFromConfig(keras.config, source);
  } catch (e) {
    if (e instanceof ConvkitError && e.where === 'loadModel') throw e;
    return fail(src, `the model cannot be built: ${(e as Error).message}`);
  }
  for (const [layer, weights] of table) {
    for (const w of weights.keys()) if (!used.has(`${layer}/${w}`)) fail(src, `the weight '${layer}/${w}' belongs to no layer of the model`);
  }
  for (const [name, axes] of keras.trailingAxes) {
    const rank = model.getLayer(name).inputShape.length + 1;
    const want = axes.map((_, i) => rank - axes.length + i);
    if (axes.join(',') !== want.join(',')) fail(src, `layer '${name}': axis ${JSON.stringify(axes)} for an input of rank ${rank}: convkit normalizes over the last axes (${JSON.stringify(want)})`);
  }
  return model;
}

/** The layer and weight a file's weight path names: the last component naming a layer, and the last component. */
export function splitWeightPath(path: string, layers: ReadonlySet<string>): { layer: string; weight: string } | undefined {
  const parts = path.split('/');
  for (let i = parts.length - 2; i >= 0; i--) if (layers.has(parts[i])) return { layer: parts[i], weight: parts.at(-1)! };
  return undefined;
}

// ---- convkit to Keras

/** TF.js's layer classes and activations (tfjs-layers 4): what an export to its format may use. */
export const TFJS_TARGET: KerasExportTarget = {
  classes: new Set([
    'InputLayer', 'Conv1D', 'Conv2D', 'Conv3D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'Dense', 'BatchNormalization',
    'LayerNormalization', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'PReLU', 'Dropout', 'SpatialDropout2D', 'Flatten', 'Reshape',
    'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D', 'GlobalAveragePooling1D',
    'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'ZeroPadding2D', 'Cropping2D', 'UpSampling2D', 'Add', 'Subtract',
    'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate',
  ]),
  activations: new Set(['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hard_sigmoid', 'tanh', 'softmax', 'softplus', 'softsign', 'swish', 'mish', 'gelu', 'gelu_new']),
};

/**
 * A model's topology as Keras 2 writes it (class name Sequential or Model, inbound nodes as
 * [[name, node, tensor, {}]]), which TF.js's loadLayersModel reads.
 * @throws ConvkitError naming the layer and what the target cannot express.
 */
export function kerasTopology(model: Model, target: KerasExportTarget): Json {
  const config = model.getConfig();
  const shapeOf = (name: string): number[] => model.getLayer(name).inputShape;
  if (config.className === 'Sequential') {
    const layers = config.layers.map((l, i) => layerConfigToKeras(l, target, { shape: shapeOf(String(l.config.name)), declare: i === 0 }));
    return { class_name: 'Sequential', config: { name: config.name, layers }, keras_version: 'convkit', backend: 'tensor_flow.js' };
  }
  const layers = config.layers.map((l) => {
    const k = layerConfigToKeras(l, target, { shape: l.className === 'InputLayer' ? [] : shapeOf(String(l.config.name)), declare: false });
    return { name: l.config.name, class_name: k.class_name, config: k.config, inbound_nodes: (l.inboundNodes ?? []).map((node) => node.map((r) => [...r, {}])) };
  });
  return {
    class_name: 'Model',
    config: { name: config.name, layers, input_layers: config.inputLayers, output_layers: config.outputLayers },
    keras_version: 'convkit',
    backend: 'tensor_flow.js',
  };
}

/** The Keras name of a convkit weight (TF.js names a depthwise convolution's kernel depthwise_kernel). */
export function kerasWeightName(className: string, weight: string): string {
  return className === 'DepthwiseConv2D' && weight === 'kernel' ? 'depthwise_kernel' : weight;
}
