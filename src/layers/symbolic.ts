/**
 * The symbolic side of layers: what `layer.apply(x)` takes and returns. A SymbolicTensor stands for a tensor a
 * model will compute (shape without the batch axis, dtype, and the node that produces it); a LayerNode is one
 * application of a layer. Models are graphs of nodes, traced back from their outputs.
 */
import type { DType } from '../tensor.js';
import type { Layer } from './layer.js';

/** A tensor a model will compute: its shape (no batch axis), dtype, and the node that produces it. */
export class SymbolicTensor {
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly node: LayerNode,
  ) {}

  /** `layer_name` for a layer's first application, `layer_name_2` for its second, and so on. */
  get name(): string {
    return this.node.index === 0 ? this.node.layer.name : `${this.node.layer.name}_${this.node.index + 1}`;
  }

  toString(): string {
    return `SymbolicTensor(${this.name}, [null, ${this.shape.join(', ')}], ${this.dtype})`;
  }
}

/** One application of a layer: its inputs and its output. `index` counts the layer's applications. */
export class LayerNode {
  readonly output: SymbolicTensor;

  constructor(
    readonly layer: Layer,
    readonly index: number,
    readonly inputs: readonly SymbolicTensor[],
    outputShape: readonly number[],
    dtype: DType,
  ) {
    this.output = new SymbolicTensor(Object.freeze([...outputShape]), dtype, this);
  }
}
