/**
 * One MCAP file: indexed reading (McapIndexedReader) when the file has a usable summary and chunk indexes, else
 * a sequential McapStreamReader scan (unchunked `fastwrite` files, truncated recordings, broken summaries).
 * A truncated file yields every complete message (including the complete messages of a cut uncompressed chunk)
 * and reports what was lost. A corrupt chunk ends reading with a BagError naming the file and chunk offset,
 * after every message before it was delivered. A summary that contradicts itself or the file (summaryCheck.ts) is
 * refused at open with a BagError naming the file and the lie.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { McapIndexedReader, McapRecordBuilder, McapStreamReader } from '@mcap/core';
import type { DecompressHandlers, TypedMcapRecord, TypedMcapRecords } from '@mcap/core';
import { FileHandleReadable } from '@mcap/nodejs';
import { loadDecompressHandlers } from '@mcap/support';
import { assertMcapMagic } from './bagPaths.js';
import { BagError } from './errors.js';
import { summaryContradiction } from './summaryCheck.js';

export interface FileChannel {
  /** Channel id inside this file. */
  id: number;
  topic: string;
  /** Schema name as recorded (the ROS type), '' when the channel has no schema. */
  type: string;
  schemaEncoding: string;
  schemaText: string;
  messageEncoding: string;
  metadata: ReadonlyMap<string, string>;
}

export interface RawMessage {
  channel: FileChannel;
  logTimeNs: bigint;
  publishTimeNs: bigint;
  sequence: number;
  data: Uint8Array;
}

export interface FileTruncation {
  /** Bytes of the file. */
  fileBytes: number;
  /** Bytes of the incomplete record at the end (not read). */
  lostBytes: number;
  /** Complete messages read from the file. */
  messagesRead: number;
  /** Messages known to be lost: the cut message or chunk at the end (the recording may have lost more). */
  messagesLostAtLeast: number;
  /** Complete messages salvaged from inside a cut, uncompressed chunk. */
  messagesSalvaged: number;
}

export interface FileSummary {
  file: string;
  bytes: number;
  mode: 'indexed' | 'stream';
  /** Why the file is read as a stream (unchunked, truncated, …). */
  streamReason?: string;
  profile: string;
  library: string;
  channels: FileChannel[];
  /** Messages per channel id. */
  counts: Map<number, number>;
  messageCount: number;
  /** Earliest and latest log time, undefined when the file has no message. */
  startNs?: bigint;
  endNs?: bigint;
  /** Chunk compressions seen ('' = none). */
  compression: string[];
  truncation?: FileTruncation;
  problems: string[];
}

const SLICE_BYTES = 4 << 20;
const OPCODE_MESSAGE = 0x05;
const OPCODE_CHUNK = 0x06;

export class McapFile {
  readonly #file: string;
  readonly #handle: FileHandle;
  readonly #bytes: number;
  readonly #handlers: DecompressHandlers;
  readonly #indexed: McapIndexedReader | undefined;
  readonly #streamReason: string | undefined;
  #summary: FileSummary | undefined;
  #channels = new Map<number, FileChannel>();

  private constructor(
    file: string,
    handle: FileHandle,
    bytes: number,
    handlers: DecompressHandlers,
    indexed: McapIndexedReader | undefined,
    streamReason: string | undefined,
  ) {
    this.#file = file;
    this.#handle = handle;
    this.#bytes = bytes;
    this.#handlers = handlers;
    this.#indexed = indexed;
    this.#streamReason = streamReason;
    if (indexed)
      for (const ch of indexed.channelsById.values()) this.#channels.set(ch.id, toChannel(ch, indexed.schemasById));
  }

  static async open(file: string): Promise<McapFile> {
    assertMcapMagic(file);
    const handlers = await loadDecompressHandlers();
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (e) {
      throw new BagError(`${file}: cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const bytes = (await handle.stat()).size;
    let indexed: McapIndexedReader | undefined;
    let reason: string | undefined;
    try {
      indexed = await McapIndexedReader.Initialize({
        readable: new FileHandleReadable(handle),
        decompressHandlers: handlers,
      });
      if (indexed.chunkIndexes.length === 0) reason = 'no chunk index (unchunked file)';
      else if (indexed.chunkIndexes.some((c) => c.messageIndexOffsets.size === 0 && c.uncompressedSize > 0n)) {
        reason = 'chunks without message index';
      }
    } catch (e) {
      reason = `summary unreadable: ${(e as Error).message}`;
    }
    const lie = indexed && reason === undefined ? summaryContradiction(indexed) : undefined;
    if (lie !== undefined) {
      await handle.close();
      const crc = indexed!.footer.summaryCrc === 0 ? 'summary CRC 0, so unchecked' : 'despite its summary CRC';
      throw new BagError(
        `${file}: the MCAP summary cannot be trusted (${crc}): ${lie}; rebuild it (mcap recover) or re-record`,
      );
    }
    return new McapFile(file, handle, bytes, handlers, reason === undefined ? indexed : undefined, reason);
  }

  get file(): string {
    return this.#file;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }

  /** Topics, types, counts, times; from the Statistics record when indexed, else from a full scan. */
  async summary(): Promise<FileSummary> {
    if (this.#summary) return this.#summary;
    const ix = this.#indexed;
    if (ix?.statistics) {
      const st = ix.statistics;
      const counts = new Map<number, number>();
      for (const id of ix.channelsById.keys()) counts.set(id, Number(st.channelMessageCounts.get(id) ?? 0n));
      const total = Number(st.messageCount);
      this.#summary = {
        ...this.#base('indexed'),
        counts,
        messageCount: total,
        ...(total > 0 ? { startNs: st.messageStartTime, endNs: st.messageEndTime } : {}),
        compression: [...new Set(ix.chunkIndexes.map((c) => c.compression))].sort(),
      };
      return this.#summary;
    }
    // No statistics (or a stream file): count by reading every message, undecoded.
    const counts = new Map<number, number>();
    let startNs: bigint | undefined;
    let endNs: bigint | undefined;
    let n = 0;
    const scan = this.#indexed ? undefined : { compression: new Set<string>(), problems: [] as string[] };
    for await (const m of this.messages(undefined, scan)) {
      counts.set(m.channel.id, (counts.get(m.channel.id) ?? 0) + 1);
      if (startNs === undefined || m.logTimeNs < startNs) startNs = m.logTimeNs;
      if (endNs === undefined || m.logTimeNs > endNs) endNs = m.logTimeNs;
      n += 1;
    }
    for (const id of this.#channels.keys()) if (!counts.has(id)) counts.set(id, 0);
    const base = this.#base(this.#indexed ? 'indexed' : 'stream');
    this.#summary = {
      ...base,
      counts,
      messageCount: n,
      ...(startNs !== undefined && endNs !== undefined ? { startNs, endNs } : {}),
      compression: this.#indexed
        ? [...new Set(this.#indexed.chunkIndexes.map((c) => c.compression))].sort()
        : [...scan!.compression].sort(),
      problems: [...base.problems, ...(scan?.problems ?? [])],
      ...(this.#truncation ? { truncation: this.#truncation } : {}),
    };
    return this.#summary;
  }

  #truncation: FileTruncation | undefined;
  #header = { profile: '', library: '' };

  #base(mode: 'indexed' | 'stream'): Omit<FileSummary, 'counts' | 'messageCount' | 'compression'> {
    const h = this.#indexed?.header ?? this.#header;
    const problems: string[] = [];
    if (this.#streamReason && !this.#streamReason.startsWith('no chunk index'))
      problems.push(`${this.#file}: read sequentially: ${this.#streamReason}`);
    if (this.#truncation) {
      const t = this.#truncation;
      problems.push(
        `${this.#file}: truncated: last ${t.lostBytes} of ${t.fileBytes} bytes are an incomplete record; ` +
          `${t.messagesRead} complete messages read${t.messagesSalvaged > 0 ? ` (${t.messagesSalvaged} salvaged from the cut chunk)` : ''}, ` +
          `at least ${t.messagesLostAtLeast} lost`,
      );
    }
    return {
      file: this.#file,
      bytes: this.#bytes,
      mode,
      ...(this.#streamReason ? { streamReason: this.#streamReason } : {}),
      profile: h.profile,
      library: h.library,
      channels: [...this.#channels.values()],
      problems,
    };
  }

  /** Channels known so far (all of them once summary() has run). */
  channels(): FileChannel[] {
    return [...this.#channels.values()];
  }

  /**
   * Messages of the given topics (all when undefined), in log-time order when indexed, file order otherwise.
   * Throws BagError on a corrupt chunk after yielding everything before it.
   */
  messages(
    topics?: ReadonlySet<string>,
    scan?: { compression: Set<string>; problems: string[] },
  ): AsyncGenerator<RawMessage> {
    return this.#indexed ? this.#indexedMessages(this.#indexed, topics) : this.#streamMessages(topics, scan);
  }

  async *#indexedMessages(ix: McapIndexedReader, topics?: ReadonlySet<string>): AsyncGenerator<RawMessage> {
    let delivered = 0;
    const it = ix.readMessages(topics ? { topics: [...topics] } : {});
    for (;;) {
      let r: IteratorResult<TypedMcapRecords['Message']>;
      try {
        r = await it.next();
      } catch (e) {
        throw await this.#locateCorruption(ix, e as Error, delivered);
      }
      if (r.done) return;
      const m = r.value;
      const channel = this.#channels.get(m.channelId);
      if (!channel) throw new BagError(`${this.#file}: message on channel ${m.channelId} without a Channel record`);
      delivered += 1;
      yield { channel, logTimeNs: m.logTime, publishTimeNs: m.publishTime, sequence: m.sequence, data: m.data };
    }
  }

  /** Finds the chunk that fails to decompress or check (CRC), for an error that names it. */
  async #locateCorruption(ix: McapIndexedReader, cause: Error, delivered: number): Promise<BagError> {
    // Feed the chunks in file order to one stream reader (channels are defined in earlier chunks).
    const chunks = [...ix.chunkIndexes].sort((a, b) => Number(a.chunkStartOffset - b.chunkStartOffset));
    const sr = new McapStreamReader({ noMagicPrefix: true, decompressHandlers: this.#handlers, validateCrcs: true });
    for (const c of chunks) {
      const buf = Buffer.alloc(Number(c.chunkLength));
      await this.#handle.read(buf, 0, buf.byteLength, Number(c.chunkStartOffset));
      try {
        sr.append(buf);
        while (sr.nextRecord()) {
          /* validate every record of the chunk */
        }
      } catch (e) {
        return new BagError(
          `${this.#file}: corrupt chunk at offset ${c.chunkStartOffset} (${c.chunkLength} bytes, ` +
            `log times ${c.messageStartTime}..${c.messageEndTime} ns): ${(e as Error).message}; ` +
            `${delivered} messages before it were delivered`,
        );
      }
    }
    return new BagError(`${this.#file}: ${cause.message}; ${delivered} messages before it were delivered`);
  }

  async *#streamMessages(
    topics?: ReadonlySet<string>,
    scan?: { compression: Set<string>; problems: string[] },
  ): AsyncGenerator<RawMessage> {
    const sr = new McapStreamReader({ includeChunks: true, decompressHandlers: this.#handlers, validateCrcs: true });
    const schemas = new Map<number, TypedMcapRecords['Schema']>();
    const rawChannels = new Map<number, TypedMcapRecords['Channel']>();
    let appended = 0;
    let messagesRead = 0;
    let chunkOffset = -1;
    let lastLogTime = -1n;
    let inversions = 0;
    const buf = Buffer.alloc(Math.min(SLICE_BYTES, Math.max(this.#bytes, 1)));
    const handle = (rec: TypedMcapRecord): RawMessage | undefined => {
      switch (rec.type) {
        case 'Header':
          this.#header = { profile: rec.profile, library: rec.library };
          return undefined;
        case 'Schema':
          schemas.set(rec.id, rec);
          return undefined;
        case 'Channel': {
          rawChannels.set(rec.id, rec);
          if (!this.#channels.has(rec.id)) this.#channels.set(rec.id, toChannel(rec, schemas));
          return undefined;
        }
        case 'Chunk':
          scan?.compression.add(rec.compression);
          return undefined;
        case 'Message': {
          const channel = this.#channels.get(rec.channelId);
          if (!channel)
            throw new BagError(`${this.#file}: message on channel ${rec.channelId} without a Channel record`);
          messagesRead += 1;
          if (rec.logTime < lastLogTime) inversions += 1;
          lastLogTime = rec.logTime;
          if (topics && !topics.has(channel.topic)) return undefined;
          return {
            channel,
            logTimeNs: rec.logTime,
            publishTimeNs: rec.publishTime,
            sequence: rec.sequence,
            data: rec.data,
          };
        }
        default:
          return undefined;
      }
    };
    for (let pos = 0; pos < this.#bytes;) {
      const { bytesRead } = await this.#handle.read(buf, 0, Math.min(buf.byteLength, this.#bytes - pos), pos);
      if (bytesRead === 0) break;
      sr.append(buf.subarray(0, bytesRead));
      appended += bytesRead;
      pos += bytesRead;
      for (;;) {
        const consumed = appended - sr.bytesRemaining();
        let rec: TypedMcapRecord | undefined;
        try {
          rec = sr.nextRecord();
        } catch (e) {
          const where =
            chunkOffset >= 0 ? `corrupt chunk at offset ${chunkOffset}` : `corrupt record at offset ${consumed}`;
          throw new BagError(
            `${this.#file}: ${where}: ${(e as Error).message}; ${messagesRead} messages before it were read`,
          );
        }
        if (!rec) break;
        if (rec.type === 'Chunk') chunkOffset = consumed;
        else if (rec.type !== 'Message' && rec.type !== 'Schema' && rec.type !== 'Channel') chunkOffset = -1;
        const out = handle(rec);
        if (out) yield out;
      }
    }
    if (inversions > 0)
      scan?.problems.push(`${this.#file}: ${inversions} messages out of log-time order; read in file order`);
    if (sr.done()) return;
    // Truncated: the bytes after the last complete record are an incomplete record.
    const tailStart = appended - sr.bytesRemaining();
    const tail = Buffer.alloc(this.#bytes - tailStart);
    await this.#handle.read(tail, 0, tail.byteLength, tailStart);
    let salvaged = 0;
    let lostAtLeast = tail.byteLength > 0 && (tail[0] === OPCODE_MESSAGE || tail[0] === OPCODE_CHUNK) ? 1 : 0;
    const records = tail[0] === OPCODE_CHUNK ? uncompressedChunkRecords(tail) : undefined;
    if (records) {
      // The inner reader must know the channels defined earlier in the file: replay them first.
      const prelude = new McapRecordBuilder();
      for (const sc of schemas.values()) prelude.writeSchema(sc);
      for (const ch of rawChannels.values()) prelude.writeChannel(ch);
      const inner = new McapStreamReader({ noMagicPrefix: true, validateCrcs: true });
      inner.append(prelude.buffer);
      inner.append(records);
      try {
        for (let rec; (rec = inner.nextRecord());) {
          const out = handle(rec);
          if (rec.type === 'Message') salvaged += 1;
          if (out) yield out;
        }
      } catch {
        /* the cut record at the end of the partial chunk */
      }
      lostAtLeast = inner.bytesRemaining() > 0 ? 1 : 0;
    }
    this.#truncation = {
      fileBytes: this.#bytes,
      lostBytes: tail.byteLength,
      messagesRead,
      messagesLostAtLeast: lostAtLeast,
      messagesSalvaged: salvaged,
    };
  }
}

/** The records section of a cut, uncompressed Chunk record (opcode, length, fields, records…), else undefined. */
function uncompressedChunkRecords(tail: Buffer): Uint8Array | undefined {
  // opcode 1 + length 8 + start 8 + end 8 + uncompressed size 8 + crc 4 + compression (len 4 + str) + records len 8
  const fixed = 1 + 8 + 8 + 8 + 8 + 4;
  if (tail.byteLength < fixed + 4) return undefined;
  const compressionLength = tail.readUInt32LE(fixed);
  const recordsStart = fixed + 4 + compressionLength + 8;
  if (compressionLength !== 0 || tail.byteLength <= recordsStart) return undefined;
  return tail.subarray(recordsStart);
}

function toChannel(
  ch: TypedMcapRecords['Channel'],
  schemas: ReadonlyMap<number, TypedMcapRecords['Schema']>,
): FileChannel {
  const schema = schemas.get(ch.schemaId);
  return {
    id: ch.id,
    topic: ch.topic,
    type: schema?.name ?? '',
    schemaEncoding: schema?.encoding ?? '',
    schemaText: schema ? new TextDecoder().decode(schema.data) : '',
    messageEncoding: ch.messageEncoding,
    metadata: ch.metadata,
  };
}
