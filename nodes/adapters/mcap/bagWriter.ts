/**
 * Writes a rosbag2 bag directory: `<dir>/<name>_0.mcap` (profile ros2, schemas `ros2msg` in rosbag2's text layout,
 * messages `cdr`, channel metadata `offered_qos_profiles` with integer QoS and `topic_type_hash`, channel ids from 1)
 * and `<dir>/metadata.yaml` (version 8), so `ros2 bag info/play` on Humble…Jazzy and Foxglove open it.
 * No wall-clock time goes into either file: the same calls give the same bytes.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { McapWriter } from '@mcap/core';
import { FileHandleWritable } from '@mcap/nodejs';
import type { QosProfile } from '../../core/qos.js';
import { QOS_COMMAND } from '../../core/qos.js';
import { asciiStrings } from './asciiStrings.js';
import { encodeCompiled } from './cdrEncoder.js';
import { encoderFor } from './codec.js';
import { bundledDefinition, fullTypeName } from './definitions.js';
import { formatBagMetadata } from './metadataYaml.js';
import { qosProfilesYaml } from './qosYaml.js';
import { ros2msgSchemaText } from './schemaText.js';

export interface BagWriterOptions {
  /** [bytes] uncompressed chunk size; rosbag2 Jazzy's MCAP default (768 KiB) when unset. */
  storageChunkSize?: number;
  /** Chunk compression (default 'none', as rosbag2 writes by default). */
  compression?: 'none' | 'zstd';
  /** zstd level when compression is 'zstd' (default 3). */
  zstdLevel?: number;
}

export interface WrittenBag {
  dir: string;
  /** The .mcap file. */
  file: string;
  messageCount: number;
  startNs: bigint;
  durationNs: bigint;
  topics: Array<{ topic: string; type: string; messageCount: number }>;
  /** Non-ASCII strings written `\u{hex}`-escaped (see asciiStrings.ts). */
  escapedStrings: number;
}

export interface BagWriter {
  readonly dir: string;
  readonly file: string;
  /** Declares a topic of a bundled type (`pkg/msg/Type`); QoS defaults to reliable, volatile, depth 10. */
  addTopic(topic: string, type: string, qos?: QosProfile): Promise<void>;
  /** Encodes `message` as CDR with the topic's type and writes it at log time `timeNs`. */
  write(topic: string, timeNs: bigint, message: unknown, publishTimeNs?: bigint): Promise<void>;
  /** Writes already-encoded CDR bytes (with encapsulation header), e.g. copied from an input bag. */
  writeRaw(topic: string, timeNs: bigint, cdr: Uint8Array, publishTimeNs?: bigint): Promise<void>;
  /** Finishes the MCAP summary and writes metadata.yaml. */
  close(): Promise<WrittenBag>;
}

const DEFAULT_CHUNK_SIZE = 768 * 1024;

const LIBRARY = `ar1-ros ${(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version} (@mcap/core)`;

type Zstd = { isLoaded: Promise<boolean>; compress(buffer: Uint8Array, level?: number): Uint8Array };
let zstdPromise: Promise<Zstd> | undefined;
async function loadZstd(): Promise<Zstd> {
  return await (zstdPromise ??= import('@foxglove/wasm-zstd').then(async (mod) => {
    const z = ((mod as { default?: Zstd }).default ?? mod) as Zstd;
    await z.isLoaded;
    return z;
  }));
}

interface Topic {
  type: string;
  channelId: number;
  qos: string;
  count: number;
}

export async function createBagWriter(dir: string, options: BagWriterOptions = {}): Promise<BagWriter> {
  const chunkSize = options.storageChunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    throw new RangeError(`createBagWriter: storageChunkSize: expected a positive integer of bytes, got ${chunkSize}`);
  }
  const compression = options.compression ?? 'none';
  if (compression !== 'none' && compression !== 'zstd') {
    throw new RangeError(`createBagWriter: compression: expected 'none' or 'zstd', got ${String(compression)}`);
  }
  const zstd = compression === 'zstd' ? await loadZstd() : undefined;
  const level = options.zstdLevel ?? 3;
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true });
  const file = join(abs, `${basename(abs)}_0.mcap`);
  const handle = await open(file, 'w');
  const writer = new McapWriter({
    writable: new FileHandleWritable(handle),
    startChannelId: 1,
    chunkSize,
    ...(zstd
      ? { compressChunk: (data: Uint8Array) => ({ compression: 'zstd', compressedData: zstd.compress(data, level) }) }
      : {}),
  });
  await writer.start({ profile: 'ros2', library: LIBRARY });
  return new RosbagWriter(abs, file, handle, writer);
}

class RosbagWriter implements BagWriter {
  readonly #handle: FileHandle;
  readonly #writer: McapWriter;
  readonly #topics = new Map<string, Topic>();
  readonly #schemas = new Map<string, number>();
  #tail: Promise<unknown> = Promise.resolve();
  #startNs: bigint | undefined;
  #endNs: bigint | undefined;
  #closed = false;
  #escaped = 0;

  constructor(
    readonly dir: string,
    readonly file: string,
    handle: FileHandle,
    writer: McapWriter,
  ) {
    this.#handle = handle;
    this.#writer = writer;
  }

  /** Runs writer operations one after another, whatever the caller awaits (overlapping calls corrupt MCAP). */
  #enqueue<T>(op: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error(`bag writer ${this.file}: already closed`));
    const next = this.#tail.then(op);
    this.#tail = next.catch(() => undefined);
    return next;
  }

  addTopic(topic: string, type: string, qos: QosProfile = QOS_COMMAND): Promise<void> {
    const rosType = fullTypeName(type);
    if (!bundledDefinition(rosType)) {
      return Promise.reject(new Error(`bag writer: topic ${topic}: type ${type} is not a bundled message type`));
    }
    if (this.#topics.has(topic)) {
      const t = this.#topics.get(topic)!;
      return t.type === rosType
        ? Promise.resolve()
        : Promise.reject(new Error(`bag writer: topic ${topic}: already added with type ${t.type}, not ${rosType}`));
    }
    const entry: Topic = { type: rosType, channelId: -1, qos: qosProfilesYaml(qos), count: 0 };
    this.#topics.set(topic, entry);
    return this.#enqueue(async () => {
      let schemaId = this.#schemas.get(rosType);
      if (schemaId === undefined) {
        schemaId = await this.#writer.registerSchema({
          name: rosType,
          encoding: 'ros2msg',
          data: new TextEncoder().encode(ros2msgSchemaText(rosType)),
        });
        this.#schemas.set(rosType, schemaId);
      }
      entry.channelId = await this.#writer.registerChannel({
        topic,
        schemaId,
        messageEncoding: 'cdr',
        metadata: new Map([
          ['offered_qos_profiles', entry.qos],
          ['topic_type_hash', ''],
        ]),
      });
    });
  }

  write(topic: string, timeNs: bigint, message: unknown, publishTimeNs: bigint = timeNs): Promise<void> {
    const t = this.#topics.get(topic);
    if (!t) return Promise.reject(new Error(`bag writer: topic ${topic}: write before addTopic`));
    // The compiled encoder takes well-formed messages with ASCII strings; the general one with the ASCII escape
    // takes the rest, with the same bytes where both apply.
    let cdr = encodeCompiled(t.type, message);
    if (!cdr)
      try {
        const safe = asciiStrings(message);
        this.#escaped += safe.escaped;
        cdr = encoderFor(t.type).writeMessage(safe.value);
      } catch (e) {
        return Promise.reject(
          new Error(`bag writer: topic ${topic}: cannot encode ${t.type}: ${(e as Error).message}`),
        );
      }
    return this.writeRaw(topic, timeNs, cdr, publishTimeNs);
  }

  writeRaw(topic: string, timeNs: bigint, cdr: Uint8Array, publishTimeNs: bigint = timeNs): Promise<void> {
    const t = this.#topics.get(topic);
    if (!t) return Promise.reject(new Error(`bag writer: topic ${topic}: write before addTopic`));
    if (timeNs < 0n)
      return Promise.reject(new RangeError(`bag writer: topic ${topic}: log time ${timeNs} ns is negative`));
    return this.#enqueue(async () => {
      await this.#writer.addMessage({
        channelId: t.channelId,
        sequence: 0,
        logTime: timeNs,
        publishTime: publishTimeNs,
        data: cdr,
      });
      t.count += 1;
      if (this.#startNs === undefined || timeNs < this.#startNs) this.#startNs = timeNs;
      if (this.#endNs === undefined || timeNs > this.#endNs) this.#endNs = timeNs;
    });
  }

  async close(): Promise<WrittenBag> {
    const done = this.#enqueue(async () => {
      await this.#writer.end();
      await this.#handle.close();
    });
    this.#closed = true;
    await done;
    const startNs = this.#startNs ?? 0n;
    const durationNs = this.#endNs !== undefined ? this.#endNs - startNs : 0n;
    const topics = [...this.#topics].map(([topic, t]) => ({ topic, type: t.type, messageCount: t.count }));
    const messageCount = topics.reduce((n, t) => n + t.messageCount, 0);
    const name = basename(this.file);
    await writeFile(
      join(this.dir, 'metadata.yaml'),
      formatBagMetadata({
        storageIdentifier: 'mcap',
        durationNs,
        startingTimeNs: startNs,
        messageCount,
        topics: [...this.#topics].map(([topic, t]) => ({
          name: topic,
          type: t.type,
          serializationFormat: 'cdr',
          offeredQosProfiles: t.qos,
          typeDescriptionHash: '',
          messageCount: t.count,
        })),
        compressionFormat: '',
        compressionMode: '',
        relativeFilePaths: [name],
        files: [{ path: name, startingTimeNs: startNs, durationNs, messageCount }],
        rosDistro: '',
      }),
    );
    return { dir: this.dir, file: this.file, messageCount, startNs, durationNs, topics, escapedStrings: this.#escaped };
  }
}
