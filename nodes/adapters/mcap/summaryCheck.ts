/**
 * Whether an indexed MCAP file's summary holds together before anything trusts it. The summary's CRC protects it
 * only when the writer filled it in: with a summary CRC of 0 nothing is checked, and a Statistics record or chunk
 * index that lies (times spanning centuries, counts of 2^62, a chunk running past the data section) would otherwise
 * reach the replay's span, the report and the reader's buffer sizes.
 */
import type { McapIndexedReader } from '@mcap/core';

/** Bytes of the smallest Message record (opcode, length, channel, sequence, log and publish time; no data). */
const MIN_MESSAGE_RECORD_BYTES = 1 + 8 + 2 + 4 + 8 + 8;

/** The first contradiction found in the summary (a phrase naming the record and field), or undefined. */
export function summaryContradiction(ix: McapIndexedReader): string | undefined {
  const dataEnd = ix.dataEndOffset;
  let firstNs: bigint | undefined;
  let lastNs: bigint | undefined;
  let uncompressed = 0n;
  for (const c of ix.chunkIndexes) {
    const at = `chunk index for the chunk at offset ${c.chunkStartOffset}`;
    const chunkEnd = c.chunkStartOffset + c.chunkLength;
    if (chunkEnd > dataEnd)
      return `${at}: chunk_length ${c.chunkLength} runs past the data section's end at offset ${dataEnd}`;
    if (c.compressedSize > c.chunkLength)
      return `${at}: compressed_size ${c.compressedSize} exceeds chunk_length ${c.chunkLength}`;
    if (c.compression === '' && c.compressedSize !== c.uncompressedSize) {
      return `${at}: uncompressed chunk with compressed_size ${c.compressedSize} and uncompressed_size ${c.uncompressedSize}`;
    }
    if (chunkEnd + c.messageIndexLength > dataEnd)
      return `${at}: message_index_length ${c.messageIndexLength} runs past the data section's end at offset ${dataEnd}`;
    for (const [channel, offset] of c.messageIndexOffsets) {
      if (!ix.channelsById.has(channel))
        return `${at}: a message index for channel ${channel}, which the summary does not define`;
      if (offset < chunkEnd || offset >= chunkEnd + c.messageIndexLength) {
        return `${at}: message index offset ${offset} (channel ${channel}) outside the chunk's message indexes (offsets ${chunkEnd}..${chunkEnd + c.messageIndexLength})`;
      }
    }
    if (c.messageStartTime > c.messageEndTime)
      return `${at}: message_start_time ${c.messageStartTime} ns after message_end_time ${c.messageEndTime} ns`;
    uncompressed += c.uncompressedSize;
    if (c.messageIndexOffsets.size === 0) continue; // a chunk without messages says nothing about their times
    if (firstNs === undefined || c.messageStartTime < firstNs) firstNs = c.messageStartTime;
    if (lastNs === undefined || c.messageEndTime > lastNs) lastNs = c.messageEndTime;
  }
  const st = ix.statistics;
  if (!st) return undefined;
  if (ix.chunkIndexes.length > 0 && st.chunkCount !== ix.chunkIndexes.length) {
    return `Statistics chunk_count ${st.chunkCount}, but the summary indexes ${ix.chunkIndexes.length} chunks`;
  }
  if (st.channelMessageCounts.size > 0) {
    let sum = 0n;
    for (const [channel, n] of st.channelMessageCounts) {
      if (ix.channelsById.size > 0 && !ix.channelsById.has(channel))
        return `Statistics counts messages on channel ${channel}, which the summary does not define`;
      sum += n;
    }
    if (sum !== st.messageCount)
      return `Statistics message_count ${st.messageCount}, but its channel_message_counts add up to ${sum}`;
  }
  if (ix.chunkIndexes.length > 0 && st.messageCount * BigInt(MIN_MESSAGE_RECORD_BYTES) > uncompressed) {
    return `Statistics message_count ${st.messageCount}, more than the chunks' ${uncompressed} uncompressed bytes can hold`;
  }
  if (st.messageCount > 0n && firstNs !== undefined && lastNs !== undefined) {
    if (st.messageStartTime !== firstNs)
      return `Statistics message_start_time ${st.messageStartTime} ns, but the first chunk starts at ${firstNs} ns`;
    if (st.messageEndTime !== lastNs)
      return `Statistics message_end_time ${st.messageEndTime} ns, but the last chunk ends at ${lastNs} ns`;
  }
  return undefined;
}
