/** `ar1 bag info PATH [--json]`: what `ros2 bag info` prints, computed from the MCAP contents. */
import type { Command } from 'commander';
import { openBag } from '../adapters/mcap/index.js';
import type { BagInfo } from '../adapters/mcap/index.js';

export function register(program: Command): void {
  const bag = program.command('bag').description('inspect rosbag2 MCAP bags (no ROS 2 needed)');
  bag
    .command('info')
    .description('print files, size, duration, start, end, message counts and topics of a bag (like ros2 bag info)')
    .argument('<path>', 'a .mcap file or a rosbag2 bag directory')
    .option('--json', 'print JSON for machines')
    .action(async (path: string, opts: { json?: boolean }) => {
      const reader = await openBag(path);
      try {
        const info = await reader.info();
        process.stdout.write(
          opts.json === true ? JSON.stringify(bagInfoJson(info), null, 2) + '\n' : formatBagInfo(info),
        );
      } finally {
        await reader.close();
      }
    });
}

/** Seconds with nine decimals from integer nanoseconds, without float rounding. */
export function nsToSecondsText(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  return `${neg ? '-' : ''}${a / 1_000_000_000n}.${(a % 1_000_000_000n).toString().padStart(9, '0')}`;
}

function dateText(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const hms = d.toISOString().slice(11, 19);
  return `${month} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.getUTCFullYear()} ${hms}.${(ns % 1_000_000_000n).toString().padStart(9, '0')} UTC (${nsToSecondsText(ns)})`;
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${bytes} B` : `${v.toFixed(1)} ${units[u]}`;
}

const label = (s: string): string => (s + ':').padEnd(19);

/**
 * The span to print. Like `ros2 bag info`, a bag directory's metadata.yaml is what the bag says about itself, so its
 * start and duration are printed; when the MCAP contents disagree, the reader lists both under Problems (replay
 * always uses the contents). A bare .mcap has no metadata.yaml: its contents are printed.
 */
export function displayedSpan(info: BagInfo): {
  startNs?: bigint;
  endNs?: bigint;
  durationNs: bigint;
  source: 'metadata.yaml' | 'contents';
} {
  const m = info.metadata;
  if (m)
    return {
      startNs: m.startingTimeNs,
      endNs: m.startingTimeNs + m.durationNs,
      durationNs: m.durationNs,
      source: 'metadata.yaml',
    };
  return {
    ...(info.startNs !== undefined ? { startNs: info.startNs } : {}),
    ...(info.endNs !== undefined ? { endNs: info.endNs } : {}),
    durationNs: info.durationNs,
    source: 'contents',
  };
}

export function formatBagInfo(info: BagInfo): string {
  const lines: string[] = [];
  const names = info.files.map((f) => f.path.split('/').pop()!);
  lines.push(label('Files') + (names[0] ?? ''));
  for (const n of names.slice(1)) lines.push(' '.repeat(19) + n);
  lines.push(label('Bag size') + formatSize(info.bytes));
  lines.push(label('Storage id') + info.storageId);
  lines.push(label('Compression') + (info.compression.filter((c) => c !== '').join(', ') || 'none') + ' (chunks)');
  const span = displayedSpan(info);
  lines.push(label('Duration') + nsToSecondsText(span.durationNs) + 's');
  if (span.startNs !== undefined && span.endNs !== undefined) {
    lines.push(label('Start') + dateText(span.startNs));
    lines.push(label('End') + dateText(span.endNs));
  }
  lines.push(label('Messages') + String(info.messageCount));
  const w = Math.max(0, ...info.topics.map((t) => t.topic.length));
  const tw = Math.max(0, ...info.topics.map((t) => t.type.length));
  const cw = Math.max(0, ...info.topics.map((t) => String(t.messageCount).length));
  info.topics.forEach((t, i) => {
    lines.push(
      (i === 0 ? label('Topic information') : ' '.repeat(19)) +
        `Topic: ${t.topic.padEnd(w)} | Type: ${t.type.padEnd(tw)} | Count: ${String(t.messageCount).padEnd(cw)} | Serialization Format: ${t.serializationFormat}`,
    );
  });
  if (info.topics.length === 0) lines.push(label('Topic information') + 'none');
  info.problems.forEach((p, i) => lines.push((i === 0 ? label('Problems') : ' '.repeat(19)) + p));
  return lines.join('\n') + '\n';
}

/** JSON view: times as integer-nanosecond strings plus float seconds. */
export function bagInfoJson(info: BagInfo): Record<string, unknown> {
  const t = (ns: bigint | undefined): Record<string, unknown> =>
    ns === undefined ? {} : { ns: ns.toString(), s: Number(nsToSecondsText(ns)) };
  return {
    path: info.path,
    storage_id: info.storageId,
    size_bytes: info.bytes,
    compression: info.compression,
    ...(() => {
      const span = displayedSpan(info);
      return { duration: t(span.durationNs), start: t(span.startNs), end: t(span.endNs), span_source: span.source };
    })(),
    contents: { duration: t(info.durationNs), start: t(info.startNs), end: t(info.endNs) },
    message_count: info.messageCount,
    topics: info.topics.map((x) => ({
      topic: x.topic,
      type: x.type,
      message_count: x.messageCount,
      serialization_format: x.serializationFormat,
      offered_qos_profiles: x.offeredQosProfiles,
    })),
    files: info.files.map((f) => ({
      path: f.path,
      size_bytes: f.bytes,
      message_count: f.messageCount,
      read_mode: f.mode,
      compression: f.compression,
      library: f.library,
      start: t(f.startNs),
      end: t(f.endNs),
      ...(f.truncation ? { truncation: f.truncation } : {}),
    })),
    problems: info.problems,
  };
}
