import type { Verdict } from '../consistency/index.js';
import type { PlanResult, PlanTrajectory } from '../core/planningEngine.js';
import {
  CONSISTENCY,
  UNICYCLE_SOURCE,
  type Header,
  type Path,
  type PlannerTiming,
  type Reasoning,
  type Trajectory,
  type UnicycleCommand,
} from '../core/msgs.js';
import { secondsToStamp } from '../core/time.js';
import type { SampledCommand } from './commandSampler.js';

/** Output messages of ar1_planner, pure builders. Plan outputs are stamped with the input t0. */

function header(stampS: number, frameId: string): Header {
  return { stamp: secondsToStamp(stampS), frame_id: frameId };
}

/** Why a result must not be driven, or undefined when it is well formed (finite, equal lengths, dt > 0). */
export function checkTrajectory(tr: PlanTrajectory, v0: number): string | undefined {
  const n = tr.t.length;
  if (n === 0) return 'trajectory: expected at least 1 point, got 0';
  if (!(tr.dt > 0)) return `trajectory: expected dt > 0 s, got ${tr.dt}`;
  if (!Number.isFinite(v0)) return `trajectory: expected a finite v0, got ${v0}`;
  for (const key of ['x', 'y', 'heading', 'speed', 'acceleration', 'curvature'] as const) {
    const a = tr[key];
    if (a.length !== n) return `trajectory.${key}: expected ${n} values (as trajectory.t), got ${a.length}`;
    for (let i = 0; i < n; i++)
      if (!Number.isFinite(a[i])) return `trajectory.${key}[${i}]: expected a finite value, got ${a[i]}`;
  }
  return undefined;
}

// The point lists below are built by index loops: Array.from over a typed array with a map function took the slow
// path in V8 (~4 % of a null-engine replay's CPU for the trajectory's points alone).

export function trajectoryMsg(result: PlanResult, frameId: string): Trajectory {
  const tr = result.trajectory;
  const points: Trajectory['points'] = [];
  for (let i = 0; i < tr.t.length; i++) {
    points.push({
      t: tr.t[i]!,
      x: tr.x[i]!,
      y: tr.y[i]!,
      heading: tr.heading[i]!,
      speed: tr.speed[i]!,
      acceleration: tr.acceleration[i]!,
      curvature: tr.curvature[i]!,
    });
  }
  return {
    header: header(result.t0S, frameId),
    dt: tr.dt,
    initial_speed: result.v0,
    bundle_id: result.bundleId,
    points,
  };
}

/** The rig-frame origin at t0, then every waypoint (yaw-only orientation). */
export function pathMsg(result: PlanResult, frameId: string): Path {
  const h = header(result.t0S, frameId);
  const tr = result.trajectory;
  const pose = (x: number, y: number, yaw: number) => ({
    header: h,
    pose: { position: { x, y, z: 0 }, orientation: { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) } },
  });
  const poses = [pose(0, 0, 0)];
  for (let i = 0; i < tr.t.length; i++) poses.push(pose(tr.x[i]!, tr.y[i]!, tr.heading[i]!));
  return { header: h, poses };
}

/** The reasoning of a plan with its consistency verdict against the same plan's trajectory. */
export function reasoningMsg(result: PlanResult, frameId: string, verdict: Verdict): Reasoning {
  return {
    header: header(result.t0S, frameId),
    text: result.reasoning.text,
    bundle_id: result.bundleId,
    generation_ms: result.reasoning.generationMs,
    token_count: result.reasoning.tokens,
    consistency: CONSISTENCY[verdict.kind],
    consistency_detail: verdict.detail,
    stated_actions: [...verdict.stated],
    planned_actions: [...verdict.planned],
  };
}

export interface TimingInput {
  t0S: number;
  frameId: string;
  syncMs: number;
  /** Engine stage timings; zeros for a failed plan. */
  timing?: PlanResult['timing'];
  latencyMs: number;
  provider: string;
  received: number;
  planned: number;
  dropped: Record<string, number>;
  /** Why this plan failed ("<kind>: <message>", see PlanFailureKind in planOutcome.ts); "" when it succeeded. */
  error: string;
}

export function timingMsg(t: TimingInput): PlannerTiming {
  const reasons = Object.keys(t.dropped).sort();
  const e = t.timing;
  return {
    header: header(t.t0S, t.frameId),
    sync_ms: t.syncMs,
    preprocess_ms: e?.preprocessMs ?? 0,
    vision_ms: e?.visionMs ?? 0,
    reasoning_ms: e?.reasoningMs ?? 0,
    action_ms: e?.actionMs ?? 0,
    total_ms: t.syncMs + (e?.totalMs ?? 0),
    latency_ms: t.latencyMs,
    execution_provider: t.provider,
    frames_received: t.received,
    frames_planned: t.planned,
    frames_dropped: reasons.reduce((n, r) => n + t.dropped[r]!, 0),
    drop_reasons: reasons,
    drop_counts: Uint32Array.from(reasons, (r) => t.dropped[r]!),
    error: t.error,
  };
}

export function commandMsg(cmd: SampledCommand, stampS: number, frameId: string): UnicycleCommand {
  return {
    header: header(stampS, frameId),
    acceleration: cmd.acceleration,
    curvature: cmd.curvature,
    speed: cmd.speed,
    source: UNICYCLE_SOURCE.planner,
  };
}
