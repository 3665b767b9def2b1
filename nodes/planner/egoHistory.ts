import type { EgoHistory } from '../core/engine.js';
import { lastAtOrBefore as lastAtOrBeforeT } from './frameSelection.js';
import type { Odometry, Quaternion } from '../core/msgs.js';
import { stampToSeconds } from '../core/time.js';

/**
 * AR1 ego history, pure: poses interpolated at t0 − (steps−1)·dt … t0 from odometry (header stamps; position
 * linear, yaw along the shortest angle) and expressed in the rig frame at t0: x forward, y left, z up, the last
 * pose the origin. Yaw only: roll and pitch are ignored (the reference rotates by the full R_t0; on flat ground
 * the two agree).
 */

/**
 * One odometry pose in its fixed frame (map/odom) [m, rad], at header stamp tS [s]; speedMps = |twist.linear| [m/s]
 * when the message reports a finite one (used only by the odometry jump check).
 */
export interface OdometrySample { tS: number; x: number; y: number; z: number; yaw: number; speedMps?: number }

export interface HistoryOptions {
  steps: number;
  /** [s] spacing, 0.1 for AR1. */
  dtS: number;
  /** [s] longest gap between consecutive odometry stamps in the window. */
  maxGapS: number;
}

export type HistoryFailureReason = 'odometry_missing' | 'odometry_late' | 'history_short' | 'odometry_gap';

export type HistoryResult =
  | { ok: true; history: EgoHistory }
  | { ok: false; reason: HistoryFailureReason; detail: string };

const EPS_S = 1e-6;

/** Yaw [rad] (rotation about z) of a unit quaternion. */
export function yawFromQuaternion(q: Quaternion): number {
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
}

/** Angle wrapped to (−π, π]. */
export function wrapAngle(a: number): number {
  const w = a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
  return w === -Math.PI ? Math.PI : w;
}

export function odometrySample(msg: Odometry): OdometrySample | undefined {
  const p = msg.pose?.pose?.position;
  const q = msg.pose?.pose?.orientation;
  if (!p || !q || !msg.header?.stamp) return undefined;
  const s: OdometrySample = { tS: stampToSeconds(msg.header.stamp), x: p.x, y: p.y, z: p.z, yaw: yawFromQuaternion(q) };
  if (![s.tS, s.x, s.y, s.z, s.yaw].every(Number.isFinite)) return undefined;
  const v = msg.twist?.twist?.linear;
  const speed = v ? Math.hypot(v.x, v.y, v.z) : Number.NaN;
  if (Number.isFinite(speed)) s.speedMps = speed;
  return s;
}

/** Pose at tS between a and b (a.tS ≤ tS ≤ b.tS). */
export function interpolatePose(a: OdometrySample, b: OdometrySample, tS: number): OdometrySample {
  const span = b.tS - a.tS;
  const f = span > 0 ? Math.min(1, Math.max(0, (tS - a.tS) / span)) : 0;
  return {
    tS,
    x: a.x + (b.x - a.x) * f,
    y: a.y + (b.y - a.y) * f,
    z: a.z + (b.z - a.z) * f,
    yaw: wrapAngle(a.yaw + wrapAngle(b.yaw - a.yaw) * f),
  };
}

const timeOfSample = (o: OdometrySample): number => o.tS;
const lastAtOrBefore = (samples: readonly OdometrySample[], t: number): number => lastAtOrBeforeT(samples, t, timeOfSample);

/** Poses (fixed frame) → rig frame at origin: translate, then rotate by −origin.yaw. */
export function toRigFrame(poses: readonly OdometrySample[], origin: OdometrySample, dtS: number): EgoHistory {
  const n = poses.length;
  const h: EgoHistory = { x: new Float64Array(n), y: new Float64Array(n), z: new Float64Array(n), yaw: new Float64Array(n), dt: dtS };
  const c = Math.cos(origin.yaw);
  const s = Math.sin(origin.yaw);
  poses.forEach((p, i) => {
    const dx = p.x - origin.x;
    const dy = p.y - origin.y;
    h.x[i] = c * dx + s * dy;
    h.y[i] = -s * dx + c * dy;
    h.z[i] = p.z - origin.z;
    h.yaw[i] = wrapAngle(p.yaw - origin.yaw);
  });
  return h;
}

export function buildEgoHistory(samples: readonly OdometrySample[], t0S: number, opts: HistoryOptions): HistoryResult {
  const startS = t0S - (opts.steps - 1) * opts.dtS;
  const newest = samples[samples.length - 1];
  if (!newest) return { ok: false, reason: 'odometry_missing', detail: `odometry: expected poses up to t0=${t0S.toFixed(3)} s, got none` };
  if (newest.tS < t0S - EPS_S) {
    return { ok: false, reason: 'odometry_late', detail: `odometry: expected a pose at or after t0=${t0S.toFixed(3)} s, newest is ${newest.tS.toFixed(3)} s` };
  }
  const first = lastAtOrBefore(samples, startS);
  if (first < 0) {
    return {
      ok: false, reason: 'history_short',
      detail: `odometry: expected poses from ${startS.toFixed(3)} s (${((opts.steps - 1) * opts.dtS).toFixed(1)} s before t0), oldest is ${samples[0]!.tS.toFixed(3)} s`,
    };
  }
  let last = lastAtOrBefore(samples, t0S);
  if (samples[last]!.tS < t0S - EPS_S) last++;
  for (let i = first; i < last; i++) {
    const gap = samples[i + 1]!.tS - samples[i]!.tS;
    if (gap > opts.maxGapS + EPS_S) {
      return {
        ok: false, reason: 'odometry_gap',
        detail: `odometry: expected gaps <= ${opts.maxGapS.toFixed(3)} s in the history, got ${gap.toFixed(3)} s after ${samples[i]!.tS.toFixed(3)} s`,
      };
    }
  }
  const poses: OdometrySample[] = [];
  for (let k = 0; k < opts.steps; k++) {
    const t = k === opts.steps - 1 ? t0S : startS + k * opts.dtS;
    const i = lastAtOrBefore(samples, t);
    const a = samples[i]!;
    const b = samples[Math.min(i + 1, samples.length - 1)]!;
    poses.push(a.tS >= t - EPS_S ? { ...a, tS: t } : interpolatePose(a, b, t));
  }
  return { ok: true, history: toRigFrame(poses, poses[poses.length - 1]!, opts.dtS) };
}
