import type { EgoHistory } from '../core/planningEngine.js';
import { lastAtOrBefore as lastAtOrBeforeT } from './frameSelection.js';
import type { Odometry, Quaternion } from '../core/msgs.js';
import { STAMP_EPS_S } from '../core/time.js';
import type { SkipReason } from './frameAccounting.js';
import { headerSeconds } from './stamps.js';

/**
 * AR1 ego history, pure: poses interpolated at t0 − (steps−1)·dt … t0 from odometry (header stamps; position
 * linear, orientation by quaternion slerp) and expressed in the full 3D rig frame at t0, as upstream does:
 * p_local = R_t0ᵀ (p − p_t0), R_local = R_t0ᵀ R (x forward, y left, z up; the last pose the origin, identity).
 * yaw is that of R_local. On a grade or with roll this differs from a yaw-only frame: at 3 % and 20 m/s the
 * yaw-only frame moves the oldest point by 0.9 m in z. Samples built without an orientation fall back to yaw only.
 */

/**
 * One odometry pose in its fixed frame (map/odom) [m, rad], at header stamp tS [s]; speedMps = |twist.linear| [m/s]
 * when the message reports a finite one (used only by the odometry jump check).
 */
export interface OdometrySample {
  tS: number;
  x: number;
  y: number;
  z: number;
  yaw: number;
  speedMps?: number;
  /** Full orientation (unit quaternion, fixed frame) when the message has one; the history then uses it whole. */
  q?: Quaternion;
}

export interface HistoryOptions {
  steps: number;
  /** [s] spacing, 0.1 for AR1. */
  dtS: number;
  /** [s] longest gap between consecutive odometry stamps in the window. */
  maxGapS: number;
}

type HistoryFailureReason = Extract<
  SkipReason,
  'odometry_missing' | 'odometry_late' | 'history_short' | 'odometry_gap'
>;

export type HistoryResult =
  { ok: true; history: EgoHistory } | { ok: false; reason: HistoryFailureReason; detail: string };

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
  const tS = headerSeconds(msg);
  if (!p || !q || tS === undefined) return undefined;
  const n = Math.hypot(q.x, q.y, q.z, q.w);
  if (!(n > 1e-9) || !Number.isFinite(n)) return undefined;
  const s: OdometrySample = {
    tS,
    x: p.x,
    y: p.y,
    z: p.z,
    yaw: yawFromQuaternion(q),
    q: { x: q.x / n, y: q.y / n, z: q.z / n, w: q.w / n },
  };
  if (![s.tS, s.x, s.y, s.z, s.yaw].every(Number.isFinite)) return undefined;
  const v = msg.twist?.twist?.linear;
  const speed = v ? Math.hypot(v.x, v.y, v.z) : Number.NaN;
  if (Number.isFinite(speed)) s.speedMps = speed;
  return s;
}

/** Where tS lies between a and b, clamped to [0, 1] (0 when they share a stamp): interpolatePose's weight of b. */
export function interpolationFraction(a: { tS: number }, b: { tS: number }, tS: number): number {
  const span = b.tS - a.tS;
  return span > 0 ? Math.min(1, Math.max(0, (tS - a.tS) / span)) : 0;
}

/** Pose at tS between a and b (a.tS ≤ tS ≤ b.tS). */
export function interpolatePose(a: OdometrySample, b: OdometrySample, tS: number): OdometrySample {
  const f = interpolationFraction(a, b, tS);
  const out: OdometrySample = {
    tS,
    x: a.x + (b.x - a.x) * f,
    y: a.y + (b.y - a.y) * f,
    z: a.z + (b.z - a.z) * f,
    yaw: wrapAngle(a.yaw + wrapAngle(b.yaw - a.yaw) * f),
  };
  if (a.q && b.q) {
    out.q = slerp(a.q, b.q, f);
    out.yaw = yawFromQuaternion(out.q);
  }
  return out;
}

/** Spherical interpolation of unit quaternions along the shorter arc. */
function slerp(a: Quaternion, b: Quaternion, f: number): Quaternion {
  let d = a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
  let bx = b.x,
    by = b.y,
    bz = b.z,
    bw = b.w;
  if (d < 0) {
    d = -d;
    bx = -bx;
    by = -by;
    bz = -bz;
    bw = -bw;
  }
  let wa: number, wb: number;
  if (d > 0.9995) {
    wa = 1 - f;
    wb = f;
  } else {
    const th = Math.acos(d),
      sn = Math.sin(th);
    wa = Math.sin((1 - f) * th) / sn;
    wb = Math.sin(f * th) / sn;
  }
  const q = { x: wa * a.x + wb * bx, y: wa * a.y + wb * by, z: wa * a.z + wb * bz, w: wa * a.w + wb * bw };
  const n = Math.hypot(q.x, q.y, q.z, q.w);
  return { x: q.x / n, y: q.y / n, z: q.z / n, w: q.w / n };
}

/** Rotation matrix (row-major 3×3) of a unit quaternion. */
function rotationMatrix(q: Quaternion): number[] {
  const { x, y, z, w } = q;
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - z * w),
    2 * (x * z + y * w),
    2 * (x * y + z * w),
    1 - 2 * (x * x + z * z),
    2 * (y * z - x * w),
    2 * (x * z - y * w),
    2 * (y * z + x * w),
    1 - 2 * (x * x + y * y),
  ];
}

const timeOfSample = (o: OdometrySample): number => o.tS;
const lastAtOrBefore = (samples: readonly OdometrySample[], t: number): number =>
  lastAtOrBeforeT(samples, t, timeOfSample);

/**
 * Poses (fixed frame) → rig frame at origin: p_local = R0ᵀ (p − p0), R_local = R0ᵀ R, yaw = atan2(R_local[1,0],
 * R_local[0,0]) when the poses carry orientations; otherwise translate and rotate by −origin.yaw.
 */
function toRigFrame(poses: readonly OdometrySample[], origin: OdometrySample, dtS: number): EgoHistory {
  const n = poses.length;
  const h: EgoHistory = {
    x: new Float64Array(n),
    y: new Float64Array(n),
    z: new Float64Array(n),
    yaw: new Float64Array(n),
    dt: dtS,
  };
  if (origin.q && poses.every((p) => p.q)) {
    const R0 = rotationMatrix(origin.q);
    poses.forEach((p, i) => {
      const d = [p.x - origin.x, p.y - origin.y, p.z - origin.z];
      // R0ᵀ d: row r of R0ᵀ is column r of R0.
      h.x[i] = R0[0]! * d[0]! + R0[3]! * d[1]! + R0[6]! * d[2]!;
      h.y[i] = R0[1]! * d[0]! + R0[4]! * d[1]! + R0[7]! * d[2]!;
      h.z[i] = R0[2]! * d[0]! + R0[5]! * d[1]! + R0[8]! * d[2]!;
      const R = rotationMatrix(p.q!);
      // (R0ᵀ R)[0,0] and [1,0]: columns 0 of R0 and 1 of R0 dotted with column 0 of R.
      const r00 = R0[0]! * R[0]! + R0[3]! * R[3]! + R0[6]! * R[6]!;
      const r10 = R0[1]! * R[0]! + R0[4]! * R[3]! + R0[7]! * R[6]!;
      h.yaw[i] = Math.atan2(r10, r00);
    });
    return h;
  }
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
  if (!newest)
    return {
      ok: false,
      reason: 'odometry_missing',
      detail: `odometry: expected poses up to t0=${t0S.toFixed(3)} s, got none`,
    };
  if (newest.tS < t0S - STAMP_EPS_S) {
    return {
      ok: false,
      reason: 'odometry_late',
      detail: `odometry: expected a pose at or after t0=${t0S.toFixed(3)} s, newest is ${newest.tS.toFixed(3)} s`,
    };
  }
  const first = lastAtOrBefore(samples, startS);
  if (first < 0) {
    return {
      ok: false,
      reason: 'history_short',
      detail: `odometry: expected poses from ${startS.toFixed(3)} s (${((opts.steps - 1) * opts.dtS).toFixed(1)} s before t0), oldest is ${samples[0]!.tS.toFixed(3)} s`,
    };
  }
  let last = lastAtOrBefore(samples, t0S);
  if (samples[last]!.tS < t0S - STAMP_EPS_S) last++;
  for (let i = first; i < last; i++) {
    const gap = samples[i + 1]!.tS - samples[i]!.tS;
    if (gap > opts.maxGapS + STAMP_EPS_S) {
      return {
        ok: false,
        reason: 'odometry_gap',
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
    poses.push(a.tS >= t - STAMP_EPS_S ? { ...a, tS: t } : interpolatePose(a, b, t));
  }
  return { ok: true, history: toRigFrame(poses, poses[poses.length - 1]!, opts.dtS) };
}
