/**
 * A Python pickle (protocol 2) writer for the plain values AlpaSim's evaluation reads from a driver's debug info:
 * dict with str keys, str, int, float, bool, None, and lists. Python's pickle.loads reads it; no memo is written
 * (none is needed without shared references).
 */
export type PickleValue = null | boolean | number | bigint | string | PickleValue[] | { [key: string]: PickleValue };

const PROTO = 0x80;
const STOP = 0x2e; // .
const NONE = 0x4e; // N
const NEWTRUE = 0x88;
const NEWFALSE = 0x89;
const BININT = 0x4a; // J: 4-byte signed
const LONG1 = 0x8a; // 1-byte length + two's complement little-endian
const BINFLOAT = 0x47; // G: 8-byte big-endian double
const BINUNICODE = 0x58; // X: 4-byte length + UTF-8
const EMPTY_DICT = 0x7d; // }
const EMPTY_LIST = 0x5d; // ]
const MARK = 0x28; // (
const SETITEMS = 0x75; // u
const APPENDS = 0x65; // e

class Out {
  #chunks: Uint8Array[] = [];
  byte(b: number): void {
    this.#chunks.push(Uint8Array.of(b));
  }
  bytes(b: Uint8Array): void {
    this.#chunks.push(b);
  }
  done(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

function longBytes(v: bigint): Uint8Array {
  const out: number[] = [];
  let x = v;
  for (;;) {
    const byte = Number(x & 0xffn);
    out.push(byte);
    x >>= 8n; // arithmetic shift: stays negative for negative values
    if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

function write(o: Out, v: PickleValue): void {
  if (v === null) {
    o.byte(NONE);
    return;
  }
  if (typeof v === 'boolean') {
    o.byte(v ? NEWTRUE : NEWFALSE);
    return;
  }
  if (
    typeof v === 'bigint' ||
    (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER)
  ) {
    const i = BigInt(v);
    if (i >= -(2n ** 31n) && i < 2n ** 31n) {
      const b = Buffer.alloc(5);
      b[0] = BININT;
      b.writeInt32LE(Number(i), 1);
      o.bytes(b);
    } else {
      const body = longBytes(i);
      if (body.length > 255) throw new RangeError(`pickle: integer too large (${body.length} bytes)`);
      o.bytes(Uint8Array.of(LONG1, body.length));
      o.bytes(body);
    }
    return;
  }
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = BINFLOAT;
    b.writeDoubleBE(v, 1);
    o.bytes(b);
    return;
  }
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    const h = Buffer.alloc(5);
    h[0] = BINUNICODE;
    h.writeUInt32LE(s.length, 1);
    o.bytes(h);
    o.bytes(s);
    return;
  }
  if (Array.isArray(v)) {
    o.byte(EMPTY_LIST);
    if (v.length) {
      o.byte(MARK);
      for (const item of v) write(o, item);
      o.byte(APPENDS);
    }
    return;
  }
  o.byte(EMPTY_DICT);
  const entries = Object.entries(v);
  if (entries.length) {
    o.byte(MARK);
    for (const [k, item] of entries) {
      write(o, k);
      write(o, item);
    }
    o.byte(SETITEMS);
  }
}

/** pickle.dumps(value, protocol=2) for plain values. */
export function pickleDumps(value: PickleValue): Buffer {
  const o = new Out();
  o.bytes(Uint8Array.of(PROTO, 2));
  write(o, value);
  o.byte(STOP);
  return o.done();
}
