/**
 * Meta-actions of a planned trajectory: rule-based, interpretable labels of what the ego does over the plan's
 * horizon. AR1's RL post-training rewards a plan whose reasoning names the same meta-actions as its trajectory does;
 * the paper lists the categories (longitudinal: accelerate, keep speed, decelerate, stop; lateral: go straight, turn
 * left/right, change lane left/right) but publishes no thresholds and the released code has no extractor, so every
 * threshold here is a parameter with its unit (config/ar1_planner.yaml `consistency.*`, docs/consistency.md).
 * Pure: numbers in, labels out.
 */

export const LONGITUDINAL = ['accelerate', 'keep_speed', 'decelerate', 'stop', 'creep'] as const;
export const LATERAL = ['straight', 'turn_left', 'turn_right', 'lane_change_left', 'lane_change_right'] as const;
export type LongitudinalAction = (typeof LONGITUDINAL)[number];
export type LateralAction = (typeof LATERAL)[number];
export type MetaAction = LongitudinalAction | LateralAction;

/** Thresholds of the trajectory rules, units in the names. */
export interface TrajectoryThresholds {
  /** [s] only the first horizon_s of the plan is labelled (AR1 plans are 6.4 s). */
  horizon_s: number;
  /** [s] longitudinal labels are given per window of this length (mean acceleration over it). */
  window_s: number;
  /** [m/s^2] mean acceleration over a window at or above this → accelerate. */
  accelerate_min_mps2: number;
  /** [m/s^2] mean deceleration (magnitude) over a window at or above this → decelerate. */
  decelerate_min_mps2: number;
  /** [m/s^2] |mean acceleration| at or below this over a moving window → keep_speed. Between this and the two above: no label. */
  keep_speed_max_mps2: number;
  /** [m/s] a window ending at or below this speed → stop (a window entirely at or below it is stationary: stop only). */
  stop_speed_mps: number;
  /** [m/s] a window moving above stop_speed_mps but never above this → creep. */
  creep_max_speed_mps: number;
  /** [m] a plan travelling less than this within the horizon has no lateral label (a turn cannot show). */
  lateral_min_distance_m: number;
  /** [rad] heading staying within ±this over the horizon (and offset within straight_max_offset_m) → straight. */
  straight_max_heading_rad: number;
  /** [m] |lateral offset| at the horizon at or below this (and heading within straight_max_heading_rad) → straight. */
  straight_max_offset_m: number;
  /** [rad] heading change at the horizon at or beyond this → turn_left (positive) or turn_right (negative). */
  turn_min_heading_rad: number;
  /** [m] lateral offset at the horizon at or beyond this, with the heading come back (below) → lane change. */
  lane_change_min_offset_m: number;
  /** [-] lane change: |heading at the horizon| at most this fraction of the peak heading towards the offset side. */
  lane_change_max_end_heading_ratio: number;
}

/** Defaults; config/ar1_planner.schema.json carries the same values (a test keeps them equal). */
export const DEFAULT_TRAJECTORY_THRESHOLDS: Readonly<TrajectoryThresholds> = Object.freeze({
  horizon_s: 6.4,
  window_s: 1.0,
  accelerate_min_mps2: 0.5,
  decelerate_min_mps2: 0.5,
  keep_speed_max_mps2: 0.25,
  stop_speed_mps: 0.5,
  creep_max_speed_mps: 2.5,
  lateral_min_distance_m: 5.0,
  straight_max_heading_rad: 0.1,
  straight_max_offset_m: 1.0,
  turn_min_heading_rad: 0.35,
  lane_change_min_offset_m: 2.0,
  lane_change_max_end_heading_ratio: 0.5,
});

/** The trajectory fields the rules read: waypoints 1..N after t0 in the rig frame at t0 (x forward, y left). */
export interface TrajectoryLike {
  /** [s] waypoint spacing. */
  dt: number;
  /** [m/s] speed at t0. */
  initialSpeed: number;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** [rad] accumulated yaw, not wrapped. */
  heading: ArrayLike<number>;
  speed: ArrayLike<number>;
}

/** One longitudinal window: [startS, endS) after t0, its speeds and labels. */
export interface LongitudinalWindow {
  startS: number;
  endS: number;
  startSpeedMps: number;
  endSpeedMps: number;
  meanAccelMps2: number;
  labels: LongitudinalAction[];
}

export interface TrajectoryMetaActions {
  /** Longitudinal labels present in any window, in order of first appearance. */
  longitudinal: LongitudinalAction[];
  /** The lateral label, or undefined when the plan is too short or falls between the rules (not assessable). */
  lateral: LateralAction | undefined;
  windows: LongitudinalWindow[];
  /** Figures the lateral rule used. */
  lateralFigures: LateralFigures;
}

/** What the lateral rule reads: path length, heading at the horizon and its extremes, lateral offset at the horizon. */
export interface LateralFigures {
  distanceM: number;
  endHeadingRad: number;
  /** [rad] the largest heading (≥ 0, towards the left) and the smallest (≤ 0, towards the right) within the horizon. */
  maxHeadingRad: number;
  minHeadingRad: number;
  endOffsetM: number;
}

/** Labels a plan. Non-finite values make no label (the planner refuses such plans before this is called). */
export function trajectoryMetaActions(
  tr: TrajectoryLike,
  th: TrajectoryThresholds = DEFAULT_TRAJECTORY_THRESHOLDS,
): TrajectoryMetaActions {
  const n = Math.min(
    tr.x.length,
    tr.y.length,
    tr.heading.length,
    tr.speed.length,
    tr.dt > 0 ? Math.floor(th.horizon_s / tr.dt + 1e-9) : 0,
  );
  const windows: LongitudinalWindow[] = [];
  const per = Math.max(1, Math.round(th.window_s / tr.dt));
  // Speeds at 0, dt, 2dt, …: v[0] is the initial speed, v[k] the speed at waypoint k.
  const v = (k: number): number => (k === 0 ? tr.initialSpeed : tr.speed[k - 1]!);
  for (let a = 0; a < n; a += per) {
    const b = Math.min(n, a + per);
    if (b - a < per / 2) break; // a remainder shorter than half a window says too little
    let vMax = -Infinity;
    for (let k = a; k <= b; k++) vMax = Math.max(vMax, v(k));
    const v0 = v(a),
      v1 = v(b);
    const mean = (v1 - v0) / ((b - a) * tr.dt);
    const labels: LongitudinalAction[] = [];
    if (!(Number.isFinite(mean) && Number.isFinite(vMax))) {
      windows.push({
        startS: a * tr.dt,
        endS: b * tr.dt,
        startSpeedMps: v0,
        endSpeedMps: v1,
        meanAccelMps2: mean,
        labels,
      });
      continue;
    }
    const stationary = vMax <= th.stop_speed_mps;
    if (!stationary) {
      if (mean >= th.accelerate_min_mps2) labels.push('accelerate');
      else if (mean <= -th.decelerate_min_mps2) labels.push('decelerate');
      else if (Math.abs(mean) <= th.keep_speed_max_mps2) labels.push('keep_speed');
    }
    if (v1 <= th.stop_speed_mps) labels.push('stop');
    else if (vMax <= th.creep_max_speed_mps) labels.push('creep');
    windows.push({
      startS: a * tr.dt,
      endS: b * tr.dt,
      startSpeedMps: v0,
      endSpeedMps: v1,
      meanAccelMps2: mean,
      labels,
    });
  }
  const longitudinal: LongitudinalAction[] = [];
  for (const w of windows) for (const l of w.labels) if (!longitudinal.includes(l)) longitudinal.push(l);

  let distanceM = 0,
    maxHeadingRad = 0,
    minHeadingRad = 0;
  let px = 0,
    py = 0;
  for (let k = 0; k < n; k++) {
    distanceM += Math.hypot(tr.x[k]! - px, tr.y[k]! - py);
    px = tr.x[k]!;
    py = tr.y[k]!;
    maxHeadingRad = Math.max(maxHeadingRad, tr.heading[k]!);
    minHeadingRad = Math.min(minHeadingRad, tr.heading[k]!);
  }
  const endHeadingRad = n > 0 ? tr.heading[n - 1]! : 0;
  const endOffsetM = n > 0 ? tr.y[n - 1]! : 0;
  const lateralFigures = { distanceM, endHeadingRad, maxHeadingRad, minHeadingRad, endOffsetM };
  return { longitudinal, lateral: lateralOf(lateralFigures, th), windows, lateralFigures };
}

function lateralOf(f: LateralFigures, th: TrajectoryThresholds): LateralAction | undefined {
  if (
    !(f.distanceM >= th.lateral_min_distance_m) ||
    !Number.isFinite(f.endHeadingRad) ||
    !Number.isFinite(f.endOffsetM)
  )
    return undefined;
  if (f.endHeadingRad >= th.turn_min_heading_rad) return 'turn_left';
  if (f.endHeadingRad <= -th.turn_min_heading_rad) return 'turn_right';
  if (
    Math.max(f.maxHeadingRad, -f.minHeadingRad) <= th.straight_max_heading_rad &&
    Math.abs(f.endOffsetM) <= th.straight_max_offset_m
  ) {
    return 'straight';
  }
  // A lane change moves sideways and turns back: the heading towards the offset side has come back from its peak
  // (a road that bends keeps its heading, so a bend is never taken for a lane change).
  const side = Math.sign(f.endOffsetM);
  const peakTowards = side > 0 ? f.maxHeadingRad : -f.minHeadingRad;
  if (
    Math.abs(f.endOffsetM) >= th.lane_change_min_offset_m &&
    peakTowards > 0 &&
    Math.abs(f.endHeadingRad) <= th.lane_change_max_end_heading_ratio * peakTowards
  ) {
    return side > 0 ? 'lane_change_left' : 'lane_change_right';
  }
  return undefined;
}
