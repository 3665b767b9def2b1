/**
 * The ego's actual path from odometry, for scoring plans: poses in the odometry frame, interpolated at any time
 * and expressed in the rig frame at a plan's t0 (the frame AR1's waypoints are in).
 */
export interface PoseSample { tS: number; x: number; y: number; yaw: number }

export class GroundTruthPath {
  readonly #poses: PoseSample[];

  /** Poses in time order; out-of-order or duplicate times are dropped. */
  constructor(poses: Iterable<PoseSample>) {
    const sorted: PoseSample[] = [];
    for (const p of poses) {
      if (![p.tS, p.x, p.y, p.yaw].every(Number.isFinite)) continue;
      if (sorted.length && p.tS <= sorted[sorted.length - 1]!.tS) continue;
      sorted.push(p);
    }
    this.#poses = sorted;
  }

  get length(): number { return this.#poses.length; }
  get startS(): number | undefined { return this.#poses[0]?.tS; }
  get endS(): number | undefined { return this.#poses[this.#poses.length - 1]?.tS; }

  /** Pose at tS by linear interpolation (yaw along the shortest arc); undefined outside the recorded span or across a gap. */
  at(tS: number, maxGapS = 0.5): PoseSample | undefined {
    const p = this.#poses;
    if (p.length === 0 || tS < p[0]!.tS || tS > p[p.length - 1]!.tS) return undefined;
    let lo = 0;
    let hi = p.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (p[mid]!.tS <= tS) lo = mid; else hi = mid;
    }
    const a = p[lo]!;
    const b = p[hi]!;
    if (b.tS - a.tS > maxGapS) return undefined;
    const u = b.tS === a.tS ? 0 : (tS - a.tS) / (b.tS - a.tS);
    const dyaw = Math.atan2(Math.sin(b.yaw - a.yaw), Math.cos(b.yaw - a.yaw));
    return { tS, x: a.x + u * (b.x - a.x), y: a.y + u * (b.y - a.y), yaw: a.yaw + u * dyaw };
  }

  /** Future positions at t0 + times[i], in the rig frame at t0; null where odometry does not cover the time. */
  futureInRigFrame(t0S: number, times: ArrayLike<number>): Array<{ x: number; y: number } | null> | undefined {
    const origin = this.at(t0S);
    if (!origin) return undefined;
    const c = Math.cos(origin.yaw);
    const s = Math.sin(origin.yaw);
    const out: Array<{ x: number; y: number } | null> = [];
    for (let i = 0; i < times.length; i++) {
      const q = this.at(t0S + times[i]!);
      if (!q) { out.push(null); continue; }
      const dx = q.x - origin.x;
      const dy = q.y - origin.y;
      out.push({ x: c * dx + s * dy, y: -s * dx + c * dy });
    }
    return out;
  }
}

/** Yaw [rad] of a quaternion (rotation about z). */
export function quaternionYaw(q: { x: number; y: number; z: number; w: number }): number {
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
}
