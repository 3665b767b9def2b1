import { mergeConsistency, type ConsistencySummary } from './consistencyReport.js';
import { round } from './metrics.js';
import type { ReportJson, Transition } from './report.js';

export interface MergedReport {
  ar1_ros_version: string;
  bags: number;
  inputs: Array<{ bag: string; bundle: string; frames_received: number; plans: number; final_state: string }>;
  frames: { received: number; planned: number; dropped: Record<string, number> };
  plans: { published: number; errors: number };
  /** Summed over the reports that have it (absent when none has). */
  consistency?: ConsistencySummary;
  metrics: {
    ade: Record<string, number | null>;
    fde: Record<string, number | null>;
    min_ade: Record<string, number | null>;
    min_fde: Record<string, number | null>;
    plans_scored: Record<string, number>;
  };
  watchdog: { transitions: Array<Transition & { bag: string }>; fallbacks: number };
  commands: { planner: number; fallback: number; hold: number };
}

/**
 * Combines shard reports into one: counts add up, metrics are means weighted by the plans each report scored
 * (so merging shards gives the same numbers as one replay over all plans). Inputs sorted by bag path.
 */
export function mergeReports(reports: readonly ReportJson[]): MergedReport {
  const sorted = [...reports].sort((a, b) => a.bag.path.localeCompare(b.bag.path));
  const out: MergedReport = {
    ar1_ros_version: sorted[0]?.ar1_ros_version ?? '',
    bags: sorted.length,
    inputs: [],
    frames: { received: 0, planned: 0, dropped: {} },
    plans: { published: 0, errors: 0 },
    metrics: { ade: {}, fde: {}, min_ade: {}, min_fde: {}, plans_scored: {} },
    watchdog: { transitions: [], fallbacks: 0 },
    commands: { planner: 0, fallback: 0, hold: 0 },
  };
  const sums: Record<'ade' | 'fde' | 'min_ade' | 'min_fde', Record<string, number>> = {
    ade: {},
    fde: {},
    min_ade: {},
    min_fde: {},
  };
  for (const r of sorted) {
    out.inputs.push({
      bag: r.bag.path,
      bundle: r.bundle,
      frames_received: r.frames.received,
      plans: r.plans.published,
      final_state: r.watchdog.final_state,
    });
    out.frames.received += r.frames.received;
    out.frames.planned += r.frames.planned;
    for (const [k, v] of Object.entries(r.frames.dropped)) out.frames.dropped[k] = (out.frames.dropped[k] ?? 0) + v;
    out.plans.published += r.plans.published;
    out.plans.errors += r.plans.errors;
    for (const [h, n] of Object.entries(r.metrics.plans_scored)) {
      out.metrics.plans_scored[h] = (out.metrics.plans_scored[h] ?? 0) + n;
      for (const m of ['ade', 'fde', 'min_ade', 'min_fde'] as const) {
        const v = r.metrics[m][h];
        if (v !== null && v !== undefined && n > 0) sums[m][h] = (sums[m][h] ?? 0) + v * n;
      }
    }
    for (const t of r.watchdog.transitions) {
      out.watchdog.transitions.push({ ...t, bag: r.bag.path });
      if (t.to === 'fallback') out.watchdog.fallbacks++;
    }
    out.commands.planner += r.commands.planner;
    out.commands.fallback += r.commands.fallback;
    out.commands.hold += r.commands.hold;
  }
  const withConsistency = sorted.flatMap((r) => (r.consistency ? [r.consistency] : []));
  if (withConsistency.length) out.consistency = mergeConsistency(withConsistency);
  for (const m of ['ade', 'fde', 'min_ade', 'min_fde'] as const) {
    for (const [h, n] of Object.entries(out.metrics.plans_scored)) {
      out.metrics[m][h] = n > 0 && sums[m][h] !== undefined ? round(sums[m][h]! / n) : null;
    }
  }
  return out;
}

/** Deterministic shard assignment: bags sorted by path, bag j goes to shard j mod N. */
export function shardOf<T>(items: readonly T[], key: (t: T) => string, index: number, count: number): T[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`--shard: expected i/N with N >= 1, got N=${count}`);
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new RangeError(`--shard: expected 0 <= i < ${count}, got i=${index}`);
  return [...items].sort((a, b) => key(a).localeCompare(key(b))).filter((_, j) => j % count === index);
}

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new RangeError(`--shard: expected i/N (e.g. 0/4), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  shardOf([], String, index, count);
  return { index, count };
}
