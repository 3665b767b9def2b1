/**
 * DriveResponse building, pure. The runtime reads the trajectory in the local frame of the egomotion poses, its
 * first pose being the ego pose at time_now_us; AR1's waypoints (rig frame at the plan's t0) follow, each at its own
 * time t0 + k·dt. The watchdog's braking, when it has taken over, becomes a trajectory the same way.
 */
import { interpolatePose, type OdometrySample } from '../planner/egoHistory.js';
import type { Quaternion } from '../core/msgs.js';
import type { PlanTrajectory } from '../core/planningEngine.js';
import { fallbackBrake } from '../watchdog/fallbackBrake.js';
import type { BrakeProfile } from '../watchdog/params.js';
import type { EgoPose } from './observations.js';
import { pickleDumps, type PickleValue } from './pickle.js';
import type { DriveResponseOut, PoseAtTimeOut } from './proto.js';

/** A published plan as the driver keeps it: rig frame at t0 (x forward, y left), times relative to t0 [s]. */
export interface PlanRecord {
  t0Us: bigint;
  points: ReadonlyArray<{ t: number; x: number; y: number; heading: number }>;
  reasoning: string | undefined;
  /** Every sample drawn (the first is the plan), when more than one. */
  samples: ReadonlyArray<PlanRecord['points']>;
}

/** A sampled trajectory's waypoints in the shape of PlanRecord points. */
export function samplePoints(tr: PlanTrajectory): PlanRecord['points'] {
  return Array.from(tr.t, (t, i) => ({ t, x: tr.x[i]!, y: tr.y[i]!, heading: tr.heading[i]! }));
}

const yawQuat = (yaw: number) => ({ w: Math.cos(yaw / 2), x: 0, y: 0, z: Math.sin(yaw / 2) });

function poseOut(tUs: bigint, x: number, y: number, z: number, q: Quaternion): PoseAtTimeOut {
  return { pose: { vec: { x, y, z }, quat: { w: q.w, x: q.x, y: q.y, z: q.z } }, timestamp_us: tUs.toString() };
}

/** An ego pose as the planner's interpolation takes it, timed relative to originUs (absolute µs in float seconds lose ~0.2 µs). */
const sampleOf = (p: EgoPose, originUs: bigint): OdometrySample => ({
  tS: Number(p.tUs - originUs) / 1e6,
  x: p.x,
  y: p.y,
  z: p.z,
  yaw: p.yaw,
});

/** Index of the last pose at or before tUs, or −1. */
function lastAtOrBefore(poses: readonly EgoPose[], tUs: bigint): number {
  let lo = 0;
  let hi = poses.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (poses[mid]!.tUs <= tUs) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/**
 * The ego pose at tUs: the pose stamped exactly then (verbatim), interpolated between the two around it (position
 * linear, yaw along the shorter angle), or undefined when no pose lies at or after it (the runtime always sends
 * the pose at time_now_us before drive).
 */
export function egoPoseAt(
  poses: readonly EgoPose[],
  tUs: bigint,
): { x: number; y: number; z: number; yaw: number; q: Quaternion } | undefined {
  const i = lastAtOrBefore(poses, tUs);
  if (i < 0) return undefined;
  const a = poses[i]!;
  if (a.tUs === tUs) return { x: a.x, y: a.y, z: a.z, yaw: a.yaw, q: a.q };
  const b = poses[i + 1];
  if (!b) return undefined;
  const p = interpolatePose(sampleOf(a, a.tUs), sampleOf(b, a.tUs), Number(tUs - a.tUs) / 1e6);
  return { x: p.x, y: p.y, z: p.z, yaw: p.yaw, q: yawQuat(p.yaw) };
}

/**
 * The plan in the local frame: the current pose at nowUs, then each waypoint whose time t0 + t_k lies after
 * nowUs (with no modelled latency all 64). x, y = the ego position at t0 + the rig offset rotated by the t0 yaw;
 * z = the current z; orientation yaw-only. Undefined when the ego pose at t0 or at now is unknown.
 */
export function planTrajectory(
  plan: PlanRecord,
  poses: readonly EgoPose[],
  nowUs: bigint,
): PoseAtTimeOut[] | undefined {
  const now = egoPoseAt(poses, nowUs);
  const origin = egoPoseAt(poses, plan.t0Us);
  if (!now || !origin) return undefined;
  const c = Math.cos(origin.yaw);
  const s = Math.sin(origin.yaw);
  const out = [poseOut(nowUs, now.x, now.y, now.z, now.q)];
  for (const p of plan.points) {
    const tUs = plan.t0Us + BigInt(Math.round(p.t * 1e6));
    if (tUs <= nowUs) continue;
    out.push(
      poseOut(tUs, origin.x + c * p.x - s * p.y, origin.y + s * p.x + c * p.y, now.z, yawQuat(origin.yaw + p.heading)),
    );
  }
  return out;
}

export interface BrakingInput {
  /** Forward speed now [m/s] (clamped at 0: the ramp brakes to a stop). */
  speedMps: number;
  /** The last command the watchdog published (the ramp continues from it). */
  lastCommand: { accel: number; curvature: number } | undefined;
  profile: BrakeProfile;
  /** The watchdog is holding the car at standstill (state stopped): no motion at all. */
  stopped: boolean;
  controlRateHz: number;
  steps: number;
  dtS: number;
}

/**
 * The watchdog's fallback braking as a trajectory from the current pose: its jerk-limited ramp (the watchdog's own
 * fallbackBrake, one call per control period) integrated forward, curvature held, speed never below 0.
 */
export function brakingTrajectory(
  poses: readonly EgoPose[],
  nowUs: bigint,
  b: BrakingInput,
): PoseAtTimeOut[] | undefined {
  const now = egoPoseAt(poses, nowUs);
  if (!now) return undefined;
  const out = [poseOut(nowUs, now.x, now.y, now.z, now.q)];
  const subSteps = Math.max(1, Math.round(b.dtS * b.controlRateHz));
  const h = b.dtS / subSteps;
  let v = b.stopped ? 0 : Math.max(0, Number.isFinite(b.speedMps) ? b.speedMps : 0);
  let cmd = b.lastCommand;
  let x = now.x;
  let y = now.y;
  let yaw = now.yaw;
  for (let k = 1; k <= b.steps; k++) {
    for (let i = 0; i < subSteps; i++) {
      cmd = fallbackBrake(cmd, h, b.profile);
      const vNext = Math.max(0, v + cmd.accel * h);
      const vMid = (v + vNext) / 2;
      yaw += vMid * cmd.curvature * h;
      x += vMid * Math.cos(yaw) * h;
      y += vMid * Math.sin(yaw) * h;
      v = vNext;
    }
    out.push(poseOut(nowUs + BigInt(Math.round(k * b.dtS * 1e6)), x, y, now.z, yawQuat(yaw)));
  }
  return out;
}

export type ResponseSource = 'planner' | 'watchdog_braking' | 'none';

export interface DebugFields {
  source: ResponseSource;
  reasoningText: string | undefined;
  framesPerCamera: Record<string, number>;
  numPoses: number;
  trajectoryPoints: number;
  planT0Us: bigint | undefined;
  watchdogState: string;
}

/**
 * unstructured_debug_info as AlpaSim's evaluation reads it: a pickled dict whose reasoning_text is the plan's
 * chain-of-causation text (None before the first plan), plus the frame and pose counts the reference driver reports.
 */
function debugInfoBytes(d: DebugFields): Buffer {
  const value: Record<string, PickleValue> = {
    reasoning_text: d.reasoningText ?? null,
    num_frames: d.framesPerCamera,
    num_cameras: Object.keys(d.framesPerCamera).length,
    num_poses: d.numPoses,
    trajectory_points: d.trajectoryPoints,
    source: d.source,
    plan_t0_us: d.planT0Us ?? null,
    watchdog_state: d.watchdogState,
  };
  return pickleDumps(value);
}

export function driveResponse(
  poses: PoseAtTimeOut[],
  sampled: PoseAtTimeOut[][],
  debug: DebugFields,
): DriveResponseOut {
  return {
    trajectory: { poses },
    debug_info: {
      unstructured_debug_info: debugInfoBytes(debug),
      sampled_trajectories: sampled.map((p) => ({ poses: p })),
    },
    terminate_session: false,
  };
}
