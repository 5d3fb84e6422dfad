/**
 * ONNX export (opset 17, IR version 8), encoded with onnx-proto (protobufjs and ONNX's own schema). The exported
 * graph takes and returns tensors in convkit's layouts (NHWC, NWC, NDHWC): a Transpose after each input and
 * before each output, and inside the graph the channels-first layout ONNX's convolution and pooling operators
 * use (weights transposed to OIHW once, at export). Values carry their layout, and a Transpose is inserted only
 * where an operator needs the other one (Flatten and Reshape read convkit's channels-last order, as its Dense
 * weights expect). Batch normalization is ONNX's inference op (moving statistics); dropout is left out.
 */
import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { ConvkitError, describe } from '../errors.js';
import type { Layer, LayerConfig } from '../layers/index.js';
import type { Model, NodeRef } from '../model/model.js';
import { resolveAxis } from '../ops/shapes.js';
import { freshName, syncDir, writeDurably } from './files.js';

const { onnx } = onnxProto;
type Json = Record<string, unknown>;

/** The opset the export targets: LayerNormalization, HardSwish and the other operators used exist from 17. */
export const ONNX_OPSET = 17;

interface Value {
  name: string;
  /** Rank with the batch axis. */
  rank: number;
  /** Where the channels are (rank >= 3): convkit's last axis, or ONNX's axis 1. */
  layout: 'last' | 'first';
}

const AttrType = onnx.AttributeProto.AttributeType;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** The permutation from convkit's channels-last layout to channels-first, and back. */
const toFirst = (rank: number): number[] => [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
const toLast = (rank: number): number[] => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];

class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();
  private readonly transposed = new Map<string, Value>();
  private constants = 0;

  constructor(readonly layerName: () => string) {}

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  node(op: string, inputs: string[], attrs: Json = {}, output?: string): string {
    const out = output ?? this.fresh(`${this.layerName()}/${op}`);
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v as number[] };
      if (Number.isInteger(v) && !['alpha', 'beta', 'epsilon', 'gamma'].includes(name)) return { name, type: AttrType.INT, i: v as number };
      return { name, type: AttrType.FLOAT, f: v as number };
    });
    this.nodes.push({ opType: op, input: inputs, output: [out], name: out, attribute });
    return out;
  }

  floats(base: string, dims: readonly number[], data: ArrayLike<number>): string {
    const name = this.fresh(base);
    const f = Float32Array.from(data);
    this.initializers.push({ name, dims: [...dims], dataType: FLOAT, rawData: new Uint8Array(f.buffer) });
    return name;
  }

  ints(values: number[]): string {
    const name = this.fresh(`const_${this.constants++}`);
    const b = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(b.buffer) });
    return name;
  }

  scalar(v: number): string {
    return this.floats(`const_${this.constants++}`, [], [v]);
  }

  /** v in the layout an operator needs (a Transpose, once per value and layout). */
  as(v: Value, layout: 'first' | 'last'): Value {
    if (v.rank < 3 || v.layout === layout) return v;
    const key = `${v.name}>${layout}`;
    let t = this.transposed.get(key);
    if (!t) {
      t = { name: this.node('Transpose', [v.name], { perm: layout === 'first' ? toFirst(v.rank) : toLast(v.rank) }), rank: v.rank, layout };
      this.transposed.set(key, t);
    }
    return t;
  }
}

function refuse(layer: string, what: string): never {
  throw new ConvkitError(`exportOnnx: layer '${layer}': ${what}`, 'exportOnnx');
}

const list = (v: unknown, n: number): number[] => (typeof v === 'number' ? Array(n).fill(v) : (v as number[]));

/** ONNX pads [begin..., end...] of a convolution or pooling over `spatial` sizes. */
function pads(padding: unknown, spatial: number[], windows: number[], strides: number[], layer: string): number[] {
  if (Array.isArray(padding)) {
    const p = padding as number[][];
    return [...p.map((a) => a[0]), ...p.map((a) => a[1])];
  }
  if (padding !== 'same' && padding !== 'valid') refuse(layer, `padding ${describe(padding)}`);
  const axes = spatial.map((size, i) => resolveAxis(layer, `axis ${i}`, size, windows[i], strides[i], padding, undefined));
  return [...axes.map((a) => a.padBefore), ...axes.map((a) => a.padAfter)];
}

/** Transposes a kernel stored [k..., in, out] to ONNX's [out, in, k...]. */
function oiKernel(data: ArrayLike<number>, shape: readonly number[]): { data: Float32Array; dims: number[] } {
  const rank = shape.length;
  const [cin, cout] = [shape[rank - 2], shape[rank - 1]];
  const spatial = shape.slice(0, rank - 2);
  const k = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let s = 0; s < k; s++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) out[(o * cin + i) * k + s] = data[(s * cin + i) * cout + o];
  return { data: out, dims: [cout, cin, ...spatial] };
}

/** ONNX nodes for one activation of x (any layout; softmax over the channels). */
function activation(g: GraphBuilder, layer: string, kind: string, alpha: number | undefined, x: Value): Value {
  const v = (name: string): Value => ({ ...x, name });
  const channelAxis = x.rank >= 3 && x.layout === 'first' ? 1 : -1;
  switch (kind) {
    case 'linear':
      return x;
    case 'relu':
      return v(g.node('Relu', [x.name]));
    case 'relu6':
      return v(g.node('Clip', [x.name, g.scalar(0), g.scalar(6)]));
    case 'leakyRelu':
      return v(g.node('LeakyRelu', [x.name], { alpha: alpha ?? 0.2 }));
    case 'elu':
      return v(g.node('Elu', [x.name], { alpha: alpha ?? 1 }));
    case 'selu':
      return v(g.node('Selu', [x.name]));
    case 'sigmoid':
      return v(g.node('Sigmoid', [x.name]));
    case 'hardSigmoid':
      return v(g.node('HardSigmoid', [x.name], { alpha: alpha ?? 1 / 6, beta: 0.5 }));
    case 'hardSwish':
      return v(g.node('HardSwish', [x.name]));
    case 'tanh':
      return v(g.node('Tanh', [x.name]));
    case 'swish':
      return v(g.node('Mul', [x.name, g.node('Sigmoid', [x.name])]));
    case 'mish':
      return v(g.node('Mul', [x.name, g.node('Tanh', [g.node('Softplus', [x.name])])]));
    case 'gelu': {
      // x/2 (1 + erf(x / sqrt 2))
      const erf = g.node('Erf', [g.node('Mul', [x.name, g.scalar(Math.SQRT1_2)])]);
      return v(g.node('Mul', [g.node('Mul', [x.name, g.scalar(0.5)]), g.node('Add', [erf, g.scalar(1)])]));
    }
    case 'geluTanh': {
      // x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const cube = g.node('Mul', [g.node('Mul', [x.name, x.name]), x.name]);
      const inner = g.node('Mul', [g.node('Add', [x.name, g.node('Mul', [cube, g.scalar(0.044715)])]), g.scalar(Math.sqrt(2 / Math.PI))]);
      return v(g.node('Mul', [g.node('Mul', [x.name, g.scalar(0.5)]), g.node('Add', [g.node('Tanh', [inner]), g.scalar(1)])]));
    }
    case 'softplus':
      return v(g.node('Softplus', [x.name]));
    case 'softsign':
      return v(g.node('Softsign', [x.name]));
    case 'exponential':
      return v(g.node('Exp', [x.name]));
    case 'softmax':
      return v(g.node('Softmax', [x.name], { axis: channelAxis }));
    default:
      return refuse(layer, `activation ${describe(kind)} has no ONNX export`);
  }
}

/** Per-channel parameters shaped to broadcast against x: [C, 1, ...] channels-first, [C] channels-last. */
function channelShape(x: Value, c: number): number[] {
  return x.rank >= 3 && x.layout === 'first' ? [c, ...Array(x.rank - 2).fill(1)] : [c];
}

/** The ONNX nodes of one layer application; returns its output value. */
function exportLayer(g: GraphBuilder, layer: Layer, config: LayerConfig, xs: Value[]): Value {
  const cls = config.className;
  const c = config.config as Json;
  const name = layer.name;
  const weights = new Map(layer.params().map((p) => [p.name.slice(p.name.lastIndexOf('/') + 1), p.value]));
  const w = (key: string) => weights.get(key);
  const inShape = cls === 'InputLayer' ? [] : layer.inputShapes[0];
  const x = xs[0];
  const act = (y: Value): Value => activation(g, name, String(c.activation ?? 'linear'), c.alpha as number | undefined, y);
  const bias = (n: number): string[] => (w('bias') ? [g.floats(`${name}/bias`, [n], w('bias')!.data)] : []);
  switch (cls) {
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D':
    case 'DepthwiseConv2D': {
      const rank = inShape.length - 1;
      const kernel = w('kernel')!;
      const groups = cls === 'DepthwiseConv2D' ? inShape[rank] : Number(c.groups ?? 1);
      const ks = kernel.shape.slice(0, rank);
      const strides = list(c.strides ?? 1, rank);
      const dilations = list(c.dilationRate ?? 1, rank);
      const windows = ks.map((k, i) => (k - 1) * dilations[i] + 1);
      const padding = c.padding === 'causal' ? [[windows[0] - 1, 0]] : c.padding;
      const { data, dims } = oiKernel(kernel.data, kernel.shape);
      const xf = g.as(x, 'first');
      const y = g.node('Conv', [xf.name, g.floats(`${name}/kernel`, dims, data), ...bias(dims[0])], {
        kernel_shape: ks, strides, dilations, group: groups, pads: pads(padding, inShape.slice(0, rank), windows, strides, name),
      });
      return act({ name: y, rank: rank + 2, layout: 'first' });
    }
    case 'SeparableConv2D': {
      const dk = w('depthwise_kernel')!;
      const pk = w('pointwise_kernel')!;
      const strides = list(c.strides ?? 1, 2);
      const dilations = list(c.dilationRate ?? 1, 2);
      const windows = [0, 1].map((i) => (dk.shape[i] - 1) * dilations[i] + 1);
      const d = oiKernel(dk.data, dk.shape);
      const p = oiKernel(pk.data, pk.shape);
      const xf = g.as(x, 'first');
      const mid = g.node('Conv', [xf.name, g.floats(`${name}/depthwise_kernel`, d.dims, d.data)], {
        kernel_shape: dk.shape.slice(0, 2), strides, dilations, group: inShape[2], pads: pads(c.padding, inShape.slice(0, 2), windows, strides, name),
      });
      const y = g.node('Conv', [mid, g.floats(`${name}/pointwise_kernel`, p.dims, p.data), ...bias(p.dims[0])], { kernel_shape: [1, 1] });
      return act({ name: y, rank: 4, layout: 'first' });
    }
    case 'Conv2DTranspose': {
      const kernel = w('kernel')!; // [kh, kw, out, in]: ONNX's ConvTranspose weight is [in, out, kh, kw]
      const [kh, kw, cout, cin] = kernel.shape;
      const data = new Float32Array(kernel.size);
      for (let s = 0; s < kh * kw; s++) for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) data[(i * cout + o) * kh * kw + s] = kernel.data[(s * cout + o) * cin + i];
      const strides = list(c.strides ?? 1, 2);
      const dilations = list(c.dilationRate ?? 1, 2);
      const out = layer.outputShape;
      const p = [0, 1].map((i) => {
        const kEff = (kernel.shape[i] - 1) * dilations[i] + 1;
        const full = (inShape[i] - 1) * strides[i] + kEff;
        const total = c.padding === 'same' ? Math.max((inShape[i] - 1) * strides[i] + kEff - out[i], 0) : 0;
        const before = Math.floor(total / 2);
        return { before, after: total - before, extra: out[i] - (full - total) };
      });
      const y = g.node('ConvTranspose', [g.as(x, 'first').name, g.floats(`${name}/kernel`, [cin, cout, kh, kw], data), ...bias(cout)], {
        kernel_shape: [kh, kw], strides, dilations, pads: [p[0].before, p[1].before, p[0].after, p[1].after], output_padding: [p[0].extra, p[1].extra],
      });
      return act({ name: y, rank: 4, layout: 'first' });
    }
    case 'Dense': {
      const kernel = w('kernel')!;
      const xl = g.as(x, 'last');
      const k = g.floats(`${name}/kernel`, kernel.shape, kernel.data);
      const y = xl.rank === 2 ? g.node('Gemm', [xl.name, k, ...bias(kernel.shape[1])]) : (() => {
        const m = g.node('MatMul', [xl.name, k]);
        return w('bias') ? g.node('Add', [m, bias(kernel.shape[1])[0]]) : m;
      })();
      return act({ name: y, rank: xl.rank, layout: 'last' });
    }
    case 'BatchNormalization': {
      const ch = inShape[inShape.length - 1];
      const ones = new Float32Array(ch).fill(1);
      const y = g.node('BatchNormalization', [
        g.as(x, 'first').name, g.floats(`${name}/gamma`, [ch], w('gamma')?.data ?? ones), g.floats(`${name}/beta`, [ch], w('beta')?.data ?? new Float32Array(ch)),
        g.floats(`${name}/moving_mean`, [ch], w('moving_mean')!.data), g.floats(`${name}/moving_variance`, [ch], w('moving_variance')!.data),
      ], { epsilon: Number(c.epsilon ?? 1e-3) });
      return { name: y, rank: x.rank, layout: x.rank >= 3 ? 'first' : 'last' };
    }
    case 'LayerNormalization': {
      const xl = g.as(x, 'last');
      const axis = Number(c.axis ?? -1);
      const normalized = inShape.slice((axis < 0 ? axis + inShape.length + 1 : axis) - 1);
      const n = normalized.reduce((a, b) => a * b, 1);
      const scale = g.floats(`${name}/gamma`, normalized, w('gamma')?.data ?? new Float32Array(n).fill(1));
      const shift = g.floats(`${name}/beta`, normalized, w('beta')?.data ?? new Float32Array(n));
      return { name: g.node('LayerNormalization', [xl.name, scale, shift], { axis, epsilon: Number(c.epsilon ?? 1e-3) }), rank: xl.rank, layout: 'last' };
    }
    case 'GroupNormalization': {
      // over [N, positions, G, C/G]: mean and variance over positions and the group's channels
      const xl = g.as(x, 'last');
      const ch = inShape[inShape.length - 1];
      const groups = Number(c.groups ?? 32);
      const shaped = g.node('Reshape', [xl.name, g.ints([0, -1, groups, ch / groups])]);
      const mean = g.node('ReduceMean', [shaped], { axes: [1, 3], keepdims: 1 });
      const centred = g.node('Sub', [shaped, mean]);
      const variance = g.node('ReduceMean', [g.node('Mul', [centred, centred])], { axes: [1, 3], keepdims: 1 });
      const normed = g.node('Div', [centred, g.node('Sqrt', [g.node('Add', [variance, g.scalar(Number(c.epsilon ?? 1e-3))])])]);
      let y = g.node('Reshape', [normed, g.ints([0, ...inShape])]);
      if (w('gamma')) y = g.node('Mul', [y, g.floats(`${name}/gamma`, [ch], w('gamma')!.data)]);
      if (w('beta')) y = g.node('Add', [y, g.floats(`${name}/beta`, [ch], w('beta')!.data)]);
      return { name: y, rank: xl.rank, layout: 'last' };
    }
    case 'Activation':
      return act(x);
    case 'Softmax':
      return activation(g, name, 'softmax', undefined, x);
    case 'ReLU': {
      const max = c.maxValue as number | undefined;
      const slope = Number(c.negativeSlope ?? 0);
      const threshold = Number(c.threshold ?? 0);
      if (slope === 0 && threshold === 0) return max === undefined ? activation(g, name, 'relu', undefined, x) : { ...x, name: g.node('Clip', [x.name, g.scalar(0), g.scalar(max)]) };
      // max if x >= max; x if threshold <= x; slope (x - threshold) below
      const below = g.node('Mul', [g.node('Sub', [x.name, g.scalar(threshold)]), g.scalar(slope)]);
      const above = max === undefined ? x.name : g.node('Min', [x.name, g.scalar(max)]);
      return { ...x, name: g.node('Where', [g.node('GreaterOrEqual', [x.name, g.scalar(threshold)]), above, below]) };
    }
    case 'LeakyReLU':
      return activation(g, name, 'leakyRelu', Number(c.alpha ?? 0.3), x);
    case 'ELU':
      return activation(g, name, 'elu', Number(c.alpha ?? 1), x);
    case 'PReLU': {
      const a = w('alpha')!;
      return { ...x, name: g.node('PRelu', [x.name, g.floats(`${name}/alpha`, channelShape(x, a.size), a.data)]) };
    }
    case 'Dropout':
    case 'SpatialDropout2D':
      return x;
    case 'Flatten': {
      const xl = g.as(x, 'last');
      return { name: g.node('Flatten', [xl.name], { axis: 1 }), rank: 2, layout: 'last' };
    }
    case 'Reshape': {
      const xl = g.as(x, 'last');
      const target = c.targetShape as number[];
      return { name: g.node('Reshape', [xl.name, g.ints([0, ...target])]), rank: target.length + 1, layout: 'last' };
    }
    case 'ZeroPadding2D':
    case 'Cropping2D': {
      const [[t, b], [l, r]] = (cls === 'ZeroPadding2D' ? c.padding : c.cropping) as number[][];
      const xf = g.as(x, 'first');
      if (cls === 'ZeroPadding2D') return { ...xf, name: g.node('Pad', [xf.name, g.ints([0, 0, t, l, 0, 0, b, r])]) };
      const [h, wd] = inShape;
      return { ...xf, name: g.node('Slice', [xf.name, g.ints([t, l]), g.ints([h - b, wd - r]), g.ints([2, 3])]) };
    }
    case 'UpSampling2D': {
      const [sh, sw] = list(c.size ?? 2, 2);
      const xf = g.as(x, 'first');
      const attrs = c.interpolation === 'bilinear' ? { mode: 'linear', coordinate_transformation_mode: 'half_pixel' } : { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
      return { ...xf, name: g.node('Resize', [xf.name, '', g.floats(`${name}/scales`, [4], [1, 1, sh, sw])], attrs) };
    }
    case 'Add':
    case 'Multiply':
    case 'Maximum':
    case 'Minimum':
    case 'Average':
    case 'Subtract': {
      const same = xs.map((v) => g.as(v, xs[0].layout === 'first' || xs[0].rank < 3 ? xs[0].layout : 'last'));
      const op = { Add: 'Sum', Multiply: 'Mul', Maximum: 'Max', Minimum: 'Min', Average: 'Mean', Subtract: 'Sub' }[cls];
      const names = same.map((v) => v.name);
      const y = op === 'Mul' ? names.slice(1).reduce((acc, n) => g.node('Mul', [acc, n]), names[0]) : g.node(op, names);
      return { ...same[0], name: y };
    }
    case 'Concatenate': {
      const rank = x.rank;
      const axisLast = Number(c.axis ?? -1) < 0 ? Number(c.axis ?? -1) + rank : Number(c.axis);
      const first = xs.map((v) => g.as(v, 'first'));
      const axis = rank >= 3 ? toFirst(rank).indexOf(axisLast) : axisLast;
      return { name: g.node('Concat', first.map((v) => v.name), { axis }), rank, layout: 'first' };
    }
    default: {
      const pool = /^(Max|Average)Pooling([123])D$/.exec(cls);
      if (pool) {
        const rank = Number(pool[2]);
        const size = list(c.poolSize ?? 2, rank);
        const strides = list(c.strides ?? c.poolSize ?? 2, rank);
        const xf = g.as(x, 'first');
        const attrs: Json = { kernel_shape: size, strides, pads: pads(c.padding, inShape.slice(0, rank), size, strides, name) };
        if (pool[1] === 'Average') attrs.count_include_pad = 0;
        return { ...xf, name: g.node(pool[1] === 'Max' ? 'MaxPool' : 'AveragePool', [xf.name], attrs) };
      }
      const global = /^Global(Max|Average)Pooling[123]D$/.exec(cls);
      if (global) {
        const xf = g.as(x, 'first');
        const pooled = g.node(global[1] === 'Max' ? 'GlobalMaxPool' : 'GlobalAveragePool', [xf.name]);
        return { name: g.node('Flatten', [pooled], { axis: 1 }), rank: 2, layout: 'last' };
      }
      return refuse(name, `${cls} has no ONNX export`);
    }
  }
}

/** The graph's ValueInfo: float32 with a symbolic batch. */
function valueInfo(name: string, shape: number[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, ...shape.map((d) => ({ dimValue: d }))] } } } };
}

/**
 * The model as an ONNX ModelProto's bytes (see the file comment): inputs and outputs named as the model's, in
 * convkit's layouts, with a symbolic batch size.
 * @throws ConvkitError naming the layer that has no ONNX export.
 */
export function onnxBytes(model: Model): Uint8Array {
  let current = '';
  const g = new GraphBuilder(() => current);
  const config = model.getConfig();
  const values = new Map<string, Value>();
  const key = (r: NodeRef): string => `${r[0]}:${r[1]}`;
  const inputs = model.inputNames.map((n, i) => {
    const shape = [...model.inputs[i].shape];
    values.set(`${n}:0`, { name: g.fresh(n), rank: shape.length + 1, layout: 'last' });
    return valueInfo(n, shape);
  });
  const layersByName = new Map(model.layers.map((l) => [l.name, l]));
  const apply = (l: LayerConfig, refs: NodeRef[], node: number): void => {
    current = String(l.config.name);
    const xs = refs.map((r) => values.get(key(r))!);
    values.set(`${current}:${node}`, exportLayer(g, layersByName.get(current)!, l, xs));
  };
  let outputs: NodeRef[];
  if (config.className === 'Sequential') {
    let prev: NodeRef = [model.inputNames[0], 0, 0];
    for (const l of config.layers) {
      apply(l, [prev], 0);
      prev = [String(l.config.name), 0, 0];
    }
    outputs = [prev];
  } else {
    // layers in the model's run order: every reference exists before its use
    const pending = config.layers.flatMap((l) => (l.className === 'InputLayer' ? [] : (l.inboundNodes ?? []).map((refs, k) => ({ l, refs, k }))));
    while (pending.length > 0) {
      const i = pending.findIndex((p) => p.refs.every((r) => values.has(key(r))));
      if (i < 0) throw new ConvkitError('exportOnnx: the model graph has a node whose inputs never exist', 'exportOnnx');
      const [{ l, refs, k }] = pending.splice(i, 1);
      apply(l, refs, k);
    }
    outputs = config.outputLayers!;
  }
  current = 'output';
  const outputInfos = outputs.map((r, i) => {
    const v = g.as(values.get(key(r))!, 'last');
    const name = model.outputNames[i];
    g.node('Identity', [v.name], {}, name);
    return valueInfo(name, [...model.outputs[i].shape]);
  });
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'convkit',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: { name: config.name, node: g.nodes, initializer: g.initializers, input: inputs, output: outputInfos },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/**
 * Writes the model as an ONNX file (opset 17) that onnxruntime and other ONNX runtimes run: inputs and outputs in
 * convkit's layouts (NHWC), batch size free. The file appears whole or not at all.
 * @example await model.exportOnnx('out/net.onnx')
 * @throws ConvkitError naming the layer that has no ONNX export.
 */
export async function exportOnnx(model: Model, path: string): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new ConvkitError(`exportOnnx: expected a file path but received ${describe(path)}`, 'exportOnnx');
  const bytes = onnxBytes(model);
  const tmp = join(dirname(path), freshName('.convkit-onnx-'));
  try {
    await writeDurably(tmp, bytes);
    await rename(tmp, path);
    await syncDir(dirname(path));
  } finally {
    await rm(tmp, { force: true });
  }
}
