/**
 * The sample drive: a unicycle (speed, curvature) integrated at 1 kHz. Straight at 10 m/s, a left curve of
 * radius 40 m (2.5 m/s² lateral), braking at -2.5 m/s² to a stop, a standstill, then pulling away at 1.5 m/s².
 * Pure; times in seconds from the start of the drive.
 */

export interface DriveState {
  t: number;
  x: number;
  y: number;
  yaw: number;
  /** [m/s] */
  v: number;
  /** [m/s^2] */
  a: number;
  /** [1/m] */
  kappa: number;
  /** [m] distance travelled */
  s: number;
}

export interface DriveProfile {
  durationS: number;
  /** [m/s] cruise speed */
  cruiseMps: number;
  /** [1/m] curvature of the curve */
  curveKappa: number;
}

const DT = 0.001;

/** Piecewise speed profile scaled to the duration (phases at fixed fractions of 20 s). */
function controls(t: number, p: DriveProfile): { a: number; kappa: number } {
  const f = p.durationS / 20;
  const ramp = (t0: number, t1: number): number => Math.min(1, Math.max(0, (t - t0 * f) / ((t1 - t0) * f)));
  const kappa = p.curveKappa * (ramp(2, 3) - ramp(6.5, 7.5));
  let a = 0;
  if (t >= 9 * f && t < 13.5 * f) a = -2.5;
  else if (t >= 14.5 * f && t < 19.5 * f) a = 1.5;
  return { a, kappa };
}

/** Integrates the drive; `at(t)` interpolates linearly between 1 ms samples (t clamped to the drive). */
export class Drive {
  readonly #states: DriveState[] = [];

  constructor(readonly profile: DriveProfile) {
    let s: DriveState = { t: 0, x: 0, y: 0, yaw: 0, v: profile.cruiseMps, a: 0, kappa: 0, s: 0 };
    const n = Math.ceil(profile.durationS / DT);
    for (let i = 0; i <= n; i++) {
      const t = i * DT;
      const c = controls(t, profile);
      const a = s.v <= 0 && c.a < 0 ? 0 : c.a;
      s = { ...s, t, a, kappa: c.kappa };
      this.#states.push(s);
      // midpoint integration of the unicycle
      const v1 = Math.max(0, s.v + a * DT);
      const vm = (s.v + v1) / 2;
      const yawMid = s.yaw + (vm * c.kappa * DT) / 2;
      s = {
        ...s,
        x: s.x + vm * Math.cos(yawMid) * DT,
        y: s.y + vm * Math.sin(yawMid) * DT,
        yaw: s.yaw + vm * c.kappa * DT,
        v: v1,
        s: s.s + vm * DT,
      };
    }
  }

  at(t: number): DriveState {
    const u = Math.min(Math.max(t, 0), this.profile.durationS) / DT;
    const i = Math.min(Math.floor(u), this.#states.length - 2);
    const a = this.#states[i]!;
    const b = this.#states[i + 1]!;
    const w = u - i;
    const lerp = (p: number, q: number): number => p + (q - p) * w;
    return {
      t,
      x: lerp(a.x, b.x),
      y: lerp(a.y, b.y),
      yaw: lerp(a.yaw, b.yaw),
      v: lerp(a.v, b.v),
      a: a.a,
      kappa: a.kappa,
      s: lerp(a.s, b.s),
    };
  }

  /** Where the car comes to a standstill and when it pulls away again; undefined if it never stops. */
  stopPose(): { x: number; y: number; yaw: number; stopS: number; pullAwayS: number } | undefined {
    const i = this.#states.findIndex((st) => st.t > 0 && st.v <= 0);
    if (i < 0) return undefined;
    const st = this.#states[i]!;
    const away = this.#states.findIndex((q, j) => j > i && q.a > 0);
    return {
      x: st.x,
      y: st.y,
      yaw: st.yaw,
      stopS: st.t,
      pullAwayS: away < 0 ? this.profile.durationS : this.#states[away]!.t,
    };
  }

  /** Positions every `stepM` metres of travel, extended straight 40 m before the start and 120 m after the end. */
  pathSamples(stepM: number): Array<{ x: number; y: number; yaw: number; s: number }> {
    const out: Array<{ x: number; y: number; yaw: number; s: number }> = [];
    for (let s = -40; s < 0; s += stepM) out.push({ x: s, y: 0, yaw: 0, s });
    let next = 0;
    for (const st of this.#states) {
      if (st.s >= next) {
        out.push({ x: st.x, y: st.y, yaw: st.yaw, s: st.s });
        next += stepM;
      }
    }
    const last = this.#states[this.#states.length - 1]!;
    for (let d = stepM; d <= 120; d += stepM) {
      out.push({
        x: last.x + d * Math.cos(last.yaw),
        y: last.y + d * Math.sin(last.yaw),
        yaw: last.yaw,
        s: last.s + d,
      });
    }
    return out;
  }
}

/** Small seeded PRNG (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
