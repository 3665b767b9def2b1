/**
 * Tensors as the engine passes them to and from graphs: an explicit dtype, a typed array and dims. float16 travels
 * as Uint16Array bit patterns (what onnxruntime-node takes and returns); the runtime builds its own tensors in the
 * dtype the manifest declares for them and reads float outputs of either float dtype.
 */
import { fromHalfBits, toFloat16 } from './float16.js';

export type TensorType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';
type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;
export interface Tensor {
  type: TensorType;
  data: TensorData;
  dims: readonly number[];
}

export const TENSOR_TYPES: readonly TensorType[] = ['float32', 'float16', 'int64', 'int32', 'uint8', 'bool'];

/** A float tensor of the given dtype from float values (converted to binary16 bits for float16). */
export function floatTensor(type: string, values: Float32Array, dims: readonly number[]): Tensor {
  if (type === 'float32') return { type, data: values, dims };
  if (type === 'float16') return { type, data: toFloat16(values), dims };
  throw new RangeError(`expected a float32 or float16 tensor, the manifest declares ${type}`);
}

export function int64Tensor(values: ArrayLike<number>, dims: readonly number[]): Tensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return { type: 'int64', data, dims };
}

/** Float values of a float32 (as is, no copy) or float16 (converted) tensor. */
export function floatValues(t: Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    const bits = t.data as Uint16Array;
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) out[i] = fromHalfBits(bits[i]!);
    return out;
  }
  throw new RangeError(`expected a float tensor, got ${t.type}`);
}

/** Index of the first NaN/±Inf of a float tensor, −1 when all are finite (or the tensor is not float). */
export function firstNonFinite(t: Tensor): number {
  if (t.type === 'float32') {
    const d = t.data as Float32Array;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  } else if (t.type === 'float16') {
    const d = t.data as Uint16Array;
    for (let i = 0; i < d.length; i++) if ((d[i]! & 0x7c00) === 0x7c00) return i;
  }
  return -1;
}

/** The value at index i of a float tensor (for messages). */
export function floatAt(t: Tensor, i: number): number {
  return t.type === 'float16' ? fromHalfBits((t.data as Uint16Array)[i]!) : Number((t.data as Float32Array)[i]);
}

/**
 * Repeats a batch-1 tensor k times along axis 0 (the prompt cache for k samples). The split form does this on the
 * host; the fused form does it inside the graph.
 */
export function repeatBatch(t: Tensor, k: number): Tensor {
  if (t.dims[0] !== 1) throw new RangeError(`repeatBatch: expected batch 1, got dims [${t.dims}]`);
  if (k === 1) return t;
  const n = t.data.length;
  const Ctor = t.data.constructor as new (len: number) => TensorData;
  const out = new Ctor(n * k);
  for (let s = 0; s < k; s++) (out as Float32Array).set(t.data as Float32Array, s * n);
  return { type: t.type, data: out, dims: [k, ...t.dims.slice(1)] };
}

/**
 * Stacks tensors along axis 0, each part repeated `times` times: the rows of several plans' caches in one batch
 * (a batch-1 prompt cache repeated to the plan's samples, or a plan's own rows). Every part has the same dims after
 * axis 0 and the same dtype. A single part used once is returned as it is.
 */
export function stackRows(parts: ReadonlyArray<{ t: Tensor; times: number }>): Tensor {
  const first = parts[0];
  if (!first) throw new RangeError('stackRows: expected at least one tensor');
  if (parts.length === 1 && first.times === 1) return first.t;
  const tail = first.t.dims.slice(1);
  let rows = 0,
    length = 0;
  for (const { t, times } of parts) {
    if (
      t.type !== first.t.type ||
      t.dims.length !== first.t.dims.length ||
      t.dims.some((d, i) => i > 0 && d !== tail[i - 1])
    )
      throw new RangeError(`stackRows: dims [${t.dims}] ${t.type} do not stack with [${first.t.dims}] ${first.t.type}`);
    rows += t.dims[0]! * times;
    length += t.data.length * times;
  }
  const Ctor = first.t.data.constructor as new (len: number) => TensorData;
  const out = new Ctor(length);
  let at = 0;
  for (const { t, times } of parts)
    for (let r = 0; r < times; r++) {
      (out as Float32Array).set(t.data as Float32Array, at);
      at += t.data.length;
    }
  return { type: first.t.type, data: out, dims: [rows, ...tail] };
}

/** Rows [start, start + count) of ranges, in order, copied into one tensor (axis 0). */
export function takeRows(t: Tensor, ranges: ReadonlyArray<readonly [start: number, count: number]>): Tensor {
  const rows = t.dims[0]!;
  const per = rows === 0 ? 0 : t.data.length / rows;
  let total = 0;
  for (const [start, count] of ranges) {
    if (start < 0 || count < 0 || start + count > rows)
      throw new RangeError(`takeRows: rows ${start}..${start + count} outside [0, ${rows})`);
    total += count;
  }
  const Ctor = t.data.constructor as new (len: number) => TensorData;
  const out = new Ctor(total * per);
  let at = 0;
  for (const [start, count] of ranges) {
    (out as Float32Array).set((t.data as Float32Array).subarray(start * per, (start + count) * per), at);
    at += count * per;
  }
  return { type: t.type, data: out, dims: [total, ...t.dims.slice(1)] };
}

/** Rows [start, start + count) of t along axis 0, as a view of its data (no copy). */
export function rowsView(t: Tensor, start: number, count: number): Tensor {
  const rows = t.dims[0]!;
  if (start < 0 || count < 0 || start + count > rows)
    throw new RangeError(`rowsView: rows ${start}..${start + count} outside [0, ${rows})`);
  const per = rows === 0 ? 0 : t.data.length / rows;
  return { type: t.type, data: t.data.subarray(start * per, (start + count) * per), dims: [count, ...t.dims.slice(1)] };
}

/**
 * Concatenates tensors along axis 0 (same dtype and trailing dims). Parts that lie one after another in one buffer
 * (rows a caller wrote into one allocation, or views of one graph output) are joined as a view of it, without a
 * copy; anything else is copied into a new tensor. A single part is returned as it is.
 */
export function joinRows(parts: readonly Tensor[]): Tensor {
  const first = parts[0];
  if (!first) throw new RangeError('joinRows: expected at least one tensor');
  if (parts.length === 1) return first;
  const tail = first.dims.slice(1);
  let rows = 0,
    length = 0,
    adjacent = true;
  for (const [i, t] of parts.entries()) {
    if (
      t.type !== first.type ||
      t.dims.length !== first.dims.length ||
      t.dims.some((d, k) => k > 0 && d !== tail[k - 1])
    )
      throw new RangeError(`joinRows: dims [${t.dims}] ${t.type} do not join [${first.dims}] ${first.type}`);
    if (i > 0) {
      const prev = parts[i - 1]!.data;
      adjacent &&= t.data.buffer === prev.buffer && prev.byteOffset + prev.byteLength === t.data.byteOffset;
    }
    rows += t.dims[0]!;
    length += t.data.length;
  }
  const dims = [rows, ...tail];
  const Ctor = first.data.constructor as {
    new (len: number): TensorData;
    new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  };
  if (adjacent) return { type: first.type, data: new Ctor(first.data.buffer, first.data.byteOffset, length), dims };
  return stackRows(parts.map((t) => ({ t, times: 1 })));
}
