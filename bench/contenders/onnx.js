// onnxruntime-node contender: encodes a small sequential CNN as an ONNX ModelProto (protobuf written by
// hand: only the handful of fields Conv/Relu/MaxPool/Flatten/Gemm need) and runs it with the CPU provider.
import { createRequire } from 'node:module';

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

/**
 * layers: [{type:'conv', filter: Float32Array HWIO, shape:[kh,kw,ci,co], bias, pads:[t,l,b,r], strides:[h,w], relu},
 *          {type:'maxpool', size, stride}, {type:'flatten'}, {type:'dense', kernel: Float32Array [in,out], shape, bias, relu}]
 * Input is NCHW [N, C, H, W] (ONNX's layout); conv filters are converted from HWIO to OIHW here.
 */
export function encodeModel(layers, inputChw) {
  const nodes = [];
  const inits = [];
  let cur = 'input';
  layers.forEach((l, i) => {
    const out = `t${i}`;
    if (l.type === 'conv') {
      const [kh, kw, ci, co] = l.shape;
      const oihw = new Float32Array(l.filter.length);
      for (let h = 0; h < kh; h++) for (let w = 0; w < kw; w++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) oihw[((o * ci + c) * kh + h) * kw + w] = l.filter[((h * kw + w) * ci + c) * co + o];
      inits.push(initializer(`w${i}`, [co, ci, kh, kw], oihw), initializer(`b${i}`, [co], l.bias));
      nodes.push(node('Conv', [cur, `w${i}`, `b${i}`], [out], { kernel_shape: [kh, kw], pads: l.pads, strides: l.strides }));
    } else if (l.type === 'maxpool') {
      nodes.push(node('MaxPool', [cur], [out], { kernel_shape: [l.size, l.size], strides: [l.stride, l.stride] }));
    } else if (l.type === 'flatten') {
      nodes.push(node('Flatten', [cur], [out], { axis: 1 }));
    } else if (l.type === 'dense') {
      inits.push(initializer(`w${i}`, l.shape, l.kernel), initializer(`b${i}`, [l.shape[1]], l.bias));
      nodes.push(node('Gemm', [cur, `w${i}`, `b${i}`], [out]));
    }
    cur = out;
    if (l.relu) {
      nodes.push(node('Relu', [cur], [`${out}r`]));
      cur = `${out}r`;
    }
  });
  const graph = [...nodes, str(2, 'convkit-bench'), ...inits, valueInfo(11, 'input', ['N', ...inputChw]), valueInfo(12, cur, ['N', 'K'])];
  const model = [...int(1, 8), ...str(2, 'convkit-bench'), ...msg(7, graph), ...msg(8, [str(1, ''), int(2, 13)])];
  return { bytes: Uint8Array.from(model), output: cur };
}

/** An onnxruntime-node session for the model, or undefined (with the reason printed) if it cannot load. */
export async function onnxSession(layers, inputChw, threads) {
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    console.log(`onnxruntime-node unavailable (${e.message.split('\n')[0]}); run 'npm install' in bench/`);
    return undefined;
  }
  const { bytes, output } = encodeModel(layers, inputChw);
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
