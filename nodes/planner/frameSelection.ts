import { STAMP_EPS_S } from '../core/time.js';
import type { SkipReason } from './frameAccounting.js';

/**
 * AR1 frame selection, pure: t0 is the newest time every camera has reached; per camera, framesPerCamera frames at
 * t0 − (n−1)·spacing … t0, each the closest frame AT OR BEFORE its target (physical_ai_av video.py; AlpaSim).
 * Buffers are sorted by stamp, oldest first.
 */

export interface Stamped {
  readonly stampS: number;
}

export interface SelectionOptions {
  /** Camera names, for messages. */
  cameras: readonly string[];
  framesPerCamera: number;
  /** [s] spacing of the frames of one camera (0.1). */
  spacingS: number;
  /** [s] a selected frame older than its target by more than this fails the selection. */
  toleranceS: number;
  /**
   * [s] camera stamp jitter: a frame stamped up to this much AFTER a target still counts as at it, and one up to
   * toleranceS + jitterS before an older target (not t0's) is not too old. Without it, a
   * frame that jitters 1 ms past its 10 Hz target is skipped for one a whole period older. Default 0.
   */
  jitterS?: number;
}

type SelectionFailureReason = Extract<SkipReason, 'frame_missing' | 'frame_too_old'>;

export type Selection =
  | { ok: true; t0S: number; indices: number[][] }
  | { ok: false; reason: SelectionFailureReason; camera: number; detail: string };

/** t0 = min over cameras of the newest stamp; undefined while a camera has no frame. */
export function planTime(buffers: ReadonlyArray<ReadonlyArray<Stamped>>): number | undefined {
  let t0 = Infinity;
  for (const b of buffers) {
    const newest = b[b.length - 1];
    if (!newest) return undefined;
    t0 = Math.min(t0, newest.stampS);
  }
  return buffers.length ? t0 : undefined;
}

/** Index of the last item whose time ≤ t (within STAMP_EPS_S), or −1. Items sorted by time; binary search. */
export function lastAtOrBefore<T>(items: ReadonlyArray<T>, t: number, timeOf: (item: T) => number): number {
  let lo = 0;
  let hi = items.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (timeOf(items[mid]!) <= t + STAMP_EPS_S) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Index of the newest frame with stamp ≤ target (within STAMP_EPS_S), or −1. */
export function atOrBefore(buffer: ReadonlyArray<Stamped>, targetS: number): number {
  return lastAtOrBefore(buffer, targetS, (f) => f.stampS);
}

/** The selection window [s]: t0 minus the oldest target. */
export function windowS(opts: Pick<SelectionOptions, 'framesPerCamera' | 'spacingS'>): number {
  return (opts.framesPerCamera - 1) * opts.spacingS;
}

/**
 * Frames before the returned index can never be selected again once t0 has reached t0S (t0 never decreases
 * within a timeline): a newer frame already lies at or before every future target.
 */
export function horizonIndex(buffer: ReadonlyArray<Stamped>, t0S: number, windowSeconds: number): number {
  return Math.max(0, atOrBefore(buffer, t0S - windowSeconds));
}

export function selectFrames(
  buffers: ReadonlyArray<ReadonlyArray<Stamped>>,
  t0S: number,
  opts: SelectionOptions,
): Selection {
  const n = opts.framesPerCamera;
  const indices: number[][] = [];
  for (let c = 0; c < buffers.length; c++) {
    const buffer = buffers[c]!;
    const name = opts.cameras[c] ?? `camera ${c}`;
    const chosen: number[] = [];
    for (let k = 0; k < n; k++) {
      const target = t0S - (n - 1 - k) * opts.spacingS;
      const i = atOrBefore(buffer, target + (opts.jitterS ?? 0));
      if (i < 0) {
        const oldest = buffer[0];
        return {
          ok: false,
          reason: 'frame_missing',
          camera: c,
          detail:
            `${name}: expected a frame at or before ${target.toFixed(3)} s (t0=${t0S.toFixed(3)} s), got none` +
            (oldest ? ` (oldest ${oldest.stampS.toFixed(3)} s)` : ''),
        };
      }
      const stamp = buffer[i]!.stampS;
      // For the older targets jitter counts on both sides: with tolerance one frame period, the previous frame stands
      // in for a lost one (AR1's loader fills two targets with one frame the same way) even when its stamp jittered a
      // little early. Not for t0's own frame: a cycle started before a camera's frame of that round has arrived
      // (cameras arrive staggered) would plan on its previous frame, then again once it arrives.
      const tolerance = opts.toleranceS + (k < n - 1 ? (opts.jitterS ?? 0) : 0);
      if (target - stamp > tolerance + STAMP_EPS_S) {
        return {
          ok: false,
          reason: 'frame_too_old',
          camera: c,
          detail:
            `${name}: expected a frame within ${tolerance.toFixed(3)} s at or before ${target.toFixed(3)} s ` +
            `(t0=${t0S.toFixed(3)} s), got ${stamp.toFixed(3)} s`,
        };
      }
      chosen.push(i);
    }
    indices.push(chosen);
  }
  return { ok: true, t0S, indices };
}
