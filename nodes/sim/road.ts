/**
 * Road geometry of a scenario: a centreline made of straight and arc segments, sampled every STEP_M metres, with
 * the pose at any arc length and the projection of a world point onto the centreline. Pure.
 */

export type Segment =
  | { kind: 'straight'; length_m: number }
  | { kind: 'arc'; length_m: number; radius_m: number; direction: 'left' | 'right' };

export interface CentrePoint {
  s: number;
  x: number;
  y: number;
  yaw: number;
  kappa: number;
}

export interface Projection {
  s: number;
  lateral: number;
  index: number;
}

/** [m] spacing of the centreline samples. */
const STEP_M = 0.5;

export class Road {
  readonly points: CentrePoint[];
  readonly length: number;

  /** Starts at the origin heading +x; each segment continues from the end of the previous one. */
  constructor(
    segments: readonly Segment[],
    readonly halfWidth: number,
  ) {
    const pts: CentrePoint[] = [{ s: 0, x: 0, y: 0, yaw: 0, kappa: 0 }];
    let { x, y, yaw, s } = { x: 0, y: 0, yaw: 0, s: 0 };
    for (const seg of segments) {
      const len = seg.length_m;
      const kappa = seg.kind === 'straight' ? 0 : (seg.direction === 'left' ? 1 : -1) / seg.radius_m;
      const n = Math.max(1, Math.round(len / STEP_M));
      const ds = len / n;
      for (let i = 0; i < n; i++) {
        // Exact arc/straight step (chord along the mid heading).
        const dyaw = kappa * ds;
        const chord = kappa === 0 ? ds : (2 * Math.sin(dyaw / 2)) / kappa;
        x += chord * Math.cos(yaw + dyaw / 2);
        y += chord * Math.sin(yaw + dyaw / 2);
        yaw += dyaw;
        s += ds;
        pts.push({ s, x, y, yaw, kappa });
      }
    }
    this.points = pts;
    this.length = s;
  }

  /** Centreline pose at arc length s (clamped to the road), shifted `lateral` metres to the left. */
  poseAt(s: number, lateral = 0): { x: number; y: number; yaw: number; kappa: number } {
    const p = this.points;
    const u = Math.min(Math.max(s, 0), this.length);
    let i = Math.min(p.length - 2, Math.floor(u / STEP_M));
    while (i > 0 && p[i]!.s > u) i--;
    while (i < p.length - 2 && p[i + 1]!.s < u) i++;
    const a = p[i]!;
    const b = p[i + 1]!;
    const w = b.s > a.s ? (u - a.s) / (b.s - a.s) : 0;
    const yaw = a.yaw + (b.yaw - a.yaw) * w;
    const x = a.x + (b.x - a.x) * w - Math.sin(yaw) * lateral;
    const y = a.y + (b.y - a.y) * w + Math.cos(yaw) * lateral;
    return { x, y, yaw, kappa: b.kappa };
  }

  /**
   * Arc length and signed lateral offset (left positive) of a world point. With a hint (the previous index) only a
   * window around it is searched, so following a moving car costs O(1) per step.
   */
  project(x: number, y: number, hint?: number): Projection {
    const p = this.points;
    let lo = 0;
    let hi = p.length - 1;
    if (hint !== undefined) {
      lo = Math.max(0, hint - 40);
      hi = Math.min(p.length - 1, hint + 40);
    }
    let best = lo;
    let bestD = Infinity;
    for (let i = lo; i <= hi; i++) {
      const d = (p[i]!.x - x) ** 2 + (p[i]!.y - y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    // Refine on the segment to the better neighbour.
    const a = p[best]!;
    const c = Math.cos(a.yaw);
    const sn = Math.sin(a.yaw);
    const along = (x - a.x) * c + (y - a.y) * sn;
    const lateral = -(x - a.x) * sn + (y - a.y) * c;
    const s = Math.min(Math.max(a.s + along, 0), this.length);
    return { s, lateral: lateral - (a.kappa * along * along) / 2, index: best };
  }
}
