/**
 * openBag: one API over a bare .mcap, a rosbag2 directory (metadata.yaml) and split bags, merged in log-time order,
 * with lazy CDR decoding of only the topics asked for.
 */
import { basename } from 'node:path';
import { ChannelDecoder } from './codec.js';
import type { DefinitionSource } from './codec.js';
import { locateBag } from './bagPaths.js';
import { BagError } from './errors.js';
import { McapFile } from './mcapFile.js';
import type { FileChannel, FileSummary, FileTruncation, RawMessage } from './mcapFile.js';
import type { BagMetadata } from './metadataYaml.js';

export interface TopicInfo {
  topic: string;
  type: string;
  messageCount: number;
  serializationFormat: string;
  /** `offered_qos_profiles` channel metadata as recorded ('' when none). */
  offeredQosProfiles: string;
}

interface BagFileInfo {
  path: string;
  bytes: number;
  messageCount: number;
  startNs?: bigint;
  endNs?: bigint;
  mode: 'indexed' | 'stream';
  compression: string[];
  library: string;
  truncation?: FileTruncation & { messagesLost?: number };
}

export interface BagInfo {
  path: string;
  storageId: 'mcap';
  files: BagFileInfo[];
  bytes: number;
  messageCount: number;
  /** Earliest/latest log time; undefined for an empty bag. */
  startNs?: bigint;
  endNs?: bigint;
  durationNs: bigint;
  topics: TopicInfo[];
  /** Chunk compressions seen across files ('' = none). */
  compression: string[];
  /** Everything unusual: truncation, sequential reads, disagreements with metadata.yaml. */
  problems: string[];
  metadata?: BagMetadata;
}

export interface BagMessage {
  topic: string;
  type: string;
  logTimeNs: bigint;
  publishTimeNs: bigint;
  /** CDR bytes, including the 4-byte encapsulation header. */
  data: Uint8Array;
  /** Decoded message, when decoding was asked for this topic. */
  message?: unknown;
}

interface MessagesOptions {
  /** Topics to read (default: the bag's `topics` option, else all). Unknown topics are an error. */
  topics?: readonly string[];
  /** true: decode every topic read; a list: decode only these topics. Default false. */
  decode?: boolean | readonly string[];
}

export interface BagReader {
  readonly path: string;
  readonly files: readonly string[];
  info(): Promise<BagInfo>;
  messages(options?: MessagesOptions): AsyncIterable<BagMessage>;
  /** Which definition decoded each topic so far ('embedded' or 'bundled'). */
  definitionSources(): ReadonlyMap<string, DefinitionSource>;
  close(): Promise<void>;
}

export interface OpenBagOptions {
  /** Default topic selection for messages(). */
  topics?: readonly string[];
}

export async function openBag(path: string, options: OpenBagOptions = {}): Promise<BagReader> {
  const loc = locateBag(path);
  const files: McapFile[] = [];
  try {
    for (const f of loc.files) files.push(await McapFile.open(f));
  } catch (e) {
    await Promise.all(files.map((f) => f.close()));
    throw e;
  }
  return new Bag(loc.path, files, loc.metadata, options.topics);
}

class Bag implements BagReader {
  readonly #files: McapFile[];
  readonly #metadata: BagMetadata | undefined;
  readonly #defaultTopics: readonly string[] | undefined;
  readonly #decoders = new Map<string, ChannelDecoder>();
  /** The decoder of each channel record seen, so a message finds it without building the key (schema text). */
  readonly #byChannel = new WeakMap<FileChannel, ChannelDecoder>();
  readonly #sources = new Map<string, DefinitionSource>();
  #info: BagInfo | undefined;

  constructor(
    readonly path: string,
    files: McapFile[],
    metadata: BagMetadata | undefined,
    topics: readonly string[] | undefined,
  ) {
    this.#files = files;
    this.#metadata = metadata;
    this.#defaultTopics = topics;
  }

  get files(): readonly string[] {
    return this.#files.map((f) => f.file);
  }

  async close(): Promise<void> {
    await Promise.all(this.#files.map((f) => f.close()));
  }

  definitionSources(): ReadonlyMap<string, DefinitionSource> {
    return this.#sources;
  }

  async info(): Promise<BagInfo> {
    if (this.#info) return this.#info;
    const summaries: FileSummary[] = [];
    for (const f of this.#files) summaries.push(await f.summary());
    this.#info = aggregate(this.path, summaries, this.#metadata);
    return this.#info;
  }

  async *messages(options: MessagesOptions = {}): AsyncGenerator<BagMessage> {
    const info = await this.info();
    const known = new Map(info.topics.map((t) => [t.topic, t]));
    const requested = options.topics ?? this.#defaultTopics;
    if (requested) {
      const missing = requested.filter((t) => !known.has(t));
      if (missing.length > 0) {
        throw new BagError(
          `${this.path}: no topic ${missing.join(', ')} in the bag (topics: ${[...known.keys()].join(', ') || 'none'})`,
        );
      }
    }
    const topics = requested ? new Set(requested) : undefined;
    const decodeTopics =
      options.decode === true
        ? (topics ?? new Set(known.keys()))
        : Array.isArray(options.decode)
          ? new Set(options.decode as readonly string[])
          : new Set<string>();
    // Fail before the first message when a decoded topic has no usable definition.
    for (const f of this.#files) {
      for (const ch of f.channels())
        if (decodeTopics.has(ch.topic) && (!topics || topics.has(ch.topic))) this.#decoder(ch, f.file);
    }
    const sources = this.#files.map((f, i) => tag(f.messages(topics), i, f.file));
    const merged = sources.length === 1 ? sources[0]! : mergeByLogTime(sources);
    for await (const m of merged) {
      const out: BagMessage = {
        topic: m.channel.topic,
        type: m.channel.type,
        logTimeNs: m.logTimeNs,
        publishTimeNs: m.publishTimeNs,
        data: m.data,
      };
      if (decodeTopics.has(m.channel.topic)) {
        const dec = this.#decoder(m.channel, m.file);
        out.message = dec.decode(m.data, m.file, m.logTimeNs);
        this.#sources.set(m.channel.topic, dec.source);
      }
      yield out;
    }
  }

  #decoder(ch: FileChannel, file: string): ChannelDecoder {
    const known = this.#byChannel.get(ch);
    if (known) return known;
    const key = `${ch.topic}\0${ch.type}\0${ch.schemaEncoding}\0${ch.schemaText}`;
    let dec = this.#decoders.get(key);
    if (!dec) {
      if (ch.messageEncoding !== 'cdr') {
        throw new BagError(
          `topic ${ch.topic}: message encoding '${ch.messageEncoding}' (expected 'cdr') [file=${file}]`,
        );
      }
      dec = ChannelDecoder.create(
        { topic: ch.topic, type: ch.type, encoding: ch.schemaEncoding, text: ch.schemaText },
        file,
      );
      this.#decoders.set(key, dec);
    }
    this.#byChannel.set(ch, dec);
    return dec;
  }
}

type Tagged = RawMessage & { fileIndex: number; file: string };

async function* tag(src: AsyncGenerator<RawMessage>, fileIndex: number, file: string): AsyncGenerator<Tagged> {
  for await (const m of src) yield Object.assign(m, { fileIndex, file });
}

/** K-way merge by log time; ties keep file order (split bags are consecutive). */
async function* mergeByLogTime(sources: AsyncGenerator<Tagged>[]): AsyncGenerator<Tagged> {
  const heads: Array<{ m: Tagged; src: AsyncGenerator<Tagged> }> = [];
  try {
    for (const src of sources) {
      const r = await src.next();
      if (!r.done) heads.push({ m: r.value, src });
    }
    while (heads.length > 0) {
      let best = 0;
      for (let i = 1; i < heads.length; i++) {
        const a = heads[i]!.m;
        const b = heads[best]!.m;
        if (a.logTimeNs < b.logTimeNs || (a.logTimeNs === b.logTimeNs && a.fileIndex < b.fileIndex)) best = i;
      }
      const head = heads[best]!;
      yield head.m;
      const r = await head.src.next();
      if (r.done) heads.splice(best, 1);
      else head.m = r.value;
    }
  } finally {
    await Promise.all(sources.map((s) => s.return(undefined)));
  }
}

function aggregate(path: string, summaries: FileSummary[], metadata: BagMetadata | undefined): BagInfo {
  const topics = new Map<string, TopicInfo>();
  const problems: string[] = [];
  let startNs: bigint | undefined;
  let endNs: bigint | undefined;
  for (const s of summaries) {
    problems.push(...s.problems);
    for (const ch of s.channels) {
      let t = topics.get(ch.topic);
      if (!t) {
        t = {
          topic: ch.topic,
          type: ch.type,
          messageCount: 0,
          serializationFormat: ch.messageEncoding,
          offeredQosProfiles: ch.metadata.get('offered_qos_profiles') ?? '',
        };
        topics.set(ch.topic, t);
      } else if (t.type !== ch.type) {
        problems.push(`${s.file}: topic ${ch.topic} has type ${ch.type}, other files ${t.type}`);
      }
      t.messageCount += s.counts.get(ch.id) ?? 0;
    }
    if (s.startNs !== undefined && (startNs === undefined || s.startNs < startNs)) startNs = s.startNs;
    if (s.endNs !== undefined && (endNs === undefined || s.endNs > endNs)) endNs = s.endNs;
  }
  const files = summaries.map((s): BagFileInfo => {
    const fromYaml = metadata?.files.find((f) => basename(f.path) === basename(s.file));
    return {
      path: s.file,
      bytes: s.bytes,
      messageCount: s.messageCount,
      mode: s.mode,
      compression: s.compression,
      library: s.library,
      ...(s.startNs !== undefined ? { startNs: s.startNs, endNs: s.endNs! } : {}),
      ...(s.truncation
        ? {
            truncation: {
              ...s.truncation,
              ...(fromYaml ? { messagesLost: Math.max(0, fromYaml.messageCount - s.truncation.messagesRead) } : {}),
            },
          }
        : {}),
    };
  });
  const messageCount = summaries.reduce((n, s) => n + s.messageCount, 0);
  if (metadata) {
    for (const mt of metadata.topics) {
      const t = topics.get(mt.name);
      if (!t) problems.push(`metadata.yaml lists topic ${mt.name}, the files have no such channel`);
      else if (t.messageCount !== mt.messageCount) {
        problems.push(`metadata.yaml says ${mt.messageCount} messages on ${mt.name}, the files hold ${t.messageCount}`);
      }
    }
    if (metadata.messageCount !== messageCount) {
      problems.push(`metadata.yaml says ${metadata.messageCount} messages, the files hold ${messageCount}`);
    }
    const start = startNs ?? 0n;
    const duration = startNs !== undefined && endNs !== undefined ? endNs - startNs : 0n;
    if (metadata.startingTimeNs !== start || metadata.durationNs !== duration) {
      problems.push(
        `metadata.yaml says start ${metadata.startingTimeNs} ns, duration ${metadata.durationNs} ns; ` +
          `the files hold start ${start} ns, duration ${duration} ns`,
      );
    }
  }
  return {
    path,
    storageId: 'mcap',
    files,
    bytes: summaries.reduce((n, s) => n + s.bytes, 0),
    messageCount,
    ...(startNs !== undefined && endNs !== undefined ? { startNs, endNs } : {}),
    durationNs: startNs !== undefined && endNs !== undefined ? endNs - startNs : 0n,
    topics: [...topics.values()],
    compression: [...new Set(summaries.flatMap((s) => s.compression))].sort(),
    problems,
    ...(metadata ? { metadata } : {}),
  };
}
