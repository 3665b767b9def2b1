/**
 * Names the field of a protobuf message that cannot be decoded. gRPC's own answer to undecodable bytes is
 * "Error deserializing request" with no detail; the runtime's operator needs to know which field was bad.
 */
import protobuf from 'protobufjs';

/** Wire type a scalar field should arrive with (repeated numeric fields may also come packed, as wire type 2). */
function expectedWireType(field: protobuf.Field): number {
  if (field.resolvedType instanceof protobuf.Type) return 2;
  if (field.resolvedType instanceof protobuf.Enum) return 0;
  const basic = (protobuf.types.basic as Record<string, number | undefined>)[field.type];
  return basic ?? 2;
}

/**
 * Walks the message field by field and returns "path: reason" for the first field that cannot be read, e.g.
 * "camera_image.frame_end_us: expected wire type 1 (fixed64), got 2". Undefined when every field reads.
 */
function locateDecodeError(type: protobuf.Type, bytes: Uint8Array, prefix = ''): string | undefined {
  const reader = protobuf.Reader.create(bytes);
  const seen = new Map<number, number>();
  while (reader.pos < reader.len) {
    const at = reader.pos;
    let tag: number;
    try {
      tag = reader.uint32();
    } catch {
      return `${prefix || type.name}: truncated field tag at byte ${at}`;
    }
    const id = tag >>> 3;
    const wireType = tag & 7;
    const field = type.fieldsById[id];
    const index = seen.get(id) ?? 0;
    seen.set(id, index + 1);
    const name = field
      ? `${prefix}${field.name}${field.repeated && field.resolvedType instanceof protobuf.Type ? `[${index}]` : ''}`
      : `${prefix}field ${id}`;
    if (id === 0) return `${prefix || type.name}: invalid field number 0 at byte ${at}`;
    if (field) {
      const want = expectedWireType(field);
      const packed = field.repeated && wireType === 2;
      if (wireType !== want && !packed) {
        return `${name}: expected wire type ${want} (${field.type}), got ${wireType}`;
      }
    }
    try {
      if (field && field.resolvedType instanceof protobuf.Type && wireType === 2) {
        const sub = reader.bytes();
        const inner = locateDecodeError(field.resolvedType, sub, `${name}.`);
        if (inner) return inner;
      } else {
        reader.skipType(wireType);
      }
    } catch (e) {
      return `${name}: ${(e as Error).message.replace(/^index out of range.*$/, 'truncated value')} at byte ${at}`;
    }
  }
  return undefined;
}

/** Decodes or throws an Error whose message names the message type and the field. */
export function decodeOrExplain<T>(type: protobuf.Type, bytes: Uint8Array, toObject: (m: protobuf.Message) => T): T {
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (e) {
    const where = locateDecodeError(type, bytes) ?? `${(e as Error).message}`;
    throw new Error(`${type.name}: cannot decode the request: ${where}`, { cause: e });
  }
  const where = locateDecodeError(type, bytes);
  if (where) throw new Error(`${type.name}: cannot decode the request: ${where}`);
  return toObject(message);
}
