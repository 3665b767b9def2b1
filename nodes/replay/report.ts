import { droppedAtEnd } from '../planner/frameAccounting.js';
import type { ConsistencySummary } from './consistencyReport.js';
import type { LatencyModel } from './latencyModel.js';
import { describeLatency } from './latencyModel.js';
import { summarise, round, type MetricSummary, type PlanScore } from './metrics.js';
import { percentiles, type Percentiles } from './stats.js';

export interface Transition {
  time_s: number;
  from: string;
  to: string;
  reason: string;
}

/** Everything a replay produced, before it is written out. */
export interface ReplayOutcome {
  version: string;
  bag: { path: string; start_ns: string; duration_s: number; messages: number; problems: string[] };
  bundleId: string;
  provider: string;
  seed: number;
  samples: number;
  latency: LatencyModel;
  frames: { received: number; planned: number; dropped: Record<string, number>; waiting: number };
  plans: { published: number; errors: number };
  /** Reasoning–action consistency of the published plans (ConsistencyCollector); absent: not in report.json. */
  consistency?: ConsistencySummary;
  scores: PlanScore[];
  transitions: Transition[];
  finalState: string;
  commands: { planner: number; fallback: number; hold: number };
  /** Real compute time per stage [ms]; varies run to run, so only in compute.json and report.html. */
  compute: Record<string, number[]>;
}

export interface ReportJson {
  ar1_ros_version: string;
  bag: ReplayOutcome['bag'];
  bundle: string;
  seed: number;
  samples: number;
  latency_model: { mode: 'fixed' | 'measured'; ms: number | null };
  frames: { received: number; planned: number; dropped: Record<string, number> };
  plans: { published: number; errors: number };
  /** Absent in reports written before the consistency check existed. */
  consistency?: ConsistencySummary;
  metrics: MetricSummary;
  watchdog: { transitions: Transition[]; final_state: string };
  commands: { planner: number; fallback: number; hold: number };
}

/**
 * report.json: deterministic for a fixed latency (no wall-clock time, no measured durations). Frames still buffered
 * when the bag ends are counted as dropped with reason "end_of_bag", so received = planned + Σ dropped.
 */
export function buildReport(o: ReplayOutcome): ReportJson {
  const dropped = droppedAtEnd(o.frames);
  return {
    ar1_ros_version: o.version,
    bag: o.bag,
    bundle: o.bundleId,
    seed: o.seed,
    samples: o.samples,
    latency_model: describeLatency(o.latency),
    frames: { received: o.frames.received, planned: o.frames.planned, dropped },
    plans: o.plans,
    ...(o.consistency ? { consistency: o.consistency } : {}),
    metrics: summarise(o.scores, o.samples),
    watchdog: {
      transitions: o.transitions.map((t) => ({ ...t, time_s: round(t.time_s, 3) })),
      final_state: o.finalState,
    },
    commands: o.commands,
  };
}

export interface ComputeJson {
  note: string;
  provider: string;
  stages_ms: Record<string, Percentiles>;
}

export function buildCompute(o: ReplayOutcome): ComputeJson {
  const stages: Record<string, Percentiles> = {};
  for (const [k, v] of Object.entries(o.compute)) stages[k] = percentiles(v);
  return {
    note: 'measured wall-clock compute per plan on this machine; varies run to run',
    provider: o.provider,
    stages_ms: stages,
  };
}

/** Stable JSON text (keys in insertion order, 2-space indent, trailing newline). */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, null, 2) + '\n';
}
