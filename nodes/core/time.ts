import { fixTime, fromNanoSec, fromSec, toNanoSec, toSec, type Time as RosTime } from '@foxglove/rostime';
import type { Time } from './msgs.js';

/**
 * Time at the ROS/MCAP seam is integer nanoseconds (bigint) or {sec, nanosec}; logic uses float seconds.
 * These are the only conversions between them. The arithmetic is @foxglove/rostime's (which spells the
 * nanoseconds `nsec`); a stamp here is always normalised: 0 ≤ nanosec < 1e9, sec floored (negative times too).
 */
/**
 * [s] Two stamps closer than this are the same instant: float seconds from {sec, nanosec} carry rounding error far
 * below it, and real stamps of distinct samples are far above it.
 */
export const STAMP_EPS_S = 1e-6;

const toRos = (stamp: Time): RosTime => ({ sec: stamp.sec, nsec: stamp.nanosec });
/** `+ 0`: a stamp never carries a negative zero. */
const fromRos = (t: RosTime): Time => ({ sec: t.sec + 0, nanosec: t.nsec + 0 });

export function stampToSeconds(stamp: Time): number {
  return toSec(toRos(stamp));
}

export function secondsToStamp(seconds: number): Time {
  if (!Number.isFinite(seconds)) throw new RangeError(`secondsToStamp: expected a finite time in s, got ${seconds}`);
  // fromSec truncates towards zero (negative nanoseconds below zero); fixTime floors the seconds instead.
  return fromRos(fixTime(fromSec(seconds), true));
}

export function nanosToSeconds(ns: bigint): number {
  return toSec(fromNanoSec(ns));
}

export function secondsToNanos(seconds: number): bigint {
  return toNanoSec(toRos(secondsToStamp(seconds)));
}

export function stampToNanos(stamp: Time): bigint {
  return toNanoSec(toRos(stamp));
}

export function nanosToStamp(ns: bigint): Time {
  return fromRos(fromNanoSec(ns));
}
