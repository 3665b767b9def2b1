/**
 * Reads what bundle verification needs from an ONNX file without holding its weights in memory: the graph's
 * inputs and outputs, the initialiser names, and every initialiser's external-data reference (file, offset,
 * length). The protobuf is walked field by field with positional reads; initialiser payloads (raw_data,
 * float_data, …) are skipped by seeking, so a graph with 2 GB of inline weights costs a few kilobytes of JS memory.
 * Only the small ValueInfoProto messages are decoded whole (with onnx-proto).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { dtypeName, onnx } from './onnxProto.js';
import type { Dim, TensorSpec } from '../syntheticBundles/graphBuilder.js';
import type { onnx as O } from 'onnx-proto';

export interface ExternalRef {
  /** Initialiser name. */
  tensor: string;
  /** `location` key: a file path relative to the graph's directory. */
  location: string;
  offset: number;
  /** Bytes; undefined when the reference gives none (the rest of the file). */
  length: number | undefined;
}

export interface GraphFileInfo {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Initialisers stored outside the .onnx file. */
  external: ExternalRef[];
  /** Count of initialisers (inline + external). */
  initializers: number;
}

/** Thrown for bytes that are not a well-formed ONNX protobuf; the caller names the file. */
export class GraphFileError extends Error {}

// Field numbers (onnx.proto).
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5,
  GRAPH_INPUT = 11,
  GRAPH_OUTPUT = 12;
const TENSOR_NAME = 8,
  TENSOR_EXTERNAL_DATA = 13,
  TENSOR_DATA_LOCATION = 14;
const ENTRY_KEY = 1,
  ENTRY_VALUE = 2;
const LEN = 2,
  VARINT = 0,
  I64 = 1,
  I32 = 5;

/** Positional reader with a small window buffer. */
class Reader {
  readonly #buf = Buffer.allocUnsafe(64 * 1024);
  #bufStart = 0;
  #bufEnd = 0;
  constructor(
    readonly fd: number,
    readonly size: number,
  ) {}

  byte(pos: number): number {
    if (pos >= this.size) throw new GraphFileError(`unexpected end of file at byte ${pos}`);
    if (pos < this.#bufStart || pos >= this.#bufEnd) {
      const n = readSync(this.fd, this.#buf, 0, this.#buf.length, pos);
      this.#bufStart = pos;
      this.#bufEnd = pos + n;
    }
    return this.#buf[pos - this.#bufStart]!;
  }

  /** Varint at pos → [value, next position]. Values above 2^53 lose precision (never the case for lengths here). */
  varint(pos: number): [number, number] {
    let v = 0,
      mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(pos++);
      v += (b & 0x7f) * mul;
      if (b < 0x80) return [v, pos];
      mul *= 128;
    }
    throw new GraphFileError(`malformed varint before byte ${pos}`);
  }

  bytes(start: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    let at = 0;
    while (at < out.length) {
      const n = readSync(this.fd, out, at, out.length - at, start + at);
      if (n === 0) throw new GraphFileError(`unexpected end of file at byte ${start + at}`);
      at += n;
    }
    return out;
  }

  /** The fields of the message in [start, end): field number, wire type, and the payload range (LEN) or value. */
  *fields(
    start: number,
    end: number,
  ): Generator<{ field: number; wire: number; from: number; to: number; value: number }> {
    let pos = start;
    while (pos < end) {
      const [tag, p1] = this.varint(pos);
      const field = Math.floor(tag / 8),
        wire = tag % 8;
      if (field === 0) throw new GraphFileError(`field number 0 at byte ${pos}`);
      let from = p1,
        to: number,
        value = 0;
      if (wire === VARINT) [value, to] = this.varint(p1);
      else if (wire === I64) to = p1 + 8;
      else if (wire === I32) to = p1 + 4;
      else if (wire === LEN) {
        const [len, p2] = this.varint(p1);
        from = p2;
        to = p2 + len;
      } else throw new GraphFileError(`unsupported wire type ${wire} at byte ${pos}`);
      if (to > end) throw new GraphFileError(`field ${field} runs past the end of its message (byte ${to} > ${end})`);
      yield { field, wire, from, to, value };
      pos = to;
    }
  }
}

/** Walks path's ModelProto. Throws GraphFileError on malformed protobuf and on a model without a graph. */
export function readGraphFile(path: string): GraphFileInfo {
  const fd = openSync(path, 'r');
  try {
    const r = new Reader(fd, fstatSync(fd).size);
    let graph: [number, number] | undefined;
    for (const f of r.fields(0, r.size)) if (f.field === MODEL_GRAPH && f.wire === LEN) graph = [f.from, f.to];
    if (!graph) throw new GraphFileError('no graph');
    const inputs: O.IValueInfoProto[] = [];
    const outputs: O.IValueInfoProto[] = [];
    const initNames = new Set<string>();
    const external: ExternalRef[] = [];
    for (const f of r.fields(graph[0], graph[1])) {
      if (f.wire !== LEN) continue;
      if (f.field === GRAPH_INPUT || f.field === GRAPH_OUTPUT) {
        const v = onnx.ValueInfoProto.decode(r.bytes(f.from, f.to));
        (f.field === GRAPH_INPUT ? inputs : outputs).push(v);
      } else if (f.field === GRAPH_INITIALIZER) {
        const t = readInitializer(r, f.from, f.to);
        initNames.add(t.name);
        if (t.external) external.push({ tensor: t.name, ...t.external });
      }
    }
    return {
      inputs: inputs.filter((v) => !initNames.has(v.name ?? '')).map(spec),
      outputs: outputs.map(spec),
      external,
      initializers: initNames.size,
    };
  } finally {
    closeSync(fd);
  }
}

function readInitializer(
  r: Reader,
  start: number,
  end: number,
): { name: string; external?: Omit<ExternalRef, 'tensor'> } {
  let name = '';
  let externalLocation = false;
  const entries: Record<string, string> = {};
  for (const f of r.fields(start, end)) {
    if (f.field === TENSOR_NAME && f.wire === LEN) name = r.bytes(f.from, f.to).toString('utf8');
    else if (f.field === TENSOR_DATA_LOCATION && f.wire === VARINT) externalLocation = f.value === 1;
    else if (f.field === TENSOR_EXTERNAL_DATA && f.wire === LEN) {
      let key = '',
        value = '';
      for (const e of r.fields(f.from, f.to)) {
        if (e.wire !== LEN) continue;
        if (e.field === ENTRY_KEY) key = r.bytes(e.from, e.to).toString('utf8');
        if (e.field === ENTRY_VALUE) value = r.bytes(e.from, e.to).toString('utf8');
      }
      entries[key] = value;
    }
  }
  if (!externalLocation) return { name };
  const num = (k: string): number | undefined => (entries[k] === undefined ? undefined : Number(entries[k]));
  return { name, external: { location: entries.location ?? '', offset: num('offset') ?? 0, length: num('length') } };
}

function spec(v: O.IValueInfoProto): TensorSpec {
  const tt = v.type?.tensorType;
  const shape: Dim[] = (tt?.shape?.dim ?? []).map((d) =>
    d.dimParam ? d.dimParam : d.dimValue != null ? Number(d.dimValue) : '?',
  );
  return { name: v.name ?? '', dtype: dtypeName(tt?.elemType ?? 0) as TensorSpec['dtype'], shape };
}
