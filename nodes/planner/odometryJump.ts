import type { OdometrySample } from './egoHistory.js';

/**
 * Odometry jump (teleport) rule, pure. Between consecutive samples prev → next (stamps dt apart) the position may
 * move at most
 *
 *   allowed = speed · dt + maxJumpM,   speed = max(prev.speedMps, next.speedMps, |before → prev| / its dt)
 *
 * i.e. what the reported twist (either end) or the speed the previous pair implies explains, plus a margin for
 * localisation noise. A larger step means the pose source changed timeline (relocalisation, map switch, a sim
 * teleport): an ego history across it would mix two worlds. With no speed at all (no twist and no previous pair)
 * nothing is judged. Distance is 3-D (x, y, z of the fixed frame).
 */
export interface OdometryJump {
  /** [m] distance between the two positions. */
  distanceM: number;
  /** [m] the most the rule allowed. */
  allowedM: number;
  /** [m/s] speed used. */
  speedMps: number;
  /** [s] stamp difference. */
  dtS: number;
  detail: string;
}

const dist = (a: OdometrySample, b: OdometrySample) => Math.hypot(b.x - a.x, b.y - a.y, b.z - a.z);

/** The jump from prev to next, or undefined when the step is plausible (or cannot be judged). `before` precedes prev. */
export function odometryJump(
  before: OdometrySample | undefined,
  prev: OdometrySample,
  next: OdometrySample,
  maxJumpM: number,
): OdometryJump | undefined {
  const dtS = next.tS - prev.tS;
  if (!(dtS > 0)) return undefined;
  const speeds: number[] = [];
  if (prev.speedMps !== undefined) speeds.push(prev.speedMps);
  if (next.speedMps !== undefined) speeds.push(next.speedMps);
  if (before && prev.tS > before.tS) speeds.push(dist(before, prev) / (prev.tS - before.tS));
  if (speeds.length === 0) return undefined;
  const speedMps = Math.max(...speeds);
  const allowedM = speedMps * dtS + maxJumpM;
  const distanceM = dist(prev, next);
  if (distanceM <= allowedM) return undefined;
  return {
    distanceM,
    allowedM,
    speedMps,
    dtS,
    detail:
      `odometry: position moved ${distanceM.toFixed(3)} m in ${dtS.toFixed(3)} s at ${next.tS.toFixed(3)} s, ` +
      `expected at most ${allowedM.toFixed(3)} m (speed ${speedMps.toFixed(2)} m/s × dt + max_jump_m ${maxJumpM.toFixed(2)} m)`,
  };
}
