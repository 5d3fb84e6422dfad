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
