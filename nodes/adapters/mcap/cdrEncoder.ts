/**
 * CDR encoding of the messages replay and sim record, compiled once per type. The general encoder
 * (@foxglove/rosmsg2-serialization's MessageWriter) looks every field's definition and writer up again for every
 * message and walks each message twice (size, then bytes); on a null-engine replay that was a quarter of the time.
 *
 * A compiled encoder writes the same bytes (little-endian CDR, the same alignment, padding and array rules) for a
 * well-formed message: every field present with its JavaScript type, ASCII strings, arrays of the declared length.
 * Anything else (a missing field the general encoder fills with its default, a non-ASCII string the bag writer
 * escapes first, an int64 given as a number, a typed array of another element type, a wstring) makes it give up, and the
 * caller uses the general path for that message: both paths give the same bytes (test/adapters/mcap/cdrEncoder.test.ts).
 */
import { bundledDefinition, shortTypeName, type MessageDefinitionField } from './definitions.js';

/** Thrown inside an encoder when a message is not on the compiled path (so is any other error: the general path decides). */
const OFF_PATH = new Error('off the compiled CDR path');

/** The output buffer, reused from message to message; only [0, offset) is ever copied out. */
class Output {
  bytes = new Uint8Array(64 * 1024);
  view = new DataView(this.bytes.buffer);
  offset = 0;

  reserve(n: number): void {
    if (this.offset + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.offset + n));
    grown.set(this.bytes.subarray(0, this.offset));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Zero padding up to a multiple of `size` from the end of the 4-byte encapsulation header, then room for n. */
  align(size: number, n: number): void {
    const misaligned = (this.offset - 4) % size;
    const pad = misaligned > 0 ? size - misaligned : 0;
    this.reserve(pad + n);
    for (let i = 0; i < pad; i++) this.bytes[this.offset++] = 0;
  }

  uint32(v: number): void {
    this.align(4, 4);
    this.view.setUint32(this.offset, v, true);
    this.offset += 4;
  }

  /** An ASCII string: length with the terminator, the characters, NUL. */
  string(v: unknown): void {
    if (typeof v !== 'string') throw OFF_PATH;
    const n = v.length;
    this.uint32(n + 1);
    this.reserve(n + 1);
    const b = this.bytes;
    let o = this.offset;
    for (let i = 0; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c > 0x7f) throw OFF_PATH;
      b[o++] = c;
    }
    b[o++] = 0;
    this.offset = o;
  }
}

type FieldWriter = (value: unknown, out: Output) => void;
type StructWriter = (message: Record<string, unknown>, out: Output) => void;

interface Scalar {
  size: number;
  write: (view: DataView, offset: number, v: number) => void;
  array: new (v: ArrayLike<number>) => ArrayLike<number> & ArrayBufferView;
}

const SCALARS: Record<string, Scalar> = {
  int8: { size: 1, write: (d, o, v) => d.setInt8(o, v), array: Int8Array },
  uint8: { size: 1, write: (d, o, v) => d.setUint8(o, v), array: Uint8Array },
  int16: { size: 2, write: (d, o, v) => d.setInt16(o, v, true), array: Int16Array },
  uint16: { size: 2, write: (d, o, v) => d.setUint16(o, v, true), array: Uint16Array },
  int32: { size: 4, write: (d, o, v) => d.setInt32(o, v, true), array: Int32Array },
  uint32: { size: 4, write: (d, o, v) => d.setUint32(o, v, true), array: Uint32Array },
  float32: { size: 4, write: (d, o, v) => d.setFloat32(o, v, true), array: Float32Array },
  float64: { size: 8, write: (d, o, v) => d.setFloat64(o, v, true), array: Float64Array },
};

/** Typed arrays at least this long are copied as bytes, shorter ones written element by element (as CdrWriter). */
const BULK_COPY_MIN = 10;

function scalarWriter(s: Scalar): FieldWriter {
  return (v, out) => {
    if (typeof v !== 'number') throw OFF_PATH;
    out.align(s.size, s.size);
    s.write(out.view, out.offset, v);
    out.offset += s.size;
  };
}

function bigintWriter(signed: boolean): FieldWriter {
  return (v, out) => {
    if (typeof v !== 'bigint') throw OFF_PATH;
    out.align(8, 8);
    if (signed) out.view.setBigInt64(out.offset, v, true);
    else out.view.setBigUint64(out.offset, v, true);
    out.offset += 8;
  };
}

/** The elements of a numeric array field as its typed array: that class itself, or a plain array converted. */
function typedElements(type: string, s: Scalar, v: unknown): ArrayLike<number> & ArrayBufferView {
  if (v instanceof s.array) return v;
  if (type === 'uint8' && v instanceof Uint8ClampedArray) return new Uint8Array(v);
  if (Array.isArray(v)) return new s.array(v as number[]);
  throw OFF_PATH;
}

function numericArrayWriter(type: string, s: Scalar): FieldWriter {
  return (v, out) => {
    const a = typedElements(type, s, v);
    if (s.size === 1) {
      out.reserve(a.length);
      out.bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), out.offset);
      out.offset += a.byteLength;
    } else if (a.length >= BULK_COPY_MIN) {
      out.align(s.size, a.byteLength);
      out.bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), out.offset);
      out.offset += a.byteLength;
    } else {
      for (let i = 0; i < a.length; i++) {
        out.align(s.size, s.size);
        s.write(out.view, out.offset, a[i]!);
        out.offset += s.size;
      }
    }
  };
}

/** undefined: a type the compiled path does not take (wstring, an unknown type). */
function fieldWriter(f: MessageDefinitionField, structs: Map<string, StructWriter | null>): FieldWriter | undefined {
  let element: FieldWriter | undefined;
  let arrayOfElements: FieldWriter | undefined;
  if (f.isComplex === true) {
    const struct = structWriter(f.type, structs);
    if (!struct) return undefined;
    element = (v, out) => {
      if (typeof v !== 'object' || v === null) throw OFF_PATH;
      struct(v as Record<string, unknown>, out);
    };
  } else if (f.type === 'string') {
    element = (v, out) => {
      out.string(v);
    };
  } else if (f.type === 'bool') {
    element = (v, out) => {
      if (typeof v !== 'boolean') throw OFF_PATH;
      out.reserve(1);
      out.bytes[out.offset++] = v ? 1 : 0;
    };
    arrayOfElements = (v, out) => {
      if (!Array.isArray(v)) throw OFF_PATH;
      numericArrayWriter('int8', SCALARS['int8']!)(v, out);
    };
  } else if (f.type === 'time' || f.type === 'duration') {
    // builtin_interfaces Time/Duration: int32 sec, uint32 nanosec (`nsec` accepted too, as the general encoder does)
    element = (v, out) => {
      if (typeof v !== 'object' || v === null) throw OFF_PATH;
      const t = v as { sec?: unknown; nsec?: unknown; nanosec?: unknown };
      const ns = t.nsec ?? t.nanosec;
      if (typeof t.sec !== 'number' || typeof ns !== 'number') throw OFF_PATH;
      out.align(4, 8);
      out.view.setInt32(out.offset, t.sec, true);
      out.view.setUint32(out.offset + 4, ns, true);
      out.offset += 8;
    };
  } else if (f.type === 'int64' || f.type === 'uint64') {
    element = bigintWriter(f.type === 'int64');
    const cls = f.type === 'int64' ? BigInt64Array : BigUint64Array;
    arrayOfElements = (v, out) => {
      if (!(v instanceof cls)) throw OFF_PATH;
      if (v.length >= BULK_COPY_MIN) {
        out.align(8, v.byteLength);
        out.bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), out.offset);
        out.offset += v.byteLength;
      } else for (const x of v) element!(x, out);
    };
  } else {
    const s = SCALARS[f.type];
    if (!s) return undefined;
    element = scalarWriter(s);
    arrayOfElements = numericArrayWriter(f.type, s);
  }
  if (f.isArray !== true) return element;
  const fixed = f.arrayLength;
  const each = element;
  const body: FieldWriter =
    arrayOfElements ??
    ((v, out) => {
      if (!Array.isArray(v)) throw OFF_PATH;
      for (const x of v as unknown[]) each(x, out);
    });
  return (v, out) => {
    const length = (v as { length?: unknown } | null | undefined)?.length;
    if (typeof length !== 'number') throw OFF_PATH;
    if (fixed === undefined) out.uint32(length);
    else if (length !== fixed) throw OFF_PATH;
    body(v, out);
  };
}

/** The compiled writer of a struct type, or null when one of its fields (at any depth) is off the compiled path. */
function structWriter(type: string, structs: Map<string, StructWriter | null>): StructWriter | null {
  const known = structs.get(type);
  if (known !== undefined) return known;
  const def = bundledDefinition(type);
  if (!def) {
    structs.set(type, null);
    return null;
  }
  const fields = def.definitions.filter((f) => f.isConstant !== true);
  if (fields.length === 0) {
    // An empty message is one uint8 on the wire, as ROS 2 does.
    const empty: StructWriter = (_m, out) => {
      out.reserve(1);
      out.bytes[out.offset++] = 0;
    };
    structs.set(type, empty);
    return empty;
  }
  const names: string[] = [];
  const writers: FieldWriter[] = [];
  for (const f of fields) {
    const w = fieldWriter(f, structs);
    if (!w) {
      structs.set(type, null);
      return null;
    }
    names.push(f.name);
    writers.push(w);
  }
  const writer: StructWriter = (m, out) => {
    for (let i = 0; i < writers.length; i++) writers[i]!(m[names[i]!], out);
  };
  structs.set(type, writer);
  return writer;
}

const structs = new Map<string, StructWriter | null>();
/** By the spelling callers use (`pkg/msg/Type`): one lookup per message. */
const byTypeName = new Map<string, StructWriter | null>();
const output = new Output();

/**
 * `message` as CDR (with the little-endian encapsulation header) by the compiled encoder of its bundled type
 * (`pkg/msg/Type` or `pkg/Type`), or undefined when the message or the type is off the compiled path: then the
 * general encoder must be used.
 */
export function encodeCompiled(type: string, message: unknown): Uint8Array | undefined {
  let writer = byTypeName.get(type);
  if (writer === undefined) {
    writer = structWriter(shortTypeName(type), structs);
    byTypeName.set(type, writer);
  }
  if (!writer || typeof message !== 'object' || message === null) return undefined;
  const out = output;
  const b = out.bytes;
  b[0] = 0; // encapsulation: CDR_LE, no options
  b[1] = 1;
  b[2] = 0;
  b[3] = 0;
  out.offset = 4;
  try {
    writer(message as Record<string, unknown>, out);
  } catch {
    // OFF_PATH, or a value the general encoder handles (or refuses with its own message)
    return undefined;
  }
  return out.bytes.slice(0, out.offset);
}
