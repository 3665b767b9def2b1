/**
 * Scores published plans while a replay runs, so memory does not grow with the bag's duration: a plan is scored as
 * soon as odometry covers its horizon (its engine result is then dropped), odometry older than any plan still
 * waiting is dropped, and only a thinned set of scored plans (fewer than 2 × SNAPSHOT_KEEP) is kept for the report's
 * snapshots. The scores are the same as scoring every plan at the end against the whole odometry.
 */
import type { PlanResult } from '../core/planningEngine.js';
import type { OdometrySample } from '../planner/egoHistory.js';
import { GroundTruthPath, type PoseSample } from './groundTruth.js';
import { scorePlan, type PlanScore } from './metrics.js';

/** [s] odometry kept behind the newest pose when no plan is waiting (a plan's t0 lags its publication by less). */
const POSE_RETAIN_S = 20;
/** Scored plans kept as snapshot candidates: the set is thinned by half whenever it reaches twice this. */
export const SNAPSHOT_KEEP = 32;

export interface ScoredPlan {
  score: PlanScore;
  result: PlanResult;
  /** The actual future path in the rig frame at t0, computed while the odometry for it is still held. */
  actual: Array<{ x: number; y: number } | null>;
}

export class StreamingScorer {
  readonly #horizonS: number;
  /** Poses in time order (non-increasing times dropped, as GroundTruthPath does). */
  #poses: OdometrySample[] = [];
  /** Engine results not yet published, by t0. */
  readonly #results = new Map<number, PlanResult>();
  /** Published plans waiting for odometry to cover their horizon. */
  #pending: PlanResult[] = [];
  /** Every score, its per-step errors summed below instead of kept. */
  readonly scores: PlanScore[] = [];
  #errorSum: number[] = [];
  #errorCount: number[] = [];
  #stepTimes: number[] = [];
  #kept: ScoredPlan[] = [];
  #stride = 1;
  #scoredCount = 0;

  /** @param horizonS the longest scored horizon [s] (6.4 for AR1). */
  constructor(horizonS: number) {
    this.#horizonS = horizonS;
  }

  addPose(p: PoseSample): void {
    if (![p.tS, p.x, p.y, p.yaw].every(Number.isFinite)) return;
    const last = this.#poses[this.#poses.length - 1];
    if (last && p.tS <= last.tS) return;
    this.#poses.push({ tS: p.tS, x: p.x, y: p.y, yaw: p.yaw, z: 0 });
    this.#score(false);
    this.#prune();
  }

  addResult(r: PlanResult): void {
    this.#results.set(r.t0S, r);
    if (this.#results.size > 64) {
      // results never published (refused) are forgotten once far behind
      let newest = -Infinity;
      for (const t of this.#results.keys()) newest = Math.max(newest, t);
      for (const t of [...this.#results.keys()]) if (t < newest - POSE_RETAIN_S) this.#results.delete(t);
    }
  }

  /** The planner published the plan of t0S. */
  published(t0S: number): void {
    const r = this.#results.get(t0S);
    if (!r) return;
    this.#results.delete(t0S);
    this.#pending.push(r);
  }

  /** Scores what is left against the odometry there is (partial horizons), at the end of the bag. */
  finish(): void {
    this.#score(true);
  }

  /** Mean error of the driven plan at each step over every scored plan. */
  errorByStep(): { t: number[]; mean: Array<number | null> } {
    return {
      t: [...this.#stepTimes],
      mean: this.#stepTimes.map((_, i) =>
        this.#errorCount[i]! > 0 ? this.#errorSum[i]! / this.#errorCount[i]! : null,
      ),
    };
  }

  /** The kept snapshot candidates, spread over the run, in order. */
  snapshots(): readonly ScoredPlan[] {
    return this.#kept;
  }

  /** How much is held now (for tests: bounded whatever the bag's duration). */
  get held(): { poses: number; pending: number; results: number; snapshots: number } {
    return {
      poses: this.#poses.length,
      pending: this.#pending.length,
      results: this.#results.size,
      snapshots: this.#kept.length,
    };
  }

  #ready(r: PlanResult, newest: number | undefined): boolean {
    return newest !== undefined && newest >= r.t0S + this.#horizonS + 0.5;
  }

  #score(final: boolean): void {
    const newest = this.#poses[this.#poses.length - 1]?.tS;
    if (!final && !this.#pending.some((r) => this.#ready(r, newest))) return;
    // The held odometry as it is, not a copy of it from the earliest scored plan's t0 − 1 s on: every time looked up
    // is at or after a scored plan's t0, so the interpolation uses the same two poses either way.
    const truth = GroundTruthPath.ofOrdered(this.#poses);
    const waiting: PlanResult[] = [];
    for (const r of this.#pending) {
      if (!final && !this.#ready(r, newest)) {
        waiting.push(r);
        continue;
      }
      const s = scorePlan(
        { t0S: r.t0S, t: r.trajectory.t, samples: r.samples.length ? r.samples : [r.trajectory] },
        truth,
      );
      if (s) this.#add(s, r, truth);
    }
    this.#pending = waiting;
  }

  #add(s: PlanScore, r: PlanResult, truth: GroundTruthPath): void {
    if (this.#stepTimes.length === 0) this.#stepTimes = Array.from(r.trajectory.t);
    const e = s.errorByStep;
    for (let i = 0; i < this.#stepTimes.length; i++) {
      this.#errorSum[i] ??= 0;
      this.#errorCount[i] ??= 0;
      const v = e[i];
      if (v !== undefined && Number.isFinite(v)) {
        this.#errorSum[i]! += v;
        this.#errorCount[i]!++;
      }
    }
    if (this.#scoredCount++ % this.#stride === 0) {
      this.#kept.push({ score: s, result: r, actual: truth.futureInRigFrame(r.t0S, r.trajectory.t) ?? [] });
      if (this.#kept.length >= 2 * SNAPSHOT_KEEP) {
        this.#kept = this.#kept.filter((_, i) => i % 2 === 0);
        this.#stride *= 2;
      }
    }
    this.scores.push({ ...s, errorByStep: new Float64Array(0) });
  }

  /** Drops odometry no plan can still need: older than the oldest waiting t0 − 1 s and than newest − POSE_RETAIN_S. */
  #prune(): void {
    const newest = this.#poses[this.#poses.length - 1]!.tS;
    let keepFrom = newest - POSE_RETAIN_S;
    for (const r of this.#pending) keepFrom = Math.min(keepFrom, r.t0S - 1);
    for (const t of this.#results.keys()) keepFrom = Math.min(keepFrom, t - 1);
    let drop = 0;
    while (drop + 1 < this.#poses.length && this.#poses[drop + 1]!.tS < keepFrom) drop++;
    if (drop > 256) this.#poses = this.#poses.slice(drop); // in batches: a slice per pose would be quadratic
  }
}
