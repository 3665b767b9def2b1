import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { BagError } from '../../nodes/adapters/mcap/errors.js';
import { ChannelDecoder, encoderFor } from '../../nodes/adapters/mcap/codec.js';
import type { MessageTypeName } from '../../nodes/core/msgs.js';
import { parseParamsText, ParameterError } from '../../nodes/core/params/index.js';
import { loadPlannerParams } from '../../nodes/planner/params.js';
import { loadWatchdogParams } from '../../nodes/watchdog/params.js';
import { plan } from '../watchdog/rig.js';
import { image } from './loop.js';
import { soakWorlds } from './soakWorlds.js';

/**
 * Fuzzing (fast-check, 10 000 cases each). The watchdog/gate inputs are fuzzed in test/watchdog/properties.test.ts.
 * Seeds are fixed so a failure reproduces; FUZZ_SEED=<n> explores another part of the space.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 9);
const RUNS = 10_000;

const stamp = { sec: 12, nanosec: 345 };
const header = { stamp, frame_id: 'base_link' };
const SAMPLES: Array<{ type: MessageTypeName; topic: string; msg: unknown }> = [
  {
    type: 'ar1_msgs/msg/UnicycleCommand',
    topic: '/ar1/command',
    msg: { header, acceleration: 0.5, curvature: 0.01, speed: 7, source: 0 },
  },
  { type: 'ar1_msgs/msg/Trajectory', topic: '/ar1/trajectory', msg: plan(12.3, 8) },
  {
    type: 'ar1_msgs/msg/PlannerTiming',
    topic: '/ar1/timing',
    msg: {
      header,
      sync_ms: 1,
      preprocess_ms: 2,
      vision_ms: 3,
      reasoning_ms: 4,
      action_ms: 5,
      total_ms: 15,
      latency_ms: 20,
      execution_provider: 'cpu',
      frames_received: 40,
      frames_planned: 32,
      frames_dropped: 8,
      drop_reasons: ['superseded'],
      drop_counts: [8],
      error: '',
    },
  },
  {
    type: 'nav_msgs/msg/Odometry',
    topic: '/localization/odometry',
    msg: {
      header,
      child_frame_id: 'base_link',
      pose: {
        pose: { position: { x: 1, y: 2, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
        covariance: new Array(36).fill(0),
      },
      twist: {
        twist: { linear: { x: 10, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.1 } },
        covariance: new Array(36).fill(0),
      },
    },
  },
  { type: 'sensor_msgs/msg/Image', topic: '/sensors/camera/camera_front_wide_120fov/image_raw', msg: image(12.3) },
  {
    type: 'sensor_msgs/msg/CompressedImage',
    topic: '/cam/compressed',
    msg: { header, format: 'jpeg', data: new Uint8Array([255, 216, 255, 224, 1, 2, 3]) },
  },
];
const ENCODED = SAMPLES.map((s) => ({ ...s, bytes: encoderFor(s.type).writeMessage(s.msg) as Uint8Array }));
const DECODERS = ENCODED.map((s) =>
  ChannelDecoder.create({ topic: s.topic, type: s.type, encoding: 'ros2msg', text: '' }, 'fuzz.mcap'),
);

/** Decode must return a value or throw a BagError naming the topic and the type; never anything else. */
function decodeChecked(i: number, data: Uint8Array): void {
  const s = ENCODED[i]!;
  try {
    DECODERS[i]!.decode(data, 'fuzz.mcap', 42n);
  } catch (e) {
    if (!(e instanceof BagError))
      throw new Error(`${s.type}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
    if (!e.message.includes(s.topic) || !e.message.includes(s.type) || !e.message.includes('[file=fuzz.mcap]')) {
      throw new Error(`error does not name topic/type/file: ${e.message}`, { cause: e });
    }
  }
}

describe('fuzz: CDR message decoding through the bag codec (ChannelDecoder)', function () {
  this.timeout(60000);
  it('valid encodings of every message type decode back', () => {
    ENCODED.forEach((s, i) => expect(DECODERS[i]!.decode(s.bytes, 'f', 0n)).to.be.an('object'));
  });

  it(`mutated CDR (byte flips, overwrites, truncation, extension) of our types: a value or a BagError naming topic and type (${RUNS} cases)`, () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
      fc.record({
        kind: fc.constant('length' as const),
        at: fc.nat(),
        value: fc.oneof(fc.constant(0xffffffff), fc.constant(0x7fffffff), fc.nat()),
      }),
    );
    fc.assert(
      fc.property(
        fc.nat({ max: ENCODED.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (i, muts) => {
          let b = Uint8Array.from(ENCODED[i]!.bytes);
          for (const m of muts) {
            if (m.kind === 'set' && b.length) b[m.at % b.length] = m.value;
            else if (m.kind === 'truncate') b = b.slice(0, m.at % (b.length + 1));
            else if (m.kind === 'append') b = Uint8Array.from([...b, ...m.bytes]);
            else if (m.kind === 'length' && b.length >= 4)
              new DataView(b.buffer).setUint32((m.at % (b.length - 3)) & ~3, m.value, true);
          }
          decodeChecked(i, b);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it(`random bytes as any of our types: a value or a BagError naming topic and type (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.nat({ max: ENCODED.length - 1 }), fc.uint8Array({ maxLength: 256 }), (i, bytes) => {
        decodeChecked(i, bytes);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

/** A parameter error must be a ParameterError naming the origin (file) and, for a key problem, the key. */
const LOADERS = [
  ['ar1_planner', loadPlannerParams],
  ['ar1_watchdog', loadWatchdogParams],
] as const;
function paramsChecked(text: string, only?: 0 | 1): void {
  for (const [node, load] of only === undefined ? LOADERS : [LOADERS[only]]) {
    let source;
    try {
      source = parseParamsText(text, 'fuzz.yaml', node);
    } catch (e) {
      if (!(e instanceof ParameterError))
        throw new Error(`parseParamsText threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, {
          cause: e,
        });
      if (!e.message.startsWith('fuzz.yaml'))
        throw new Error(`error does not start with the origin: ${e.message}`, { cause: e });
      continue;
    }
    try {
      load({ sources: [source] });
    } catch (e) {
      if (!(e instanceof ParameterError))
        throw new Error(`${node}: load threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, {
          cause: e,
        });
      for (const line of e.message.split('\n')) {
        if (!/^(fuzz\.yaml|ar1_(planner|watchdog) defaults): [^ ]+: /.test(line))
          throw new Error(`${node}: error line does not name origin and key: ${line}`, { cause: e });
      }
    }
  }
}

describe("fuzz: parameter files (parseParamsText + both nodes' schemas)", function () {
  this.timeout(60000);
  // The shipped files without comments (YAML parsing dominates the run time).
  const files = ['config/ar1_planner.yaml', 'config/ar1_watchdog.yaml'].map((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => !/^\s*(#|$)/.test(l))
      .map((l) => l.replace(/\s+#.*$/, ''))
      .join('\n'),
  );
  const keys = [
    'max_plan_age_s',
    'control_rate_hz',
    'seed',
    'samples',
    'cameras',
    'names',
    'topics',
    'limits',
    'reference_speed_mps',
    'accel_max_mps2',
    'odometry',
    'max_gap_s',
    'fallback',
    'accel_mps2',
    'ros__parameters',
    '/**',
    'ar1_planner',
    'ar1_watchdog',
    'typo_key',
  ];
  const scalar = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.string({ maxLength: 8 }),
    fc.constant(null),
    fc.constant('.nan'),
    fc.constant('-.inf'),
    fc.array(fc.oneof(fc.double({ noNaN: true }), fc.string({ maxLength: 4 })), { maxLength: 4 }),
  );

  it(`mutated valid files (line edits, value swaps, key typos, cut): valid params or a ParameterError naming origin and key (${RUNS} cases)`, () => {
    const edit = fc.record({
      line: fc.nat(),
      op: fc.constantFrom('delete', 'dup', 'value', 'key', 'indent', 'cut'),
      value: scalar,
      key: fc.constantFrom(...keys),
    });
    fc.assert(
      fc.property(fc.nat({ max: 1 }), fc.array(edit, { minLength: 1, maxLength: 4 }), (f, edits) => {
        let lines = files[f]!.split('\n');
        for (const e of edits) {
          const i = e.line % lines.length;
          const l = lines[i]!;
          if (e.op === 'delete') lines.splice(i, 1);
          else if (e.op === 'dup') lines.splice(i, 0, l);
          else if (e.op === 'value') lines[i] = l.replace(/:\s*[^#]*/, `: ${JSON.stringify(e.value)} `);
          else if (e.op === 'key') lines[i] = l.replace(/^(\s*)[^:#\s]+:/, `$1${e.key}:`);
          else if (e.op === 'indent') lines[i] = `  ${l}`;
          else lines = lines.slice(0, i);
          if (!lines.length) lines = [''];
        }
        paramsChecked(lines.join('\n'), f as 0 | 1);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it(`random YAML-ish documents: valid params or a ParameterError naming origin and key (${RUNS} cases)`, () => {
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, scalar, fc.dictionary(fc.constantFrom(...keys), tie('v'), { maxKeys: 4 })),
    })).v;
    const doc = fc.oneof(
      fc
        .dictionary(
          fc.constantFrom('/**', 'ar1_planner', '/ar1_watchdog', 'other'),
          fc.oneof(fc.record({ ros__parameters: value }), value),
          { maxKeys: 3 },
        )
        .map((d) => JSON.stringify(d)),
      fc.string({ maxLength: 80 }),
      fc
        .array(
          fc.constantFrom(
            '/**:',
            '  ros__parameters:',
            '    max_plan_age_s: 0.2',
            '    seed: -1',
            '    cameras:',
            '      names: [a, b]',
            '    limits: {',
            '  - x',
            ': :',
            '\t',
            '"',
            '    typo_key: 1',
            '    samples: 99',
          ),
          { maxLength: 8 },
        )
        .map((l) => l.join('\n')),
    );
    fc.assert(
      fc.property(doc, (text) => paramsChecked(text)),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

describe('fuzz: adversarial watchdog worlds (closed loop, ROS time and true time independent)', function () {
  this.timeout(300_000);
  const WORLDS = Number(process.env['FUZZ_WORLDS'] ?? 2000);

  it(`${WORLDS} seeded worlds — ROS time steps back/forward and freezes, stalls, stopped/slow inputs, stuck twist, stamps stepping back: every vehicle command finite, inside the limits, lateral ≤ 110 % at the true speed, planner commands only while /ar1/command is live in true time`, async () => {
    const r = await soakWorlds(WORLDS, SEED);
    expect(
      r.failures.map((f) => `world ${f.index}: ${f.violations.join('; ')} ${JSON.stringify(f.world.events)}`),
    ).to.deep.equal([]);
    expect(r.commands).to.be.greaterThan(WORLDS * 150);
    expect(r.plannerCommands, 'the planner drove in part of the worlds').to.be.greaterThan(WORLDS * 20);
  });
});
