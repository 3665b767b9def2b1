import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { McapIndexedReader, TempBuffer } from '@mcap/core';
import { parse as parseMsg } from '@foxglove/rosmsg';
import { parse as parseYaml } from 'yaml';
import { createBagWriter, openBag, parseBagMetadata, ros2msgSchemaText } from '../../../nodes/adapters/mcap/index.js';
import { QOS_SENSOR } from '../../../nodes/core/qos.js';
import type { MessageTypeName, MessageTypes } from '../../../nodes/core/msgs.js';
import { tempDir } from './fixtures.js';

const header = (sec: number, frame = 'base_link') => ({ stamp: { sec, nanosec: 250_000_000 }, frame_id: frame });
const pose = { position: { x: 1.5, y: -2, z: 0 }, orientation: { x: 0, y: 0, z: 0.6, w: 0.8 } };

/** One message of every type we write, as the reader returns it (typed arrays where CDR gives them). */
const SAMPLES: { [K in MessageTypeName]?: MessageTypes[K] } = {
  'sensor_msgs/msg/Image': {
    header: header(1),
    height: 2,
    width: 3,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: 9,
    data: Uint8Array.from({ length: 18 }, (_, i) => i * 7),
  },
  'sensor_msgs/msg/CompressedImage': {
    header: header(2, 'camera_front_wide_120fov'),
    format: 'jpeg',
    data: new Uint8Array([255, 216, 255, 217]),
  },
  'nav_msgs/msg/Odometry': {
    header: header(3, 'odom'),
    child_frame_id: 'base_link',
    pose: { pose, covariance: Float64Array.from({ length: 36 }, (_, i) => i / 10) },
    twist: {
      twist: { linear: { x: 3, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.1 } },
      covariance: new Float64Array(36),
    },
  },
  'nav_msgs/msg/Path': {
    header: header(4, 'odom'),
    poses: [
      { header: header(4), pose },
      { header: header(5), pose },
    ],
  },
  'std_msgs/msg/String': { data: 'turning left: the lane curves' },
  'diagnostic_msgs/msg/DiagnosticArray': {
    header: header(6),
    status: [
      {
        level: 1,
        name: 'ar1_watchdog',
        message: 'plan stale',
        hardware_id: 'vehicle',
        values: [{ key: 'plan_age_s', value: '0.73' }],
      },
    ],
  },
  'ar1_msgs/msg/UnicycleCommand': { header: header(7), acceleration: -2.5, curvature: 0.01, speed: 8, source: 1 },
  'ar1_msgs/msg/TrajectoryPoint': {
    t: 0.1,
    x: 1,
    y: 0.01,
    heading: 0.002,
    speed: 10,
    acceleration: 0.5,
    curvature: 0.001,
  },
  'ar1_msgs/msg/Trajectory': {
    header: header(8),
    dt: 0.1,
    initial_speed: 10,
    bundle_id: 'demo@1',
    points: [
      { t: 0.1, x: 1, y: 0, heading: 0, speed: 10, acceleration: 0, curvature: 0 },
      { t: 0.2, x: 2, y: 0.1, heading: 0.01, speed: 10.1, acceleration: 0.2, curvature: 0.002 },
    ],
  },
  'ar1_msgs/msg/Reasoning': {
    header: header(9),
    text: 'slow down for the stopped car',
    bundle_id: 'demo@1',
    generation_ms: 812.5,
    token_count: 17,
    consistency: 2,
    consistency_detail: 'text says decelerate ("slow down"); trajectory: keep_speed, straight',
    stated_actions: ['decelerate'],
    planned_actions: ['keep_speed', 'straight'],
  },
  'ar1_msgs/msg/PlannerTiming': {
    header: header(10),
    sync_ms: 1,
    preprocess_ms: 2,
    vision_ms: 3,
    reasoning_ms: 4,
    action_ms: 5,
    total_ms: 15,
    latency_ms: 100,
    execution_provider: 'cpu',
    frames_received: 40,
    frames_planned: 10,
    frames_dropped: 2,
    drop_reasons: ['superseded', 'stale'],
    drop_counts: Uint32Array.from([1, 1]),
    error: '',
  },
  'ar1_msgs/msg/SafetyState': {
    header: header(11),
    state: 2,
    state_name: 'fallback',
    reasons: ['plan_stale'],
    limits_active: ['lat_accel'],
    plan_age_s: 0.73,
    last_latency_ms: 100,
  },
};

const topicOf = (type: string): string => '/t/' + type.replace(/\//g, '_');

async function writeAll(dir: string, compression: 'none' | 'zstd' = 'none'): Promise<void> {
  const w = await createBagWriter(dir, { compression, storageChunkSize: 4096 });
  for (const type of Object.keys(SAMPLES))
    await w.addTopic(topicOf(type), type, type.startsWith('sensor') ? QOS_SENSOR : undefined);
  let t = 5_000_000_000n;
  for (let round = 0; round < 3; round++) {
    for (const [type, msg] of Object.entries(SAMPLES)) {
      await w.write(topicOf(type), t, msg);
      t += 1_000_000n;
    }
  }
  await w.close();
}

describe('adapters/mcap createBagWriter', () => {
  for (const compression of ['none', 'zstd'] as const) {
    it(`round trip (${compression}): every type we write reads back equal`, async () => {
      const { dir, cleanup } = tempDir('writer');
      try {
        await writeAll(join(dir, 'out'), compression);
        const bag = await openBag(join(dir, 'out'));
        try {
          const info = await bag.info();
          expect(info.compression).to.deep.equal([compression === 'none' ? '' : 'zstd']);
          const n = Object.keys(SAMPLES).length;
          const got = [];
          for await (const m of bag.messages({ decode: true })) got.push(m);
          expect(got).to.have.length(3 * n);
          got.forEach((m, i) => {
            const type = Object.keys(SAMPLES)[i % n]!;
            expect(m.topic).to.equal(topicOf(type));
            expect(m.type).to.equal(type);
            expect(m.logTimeNs).to.equal(5_000_000_000n + BigInt(i) * 1_000_000n);
            expect(m.message, type).to.deep.equal(SAMPLES[type as MessageTypeName]);
          });
          // decoded with the schema text we embedded, which must parse as rosbag2 text does
          expect(new Set(bag.definitionSources().values())).to.deep.equal(new Set(['embedded']));
        } finally {
          await bag.close();
        }
      } finally {
        cleanup();
      }
    });
  }

  it('writes the rosbag2 layout: profile ros2, ros2msg schemas, cdr, QoS + type hash metadata, channel ids from 1', async () => {
    const { dir, cleanup } = tempDir('layout');
    try {
      await writeAll(join(dir, 'out'));
      const ix = await McapIndexedReader.Initialize({
        readable: new TempBuffer(readFileSync(join(dir, 'out', 'out_0.mcap'))),
      });
      expect(ix.header.profile).to.equal('ros2');
      expect(ix.header.library).to.match(/^ar1-ros \d+\.\d+\.\d+ \(@mcap\/core\)$/);
      expect(Math.min(...ix.channelsById.keys())).to.equal(1);
      for (const ch of ix.channelsById.values()) {
        const schema = ix.schemasById.get(ch.schemaId)!;
        expect(ch.messageEncoding).to.equal('cdr');
        expect(schema.encoding).to.equal('ros2msg');
        expect(schema.name).to.match(/^[a-z_0-9]+\/msg\/[A-Za-z0-9]+$/);
        expect([...ch.metadata.keys()].sort()).to.deep.equal(['offered_qos_profiles', 'topic_type_hash']);
        const qos = parseYaml(ch.metadata.get('offered_qos_profiles')!) as Array<Record<string, unknown>>;
        expect(qos[0]).to.include({ history: 1, durability: 2, liveliness: 1 });
        expect(qos[0]!['reliability']).to.equal(schema.name.startsWith('sensor_msgs') ? 2 : 1);
      }
    } finally {
      cleanup();
    }
  });

  it('schema text: rosbag2 layout with MSG: sections, pkg/Type names, and it parses', () => {
    const text = ros2msgSchemaText('ar1_msgs/msg/Trajectory');
    expect(text.split('\n').slice(0, 5)).to.deep.equal([
      'std_msgs/Header header',
      'float64 dt',
      'float64 initial_speed',
      'string bundle_id',
      'ar1_msgs/TrajectoryPoint[] points',
    ]);
    expect(text).to.include(`\n${'='.repeat(80)}\nMSG: ar1_msgs/TrajectoryPoint\nfloat64 t\n`);
    expect(text).to.include(
      `\n${'='.repeat(80)}\nMSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id\n`,
    );
    expect(text).to.include('MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec\n');
    expect(text).to.not.include('/msg/');
    expect(parseMsg(text, { ros2: true })).to.have.length(4);
    expect(ros2msgSchemaText('ar1_msgs/msg/SafetyState')).to.match(
      /^uint8 STATE_DISENGAGED=0\nuint8 STATE_NOMINAL=1\n/,
    );
  });

  it('metadata.yaml: version 8 with type_description_hash, and ar1 bag info agrees with it', async () => {
    const { dir, cleanup } = tempDir('meta');
    try {
      await writeAll(join(dir, 'out'));
      const text = readFileSync(join(dir, 'out', 'metadata.yaml'), 'utf8');
      const meta = parseBagMetadata(text, 'metadata.yaml');
      expect(meta.version).to.equal(8);
      expect(text).to.include('type_description_hash: ""');
      expect(text).to.include('ros_distro: ""');
      expect(meta.relativeFilePaths).to.deep.equal(['out_0.mcap']);
      const bag = await openBag(join(dir, 'out'));
      try {
        const info = await bag.info();
        expect(info.problems).to.deep.equal([]); // counts, start and duration all agree
        expect(meta.startingTimeNs).to.equal(5_000_000_000n);
        expect(info.durationNs).to.equal(meta.durationNs);
        expect(info.topics.map((t) => [t.topic, t.type, t.messageCount, t.offeredQosProfiles])).to.deep.equal(
          meta.topics.map((t) => [t.name, t.type, t.messageCount, t.offeredQosProfiles]),
        );
        expect(meta.files).to.deep.equal([
          {
            path: 'out_0.mcap',
            startingTimeNs: info.startNs,
            durationNs: info.durationNs,
            messageCount: info.messageCount,
          },
        ]);
      } finally {
        await bag.close();
      }
    } finally {
      cleanup();
    }
  });

  it('is deterministic: two identical writes give byte-identical files', async () => {
    const { dir, cleanup } = tempDir('determinism');
    try {
      for (const c of ['none', 'zstd'] as const) {
        await writeAll(join(dir, c, 'a', 'bag'), c);
        await writeAll(join(dir, c, 'b', 'bag'), c);
        for (const f of ['bag_0.mcap', 'metadata.yaml']) {
          expect(
            readFileSync(join(dir, c, 'a', 'bag', f)).equals(readFileSync(join(dir, c, 'b', 'bag', f))),
            `${c} ${f}`,
          ).to.equal(true);
        }
      }
    } finally {
      cleanup();
    }
  });

  it('non-ASCII strings are written \\u{hex}-escaped, not truncated (@foxglove/cdr sizes strings by UTF-16 length)', async () => {
    const { dir, cleanup } = tempDir('utf8');
    try {
      const w = await createBagWriter(join(dir, 'bag'));
      await w.addTopic('/r', 'ar1_msgs/msg/Reasoning');
      await w.write('/r', 1n, {
        header: header(1),
        text: 'curve ↰ ahead, 30 °C',
        bundle_id: 'b',
        generation_ms: 1,
        token_count: 2,
      });
      expect((await w.close()).escapedStrings).to.equal(1);
      const bag = await openBag(join(dir, 'bag'));
      try {
        for await (const m of bag.messages({ decode: true })) {
          expect((m.message as { text: string }).text).to.equal('curve \\u{21b0} ahead, 30 \\u{b0}C');
        }
      } finally {
        await bag.close();
      }
    } finally {
      cleanup();
    }
  });

  it('serialises overlapping calls, and rejects misuse with messages naming the topic', async () => {
    const { dir, cleanup } = tempDir('misuse');
    try {
      const w = await createBagWriter(join(dir, 'bag'));
      await Promise.all([w.addTopic('/a', 'std_msgs/msg/String'), w.addTopic('/b', 'std_msgs/String')]);
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => w.write(i % 2 ? '/a' : '/b', BigInt(i), { data: String(i) })),
      );
      let e1: unknown;
      try {
        await w.write('/nope', 0n, {});
      } catch (e) {
        e1 = e;
      }
      expect((e1 as Error).message).to.equal('bag writer: topic /nope: write before addTopic');
      let e2: unknown;
      try {
        await w.addTopic('/x', 'foo_msgs/msg/Bar');
      } catch (e) {
        e2 = e;
      }
      expect((e2 as Error).message).to.equal(
        'bag writer: topic /x: type foo_msgs/msg/Bar is not a bundled message type',
      );
      let e3: unknown;
      try {
        await w.addTopic('/a', 'std_msgs/msg/Bool');
      } catch (e) {
        e3 = e;
      }
      expect((e3 as Error).message).to.equal(
        'bag writer: topic /a: already added with type std_msgs/msg/String, not std_msgs/msg/Bool',
      );
      const done = await w.close();
      expect(done.messageCount).to.equal(50);
      const bag = await openBag(join(dir, 'bag'));
      try {
        const got: string[] = [];
        for await (const m of bag.messages({ decode: true })) got.push((m.message as { data: string }).data);
        expect(got).to.deep.equal(Array.from({ length: 50 }, (_, i) => String(i)));
      } finally {
        await bag.close();
      }
    } finally {
      cleanup();
    }
  });
});
