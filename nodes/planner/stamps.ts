import { stampToSeconds } from '../core/time.js';

/**
 * The header stamp in seconds, or undefined when it is malformed: missing, not integers, nanosec outside
 * [0, 1e9) (4294967295 would read as seconds in the future and reset the timeline), or zero (sec 0, nanosec 0: a
 * driver whose clock is not set; as a stamp it would read as time going backwards and reset the timeline).
 */
export function headerSeconds(msg: { header?: { stamp?: { sec?: unknown; nanosec?: unknown } } }): number | undefined {
  const s = msg.header?.stamp;
  if (!s || typeof s.sec !== 'number' || typeof s.nanosec !== 'number') return undefined;
  if (!Number.isSafeInteger(s.sec) || !Number.isInteger(s.nanosec) || s.nanosec < 0 || s.nanosec >= 1e9)
    return undefined;
  if (s.sec === 0 && s.nanosec === 0) return undefined;
  const t = stampToSeconds({ sec: s.sec, nanosec: s.nanosec });
  return Number.isFinite(t) ? t : undefined;
}
