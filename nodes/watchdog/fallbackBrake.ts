import type { Actuation } from './limitsGate.js';
import type { BrakeProfile } from './params.js';

/**
 * One control period of a jerk-limited ramp (Autoware mrm_emergency_stop_operator): from the previous commanded
 * acceleration toward target by |jerk|·dt, never past it. Ramping UP toward a weaker target (e.g. from −2.5 to the
 * −1.5 standstill hold, or from a harsher planner command to −2.5) uses the same |jerk|, so no step ever exceeds it.
 * With no previous command the ramp starts at the target (Autoware: "no command ever received → a = target").
 *
 * releaseJerkMps3 (optional): the jerk used while ramping DOWN from a positive acceleration, i.e. while the throttle
 * is released; below zero the brake builds up at |jerk|. A step that crosses zero spends the part of the period
 * above zero at the release jerk and the rest at the brake jerk, so no step exceeds max(|release|, |jerk|)·dt.
 */
export function rampAccel(
  prevAccel: number | undefined,
  targetMps2: number,
  jerkMps3: number,
  dtS: number,
  releaseJerkMps3?: number,
): number {
  if (prevAccel === undefined || !Number.isFinite(prevAccel)) return targetMps2;
  const step = Math.abs(jerkMps3) * dtS;
  if (prevAccel <= targetMps2) return Math.min(prevAccel + step, targetMps2);
  if (releaseJerkMps3 !== undefined && prevAccel > 0) {
    const release = Math.abs(releaseJerkMps3) * dtS;
    if (prevAccel - release >= Math.max(targetMps2, 0)) return prevAccel - release;
    if (targetMps2 >= 0) return targetMps2;
    const rest = 1 - prevAccel / release; // fraction of the period left below zero
    return rest < 1e-9 ? 0 : Math.max(-step * rest, targetMps2); // (a rounding remainder lands on zero)
  }
  return Math.max(prevAccel - step, targetMps2);
}

/** Fallback braking: ramp to the profile's deceleration; curvature held at the last published (safe) value. */
export function fallbackBrake(prev: Actuation | undefined, dtS: number, profile: BrakeProfile): Actuation {
  return {
    accel: rampAccel(prev?.accel, profile.accel_mps2, profile.jerk_mps3, dtS, profile.release_jerk_mps3),
    curvature: heldCurvature(prev),
  };
}

/** Standstill hold: ramp to the hold acceleration with the fallback jerks; curvature held. */
export function standstillHold(
  prev: Actuation | undefined,
  dtS: number,
  holdAccelMps2: number,
  jerkMps3: number,
  releaseJerkMps3?: number,
): Actuation {
  return {
    accel: rampAccel(prev?.accel, holdAccelMps2, jerkMps3, dtS, releaseJerkMps3),
    curvature: heldCurvature(prev),
  };
}

const heldCurvature = (prev: Actuation | undefined): number =>
  prev && Number.isFinite(prev.curvature) ? prev.curvature : 0;

/** Number of control periods the ramp needs from fromMps2 to the target (exact tick count, for docs and tests). */
export function rampTicks(
  fromMps2: number,
  targetMps2: number,
  jerkMps3: number,
  dtS: number,
  releaseJerkMps3?: number,
): number {
  if (!(Math.abs(jerkMps3) * dtS > 0))
    throw new RangeError(`rampTicks: expected |jerk|·dt > 0, got ${jerkMps3}·${dtS}`);
  let a = fromMps2;
  let n = 0;
  while (a !== targetMps2) {
    a = rampAccel(a, targetMps2, jerkMps3, dtS, releaseJerkMps3);
    n++;
  }
  return n;
}

/** Control periods from fromMps2 (> 0) until the ramp first commands a negative acceleration (for docs and tests). */
export function ticksToFirstNegative(fromMps2: number, profile: BrakeProfile, dtS: number): number {
  let a = fromMps2;
  let n = 0;
  while (a >= 0 && n < 1e6) {
    a = rampAccel(a, profile.accel_mps2, profile.jerk_mps3, dtS, profile.release_jerk_mps3);
    n++;
  }
  return n;
}
