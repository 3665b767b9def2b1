/**
 * AR1's unicycle rollout (docs/ar1.md §5, upstream `UnicycleAccelCurvatureActionSpace.action_to_traj`, paper
 * Eq. 5): float64, trapezoid rule for position, exact heading update; no clipping (v may go negative).
 */

export interface Rollout {
  /** Waypoints 1..N (the initial state at t0 is excluded), rig frame at t0 [m]. */
  x: Float64Array;
  y: Float64Array;
  /** Accumulated heading θ [rad], not wrapped. */
  heading: Float64Array;
  /** Speed v [m/s] at each waypoint. */
  speed: Float64Array;
}

export function rolloutUnicycle(v0: number, accel: ArrayLike<number>, curvature: ArrayLike<number>, dt = 0.1): Rollout {
  const n = accel.length;
  if (curvature.length !== n)
    throw new RangeError(`rolloutUnicycle: accel has ${n} steps, curvature ${curvature.length}`);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const heading = new Float64Array(n);
  const speed = new Float64Array(n);
  let v = v0,
    th = 0,
    px = 0,
    py = 0;
  for (let k = 0; k < n; k++) {
    const a = accel[k]!,
      kappa = curvature[k]!;
    const v1 = v + a * dt;
    const th1 = th + kappa * v * dt + (kappa * a * dt * dt) / 2;
    px += (dt / 2) * (v * Math.cos(th) + v1 * Math.cos(th1));
    py += (dt / 2) * (v * Math.sin(th) + v1 * Math.sin(th1));
    x[k] = px;
    y[k] = py;
    heading[k] = th1;
    speed[k] = v1;
    v = v1;
    th = th1;
  }
  return { x, y, heading, speed };
}
