/**
 * Flow-matching Euler sampler (docs/ar1.md §7, upstream `diffusion/flow_matching.py`):
 * x ~ N(0, I) [64, 2]; ts = linspace(0, 1, steps + 1); x += (ts[i+1] − ts[i])·v(x, ts[i]).
 * The velocity field is the action-expert graph; this module only drives the loop.
 */

/** One evaluation of the expert: velocity [steps·2] for the current x at time t. */
export type VelocityField = (x: Float32Array, t: number) => Promise<ArrayLike<number>>;

/** Runs the Euler loop in float32 (like upstream) starting from `noise`, which is not modified. */
export async function flowMatchEuler(
  noise: Float32Array,
  steps: number,
  velocity: VelocityField,
): Promise<Float32Array> {
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(`flow-matching steps: expected an integer ≥ 1, got ${steps}`);
  const x = Float32Array.from(noise);
  for (let i = 0; i < steps; i++) {
    const t0 = i / steps;
    const t1 = (i + 1) / steps;
    const v = await velocity(x, t0);
    if (v.length !== x.length) throw new RangeError(`velocity field returned ${v.length} values, expected ${x.length}`);
    const h = t1 - t0;
    for (let j = 0; j < x.length; j++) x[j] = x[j]! + h * v[j]!;
  }
  return x;
}
