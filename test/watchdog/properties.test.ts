import { expect } from 'chai';
import fc from 'fast-check';
import type { Odometry, PlannerTiming, Trajectory, UnicycleCommand } from '../../nodes/core/msgs.js';
import { secondsToStamp } from '../../nodes/core/time.js';
import { rampAccel } from '../../nodes/watchdog/fallbackBrake.js';
import { curvatureBound, limitsAt } from '../../nodes/watchdog/limitsGate.js';
import { emptyInputs, type WatchdogInputs } from '../../nodes/watchdog/inputs.js';
import { loadWatchdogParams, type WatchdogParams } from '../../nodes/watchdog/params.js';
import { controlTick, initialCore, type CoreState } from '../../nodes/watchdog/watchdogCore.js';
import { plan } from './rig.js';

const RUNS = 10_000;
const EPS = 1e-9;
const DEFAULTS = loadWatchdogParams({ sources: [] });
// Speed-indexed, non-constant limits (a limit that tightens with speed is where rate and absolute limits disagree).
const INDEXED = loadWatchdogParams({
  sources: [
    {
      origin: 'test',
      values: {
        emergency: { accel_mps2: -3, release_jerk_mps3: -4, faults: ['odometry_stale', 'plan_invalid'] },
        fallback: { release_jerk_mps3: -4 },
        auto_recover: true,
        limits: {
          reference_speed_mps: [0, 5, 15, 30],
          accel_max_mps2: [2.5, 2, 1.5, 1],
          accel_min_mps2: [-4, -3.5, -3, -3],
          jerk_max_mps3: [8, 5, 4, 4],
          curvature_max_pm: [0.3, 0.2, 0.1, 0.05],
          lat_accel_mps2: [3.5, 3, 2.5, 2],
          lat_jerk_mps3: [6, 5, 4, 3],
        },
      },
    },
  ],
});

const anyNumber = fc.oneof(
  fc.double({ noNaN: false }),
  fc.double({ min: -5, max: 5, noNaN: true }),
  fc.double({ min: -0.5, max: 0.5, noNaN: true }),
  fc.constantFrom(0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e308, -1e308),
);
const speedLike = fc.oneof(fc.double({ min: -40, max: 60, noNaN: true }), fc.constantFrom(0, 0.05, Number.NaN, 1e9));
const ageLike = fc.oneof(fc.double({ min: -0.5, max: 2, noNaN: true }), fc.constantFrom(0, 0.099, 0.101, Number.NaN));

/** One step of arbitrary world: which messages arrive (with arbitrary contents and ages) and what the operator asks. */
const stepArb = fc.record({
  command: fc.option(fc.record({ accel: anyNumber, curvature: anyNumber, speed: anyNumber }), { nil: undefined }),
  odometry: fc.option(fc.record({ speed: speedLike, ageS: ageLike }), { nil: undefined }),
  plan: fc.option(fc.record({ ageS: ageLike, points: fc.constantFrom(64, 64, 64, 3), nan: fc.boolean() }), {
    nil: undefined,
  }),
  timing: fc.option(fc.record({ ms: anyNumber, error: fc.constantFrom('', '', 'cuda oom') }), { nil: undefined }),
  engage: fc.constantFrom<boolean | undefined>(undefined, undefined, undefined, true, false),
  reset: fc.boolean(),
  clockZero: fc.constantFrom(false, false, false, false, true),
  /** A deadline tick: only this fraction of a period since the last command (undefined: a periodic tick). */
  elapsedFraction: fc.option(fc.oneof(fc.double({ min: 1e-4, max: 1, noNaN: true }), fc.constantFrom(0.05, 1e-6)), {
    nil: undefined,
    freq: 3,
  }),
  /** ROS time stepped by this much before the tick [s] (the steady clock does not move). */
  rosStep: fc.option(fc.oneof(fc.double({ min: -6, max: 6, noNaN: true }), fc.constantFrom(-5, -0.09, 0.09, 10)), {
    nil: undefined,
    freq: 6,
  }),
});
/** A step whose tick may throw (a stand-in for a bug in the tick: its inputs cannot be read). */
const throwingStepArb = fc
  .tuple(stepArb, fc.constantFrom(false, false, false, true))
  .map(([s, throws]) => ({ ...s, throws }));
type Step = (typeof stepArb extends fc.Arbitrary<infer T> ? T : never) & { throws?: boolean };

/** The inputs as a tick sees them; when the step throws, reading the planning timings throws. */
const tickInputs = (inputs: WatchdogInputs, s: Step): WatchdogInputs =>
  s.throws
    ? new Proxy(inputs, {
        get: (target, key, receiver) => {
          if (key === 'timings') throw new Error('timings exploded');
          return Reflect.get(target, key, receiver) as unknown;
        },
      })
    : inputs;

const PLANS = { ok: plan(0, 64), nan: plan(0, 64, true), short: plan(0, 3) };
const stamped = <T extends { header: { stamp: { sec: number; nanosec: number } } }>(m: T, stampS: number): T => ({
  ...m,
  header: {
    ...m.header,
    stamp: Number.isFinite(stampS) ? secondsToStamp(Math.max(stampS, 0)) : { sec: Number.NaN, nanosec: 0 },
  },
});

function apply(inputs: WatchdogInputs, s: Step, nowS: number, p: WatchdogParams, steadyS = nowS): void {
  if (s.command) {
    const msg: UnicycleCommand = {
      header: { stamp: secondsToStamp(nowS), frame_id: '' },
      acceleration: s.command.accel,
      curvature: s.command.curvature,
      speed: s.command.speed,
      source: 0,
    };
    inputs.command = { msg, receivedS: steadyS };
  }
  if (s.odometry) {
    const msg = stamped(
      {
        header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' },
        child_frame_id: '',
        pose: { pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: [] },
        twist: {
          twist: { linear: { x: s.odometry.speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
          covariance: [],
        },
      } as Odometry,
      nowS - s.odometry.ageS,
    );
    inputs.odometry = { msg, receivedS: steadyS };
  }
  if (s.plan) {
    const base: Trajectory = s.plan.points !== 64 ? PLANS.short : s.plan.nan ? PLANS.nan : PLANS.ok;
    inputs.trajectory = { msg: stamped(base, nowS - s.plan.ageS), receivedS: steadyS };
  }
  if (s.timing) {
    const msg = {
      header: { stamp: secondsToStamp(nowS), frame_id: '' },
      total_ms: s.timing.ms,
      latency_ms: s.timing.ms,
      error: s.timing.error,
    } as PlannerTiming;
    inputs.timings.push({ msg, receivedS: steadyS });
    if (inputs.timings.length > p.planning_budget.window) inputs.timings.shift();
  }
}

function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

/**
 * Runs the steps through controlTick (tickCore, or the fallback brake when the tick throws) and checks every command
 * against the limits at the speed the gate used.
 */
function checkRun(p: WatchdogParams, steps: Step[]): void {
  const period = 1 / p.control_rate_hz;
  const inputs = emptyInputs();
  let core: CoreState = initialCore();
  let steadyS = 1000;
  let rosOffset = 0;
  for (const s of steps) {
    // Periodic ticks one period apart, deadline ticks (as watchdogNode.ts runs them) after only part of a period. ROS time
    // is the steady clock plus an offset that steps on its own.
    const dt = s.elapsedFraction === undefined ? period : s.elapsedFraction * period;
    steadyS += dt;
    rosOffset += s.rosStep ?? 0;
    const nowS = steadyS + rosOffset;
    apply(inputs, s, nowS, p, steadyS);
    const wasNominal = core.state === 'nominal';
    const clocks = { rosS: s.clockZero ? 0 : nowS, steadyS };
    const { result: r } = controlTick(core, tickInputs(inputs, s), { engage: s.engage, reset: s.reset }, clocks, p, dt);
    if (s.throws) check(r.core.state === 'fallback', () => `a tick that threw left the state ${r.core.state}`);
    if (
      wasNominal &&
      s.rosStep !== undefined &&
      s.rosStep < 0 &&
      !s.clockZero &&
      core.lastRosS !== undefined &&
      nowS < core.lastRosS
    ) {
      check(r.core.state !== 'nominal', () => `ROS time stepped back ${s.rosStep} s and the tick stayed nominal`);
    }
    const { accel, curvature, speed } = r.command;
    check([accel, curvature, speed].every(Number.isFinite), () => `non-finite command ${accel} ${curvature} ${speed}`);
    const v = r.core.lastMeasuredSpeed ?? 0;
    const l = limitsAt(p.limits, v);
    check(
      accel >= l.accelMin - EPS && accel <= l.accelMax + EPS,
      () => `accel ${accel} outside [${l.accelMin}, ${l.accelMax}] at ${v} m/s`,
    );
    const bound = curvatureBound(l, v);
    check(Math.abs(curvature) <= bound + EPS, () => `|curvature| ${curvature} > ${bound} at ${v} m/s`);
    if (core.last) {
      // Rate limits hold, except where an absolute limit that tightened with speed forced the command onto it.
      const atAccelBound = Math.abs(accel - l.accelMax) < EPS || Math.abs(accel - l.accelMin) < EPS;
      const da = Math.abs(accel - core.last.accel);
      check(atAccelBound || da <= l.jerkMax * dt + EPS, () => `jerk ${da / dt} m/s^3 > ${l.jerkMax}`);
      const vl = Math.max(Math.abs(v), 1);
      const dk = Math.abs(curvature - core.last.curvature);
      check(
        Math.abs(Math.abs(curvature) - bound) < EPS || dk <= (l.latJerk * dt) / (vl * vl) + EPS,
        () => `lateral jerk ${(dk * vl * vl) / dt} m/s^3 > ${l.latJerk}`,
      );
    }
    if (
      core.last &&
      r.command.source !== 'planner' &&
      Math.abs(accel - l.accelMin) > EPS &&
      Math.abs(accel - l.accelMax) > EPS
    ) {
      // The braking / hold ramps move by at most their own |jerk| over the time actually elapsed.
      const j = Math.max(...[p.fallback, p.emergency].flatMap((b) => [b.jerk_mps3, b.release_jerk_mps3]).map(Math.abs));
      const da = Math.abs(accel - core.last.accel);
      check(da <= j * dt + EPS, () => `${r.command.source} ramp |Δa| ${da} over ${dt} s > |jerk| ${j}`);
    }
    check(
      (r.command.source === 'planner') === (r.core.state === 'nominal'),
      () => `source ${r.command.source} in ${r.core.state}`,
    );
    core = r.core;
  }
}

describe('watchdog properties (fast-check)', function () {
  this.timeout(120_000);

  it(`every published command is finite and within limits for arbitrary inputs (default limits, ${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => checkRun(DEFAULTS, steps)),
      { numRuns: RUNS },
    );
  });

  it(`… and with speed-indexed limits, emergency faults and auto_recover (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => checkRun(INDEXED, steps)),
      { numRuns: RUNS },
    );
  });

  it(`… and when ticks throw (a bug): the fallback brake, still finite and within limits (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.array(throwingStepArb, { minLength: 1, maxLength: 30 }), (steps) => checkRun(INDEXED, steps)),
      { numRuns: RUNS },
    );
  });

  it(`the braking ramp never exceeds its jerk and never brakes harder than its target or the start (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.double({ min: -3.5, max: 2, noNaN: true }),
        fc.double({ min: -3.5, max: -0.5, noNaN: true }),
        fc.double({ min: -5, max: -0.5, noNaN: true }),
        fc.constantFrom(1 / 10, 1 / 30, 1 / 50, 1 / 100),
        (start, target, jerk, dt) => {
          let a = start;
          const needed = Math.ceil(Math.abs(start - target) / (Math.abs(jerk) * dt)) + 1;
          for (let i = 0; i < needed; i++) {
            const next = rampAccel(a, target, jerk, dt);
            if (!(Math.abs(next - a) <= Math.abs(jerk) * dt + EPS))
              throw new Error(`tick ${i}: jerk ${(next - a) / dt} m/s^3 exceeds ${jerk}`);
            if (!(next >= Math.min(start, target) - EPS && next <= Math.max(start, target) + EPS))
              throw new Error(`tick ${i}: ${next} outside [start, target]`);
            a = next;
          }
          expect(a).to.equal(target); // reached within ceil(|Δa| / (|jerk|·dt)) + 1 ticks
        },
      ),
      { numRuns: RUNS },
    );
  });
});
