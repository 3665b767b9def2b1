/** report.json of one `ar1 sim` scenario: what the closed loop did and its verdict. */
import type { ConsistencySummary } from '../replay/consistencyReport.js';
import type { describeLatency } from '../replay/latencyModel.js';
import type { Check, MetricsJson } from './metrics.js';
import type { FaultSpec } from './scenario.js';

export interface SimReport {
  ar1_ros_version: string;
  scenario: { name: string; file: string; description: string; duration_s: number };
  bundle: string;
  seed: number;
  latency_model: ReturnType<typeof describeLatency>;
  verdict: 'pass' | 'fail';
  checks: Check[];
  metrics: MetricsJson;
  faults: FaultSpec[];
  frames: { received: number; planned: number; dropped: Record<string, number> };
  plans: { published: number; errors: number };
  watchdog: { transitions: Array<{ time_s: number; from: string; to: string; reason: string }>; final_state: string };
  commands: { planner: number; fallback: number; hold: number };
  /** Each distinct reasoning text the planner published: when first, how often. */
  reasoning: Array<{ text: string; first_s: number; count: number }>;
  /** Reasoning–action consistency of the published plans: rate, and every inconsistent plan with text and path. */
  consistency: ConsistencySummary;
}
