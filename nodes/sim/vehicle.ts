/**
 * The simulated vehicle: a unicycle driven by acceleration and curvature, each through a first-order actuator lag
 * and clamped to the vehicle's own limits. It never reverses: at standstill a braking command holds it. Pure.
 */

export interface VehicleParams {
  /** [s] time constant of the acceleration actuator */
  accel_lag_s: number;
  /** [s] time constant of the steering (curvature) actuator */
  curvature_lag_s: number;
  /** [m/s^2] strongest braking the vehicle can do (negative) */
  accel_min_mps2: number;
  /** [m/s^2] strongest acceleration */
  accel_max_mps2: number;
  /** [1/m] tightest curvature (either side) */
  curvature_max_1pm: number;
  /** [m] box length, width and how far the box reaches behind the reference point (the rear axle) */
  length_m: number;
  width_m: number;
  rear_overhang_m: number;
}

export interface VehicleState {
  x: number;
  y: number;
  yaw: number;
  /** [m/s] */
  v: number;
  /** [m/s^2] actuator output: the acceleration the vehicle is producing (0 while held at standstill) */
  a: number;
  /** [1/m] actuator output */
  kappa: number;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** One step of dtS with the command held (zero-order hold): lag, clamp, then midpoint integration. */
export function stepVehicle(
  st: VehicleState,
  cmd: { acceleration: number; curvature: number },
  dtS: number,
  p: VehicleParams,
): VehicleState {
  // A non-finite command is never applied: the actuators keep their last output (the watchdog never sends one).
  const aCmd = Number.isFinite(cmd.acceleration) ? clamp(cmd.acceleration, p.accel_min_mps2, p.accel_max_mps2) : st.a;
  const kCmd = Number.isFinite(cmd.curvature)
    ? clamp(cmd.curvature, -p.curvature_max_1pm, p.curvature_max_1pm)
    : st.kappa;
  const ga = p.accel_lag_s > 0 ? 1 - Math.exp(-dtS / p.accel_lag_s) : 1;
  const gk = p.curvature_lag_s > 0 ? 1 - Math.exp(-dtS / p.curvature_lag_s) : 1;
  let a = st.a + (aCmd - st.a) * ga;
  const kappa = st.kappa + (kCmd - st.kappa) * gk;
  let v1 = st.v + a * dtS;
  if (v1 <= 0) {
    // Stops within the step (or is held): no reversing.
    v1 = 0;
    if (st.v <= 0 && a < 0) a = 0;
  }
  const vm = (st.v + v1) / 2;
  const yawMid = st.yaw + (vm * kappa * dtS) / 2;
  return {
    x: st.x + vm * Math.cos(yawMid) * dtS,
    y: st.y + vm * Math.sin(yawMid) * dtS,
    yaw: st.yaw + vm * kappa * dtS,
    v: v1,
    a,
    kappa,
  };
}

/** The ego box's four corners in the world frame: front-left, front-right, rear-right, rear-left. */
export function egoCorners(st: { x: number; y: number; yaw: number }, p: VehicleParams): Array<[number, number]> {
  const c = Math.cos(st.yaw);
  const s = Math.sin(st.yaw);
  const f = p.length_m - p.rear_overhang_m;
  const r = -p.rear_overhang_m;
  const h = p.width_m / 2;
  return [
    [f, h],
    [f, -h],
    [r, -h],
    [r, h],
  ].map(([u, w]) => [st.x + u! * c - w! * s, st.y + u! * s + w! * c] as [number, number]);
}
