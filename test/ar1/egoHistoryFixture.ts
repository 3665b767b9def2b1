import type { EgoHistory } from '../../nodes/core/planningEngine.js';

/**
 * 16 past poses at 10 Hz ending at the origin, driven at v [m/s] along y = curve·s² with a climb of `grade` [m/m]
 * and the heading of that curve: a plausible ego history for pipeline tests.
 */
export function curvedHistory(v: number, curve = 0, grade = 0.02): EgoHistory {
  const x = new Float64Array(16),
    y = new Float64Array(16),
    z = new Float64Array(16),
    yaw = new Float64Array(16);
  for (let i = 0; i < 16; i++) {
    const s = (i - 15) * v * 0.1;
    x[i] = s;
    y[i] = curve * s * s;
    z[i] = grade * s;
    yaw[i] = 2 * curve * s;
  }
  return { x, y, z, yaw, dt: 0.1 };
}
