/** AR1's normalised action space (docs/ar1.md §5): the expert works on n[64,2] = normalised (accel, curvature). */

export interface ActionNormalization {
  accelMean: number;
  accelStd: number;
  curvatureMean: number;
  curvatureStd: number;
}

/** AR1 release values (config `action_space_cfg`). */
export const AR1_ACTION_NORMALIZATION: Readonly<ActionNormalization> = Object.freeze({
  accelMean: 0.02902694707164455,
  accelStd: 0.6810426736454882,
  curvatureMean: 0.0002692167976330542,
  curvatureStd: 0.026148280660833106,
});

/** a = n[:,0]·accel_std + accel_mean, κ = n[:,1]·curvature_std + curvature_mean, in float64. */
export function denormalizeActions(
  n: ArrayLike<number>,
  c: ActionNormalization,
): { accel: Float64Array; curvature: Float64Array } {
  if (n.length % 2 !== 0) throw new RangeError(`denormalizeActions: expected [steps, 2] values, got ${n.length}`);
  const steps = n.length / 2;
  const accel = new Float64Array(steps);
  const curvature = new Float64Array(steps);
  for (let k = 0; k < steps; k++) {
    accel[k] = n[2 * k]! * c.accelStd + c.accelMean;
    curvature[k] = n[2 * k + 1]! * c.curvatureStd + c.curvatureMean;
  }
  return { accel, curvature };
}
