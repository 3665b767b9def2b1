/**
 * The vehicle's speed as the watchdog judges it: twist.linear.x when fresh, cross-checked against the speed derived
 * from odometry positions (a stuck twist must not loosen the lateral limits), and the worse case for the gate.
 */
import type { Odometry } from '../core/msgs.js';
import { stampToSeconds } from '../core/time.js';
import { fmt, fmtPair, type Fault } from './faults.js';
import { RECEIPT_EPS_S, type TrackPoint, type WatchdogInputs } from './inputs.js';
import type { WatchdogParams } from './params.js';

/** Largest number of odometry positions kept for the pose-derived speed (1 kHz over the longest window). */
const MAX_TRACK = 4096;

/** [m] a position step this large between two odometry samples whose stamp did not advance means the stamps froze. */
const STALLED_STAMP_MOVE_M = 0.05;

/**
 * Adds an odometry position to the track used for the pose-derived speed. A stamp not after the newest, or a
 * non-finite position, restarts the track. Keeps one sample at or before newest − pose_speed_window_s.
 * Positions that move while the stamp stands still (ROS time frozen, a stuck localization clock) set
 * i.odometryStalled: the speed is then unknown (no standstill can be claimed) and odometry_invalid is raised,
 * until a stamp advances again.
 */
export function trackOdometry(i: WatchdogInputs, o: Odometry, p: WatchdogParams): void {
  const track = i.odometryTrack;
  const pos = o.pose?.pose?.position;
  const t = stampToSeconds(o.header.stamp);
  if (!pos || ![t, pos.x, pos.y, pos.z].every(Number.isFinite)) {
    track.length = 0;
    return;
  }
  const last = track[track.length - 1];
  if (last && !(t > last.t)) {
    // Measured from the first sample at the stamp that stands still (motion accumulates over a frozen stamp).
    const anchor = t === last.t ? (track.find((q) => q.t === t) ?? last) : last;
    const moved = Math.hypot(pos.x - anchor.x, pos.y - anchor.y, pos.z - anchor.z);
    if (moved > STALLED_STAMP_MOVE_M) {
      i.odometryStalled = {
        name: 'odometry_invalid',
        message: `odometry position moved ${fmt(moved, 3)} m while its stamp did not advance (${fmt(t, 3)} s after ${fmt(last.t, 3)} s): speed unknown`,
      };
    }
    if (t === last.t) return; // keep the anchor
    track.length = 0;
  } else if (last) {
    delete i.odometryStalled;
  }
  track.push({ t, x: pos.x, y: pos.y, z: pos.z });
  let drop = 0;
  while (drop + 1 < track.length - 1 && track[drop + 1]!.t <= t - p.pose_speed_window_s) drop++;
  drop = Math.max(drop, track.length - MAX_TRACK);
  if (drop > 0) track.splice(0, drop);
}

/**
 * Speed [m/s] from odometry positions: straight-line distance over the track's stamp span, once the span is at least
 * half of pose_speed_window_s (shorter spans amplify position noise); undefined before that.
 */
export function poseSpeedOf(track: readonly TrackPoint[], p: WatchdogParams): number | undefined {
  if (track.length < 2) return undefined;
  const a = track[0]!,
    b = track[track.length - 1]!;
  const span = b.t - a.t;
  if (!(span >= p.pose_speed_window_s / 2)) return undefined;
  const v = Math.hypot(b.x - a.x, b.y - a.y, b.z - a.z) / span;
  return Number.isFinite(v) ? v : undefined;
}

/**
 * twist.linear.x when odometry is fresh (stamp within odometry_stale_s of ROS time and, given steadyS, received
 * within odometry_stale_s of the steady clock), finite, and its stamps are not frozen; else undefined.
 */
function twistSpeed(i: WatchdogInputs, nowS: number, p: WatchdogParams, steadyS?: number): number | undefined {
  const o = i.odometry;
  if (!o || i.odometryStalled) return undefined;
  if (steadyS !== undefined && !(steadyS - o.receivedS <= p.odometry_stale_s + RECEIPT_EPS_S)) return undefined;
  const age = nowS - stampToSeconds(o.msg.header.stamp);
  const v = o.msg.twist.twist.linear.x;
  return age <= p.odometry_stale_s && age >= -p.max_future_stamp_s && Number.isFinite(v) ? v : undefined;
}

/** Twist and pose-derived speeds disagreeing by more than speed_mismatch_mps, or undefined. */
export function speedMismatchOf(
  i: WatchdogInputs,
  nowS: number,
  p: WatchdogParams,
  steadyS?: number,
): Fault | undefined {
  const v = twistSpeed(i, nowS, p, steadyS);
  const vp = poseSpeedOf(i.odometryTrack, p);
  if (v === undefined || vp === undefined) return undefined;
  const diff = Math.abs(Math.abs(v) - vp);
  if (!(diff > p.speed_mismatch_mps)) return undefined;
  const [d, m] = fmtPair(diff, p.speed_mismatch_mps);
  return {
    name: 'speed_mismatch',
    message:
      `odometry twist speed ${fmt(v)} m/s and position-derived speed ${fmt(vp)} m/s ` +
      `differ by ${d} m/s, more than speed_mismatch_mps ${m} m/s (limits use the higher)`,
  };
}

/**
 * Measured forward speed [m/s] when odometry is fresh and finite, else undefined: twist.linear.x, or, when it
 * disagrees with the speed derived from positions (speed_mismatch), the worse case: the higher of the two.
 */
export function egoSpeed(i: WatchdogInputs, nowS: number, p: WatchdogParams, steadyS?: number): number | undefined {
  const v = twistSpeed(i, nowS, p, steadyS);
  if (v === undefined || !speedMismatchOf(i, nowS, p, steadyS)) return v;
  return Math.max(Math.abs(v), poseSpeedOf(i.odometryTrack, p)!);
}

/**
 * Speed [m/s] the limits gate uses: the worse case of the twist and the position-derived speed, always (a higher
 * speed only tightens the lateral limits; position noise cannot loosen them). Undefined without fresh odometry.
 * The position-derived speed is the mean over the track's span, i.e. the speed half a span ago: with accelMps2 (the
 * last commanded acceleration) it is carried forward to now by max(accel, 0) × (span / 2 + the newest sample's age).
 */
export function limitSpeed(
  i: WatchdogInputs,
  nowS: number,
  p: WatchdogParams,
  steadyS?: number,
  accelMps2 = 0,
): number | undefined {
  const v = egoSpeed(i, nowS, p, steadyS);
  if (v === undefined) return undefined;
  const vp = poseSpeedOf(i.odometryTrack, p);
  if (vp === undefined) return Math.abs(v);
  const track = i.odometryTrack;
  const first = track[0]!,
    last = track[track.length - 1]!;
  const lagS = (last.t - first.t) / 2 + Math.max(0, nowS - last.t);
  const carried =
    vp + (Number.isFinite(accelMps2) ? Math.max(accelMps2, 0) : 0) * (Number.isFinite(lagS) ? Math.min(lagS, 1) : 0);
  return Math.max(Math.abs(v), carried);
}
