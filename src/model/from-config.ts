/**
 * Rebuilding a model from its config (model.json's modelConfig): a Sequential from its layer list, a graph
 * model by applying each layer to the outputs its inbound nodes name.
 */
import { describe, fail } from '../errors.js';
import { layerFromConfig } from '../layers/index.js';
import type { Layer, LayerConfig, WeightSource } from '../layers/layer.js';
import type { SymbolicTensor } from '../layers/symbolic.js';
import { Model, type ModelConfig, type NodeRef } from './model.js';
import { Sequential } from './sequential.js';

const where = 'modelFromConfig';

function checkRef(v: unknown, field: string): NodeRef {
  if (!Array.isArray(v) || v.length !== 3 || typeof v[0] !== 'string' || !Number.isInteger(v[1]) || v[1] < 0 || v[2] !== 0) {
    fail(where, `${field} as [layer name, node index, 0]`, describe(v));
  }
  return v as NodeRef;
}

/**
 * The model a config describes, with weights from `weights` when given (else initialized).
 * @throws ConvkitError naming the layer or reference that does not fit.
 */
export function modelFromConfig(config: ModelConfig, weights?: WeightSource): Model {
  if (config.className === undefined || config.className === 'Sequential') {
    return new Sequential(config.layers.map((c) => layerFromConfig(c)), { dtype: config.dtype, seed: config.seed, name: config.name, weights });
  }
  if (config.className !== 'Functional') fail(where, "className 'Sequential' or 'Functional'", describe(config.className));
  const byName = new Map<string, Layer>();
  const inbound = new Map<Layer, NodeRef[][]>();
  config.layers.forEach((c, i) => {
    const layer = layerFromConfig({ className: c.className, config: c.config } as LayerConfig);
    if (byName.has(layer.name)) fail(where, `unique layer names (layers[${i}])`, `'${layer.name}' twice`);
    byName.set(layer.name, layer);
    const nodes = c.inboundNodes ?? [];
    if (!Array.isArray(nodes)) fail(where, `layers[${i}].inboundNodes as an array`, describe(nodes));
    inbound.set(layer, nodes.map((refs, k) => {
      if (!Array.isArray(refs)) fail(where, `layers[${i}].inboundNodes[${k}] as an array of references`, describe(refs));
      return refs.map((r, j) => checkRef(r, `layers[${i}].inboundNodes[${k}][${j}]`));
    }));
  });
  const tensor = (ref: NodeRef): SymbolicTensor | undefined => byName.get(ref[0])?.nodes[ref[1]]?.output;
  // Apply every layer once each node's inputs exist, in passes (a config may list layers in any order).
  const pending = [...inbound.entries()].flatMap(([layer, nodes]) => nodes.map((refs, k) => ({ layer, refs, k })));
  while (pending.length > 0) {
    const ready = pending.findIndex((p) => p.layer.nodes.length === p.k && p.refs.every((r) => tensor(r)));
    if (ready < 0) {
      const p = pending[0];
      const missing = p.refs.find((r) => !tensor(r));
      return fail(where, `inbound nodes that exist (${p.layer.where}, node ${p.k})`, missing ? `a reference to ${JSON.stringify(missing)}` : 'nodes out of order');
    }
    const [{ layer, refs }] = pending.splice(ready, 1);
    const xs = refs.map((r) => tensor(r)!);
    layer.apply(layer.arity === 1 ? xs[0] : xs);
  }
  const ends = (refs: unknown, field: string): SymbolicTensor[] => {
    if (!Array.isArray(refs) || refs.length === 0) fail(where, `${field} as a non-empty array of references`, describe(refs));
    return refs.map((r, i) => {
      const t = tensor(checkRef(r, `${field}[${i}]`));
      if (!t) fail(where, `${field}[${i}] to name a layer's node`, describe(r));
      return t;
    });
  };
  return new Model({ inputs: ends(config.inputLayers, 'inputLayers'), outputs: ends(config.outputLayers, 'outputLayers'), name: config.name, seed: config.seed }, { weights });
}
