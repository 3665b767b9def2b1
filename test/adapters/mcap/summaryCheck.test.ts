import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBag } from '../../../nodes/adapters/mcap/index.js';
import { makeSampleBag } from '../../../nodes/replay/sampleBag.js';
import { tempDir, writeChatterBag } from './fixtures.js';

const AR1 = fileURLToPath(new URL('../../../bin/ar1.js', import.meta.url));
const OP_CHUNK_INDEX = 0x08;
const OP_STATISTICS = 0x0b;
const OP_FOOTER = 0x02;
const MAGIC_BYTES = 8;
const FOOTER_BYTES = 1 + 8 + 8 + 8 + 4;

/**
 * Rewrites fields of an MCAP file's summary in place and zeroes the footer's summary CRC, as a writer that skips
 * the CRC (or someone editing the file) would leave it. `edit` gets the file and the offsets of the Statistics
 * record's fields and of every chunk index's fields.
 */
function lieInSummary(file: string, edit: (b: Buffer, at: SummaryFields) => void): void {
  const b = Buffer.from(readFileSync(file));
  const footer = b.length - MAGIC_BYTES - FOOTER_BYTES;
  expect(b[footer], 'footer opcode').to.equal(OP_FOOTER);
  const summaryStart = Number(b.readBigUInt64LE(footer + 9));
  const at: SummaryFields = { statistics: -1, chunkIndexes: [] };
  for (let p = summaryStart; p < footer; p += 9 + Number(b.readBigUInt64LE(p + 1))) {
    const body = p + 9;
    if (b[p] === OP_STATISTICS) {
      // message_count u64, schema_count u16, channel_count u32, attachment/metadata/chunk counts u32, start u64, end u64
      at.statistics = body;
    } else if (b[p] === OP_CHUNK_INDEX) {
      // start u64, end u64, chunk_start_offset u64, chunk_length u64, message_index_offsets map, message_index_length u64, …
      const mapBytes = b.readUInt32LE(body + 32);
      at.chunkIndexes.push({
        startTime: body,
        endTime: body + 8,
        chunkLength: body + 24,
        messageIndexLength: body + 36 + mapBytes,
      });
    }
  }
  expect(at.statistics, 'a Statistics record').to.be.above(0);
  edit(b, at);
  b.writeUInt32LE(0, footer + 25); // summary_crc: 0 = not computed, so readers do not check it
  writeFileSync(file, b);
}
interface SummaryFields {
  /** Offset of the Statistics record's first field (message_count). */
  statistics: number;
  chunkIndexes: Array<{ startTime: number; endTime: number; chunkLength: number; messageIndexLength: number }>;
}
const STAT_MESSAGE_COUNT = 0;
const STAT_CHUNK_COUNT = 8 + 2 + 4 + 4 + 4;
const STAT_START = STAT_CHUNK_COUNT + 4;
const STAT_END = STAT_START + 8;
const HUGE = 1n << 62n;

describe('adapters/mcap: an MCAP summary that lies (statistics, chunk indexes; summary CRC 0) is refused at open', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  let honest: string;
  before(async () => {
    ({ dir, cleanup } = tempDir('summary-lies'));
    honest = await writeChatterBag(join(dir, 'honest'), 200);
  });
  after(() => cleanup());

  /** A copy of the honest file with one lie, opened: the BagError's message. */
  async function refusal(name: string, edit: (b: Buffer, at: SummaryFields) => void): Promise<string> {
    const file = join(dir, `${name}.mcap`);
    writeFileSync(file, readFileSync(honest));
    lieInSummary(file, edit);
    try {
      await (await openBag(file)).close();
    } catch (e) {
      expect((e as Error).name).to.equal('BagError');
      expect((e as Error).message).to.include(file);
      expect((e as Error).message).to.include('summary CRC 0, so unchecked');
      return (e as Error).message;
    }
    throw new Error(`${name}: opened without a word`);
  }

  it('the honest file, and the same file with only its summary CRC zeroed, open and read all 200 messages', async () => {
    const file = join(dir, 'crc0.mcap');
    writeFileSync(file, readFileSync(honest));
    lieInSummary(file, () => {});
    for (const f of [honest, file]) {
      const bag = await openBag(f);
      try {
        expect((await bag.info()).messageCount).to.equal(200);
        let n = 0;
        for await (const _ of bag.messages()) n += 1;
        expect(n).to.equal(200);
      } finally {
        await bag.close();
      }
    }
  });

  it('statistics times spanning 292 years (start 0, end 2^63−1): refused naming the field and what the chunks say', async () => {
    const m = await refusal('times', (b, at) => {
      b.writeBigUInt64LE(0n, at.statistics + STAT_START);
      b.writeBigUInt64LE((1n << 63n) - 1n, at.statistics + STAT_END);
    });
    expect(m).to.match(/Statistics message_start_time 0 ns, but the first chunk starts at 1000000000 ns/);
  });

  it('a statistics message count of 2^62, also with the channel counts lying alike: refused', async () => {
    expect(await refusal('count', (b, at) => b.writeBigUInt64LE(HUGE, at.statistics + STAT_MESSAGE_COUNT))).to.match(
      /Statistics message_count 4611686018427387904, but its channel_message_counts add up to 200/,
    );
    expect(
      await refusal('counts', (b, at) => {
        b.writeBigUInt64LE(HUGE, at.statistics + STAT_MESSAGE_COUNT);
        const map = at.statistics + STAT_END + 8; // channel_message_counts: u32 byte length, then (u16 id, u64 count)…
        b.writeBigUInt64LE(HUGE, map + 4 + 2);
      }),
    ).to.match(/message_count 4611686018427387904, more than the chunks' \d+ uncompressed bytes can hold/);
  });

  it('a wrong chunk count, a chunk running past the data section, a message index of 2^62 bytes, a chunk ending before it starts', async () => {
    expect(await refusal('chunks', (b, at) => b.writeUInt32LE(0xffffffff, at.statistics + STAT_CHUNK_COUNT))).to.match(
      /Statistics chunk_count 4294967295, but the summary indexes \d+ chunks/,
    );
    expect(await refusal('chunklen', (b, at) => b.writeBigUInt64LE(HUGE, at.chunkIndexes[3]!.chunkLength))).to.match(
      /chunk index for the chunk at offset \d+: chunk_length 4611686018427387904 runs past the data section's end/,
    );
    expect(
      await refusal('milen', (b, at) => b.writeBigUInt64LE(HUGE, at.chunkIndexes[0]!.messageIndexLength)),
    ).to.match(/message_index_length 4611686018427387904 runs past the data section's end/);
    expect(await refusal('backwards', (b, at) => b.writeBigUInt64LE(0n, at.chunkIndexes[2]!.endTime))).to.match(
      /message_start_time \d+ ns after message_end_time 0 ns/,
    );
  });

  it('ar1 replay and ar1 bag info on a bag whose statistics lie: one line naming the file, exit 2, before the model loads, never a wait', async () => {
    const bag = join(dir, 'drive');
    const file = (await makeSampleBag(bag, { durationS: 1, seed: 3 })).file;
    lieInSummary(file, (b, at) => {
      b.writeBigUInt64LE(0n, at.statistics + STAT_START);
      b.writeBigUInt64LE((1n << 63n) - 1n, at.statistics + STAT_END);
    });
    mkdirSync(join(dir, 'out'));
    for (const args of [
      ['replay', '--bag', bag, '--bundle', join(dir, 'no-bundle'), '--providers', 'cpu', '--out', join(dir, 'out')],
      ['bag', 'info', bag],
    ]) {
      const r = spawnSync(process.execPath, [AR1, ...args], { encoding: 'utf8', timeout: 30_000 });
      expect(r.error, 'ended by itself').to.equal(undefined);
      expect(r.stderr).not.to.match(/\n\s+at /);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('ar1: '));
      expect(lines, r.stderr).to.have.length(1);
      expect(lines[0]).to.equal(
        `ar1: ${file}: the MCAP summary cannot be trusted (summary CRC 0, so unchecked): ` +
          'Statistics message_start_time 0 ns, but the first chunk starts at 1700000000001468411 ns; rebuild it (mcap recover) or re-record',
      );
      expect(r.status).to.equal(2);
    }
  });
});
