import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ros2jazzy } from '@foxglove/rosmsg-msgs-common';
import { encodeCompiled } from '../../../nodes/adapters/mcap/cdrEncoder.js';
import { encoderFor } from '../../../nodes/adapters/mcap/codec.js';
import { bundledDefinition, type MessageDefinitionField } from '../../../nodes/adapters/mcap/definitions.js';

const AR1_TYPES = readdirSync(fileURLToPath(new URL('../../../msg/msg/', import.meta.url)))
  .filter((f) => f.endsWith('.msg'))
  .map((f) => `ar1_msgs/${f.slice(0, -4)}`);
/** Every bundled message type the general encoder takes (not the constant-only modules). */
const TYPES = [...Object.keys(ros2jazzy), ...AR1_TYPES].sort().filter((t) => {
  try {
    encoderFor(t);
    return true;
  } catch {
    return false;
  }
});

/** A small deterministic generator (mulberry32), so a failure names its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPED: Record<string, new (n: number) => ArrayLike<number> & { [i: number]: number }> = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
};
const SPECIAL = [0, -0, 1, -1, 0.1, 1e300, -1e-300, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, -(2 ** 31)];

/** A well-formed message of a bundled type: every field present with its JavaScript type, ASCII strings. */
function wellFormed(type: string, r: () => number, depth = 0): Record<string, unknown> {
  const def = bundledDefinition(type)!;
  const msg: Record<string, unknown> = {};
  for (const f of def.definitions) if (f.isConstant !== true) msg[f.name] = fieldValue(f, r, depth);
  return msg;
}

function scalar(type: string, r: () => number): unknown {
  if (type === 'bool') return r() < 0.5;
  if (type === 'string') {
    const n = Math.floor(r() * 3) === 0 ? 0 : Math.floor(r() * 40);
    return Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(r() * 95))).join('');
  }
  if (type === 'time' || type === 'duration')
    return r() < 0.5
      ? { sec: Math.floor(r() * 2 ** 31), nanosec: Math.floor(r() * 1e9) }
      : { sec: -Math.floor(r() * 100), nsec: Math.floor(r() * 1e9) };
  if (type === 'int64') return BigInt(Math.floor((r() - 0.5) * 2 ** 53)) * 1000n;
  if (type === 'uint64') return BigInt(Math.floor(r() * 2 ** 53)) * 1000n;
  if (r() < 0.2) return SPECIAL[Math.floor(r() * SPECIAL.length)];
  return (r() - 0.5) * 10 ** Math.floor(r() * 6);
}

function fieldValue(f: MessageDefinitionField, r: () => number, depth: number): unknown {
  const one = () => (f.isComplex === true ? wellFormed(f.type, r, depth + 1) : scalar(f.type, r));
  if (f.isArray !== true) return one();
  // lengths around the 10-element bulk-copy threshold, and 0
  const n = f.arrayLength ?? (depth > 2 ? Math.floor(r() * 2) : [0, 1, 3, 9, 10, 11, 25][Math.floor(r() * 7)]!);
  const items = Array.from({ length: n }, one);
  const typed = TYPED[f.type];
  if (typed && r() < 0.6) {
    const a = new typed(n);
    items.forEach((x, i) => (a[i] = x as number));
    return a;
  }
  if ((f.type === 'int64' || f.type === 'uint64') && f.isComplex !== true)
    return f.type === 'int64' ? BigInt64Array.from(items as bigint[]) : BigUint64Array.from(items as bigint[]);
  return items;
}

describe('adapters/mcap/cdrEncoder: compiled CDR encoding, the same bytes as the general encoder', () => {
  it(`writes every bundled type (${TYPES.length}) byte for byte as MessageWriter does, 24 random messages each`, () => {
    let compiled = 0;
    for (const type of TYPES) {
      for (let seed = 1; seed <= 24; seed++) {
        const msg = wellFormed(type, rng(seed * 7919 + type.length));
        const fast = encodeCompiled(type, msg);
        const general = encoderFor(type).writeMessage(msg);
        if (fast === undefined) continue; // a type with a wstring: the general path only
        compiled++;
        expect(Buffer.from(fast).equals(Buffer.from(general)), `${type} seed ${seed}`).to.equal(true);
      }
    }
    expect(compiled).to.be.greaterThan(TYPES.length * 18);
  });

  it('takes every message type replay writes (ar1_msgs, odometry, path, diagnostics, strings)', () => {
    for (const type of [
      ...AR1_TYPES,
      'nav_msgs/Odometry',
      'nav_msgs/msg/Path',
      'diagnostic_msgs/msg/DiagnosticArray',
      'std_msgs/msg/String',
    ]) {
      expect(encodeCompiled(type, wellFormed(type.replace('/msg/', '/'), rng(3))), type).to.be.instanceOf(Uint8Array);
    }
  });

  it('gives way to the general encoder for what only it handles: defaults, escapes, other element types', () => {
    const r = rng(5);
    const odo = wellFormed('nav_msgs/Odometry', r);
    const text = (s: unknown) => ({ data: s });
    const cases: Array<[string, unknown]> = [
      ['std_msgs/String', text('caf\u00e9')], // non-ASCII: the bag writer escapes it first
      ['std_msgs/String', text(undefined)], // a missing field takes its default
      ['std_msgs/String', {}],
      ['std_msgs/String', null],
      ['nav_msgs/Odometry', { ...odo, pose: { ...(odo['pose'] as object), covariance: new Float32Array(36) } }],
      ['nav_msgs/Odometry', { ...odo, pose: { ...(odo['pose'] as object), covariance: [1, 2, 3] } }], // fixed 36
      ['nav_msgs/Odometry', { ...odo, header: 'no header' }],
      ['std_msgs/Int64', { data: 5 }], // an int64 given as a number
      ['no_such/Type', {}],
    ];
    for (const [type, msg] of cases)
      expect(encodeCompiled(type, msg), `${type} ${JSON.stringify(msg)}`).to.equal(undefined);
  });

  it('returns a copy: encoding the next message does not change the bytes of the last one', () => {
    const a = encodeCompiled('std_msgs/String', { data: 'first' })!;
    const before = Buffer.from(a);
    encodeCompiled('std_msgs/String', { data: 'second, longer' });
    expect(Buffer.from(a).equals(before)).to.equal(true);
  });

  it('grows its buffer for a large message and still matches', () => {
    const big = { data: 'x'.repeat(200_000) };
    expect(
      Buffer.from(encodeCompiled('std_msgs/String', big)!).equals(
        Buffer.from(encoderFor('std_msgs/String').writeMessage(big)),
      ),
    ).to.equal(true);
  });
});
