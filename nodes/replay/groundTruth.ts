/**
 * The ego's actual path from odometry, for scoring plans: poses in the odometry frame, interpolated at any time
 * and expressed in the rig frame at a plan's t0 (the frame AR1's waypoints are in).
 */
import { interpolatePose, interpolationFraction, type OdometrySample } from '../planner/egoHistory.js';
import { lastAtOrBefore } from '../planner/frameSelection.js';

const timeOf = (p: OdometrySample): number => p.tS;

/** [s] at() and the future path are undefined across a gap in the odometry longer than this. */
const MAX_GAP_S = 0.5;

export interface PoseSample {
  tS: number;
  x: number;
  y: number;
  yaw: number;
}

export class GroundTruthPath {
  #poses: readonly OdometrySample[];

  /**
   * A path over poses already in strictly increasing time and finite (the streaming scorer keeps them so), used as
   * they are: no copy per batch of plans scored. The caller must not change them while the path is in use.
   */
  static ofOrdered(poses: readonly OdometrySample[]): GroundTruthPath {
    const path = new GroundTruthPath([]);
    path.#poses = poses;
    return path;
  }

  /** Poses in time order; out-of-order or duplicate times are dropped. */
  constructor(poses: Iterable<PoseSample>) {
    const sorted: OdometrySample[] = [];
    // Built for every batch of plans scored during a replay: no temporary arrays, one fixed-shape object per pose.
    for (const p of poses) {
      if (!(Number.isFinite(p.tS) && Number.isFinite(p.x) && Number.isFinite(p.y) && Number.isFinite(p.yaw))) continue;
      if (sorted.length && p.tS <= sorted[sorted.length - 1]!.tS) continue;
      sorted.push({ tS: p.tS, x: p.x, y: p.y, yaw: p.yaw, z: 0 });
    }
    this.#poses = sorted;
  }

  get length(): number {
    return this.#poses.length;
  }
  get startS(): number | undefined {
    return this.#poses[0]?.tS;
  }
  get endS(): number | undefined {
    return this.#poses[this.#poses.length - 1]?.tS;
  }

  /** Pose at tS by linear interpolation (yaw along the shortest arc); undefined outside the recorded span or across a gap. */
  at(tS: number, maxGapS = MAX_GAP_S): PoseSample | undefined {
    const i = this.#segment(tS, maxGapS);
    if (i < 0) return undefined;
    const p = this.#poses;
    const q = interpolatePose(p[i]!, p[Math.min(i + 1, p.length - 1)]!, tS); // the planner's own interpolation
    return { tS, x: q.x, y: q.y, yaw: q.yaw };
  }

  /** Index of the pose at or before tS, whose segment to the next pose at() interpolates in; −1 where at() is undefined. */
  #segment(tS: number, maxGapS: number): number {
    const p = this.#poses;
    if (p.length === 0 || tS < p[0]!.tS || tS > p[p.length - 1]!.tS) return -1;
    const i = lastAtOrBefore(p, tS, timeOf);
    return p[Math.min(i + 1, p.length - 1)]!.tS - p[i]!.tS > maxGapS ? -1 : i;
  }

  /** Future positions at t0 + times[i], in the rig frame at t0; null where odometry does not cover the time. */
  futureInRigFrame(t0S: number, times: ArrayLike<number>): Array<{ x: number; y: number } | null> | undefined {
    const origin = this.at(t0S);
    if (!origin) return undefined;
    const c = Math.cos(origin.yaw);
    const s = Math.sin(origin.yaw);
    const out: Array<{ x: number; y: number } | null> = [];
    const p = this.#poses;
    for (let i = 0; i < times.length; i++) {
      const tS = t0S + times[i]!;
      const k = this.#segment(tS, MAX_GAP_S);
      if (k < 0) {
        out.push(null);
        continue;
      }
      // at()'s position without its two objects per step: interpolatePose's weight and arithmetic for x and y (its
      // yaw, the only part that can differ, is not used here).
      const a = p[k]!;
      const b = p[Math.min(k + 1, p.length - 1)]!;
      const f = interpolationFraction(a, b, tS);
      const dx = a.x + (b.x - a.x) * f - origin.x;
      const dy = a.y + (b.y - a.y) * f - origin.y;
      out.push({ x: c * dx + s * dy, y: -s * dx + c * dy });
    }
    return out;
  }
}
