// onnxruntime-node contender: encodes a described convkit graph (lib/graph.js) as an ONNX ModelProto
// (protobuf written by hand: only the fields its handful of ops need) and runs it with the CPU provider.
import { createRequire } from 'node:module';
import { chwRows, convPads, pair } from '../lib/graph.js';

const require = createRequire(import.meta.url);

// ---- protobuf wire format: varints, length-delimited fields, fixed32 floats
const varint = (n) => {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};
const key = (field, wire) => varint((field << 3) | wire);
const int = (field, n) => [...key(field, 0), ...varint(n)];
const bytes = (field, data) => [...key(field, 2), ...varint(data.length), ...data];
const str = (field, s) => bytes(field, [...Buffer.from(s, 'utf8')]);
const msg = (field, parts) => bytes(field, parts.flat());
const float32 = (field, f) => [...key(field, 5), ...new Uint8Array(new Float32Array([f]).buffer)];

const ATTR = { FLOAT: 1, INT: 2, INTS: 7 };
function attribute(name, value) {
  if (Array.isArray(value)) return msg(5, [str(1, name), int(20, ATTR.INTS), ...value.map((v) => int(8, v))]);
  if (Number.isInteger(value)) return msg(5, [str(1, name), int(20, ATTR.INT), int(3, value)]);
  return msg(5, [str(1, name), int(20, ATTR.FLOAT), float32(2, value)]);
}
const node = (op, inputs, outputs, attrs = {}) =>
  msg(1, [...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, outputs[0]), str(4, op), ...Object.entries(attrs).map(([k, v]) => attribute(k, v))]);
const initializer = (name, dims, data) =>
  msg(5, [...dims.map((d) => int(1, d)), int(2, 1), str(8, name), bytes(9, [...new Uint8Array(Float32Array.from(data).buffer)])]);
const valueInfo = (field, name, dims) =>
  msg(field, [str(1, name), msg(2, [msg(1, [int(1, 1), msg(2, dims.map((d) => (typeof d === 'string' ? msg(1, [str(2, d)]) : msg(1, [int(1, d)]))))])])]);

/** The ONNX pads attribute ([top, left, bottom, right]) of a convkit layer's padding. */
function onnxPads(l) {
  const [t, b, left, r] = convPads(l);
  return [t, left, b, r];
}

/**
 * An ONNX ModelProto (opset 13) for a described convkit graph (lib/graph.js): NCHW input [N, C, H, W], one
 * output. Conv filters go from HWIO to OIHW; batch normalization is ONNX's inference-mode op (onnxruntime
 * folds it into the convolution before it, as its graph optimizer does for any imported model).
 */
export function encodeGraph(graph) {
  const nodes = [];
  const inits = [];
  const name = new Map(); // layer name → its output value's name
  const activation = (l, value) => {
    const act = l.config.activation ?? 'linear';
    if (act === 'linear') return value;
    if (act !== 'relu') throw new Error(`onnx contender: ${l.name}: activation ${act} is not encoded`);
    nodes.push(node('Relu', [value], [`${value}_relu`]));
    return `${value}_relu`;
  };
  for (const l of graph.layers) {
    const ins = l.inputs.map((n) => name.get(n));
    const out = l.name;
    let value = out;
    switch (l.className) {
      case 'InputLayer':
        value = 'input';
        break;
      case 'Conv2D': {
        const k = l.weights.kernel;
        const [kh, kw, ci, co] = k.shape;
        const oihw = new Float32Array(k.data.length);
        for (let h = 0; h < kh; h++) for (let w = 0; w < kw; w++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) oihw[((o * ci + c) * kh + h) * kw + w] = k.data[((h * kw + w) * ci + c) * co + o];
        inits.push(initializer(`${out}/kernel`, [co, ci, kh, kw], oihw));
        const args = [ins[0], `${out}/kernel`];
        if (l.weights.bias) {
          inits.push(initializer(`${out}/bias`, [co], l.weights.bias.data));
          args.push(`${out}/bias`);
        }
        nodes.push(node('Conv', args, [out], { kernel_shape: [kh, kw], pads: onnxPads(l), strides: pair(l.config.strides), dilations: pair(l.config.dilationRate), group: l.config.groups }));
        value = activation(l, out);
        break;
      }
      case 'BatchNormalization': {
        const w = l.weights;
        const c = l.outputShape.at(-1);
        const vec = (key, fill) => (w[key] ? w[key].data : new Float32Array(c).fill(fill));
        for (const [key, fill] of [['gamma', 1], ['beta', 0], ['moving_mean', 0], ['moving_variance', 1]]) inits.push(initializer(`${out}/${key}`, [c], vec(key, fill)));
        nodes.push(node('BatchNormalization', [ins[0], `${out}/gamma`, `${out}/beta`, `${out}/moving_mean`, `${out}/moving_variance`], [out], { epsilon: l.config.epsilon }));
        break;
      }
      case 'Activation':
        value = activation(l, ins[0]);
        break;
      case 'Dropout': // the identity at inference
        value = ins[0];
        break;
      case 'Add':
        nodes.push(node('Add', ins, [out]));
        break;
      case 'MaxPooling2D': {
        const size = pair(l.config.poolSize);
        nodes.push(node('MaxPool', [ins[0]], [out], { kernel_shape: size, strides: pair(l.config.strides ?? l.config.poolSize), pads: onnxPads(l) }));
        break;
      }
      case 'GlobalAveragePooling2D':
        nodes.push(node('GlobalAveragePool', [ins[0]], [`${out}_nc11`]), node('Flatten', [`${out}_nc11`], [out], { axis: 1 }));
        break;
      case 'Flatten':
        nodes.push(node('Flatten', [ins[0]], [out], { axis: 1 }));
        break;
      case 'Dense': {
        let k = l.weights.kernel;
        const before = graph.layers.find((x) => x.name === l.inputs[0]);
        if (before.className === 'Flatten' && before.inputShapes[0].length === 3) k = chwRows(k, before.inputShapes[0]);
        inits.push(initializer(`${out}/kernel`, k.shape, k.data), initializer(`${out}/bias`, [k.shape[1]], l.weights.bias.data));
        nodes.push(node('Gemm', [ins[0], `${out}/kernel`, `${out}/bias`], [out]));
        value = activation(l, out);
        break;
      }
      default:
        throw new Error(`onnx contender: layer ${l.name} (${l.className}) is not encoded`);
    }
    name.set(l.name, value);
  }
  const [h, w, c] = graph.inputShape;
  const output = name.get(graph.output);
  const g = [...nodes.flat(), ...str(2, 'convkit-bench'), ...inits.flat(), ...valueInfo(11, 'input', ['N', c, h, w]), ...valueInfo(12, output, ['N', 'K'])];
  const model = [...int(1, 8), ...str(2, 'convkit-bench'), ...msg(7, g), ...msg(8, [str(1, ''), int(2, 13)])];
  return { bytes: Uint8Array.from(model), output, inputChw: [c, h, w] };
}

/** An onnxruntime-node session for the model, or undefined (with the reason printed) if it cannot load. */
export async function onnxSession(graph, threads) {
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    console.log(`onnxruntime-node unavailable (${e.message.split('\n')[0]}); run 'npm install' in bench/`);
    return undefined;
  }
  const { bytes, output, inputChw } = encodeGraph(graph);
  // Its idle intra-op threads would otherwise spin for a while after each run, on the cores convkit then uses:
  // measured here, a convkit predict right after an onnxruntime run took 76 ms instead of 54. Without spinning
  // onnxruntime's own runs were no slower (11.6-12.5 ms either way).
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  return {
    async run(nchw, n) {
      const res = await session.run({ input: new ort.Tensor('float32', nchw, [n, ...inputChw]) });
      return res[output].data;
    },
  };
}
