/**
 * onnx-proto (protobufjs static code for ONNX 1.10, IR 8) behind one import, plus the ONNX dtype names used in
 * manifests. Pure JS: no onnxruntime here.
 */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;

/** Manifest dtype names ↔ ONNX TensorProto.DataType. */
export const DTYPES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
} as const;
export type DType = keyof typeof DTYPES;

export function dtypeName(code: number): string {
  for (const [name, c] of Object.entries(DTYPES)) if (c === code) return name;
  return `onnx-type-${code}`;
}
