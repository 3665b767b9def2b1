/** Test fixtures: bags written by ROS 2 itself (test/fixtures/rosbag2, see its README) and small generated MCAP files. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McapWriter, TempBuffer } from '@mcap/core';
import { parse } from 'yaml';
import { createBagWriter } from '../../../nodes/adapters/mcap/index.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const ROSBAG2_BAGS = resolve(repoRoot, 'test/fixtures/rosbag2');

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `ar1-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The raw metadata.yaml of a rosbag2 fixture bag, as a plain object. */
export function rawMetadata(bag: string): {
  topics: Array<{ name: string; type: string; count: number }>;
  start: bigint;
  duration: bigint;
  count: number;
} {
  const doc = parse(readFileSync(join(ROSBAG2_BAGS, bag, 'metadata.yaml'), 'utf8'), { intAsBigInt: true }) as {
    rosbag2_bagfile_information: {
      topics_with_message_count: Array<{ message_count: bigint; topic_metadata: { name: string; type: string } }>;
      starting_time: { nanoseconds_since_epoch: bigint };
      duration: { nanoseconds: bigint };
      message_count: bigint;
    };
  };
  const i = doc.rosbag2_bagfile_information;
  return {
    topics: i.topics_with_message_count.map((t) => ({
      name: t.topic_metadata.name,
      type: t.topic_metadata.type,
      count: Number(t.message_count),
    })),
    start: i.starting_time.nanoseconds_since_epoch,
    duration: i.duration.nanoseconds,
    count: Number(i.message_count),
  };
}

/** A bag of `n` std_msgs/String on /chatter, 10 ms apart, with small chunks so it has many. */
export async function writeChatterBag(dir: string, n: number, chunkSize = 2048): Promise<string> {
  const w = await createBagWriter(dir, { storageChunkSize: chunkSize });
  await w.addTopic('/chatter', 'std_msgs/msg/String');
  for (let i = 0; i < n; i++)
    await w.write('/chatter', 1_000_000_000n + BigInt(i) * 10_000_000n, { data: `hello ${i} ${'x'.repeat(40)}` });
  return (await w.close()).file;
}

/** An MCAP built with @mcap/core directly, for schemas our writer would never produce. */
export async function rawMcap(opts: {
  schemaName: string;
  schemaText: string;
  topic: string;
  payloads: Uint8Array[];
  chunked?: boolean;
}): Promise<Uint8Array> {
  const buf = new TempBuffer();
  const w = new McapWriter({ writable: buf, useChunks: opts.chunked ?? true, startChannelId: 1 });
  await w.start({ profile: 'ros2', library: 'test' });
  const schemaId = await w.registerSchema({
    name: opts.schemaName,
    encoding: 'ros2msg',
    data: new TextEncoder().encode(opts.schemaText),
  });
  const channelId = await w.registerChannel({
    topic: opts.topic,
    schemaId,
    messageEncoding: 'cdr',
    metadata: new Map(),
  });
  let t = 1000n;
  for (const data of opts.payloads) await w.addMessage({ channelId, sequence: 0, logTime: t, publishTime: t++, data });
  await w.end();
  return buf.get();
}
