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
