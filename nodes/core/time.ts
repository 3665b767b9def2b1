import type { Time } from './msgs.js';

/**
 * Time at the ROS/MCAP seam is integer nanoseconds (bigint) or {sec, nanosec}; logic uses float seconds.
 * These are the only conversions between them.
 */
export function stampToSeconds(stamp: Time): number {
  return stamp.sec + stamp.nanosec * 1e-9;
}

export function secondsToStamp(seconds: number): Time {
  if (!Number.isFinite(seconds)) throw new RangeError(`secondsToStamp: expected a finite time in s, got ${seconds}`);
  let sec = Math.floor(seconds);
  let nanosec = Math.round((seconds - sec) * 1e9);
  if (nanosec >= 1e9) {
    sec += 1;
    nanosec -= 1e9;
  }
  return { sec, nanosec };
}

export function nanosToSeconds(ns: bigint): number {
  const sec = ns / 1_000_000_000n;
  return Number(sec) + Number(ns - sec * 1_000_000_000n) * 1e-9;
}

export function secondsToNanos(seconds: number): bigint {
  const s = secondsToStamp(seconds);
  return BigInt(s.sec) * 1_000_000_000n + BigInt(s.nanosec);
}

export function stampToNanos(stamp: Time): bigint {
  return BigInt(stamp.sec) * 1_000_000_000n + BigInt(stamp.nanosec);
}

export function nanosToStamp(ns: bigint): Time {
  const sec = ns / 1_000_000_000n;
  return { sec: Number(sec), nanosec: Number(ns - sec * 1_000_000_000n) };
}
