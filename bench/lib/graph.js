// A convkit model as the contenders are built from it: its layers in run order, each with its class, config,
// input layer names, shapes (NHWC, no batch axis) and weights, so tfjs, onnxruntime and PyTorch run the very
// same network with the very same numbers.

/** @returns {{ name: string, inputShape: number[], output: string, layers: GraphLayer[] }} */
export function describeGraph(model) {
  const config = model.getConfig();
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const layers = config.layers.map(({ className, config: c, inboundNodes }, i) => {
    const layer = byName.get(c.name);
    // Sequential configs list layers without inbound nodes: each reads the one before
    const inputs = inboundNodes ? (inboundNodes[0] ?? []).map(([name]) => name) : i === 0 ? ['input'] : [config.layers[i - 1].config.name];
    return {
      name: c.name,
      className,
      config: c,
      inputs,
      inputShapes: className === 'InputLayer' ? [] : layer.inputShapes,
      outputShape: layer.outputShape,
      weights: Object.fromEntries(layer.params().map((p) => [p.name.split('/').at(-1), { shape: p.value.shape, data: Float32Array.from(p.value.data) }])),
    };
  });
  if (!config.layers[0] || config.layers[0].className !== 'InputLayer') {
    layers.unshift({ name: 'input', className: 'InputLayer', config: { name: 'input' }, inputs: [], inputShapes: [], outputShape: model.inputShape, weights: {} });
  }
  return { name: model.name, inputShape: model.inputShape, output: model.outputNames[0], layers };
}

/** Forward FLOPs per image (2 per multiply-add, convolutions and dense layers only). */
export function forwardFlops(graph) {
  let flops = 0;
  for (const l of graph.layers) {
    if (l.className === 'Conv2D') {
      const [kh, kw, ciPerGroup, co] = l.weights.kernel.shape;
      const [oh, ow] = l.outputShape;
      flops += 2 * oh * ow * co * kh * kw * ciPerGroup;
    } else if (l.className === 'Dense') {
      const [k, n] = l.weights.kernel.shape;
      flops += 2 * k * n;
    }
  }
  return flops;
}

/** TF 'same' padding of one spatial axis: [before, after] (an odd extra goes after). */
export function samePads(inSize, k, stride, dilation = 1) {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (k - 1) * dilation + 1 - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** A layer's padding as [top, bottom, left, right]. */
export function convPads(l) {
  const [kh, kw] = l.weights.kernel?.shape ?? pair(l.config.poolSize);
  const [sh, sw] = pair(l.config.strides ?? l.config.poolSize);
  const [dh, dw] = pair(l.config.dilationRate ?? 1);
  if (l.config.padding === 'valid') return [0, 0, 0, 0];
  if (l.config.padding !== 'same') throw new Error(`bench graph: ${l.name}: padding ${JSON.stringify(l.config.padding)} is not supported here`);
  const [h, w] = l.inputShapes[0];
  return [...samePads(h, kh, sh, dh), ...samePads(w, kw, sw, dw)];
}

export const pair = (v) => (Array.isArray(v) ? v : [v, v]);

/** NHWC → NCHW copy of a [n, h, w, c] tensor's data. */
export function toNchw(x) {
  const [n, h, w, c] = x.shape;
  const out = new Float32Array(x.size);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let ch = 0; ch < c; ch++) out[((i * c + ch) * h + y) * w + z] = x.data[((i * h + y) * w + z) * c + ch];
  return out;
}

/**
 * A dense kernel that reads a flattened NHWC feature map, with its rows reordered to read the NCHW
 * flattening instead (ONNX's Flatten and PyTorch's flatten of an NCHW tensor).
 */
export function chwRows(kernel, [h, w, c]) {
  const [rows, cols] = kernel.shape;
  const data = new Float32Array(rows * cols);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    const from = (y * w + x) * c + ch;
    const to = (ch * h + y) * w + x;
    data.set(kernel.data.subarray(from * cols, (from + 1) * cols), to * cols);
  }
  return { shape: [rows, cols], data };
}

/** The largest |a - b| over the largest |b|. */
export function maxRelDiff(a, b) {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}
