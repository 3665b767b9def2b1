import type { LimitTables } from './params.js';

/** Names of the limiters, in the order the gate applies them (reported in SafetyState.limits_active). */
export type LimitName = 'non_finite' | 'jerk' | 'accel_max' | 'accel_min' | 'lat_jerk' | 'curvature' | 'lat_accel';

/** The two controlled quantities of a unicycle command. */
export interface Actuation {
  /** [m/s^2] */
  readonly accel: number;
  /** [1/m] */
  readonly curvature: number;
}

/** Limits interpolated at one speed. */
export interface LimitsAtSpeed {
  accelMax: number;
  accelMin: number;
  jerkMax: number;
  curvatureMax: number;
  latAccel: number;
  latJerk: number;
}

/** Linear interpolation over increasing xs; end values held outside (Autoware vehicle_cmd_filter). */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = xs.length;
  if (n === 0 || ys.length !== n)
    throw new RangeError(`interpolate: expected equal non-empty arrays, got ${n} and ${ys.length}`);
  if (!(x > xs[0]!)) return ys[0]!;
  if (x >= xs[n - 1]!) return ys[n - 1]!;
  let i = 1;
  while (xs[i]! < x) i++;
  const x0 = xs[i - 1]!,
    x1 = xs[i]!,
    y0 = ys[i - 1]!,
    y1 = ys[i]!;
  return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

/** The limits at |speed|; a non-finite speed reads the lowest reference speed (callers pass a finite one). */
export function limitsAt(t: LimitTables, speedMps: number): LimitsAtSpeed {
  const v = Number.isFinite(speedMps) ? Math.abs(speedMps) : 0;
  const at = (ys: readonly number[]) => interpolate(t.reference_speed_mps, ys, v);
  return {
    accelMax: at(t.accel_max_mps2),
    accelMin: at(t.accel_min_mps2),
    jerkMax: at(t.jerk_max_mps3),
    curvatureMax: at(t.curvature_max_pm),
    latAccel: at(t.lat_accel_mps2),
    latJerk: at(t.lat_jerk_mps3),
  };
}

/** Speed used by the lateral limits: max(|v_ego|, 1 m/s) (openpilot drive_helpers, Autoware uses ego speed too). */
const lateralSpeed = (speedMps: number): number => Math.max(Number.isFinite(speedMps) ? Math.abs(speedMps) : 0, 1);

/** Largest |curvature| allowed at this speed: min(curvature_max, lat_accel / v^2). */
export function curvatureBound(l: LimitsAtSpeed, speedMps: number): number {
  const v = lateralSpeed(speedMps);
  return Math.min(l.curvatureMax, l.latAccel / (v * v));
}

export interface GateResult {
  readonly command: Actuation;
  /** Limiters that changed the command, in application order. */
  readonly fired: LimitName[];
}

const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);

/**
 * Clamps a command to the speed-indexed limits, like Autoware's vehicle_cmd_filter filterAll: rate limits
 * against the previously PUBLISHED command first (longitudinal jerk, lateral jerk |Δκ|·v²/dt), then the absolute
 * limits, which win when the two disagree (a limit that tightens with speed). Non-finite values are replaced by
 * the previous command (or 0). The result is always finite and inside the absolute limits.
 *
 * @param speedMps measured ego speed (not the commanded one, as Autoware), finite
 * @param dtS control period [s] (rate limits are per published command)
 */
export function limitsGate(
  cmd: Actuation,
  prev: Actuation | undefined,
  speedMps: number,
  dtS: number,
  tables: LimitTables,
): GateResult {
  if (!(dtS > 0) || !Number.isFinite(dtS))
    throw new RangeError(`limitsGate: dtS: expected a finite period > 0 s, got ${dtS}`);
  const fired: LimitName[] = [];
  const l = limitsAt(tables, speedMps);
  let a = cmd.accel;
  let k = cmd.curvature;
  if (!Number.isFinite(a) || !Number.isFinite(k)) {
    fired.push('non_finite');
    if (!Number.isFinite(a)) a = prev?.accel ?? 0;
    if (!Number.isFinite(k)) k = prev?.curvature ?? 0;
  }
  if (prev) {
    const da = l.jerkMax * dtS;
    const limited = clamp(a, prev.accel - da, prev.accel + da);
    if (limited !== a) {
      fired.push('jerk');
      a = limited;
    }
  }
  if (a > l.accelMax) {
    fired.push('accel_max');
    a = l.accelMax;
  }
  if (a < l.accelMin) {
    fired.push('accel_min');
    a = l.accelMin;
  }
  const v = lateralSpeed(speedMps);
  if (prev) {
    const dk = (l.latJerk * dtS) / (v * v);
    const limited = clamp(k, prev.curvature - dk, prev.curvature + dk);
    if (limited !== k) {
      fired.push('lat_jerk');
      k = limited;
    }
  }
  const bound = curvatureBound(l, speedMps);
  if (Math.abs(k) > bound) {
    fired.push(l.curvatureMax <= l.latAccel / (v * v) ? 'curvature' : 'lat_accel');
    k = Math.sign(k) * bound;
  }
  return { command: { accel: a, curvature: k }, fired };
}
