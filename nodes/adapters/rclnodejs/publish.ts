/**
 * rclnodejs copies a typed array's whole underlying ArrayBuffer when it serialises, ignoring byteOffset (rclnodejs 2.2, read in its serialiser):
 * a subarray() or a pooled Buffer would publish the wrong bytes. Returns the message with every typed array that
 * does not own its whole buffer replaced by a fresh copy; objects are copied only along the paths that change.
 */
export function withFreshTypedArrays<M>(message: M): M {
  return fresh(message) as M;
}

function needsCopy(v: ArrayBufferView): boolean {
  return v.byteOffset !== 0 || v.byteLength !== v.buffer.byteLength;
}

function fresh(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) {
    if (!needsCopy(v)) return v;
    if (v instanceof DataView) return new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
    if (Buffer.isBuffer(v)) return new Uint8Array(v);
    return (v as unknown as { slice(): ArrayBufferView }).slice();
  }
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const f = fresh(v[i]);
      if (f !== v[i]) (out ??= v.slice())[i] = f;
    }
    return out ?? v;
  }
  if (typeof v === 'object' && v !== null) {
    let out: Record<string, unknown> | undefined;
    for (const [k, x] of Object.entries(v)) {
      const f = fresh(x);
      if (f !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = f;
    }
    return out ?? v;
  }
  return v;
}
