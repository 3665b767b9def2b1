/**
 * Driving metrics of one closed-loop run, accumulated step by step from the simulated state (the ground truth, not
 * what the nodes saw): progress along the route, off-road, collision, distance and time-to-collision to a standing
 * obstacle, comfort of the executed motion and time in each watchdog state. Pure.
 */
import { round } from '../replay/metrics.js';
import type { Road } from './road.js';
import type { BarrierSpec, PassThresholds, WatchdogStateName } from './scenario.js';
import { egoCorners, type VehicleParams, type VehicleState } from './vehicle.js';

/** [m] half the barrier's depth along the road. */
const BARRIER_HALF_DEPTH_M = 0.1;
/** [m] the barrier reaches this far beyond each road edge. */
export const BARRIER_OVERHANG_M = 0.2;
/** [m/s] below this the car counts as standing. */
const STANDING_MPS = 0.01;
/** [s] spacing of the time series kept for the report. */
const SERIES_DT_S = 0.1;

export interface MetricsJson {
  progress_m: number;
  progress_fraction: number;
  offroad_m: number;
  offroad_s: number;
  collision: boolean;
  /** Closest approach of the ego box to a standing obstacle [m]; null without one. */
  min_distance_m: number | null;
  /** Smallest distance ÷ speed while approaching a standing obstacle [s]; null when never approaching one. */
  min_ttc_s: number | null;
  max_abs_jerk_mps3: number;
  max_abs_lat_accel_mps2: number;
  max_abs_lat_jerk_mps3: number;
  max_speed_mps: number;
  final_speed_mps: number;
  /** Seconds per watchdog state. */
  time_in_state_s: Record<WatchdogStateName, number>;
  /** The car stood still before the standing obstacle without touching it; null without an obstacle. */
  stopped_before_obstacle: boolean | null;
}

export interface SeriesPoint {
  /** lateral: offset of the reference point from the road's centreline, left positive [m] */
  t: number;
  x: number;
  y: number;
  lateral: number;
  v: number;
  a: number;
  jerk: number;
  lat_accel: number;
  progress: number;
  distance: number | null;
  offroad: boolean;
  state: WatchdogStateName;
}

export interface Check {
  name: string;
  threshold: number | boolean | string;
  value: number | boolean | string | null;
  pass: boolean;
}

export class RunMetrics {
  readonly series: SeriesPoint[] = [];
  #hint: number | undefined;
  #prev: { tS: number; st: VehicleState; latAccel: number } | undefined;
  #nextSeriesS = 0;
  #m: MetricsJson;
  readonly #barriers: Array<BarrierSpec & { s: number; halfWidth: number }>;

  constructor(
    private readonly road: Road,
    private readonly routeLengthM: number,
    barriers: readonly BarrierSpec[],
    private readonly vehicle: VehicleParams,
  ) {
    this.#barriers = barriers.map((b) => ({ ...b, s: b.at_m, halfWidth: road.halfWidth + BARRIER_OVERHANG_M }));
    this.#m = {
      progress_m: 0,
      progress_fraction: 0,
      offroad_m: 0,
      offroad_s: 0,
      collision: false,
      min_distance_m: barriers.length ? Infinity : null,
      min_ttc_s: null,
      max_abs_jerk_mps3: 0,
      max_abs_lat_accel_mps2: 0,
      max_abs_lat_jerk_mps3: 0,
      max_speed_mps: 0,
      final_speed_mps: 0,
      time_in_state_s: { disengaged: 0, nominal: 0, fallback: 0, stopped: 0 },
      stopped_before_obstacle: barriers.length ? false : null,
    };
  }

  /** A standing barrier's state at tS. */
  standing(b: BarrierSpec, tS: number): boolean {
    return b.lifts_at_s === null || tS < b.lifts_at_s;
  }

  /** Adds the state at tS (seconds from the start); dtS is the step that led to it (0 for the first). */
  add(tS: number, st: VehicleState, dtS: number, state: WatchdogStateName): void {
    const m = this.#m;
    const ref = this.road.project(st.x, st.y, this.#hint);
    this.#hint = ref.index;
    m.progress_m = Math.max(0, Math.min(ref.s, this.routeLengthM));
    m.max_speed_mps = Math.max(m.max_speed_mps, st.v);
    m.final_speed_mps = st.v;
    m.time_in_state_s[state] += dtS;
    // Off-road: how far any corner of the box lies outside the road's edges.
    const corners = egoCorners(st, this.vehicle).map(([x, y]) => this.road.project(x, y, ref.index));
    const excess = Math.max(0, ...corners.map((c) => Math.abs(c.lateral) - this.road.halfWidth));
    if (excess > 0) {
      m.offroad_m = Math.max(m.offroad_m, excess);
      m.offroad_s += dtS;
    }
    // Obstacles: distance from the front of the box to a standing barrier, along the road.
    let distance: number | null = null;
    const front = Math.max(corners[0]!.s, corners[1]!.s);
    for (const b of this.#barriers) {
      if (!this.standing(b, tS)) continue;
      const across = Math.min(Math.abs(corners[0]!.lateral), Math.abs(corners[1]!.lateral)) <= b.halfWidth;
      const rear = Math.min(corners[2]!.s, corners[3]!.s);
      const d = b.s - BARRIER_HALF_DEPTH_M - front;
      if (rear > b.s + BARRIER_HALF_DEPTH_M) continue; // already past it
      if (d <= 0 && across) m.collision = true;
      const dd = Math.max(0, d);
      distance = distance === null ? dd : Math.min(distance, dd);
      m.min_distance_m = Math.min(m.min_distance_m ?? Infinity, dd);
      if (st.v > STANDING_MPS && d > 0) m.min_ttc_s = Math.min(m.min_ttc_s ?? Infinity, d / st.v);
      if (st.v <= STANDING_MPS && d > 0 && !m.collision) m.stopped_before_obstacle = true;
    }
    // Comfort of the executed motion, while moving (the model stops instantly, which is not the car's comfort).
    const latAccel = st.v * st.v * st.kappa;
    let jerk = 0;
    const p = this.#prev;
    if (p && dtS > 0 && p.st.v > STANDING_MPS && st.v > STANDING_MPS) {
      jerk = (st.a - p.st.a) / dtS;
      m.max_abs_jerk_mps3 = Math.max(m.max_abs_jerk_mps3, Math.abs(jerk));
      m.max_abs_lat_jerk_mps3 = Math.max(m.max_abs_lat_jerk_mps3, Math.abs((latAccel - p.latAccel) / dtS));
    }
    m.max_abs_lat_accel_mps2 = Math.max(m.max_abs_lat_accel_mps2, Math.abs(latAccel));
    this.#prev = { tS, st, latAccel };
    if (tS >= this.#nextSeriesS - 1e-9) {
      this.#nextSeriesS += SERIES_DT_S;
      this.series.push({
        t: round(tS, 3),
        x: round(st.x, 3),
        y: round(st.y, 3),
        lateral: round(ref.lateral, 3),
        v: round(st.v, 3),
        a: round(st.a, 3),
        jerk: round(jerk, 3),
        lat_accel: round(latAccel, 3),
        progress: round(m.progress_m, 3),
        distance: distance === null ? null : round(distance, 3),
        offroad: excess > 0,
        state,
      });
    }
  }

  /** The metrics so far, rounded for a byte-stable report. */
  result(): MetricsJson {
    const m = this.#m;
    const r = (v: number) => round(v, 4);
    const tis = Object.fromEntries(
      Object.entries(m.time_in_state_s).map(([k, v]) => [k, round(v, 3)]),
    ) as MetricsJson['time_in_state_s'];
    return {
      progress_m: r(m.progress_m),
      progress_fraction: r(m.progress_m / this.routeLengthM),
      offroad_m: r(m.offroad_m),
      offroad_s: round(m.offroad_s, 3),
      collision: m.collision,
      min_distance_m: m.min_distance_m === null || !Number.isFinite(m.min_distance_m) ? null : r(m.min_distance_m),
      min_ttc_s: m.min_ttc_s === null ? null : r(m.min_ttc_s),
      max_abs_jerk_mps3: r(m.max_abs_jerk_mps3),
      max_abs_lat_accel_mps2: r(m.max_abs_lat_accel_mps2),
      max_abs_lat_jerk_mps3: r(m.max_abs_lat_jerk_mps3),
      max_speed_mps: r(m.max_speed_mps),
      final_speed_mps: r(m.final_speed_mps),
      time_in_state_s: tis,
      stopped_before_obstacle: m.stopped_before_obstacle,
    };
  }
}

/**
 * The scenario's verdict: each threshold given is one check. `reachedStates` are the watchdog states seen during the
 * run; `finalState` the one at the end.
 */
export function checkThresholds(
  m: MetricsJson,
  pass: PassThresholds,
  reachedStates: ReadonlySet<string>,
  finalState: string,
): Check[] {
  const out: Check[] = [];
  const atMost = (name: string, limit: number | undefined, value: number | null) => {
    if (limit !== undefined) out.push({ name, threshold: limit, value, pass: value !== null && value <= limit + 1e-9 });
  };
  const atLeast = (name: string, limit: number | undefined, value: number | null, noneOk: boolean) => {
    if (limit !== undefined)
      out.push({ name, threshold: limit, value, pass: value === null ? noneOk : value >= limit - 1e-9 });
  };
  atLeast('min_progress_m', pass.min_progress_m, m.progress_m, false);
  atMost('max_progress_m', pass.max_progress_m, m.progress_m);
  atMost('max_offroad_m', pass.max_offroad_m, m.offroad_m);
  atMost('max_offroad_s', pass.max_offroad_s, m.offroad_s);
  if (pass.no_collision) out.push({ name: 'no_collision', threshold: true, value: !m.collision, pass: !m.collision });
  atLeast('min_distance_m', pass.min_distance_m, m.min_distance_m, true);
  atLeast('min_ttc_s', pass.min_ttc_s, m.min_ttc_s, true);
  atMost('max_abs_jerk_mps3', pass.max_abs_jerk_mps3, m.max_abs_jerk_mps3);
  atMost('max_abs_lat_accel_mps2', pass.max_abs_lat_accel_mps2, m.max_abs_lat_accel_mps2);
  atMost('max_abs_lat_jerk_mps3', pass.max_abs_lat_jerk_mps3, m.max_abs_lat_jerk_mps3);
  if (pass.stop_before_obstacle !== undefined) {
    const v = m.stopped_before_obstacle === true;
    out.push({
      name: 'stop_before_obstacle',
      threshold: pass.stop_before_obstacle,
      value: m.stopped_before_obstacle,
      pass: v === pass.stop_before_obstacle,
    });
  }
  if (pass.reaches_state !== undefined)
    out.push({
      name: 'reaches_state',
      threshold: pass.reaches_state,
      value: [...reachedStates].join(','),
      pass: reachedStates.has(pass.reaches_state),
    });
  if (pass.final_state !== undefined)
    out.push({
      name: 'final_state',
      threshold: pass.final_state,
      value: finalState,
      pass: finalState === pass.final_state,
    });
  atMost('max_fallback_s', pass.max_fallback_s, round(m.time_in_state_s.fallback + m.time_in_state_s.stopped, 3));
  return out;
}
