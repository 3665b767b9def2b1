import type { GroundTruthPath } from './groundTruth.js';

/** Horizons AR1 results are reported at [s], as report keys. */
export const HORIZONS_S = [1, 3, 6.4] as const;
const horizonKey = (h: number): string => String(h);

export interface PlannedPath {
  t0S: number;
  /** Waypoint times after t0 [s]. */
  t: ArrayLike<number>;
  /** Samples; the first is the driven plan. Each in the rig frame at t0. */
  samples: Array<{ x: ArrayLike<number>; y: ArrayLike<number> }>;
}

export interface PlanScore {
  t0S: number;
  /** Per horizon key: ADE/FDE of the driven plan, minADE/minFDE over samples; absent if odometry does not cover it. */
  ade: Record<string, number>;
  fde: Record<string, number>;
  minAde: Record<string, number>;
  minFde: Record<string, number>;
  /** L2 error of the driven plan at each waypoint (NaN where not covered). */
  errorByStep: Float64Array;
}

const EPS = 1e-9;

/** Scores one plan against the ego's actual future path (AR1's ADE/FDE, minADE over samples). */
export function scorePlan(
  plan: PlannedPath,
  truth: GroundTruthPath,
  horizons: readonly number[] = HORIZONS_S,
): PlanScore | undefined {
  const gt = truth.futureInRigFrame(plan.t0S, plan.t);
  if (!gt) return undefined;
  const n = plan.t.length;
  const errors = plan.samples.map((s) => {
    const e = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = gt[i];
      e[i] = g ? Math.hypot(s.x[i]! - g.x, s.y[i]! - g.y) : NaN;
    }
    return e;
  });
  const score: PlanScore = {
    t0S: plan.t0S,
    ade: {},
    fde: {},
    minAde: {},
    minFde: {},
    errorByStep: errors[0] ?? new Float64Array(n),
  };
  for (const h of horizons) {
    // Steps with t ≤ h; the horizon counts only when every one of them is covered.
    let last = -1;
    for (let i = 0; i < n; i++) if (plan.t[i]! <= h + EPS) last = i;
    if (last < 0 || gt.slice(0, last + 1).some((g) => g === null)) continue;
    const ades = errors.map((e) => mean(e, last + 1));
    const fdes = errors.map((e) => e[last]!);
    const key = horizonKey(h);
    score.ade[key] = ades[0]!;
    score.fde[key] = fdes[0]!;
    score.minAde[key] = Math.min(...ades);
    score.minFde[key] = Math.min(...fdes);
  }
  return score;
}

function mean(a: Float64Array, count: number): number {
  let s = 0;
  for (let i = 0; i < count; i++) s += a[i]!;
  return s / count;
}

export interface MetricSummary {
  /** Mean over scored plans, per horizon key; null when no plan covered the horizon. */
  ade: Record<string, number | null>;
  fde: Record<string, number | null>;
  min_ade: Record<string, number | null>;
  min_fde: Record<string, number | null>;
  /** Plans scored per horizon (odometry must cover the whole horizon). */
  plans_scored: Record<string, number>;
  samples: number;
}

export function summarise(
  scores: readonly PlanScore[],
  samples: number,
  horizons: readonly number[] = HORIZONS_S,
): MetricSummary {
  const out: MetricSummary = { ade: {}, fde: {}, min_ade: {}, min_fde: {}, plans_scored: {}, samples };
  for (const h of horizons) {
    const key = horizonKey(h);
    const covered = scores.filter((s) => key in s.ade);
    out.plans_scored[key] = covered.length;
    const avg = (pick: (s: PlanScore) => number) =>
      covered.length ? round(covered.reduce((acc, s) => acc + pick(s), 0) / covered.length) : null;
    out.ade[key] = avg((s) => s.ade[key]!);
    out.fde[key] = avg((s) => s.fde[key]!);
    out.min_ade[key] = avg((s) => s.minAde[key]!);
    out.min_fde[key] = avg((s) => s.minFde[key]!);
  }
  return out;
}

/** Rounds to 1e-6 so report.json stays byte-stable across platforms' last-bit differences. */
export function round(v: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
