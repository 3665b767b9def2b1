import type { PlanTrajectory } from '../core/planningEngine.js';

/**
 * Time-indexing into the latest plan, pure. acceleration[k] and curvature[k] are the controls of step k
 * (t0 + k·dt … t0 + (k+1)·dt); they are interpolated linearly between step midpoints (held over the first and last
 * half step), so a command sampled at 50 Hz is continuous and each step's mean is kept. Speed is linear between
 * v0 at t0 and the waypoint speeds (exact under constant acceleration).
 */

export interface ActivePlan {
  t0S: number;
  /** [m/s] initial speed of the rollout. */
  v0: number;
  trajectory: PlanTrajectory;
}

export interface SampledCommand {
  /** [m/s^2] */
  acceleration: number;
  /** [1/m] */
  curvature: number;
  /** [m/s] */
  speed: number;
}

/**
 * Command at time tS, or undefined once the horizon (N·dt after t0) has run out — or when tS lies more than one
 * step before t0 (a clock mismatch). Slightly before t0 (clock skew under one step) gives the first step.
 */
export function sampleCommand(plan: ActivePlan, tS: number): SampledCommand | undefined {
  const { trajectory: tr } = plan;
  const n = tr.acceleration.length;
  const dt = tr.dt;
  if (n === 0 || !(dt > 0)) return undefined;
  const tau = tS - plan.t0S;
  if (tau >= n * dt - 1e-6 || tau < -dt || !Number.isFinite(tau)) return undefined; // 1 µs: float stamps
  const s = Math.max(0, tau) / dt;
  return {
    acceleration: midpointLerp(tr.acceleration, s),
    curvature: midpointLerp(tr.curvature, s),
    speed: speedAt(plan.v0, tr.speed, s),
  };
}

/** values[k] sits at step midpoint k + 0.5 (in steps); linear in between, held outside. */
function midpointLerp(values: ArrayLike<number>, s: number): number {
  const u = s - 0.5;
  const n = values.length;
  if (u <= 0) return values[0]!;
  const k = Math.floor(u);
  if (k >= n - 1) return values[n - 1]!;
  const f = u - k;
  return values[k]! + (values[k + 1]! - values[k]!) * f;
}

/** speed[k] is the speed at step k + 1; v0 at step 0. */
function speedAt(v0: number, speed: ArrayLike<number>, s: number): number {
  const k = Math.floor(s);
  const lo = k === 0 ? v0 : speed[k - 1]!;
  const hi = speed[Math.min(k, speed.length - 1)]!;
  return lo + (hi - lo) * (s - k);
}
