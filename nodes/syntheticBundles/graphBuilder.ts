/**
 * A tiny ONNX graph builder over onnx-proto (opset 17, IR 8): named nodes, float/int64 initialisers,
 * value infos with fixed or symbolic dims. Used by the demo bundle generator and by tests that build faulty graphs.
 */
import { DTYPES, onnx } from '../bundle/onnxProto.js';
import type { onnx as O } from 'onnx-proto';
import type { DType } from '../bundle/onnxProto.js';
import { toFloat16 } from '../ar1/float16.js';

export type Dim = number | string;
export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: Dim[];
}

/** An attribute value, tagged by its ONNX kind. */
export type Attr =
  { i: number } | { f: number } | { ints: number[] } | { floats: number[] } | { s: string } | { g: O.IGraphProto };

export class GraphBuilder {
  readonly nodes: O.INodeProto[] = [];
  readonly initializers: O.ITensorProto[] = [];
  #counter = 0;

  /** prefix keeps a subgraph's internal names apart from its outer graph's (ONNX forbids shadowing). */
  constructor(
    readonly name: string,
    readonly prefix = '',
  ) {}

  /** A fresh internal tensor name. */
  fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.#counter++}`;
  }

  /** Adds a node with several outputs (TopK, Loop, …); returns their names. */
  opN(opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): string[] {
    const out = this.op(opType, inputs, attrs, outputs[0]);
    this.nodes[this.nodes.length - 1]!.output = [out, ...outputs.slice(1)];
    return [out, ...outputs.slice(1)];
  }

  /** Adds a node; returns its output name. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    const A = onnx.AttributeProto.AttributeType;
    const attribute: O.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => {
      if ('i' in v) return { name, type: A.INT, i: v.i };
      if ('f' in v) return { name, type: A.FLOAT, f: v.f };
      if ('ints' in v) return { name, type: A.INTS, ints: v.ints };
      if ('floats' in v) return { name, type: A.FLOATS, floats: v.floats };
      if ('g' in v) return { name, type: A.GRAPH, g: v.g };
      return { name, type: A.STRING, s: new TextEncoder().encode(v.s) };
    });
    this.nodes.push({ opType, input: inputs, output: [out], name: this.fresh(`n_${opType}`), attribute });
    return out;
  }

  /** A float32 constant (initialiser). */
  float(data: ArrayLike<number>, dims: number[], hint = 'w'): string {
    const name = this.fresh(hint);
    const arr = Float32Array.from(data as ArrayLike<number>);
    if (arr.length !== dims.reduce((a, b) => a * b, 1))
      throw new RangeError(`${hint}: ${arr.length} values for dims [${dims}]`);
    this.initializers.push({ name, dataType: DTYPES.float32, dims, rawData: new Uint8Array(arr.buffer) });
    return name;
  }

  /** A float16 constant (initialiser), stored as binary16 bits. */
  float16(data: ArrayLike<number>, dims: number[], hint = 'h'): string {
    const name = this.fresh(hint);
    const arr = toFloat16(data);
    if (arr.length !== dims.reduce((a, b) => a * b, 1))
      throw new RangeError(`${hint}: ${arr.length} values for dims [${dims}]`);
    this.initializers.push({ name, dataType: DTYPES.float16, dims, rawData: new Uint8Array(arr.buffer) });
    return name;
  }

  /** An int64 constant (initialiser). */
  int64(data: number[], dims: number[], hint = 'i'): string {
    const name = this.fresh(hint);
    const arr = BigInt64Array.from(data.map((v) => BigInt(v)));
    this.initializers.push({ name, dataType: DTYPES.int64, dims, rawData: new Uint8Array(arr.buffer) });
    return name;
  }

  /** A float scalar constant. */
  scalar(v: number): string {
    return this.float([v], [], 'c');
  }

  /** Encodes the model with the given graph inputs/outputs. */
  encode(inputs: TensorSpec[], outputs: TensorSpec[], docString = ''): Uint8Array {
    return onnx.ModelProto.encode(this.model(inputs, outputs, this.initializers, docString)).finish();
  }

  /** Encodes the model with its large initialisers in an external data file (see moveToExternalData). */
  encodeExternal(
    inputs: TensorSpec[],
    outputs: TensorSpec[],
    dataFile: string,
    docString = '',
    minBytes = 1024,
  ): { model: Uint8Array; data: Uint8Array } {
    return moveToExternalData(this.encode(inputs, outputs, docString), dataFile, minBytes);
  }

  /** A subgraph (Loop/If body) from this builder's nodes and initialisers. */
  subgraph(inputs: TensorSpec[], outputs: TensorSpec[]): O.IGraphProto {
    return {
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: inputs.map(valueInfo),
      output: outputs.map(valueInfo),
    };
  }

  private model(
    inputs: TensorSpec[],
    outputs: TensorSpec[],
    initializer: O.ITensorProto[],
    docString: string,
  ): O.IModelProto {
    return {
      irVersion: 8,
      producerName: 'ar1-ros make-demo',
      opsetImport: [{ domain: '', version: 17 }],
      docString,
      graph: {
        name: this.name,
        node: this.nodes,
        initializer,
        input: inputs.map(valueInfo),
        output: outputs.map(valueInfo),
      },
    };
  }
}

function valueInfo(t: TensorSpec): O.IValueInfoProto {
  return {
    name: t.name,
    type: {
      tensorType: {
        elemType: DTYPES[t.dtype],
        shape: { dim: t.shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/**
 * Moves every main-graph initialiser of at least minBytes of raw data into one external data file (ONNX external
 * data: location, offset, length; 64-byte aligned), as exporters do for weights beyond protobuf's 2 GB limit.
 * Returns the new .onnx bytes and the data file's bytes; the caller writes the data as `dataFile` beside the graph.
 */
export function moveToExternalData(
  modelBytes: Uint8Array,
  dataFile: string,
  minBytes = 1024,
): { model: Uint8Array; data: Uint8Array } {
  const m = onnx.ModelProto.decode(modelBytes);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (const t of m.graph?.initializer ?? []) {
    const raw = t.rawData;
    if (!raw || raw.length < minBytes) continue;
    const pad = (64 - (size % 64)) % 64;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      size += pad;
    }
    const offset = size;
    chunks.push(raw);
    size += raw.length;
    delete (t as { rawData?: Uint8Array }).rawData;
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      onnx.StringStringEntryProto.create({ key: 'location', value: dataFile }),
      onnx.StringStringEntryProto.create({ key: 'offset', value: String(offset) }),
      onnx.StringStringEntryProto.create({ key: 'length', value: String(raw.length) }),
    ];
  }
  const data = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return { model: onnx.ModelProto.encode(m).finish(), data };
}
