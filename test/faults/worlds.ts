/**
 * Adversarial watchdog worlds: the real ar1_watchdog node on the in-process bus with a closed-loop vehicle, in
 * virtual time, with ROS time and true (steady) time as two independent clocks. fast-check generates each world:
 * the planner's commands (beyond every limit, sometimes NaN), and timed events — ROS time stepping backward or
 * forward or freezing, the watchdog's process stalling, commands/plans/odometry stopping or slowing, the twist
 * sticking at a wrong value, odometry stamps stepping back, operator requests.
 *
 * Every vehicle command is checked against invariants that hold whatever happens:
 * - finite, inside the acceleration and curvature limits at the speed the gate used;
 * - lateral acceleration at the TRUE vehicle speed within 10 % of the limit (positions lag a little; a gate trusting
 *   a stuck twist was 27× over);
 * - liveness on true time: a planner-sourced command only while a planner command arrived within command_gap_s
 *   (+ 1 ms) of true time before it, whatever ROS time did;
 * - a ROS time step backward while engaged is followed by a non-planner command within one control period.
 * - |Δa| between consecutive commands within the jerk limit over the true time between them (outside stalls).
 *
 * test/faults/fuzz.test.ts runs 2 000 seeded worlds; `npm run soak:watchdog` (test/faults/soakWorlds.ts) 20 000+.
 */
import fc from 'fast-check';
import type { SchedulerAction } from 'rxjs';
import { InProcessBus } from '../../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../../nodes/adapters/inprocess/inProcessNode.js';
import { SteppingScheduler } from '../../nodes/adapters/inprocess/virtualScheduler.js';
import type { Clock } from '../../nodes/core/clock.js';
import { silentLogger } from '../../nodes/core/logger.js';
import { UNICYCLE_SOURCE, type Odometry, type UnicycleCommand } from '../../nodes/core/msgs.js';
import { QOS_COMMAND, QOS_SENSOR } from '../../nodes/core/qos.js';
import { secondsToStamp } from '../../nodes/core/time.js';
import { curvatureBound, limitsAt } from '../../nodes/watchdog/limitsGate.js';
import { DEADLINE_EPSILON_S, startWatchdog } from '../../nodes/watchdog/watchdogNode.js';
import { loadWatchdogParams, type WatchdogParams } from '../../nodes/watchdog/params.js';
import { plan } from '../watchdog/rig.js';

export type WorldEvent =
  | { atS: number; kind: 'ros_step'; ds: number }
  | { atS: number; kind: 'ros_freeze'; durS: number }
  | { atS: number; kind: 'stall'; ds: number }
  | { atS: number; kind: 'commands_stop' | 'plans_stop' | 'odometry_stop' }
  | { atS: number; kind: 'commands_slow' | 'odometry_slow'; every: number }
  | { atS: number; kind: 'twist_stuck'; value: number }
  | { atS: number; kind: 'stamp_back'; ds: number }
  | { atS: number; kind: 'reset' | 'engage' | 'disengage' };

export interface WorldSpec {
  /** Vehicle speed when the world starts [m/s]. */
  speed0: number;
  /** Planner command values, cycled every 0.1 s. */
  accels: number[];
  curvatures: number[];
  events: WorldEvent[];
  durationS: number;
}

/**
 * A real in [lo, hi] on a uniform 1/1000 grid (fc.double biases toward tiny magnitudes such as 1e-300, which makes
 * for worlds where nothing moves).
 */
const real = (lo: number, hi: number) =>
  fc.integer({ min: Math.round(lo * 1000), max: Math.round(hi * 1000) }).map((v) => v / 1000);
const at = real(0.6, 2.9);
const eventArb: fc.Arbitrary<WorldEvent> = fc.oneof(
  fc.record({
    atS: at,
    kind: fc.constant('ros_step' as const),
    ds: fc.oneof(real(-6, 6), fc.constantFrom(-5, -0.09, -0.01, 0.09, 10)),
  }),
  fc.record({ atS: at, kind: fc.constant('ros_freeze' as const), durS: real(0.02, 1) }),
  fc.record({ atS: at, kind: fc.constant('stall' as const), ds: real(0.03, 0.5) }),
  fc.record({
    atS: at,
    kind: fc.constantFrom('commands_stop' as const, 'plans_stop' as const, 'odometry_stop' as const),
  }),
  fc.record({
    atS: at,
    kind: fc.constantFrom('commands_slow' as const, 'odometry_slow' as const),
    every: fc.integer({ min: 2, max: 25 }),
  }),
  fc.record({ atS: at, kind: fc.constant('twist_stuck' as const), value: fc.oneof(fc.constant(0), real(-5, 40)) }),
  fc.record({ atS: at, kind: fc.constant('stamp_back' as const), ds: real(0.02, 2) }),
  fc.record({ atS: at, kind: fc.constantFrom('reset' as const, 'engage' as const, 'disengage' as const) }),
);
const valueArb = (lo: number, hi: number) =>
  fc.oneof(
    { weight: 12, arbitrary: real(lo, hi) },
    { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1e9) },
  );

export const worldArb: fc.Arbitrary<WorldSpec> = fc.record({
  speed0: fc.oneof(fc.constant(0), real(0, 35)),
  accels: fc.array(valueArb(-5, 4), { minLength: 1, maxLength: 8 }),
  curvatures: fc.array(valueArb(-0.5, 0.5), { minLength: 1, maxLength: 8 }),
  events: fc.array(eventArb, { maxLength: 6 }),
  durationS: fc.constant(3.2),
});

export interface WorldResult {
  commands: number;
  plannerCommands: number;
  violations: string[];
}

const PARAMS: WatchdogParams = loadWatchdogParams({ sources: [{ origin: 'worlds', values: {} }] });
const EPS = 1e-6;

/** Runs one world to its end; returns what broke (nothing, for a correct watchdog). */
export async function runWorld(w: WorldSpec, p: WatchdogParams = PARAMS): Promise<WorldResult> {
  const T0 = 1000;
  const s = new SteppingScheduler(T0 * 1000);
  const bus = new InProcessBus(s);
  const trueS = () => s.now() / 1000;
  // ROS time: true time + an offset the world steps, or frozen. Steady time: true time + stalls.
  let rosOffset = 0;
  let frozenAt: number | undefined;
  let frozenUntil = -Infinity;
  const ros: Clock = { now: () => (frozenAt !== undefined && trueS() < frozenUntil ? frozenAt : trueS() + rosOffset) };
  let stallOffset = 0;
  const steady: Clock = { now: () => trueS() + stallOffset };
  const wd = new InProcessNode(bus, { name: 'ar1_watchdog', logger: silentLogger, clock: ros, steadyClock: steady });
  const sim = new InProcessNode(bus, { name: 'sim', clock: ros });
  const t = p.topics;
  const cmdPub = sim.createPublisher('ar1_msgs/msg/UnicycleCommand', t.command, QOS_COMMAND);
  const planPub = sim.createPublisher('ar1_msgs/msg/Trajectory', t.trajectory, QOS_COMMAND);
  const timingPub = sim.createPublisher('ar1_msgs/msg/PlannerTiming', t.timing, QOS_COMMAND);
  const odomPub = sim.createPublisher('nav_msgs/msg/Odometry', t.odometry, QOS_SENSOR);
  const engagePub = sim.createPublisher('std_msgs/msg/Bool', t.engage, QOS_COMMAND);
  const resetPub = sim.createPublisher('std_msgs/msg/Empty', t.reset, QOS_COMMAND);

  const violations: string[] = [];
  const fail = (m: string) => {
    if (violations.length < 5) violations.push(`${(trueS() - T0).toFixed(3)} s: ${m}`);
  };
  let speed = w.speed0;
  let x = 0;
  let lastCmdTrue = -Infinity; // last planner command published (true time)
  let lastVehicle: { trueS: number; accel: number; stalled: boolean } | undefined;
  let stalledSinceLast = false;
  let backStepAt: number | undefined; // true time of a ROS step backward while engaged, until a brake is seen
  let commands = 0;
  let plannerCommands = 0;
  const jerkMax = limitsAt(p.limits, 0).jerkMax; // default tables are constant over speed

  const handle = startWatchdog(wd, p);
  const sub = handle.ticks$.subscribe((r) => {
    const { accel, curvature, speed: v } = r.command;
    if (![accel, curvature, v].every(Number.isFinite)) fail(`non-finite command ${accel} ${curvature} ${v}`);
    const gateV = r.core.lastMeasuredSpeed ?? 0;
    const l = limitsAt(p.limits, gateV);
    if (accel < l.accelMin - EPS || accel > l.accelMax + EPS)
      fail(`accel ${accel} outside [${l.accelMin}, ${l.accelMax}]`);
    if (Math.abs(curvature) > curvatureBound(l, gateV) + EPS)
      fail(`|curvature| ${curvature} over the bound at the gate speed ${gateV}`);
    const vTrue = Math.max(speed, 1);
    const lat = Math.abs(curvature) * vTrue * vTrue;
    if (lat > limitsAt(p.limits, speed).latAccel * 1.1 + EPS)
      fail(`lateral ${lat.toFixed(2)} m/s² at the true ${speed.toFixed(2)} m/s (gate ${gateV.toFixed(2)})`);
    const now = trueS();
    if (r.command.source === 'planner') {
      plannerCommands++;
      if (now - lastCmdTrue > p.command_gap_s + DEADLINE_EPSILON_S + EPS)
        fail(`planner command forwarded ${(now - lastCmdTrue).toFixed(3)} s (true time) after the last /ar1/command`);
      if (backStepAt !== undefined && now - backStepAt > 1 / p.control_rate_hz + DEADLINE_EPSILON_S + EPS)
        fail(`planner command ${(now - backStepAt).toFixed(3)} s after ROS time stepped back`);
    } else {
      backStepAt = undefined;
    }
    if (lastVehicle && !stalledSinceLast) {
      const dt = now - lastVehicle.trueS;
      if (Math.abs(accel - lastVehicle.accel) > jerkMax * Math.max(dt, 1e-6) + EPS)
        fail(`|Δa| ${Math.abs(accel - lastVehicle.accel).toFixed(4)} over ${dt.toFixed(4)} s`);
    }
    if (lastVehicle) speed = Math.max(0, speed + lastVehicle.accel * (now - lastVehicle.trueS));
    lastVehicle = { trueS: now, accel, stalled: stalledSinceLast };
    stalledSinceLast = false;
    commands++;
  });

  // The world, on one 10 ms timer of true time.
  let commandsOn = true,
    plansOn = true,
    odometryOn = true;
  let commandEvery = 1,
    odometryEvery = 1;
  let stuck: number | undefined;
  let stampBack = 0;
  const events = [...w.events].sort((a, b) => a.atS - b.atS);
  let ev = 0;
  let tick = 0;
  let lastRos = -Infinity;
  const header = (stampS: number) => ({ stamp: secondsToStamp(Math.max(stampS, 0)), frame_id: 'rig' });
  const step = () => {
    const rel = trueS() - T0;
    while (ev < events.length && events[ev]!.atS <= rel) {
      const e = events[ev++]!;
      switch (e.kind) {
        case 'ros_step':
          rosOffset += e.ds;
          // A step counts as backward only if ROS time now reads less than it did at the previous world tick
          // (a step smaller than the time since then, or below float resolution, is not seen as one).
          if (ros.now() < lastRos && handle.state === 'nominal') backStepAt ??= trueS();
          break;
        case 'ros_freeze': // a paused /clock: ROS time stands still, then runs on from where it stopped
          frozenAt = ros.now();
          frozenUntil = trueS() + e.durS;
          rosOffset = frozenAt - frozenUntil;
          break;
        case 'stall':
          stallOffset += e.ds;
          stalledSinceLast = true;
          break;
        case 'commands_stop':
          commandsOn = false;
          break;
        case 'plans_stop':
          plansOn = false;
          break;
        case 'odometry_stop':
          odometryOn = false;
          break;
        case 'commands_slow':
          commandEvery = e.every;
          break;
        case 'odometry_slow':
          odometryEvery = e.every;
          break;
        case 'twist_stuck':
          stuck = e.value;
          break;
        case 'stamp_back':
          stampBack = e.ds;
          break;
        case 'reset':
          resetPub.publish({});
          break;
        case 'engage':
          engagePub.publish({ data: true });
          break;
        case 'disengage':
          engagePub.publish({ data: false });
          break;
      }
    }
    if (frozenAt !== undefined && trueS() >= frozenUntil) frozenAt = undefined;
    x += speed * 0.01;
    const now = ros.now();
    lastRos = now;
    if (odometryOn && tick % odometryEvery === 0) {
      const msg: Odometry = {
        header: header(now - stampBack),
        child_frame_id: 'base_link',
        pose: { pose: { position: { x, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: [] },
        twist: { twist: { linear: { x: stuck ?? speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
      };
      odomPub.publish(msg);
      stampBack = 0;
    }
    if (tick % 2 === 0 && commandsOn && (tick / 2) % commandEvery === 0) {
      const k = Math.floor(tick / 10);
      cmdPub.publish({
        header: header(now),
        acceleration: w.accels[k % w.accels.length]!,
        curvature: w.curvatures[k % w.curvatures.length]!,
        speed,
        source: 0,
      } as UnicycleCommand);
      lastCmdTrue = trueS();
    }
    if (tick % 10 === 0 && plansOn) {
      planPub.publish(plan(now - 0.05));
      timingPub.publish({
        header: header(now - 0.05),
        sync_ms: 1,
        preprocess_ms: 1,
        vision_ms: 1,
        reasoning_ms: 1,
        action_ms: 1,
        total_ms: 50,
        latency_ms: 50,
        execution_provider: 'cpu',
        frames_received: 0,
        frames_planned: 0,
        frames_dropped: 0,
        drop_reasons: [],
        drop_counts: [],
        error: '',
      });
    }
    if (tick === 30) engagePub.publish({ data: true });
    tick++;
  };
  const timerSub = s.schedule(function (this: SchedulerAction<unknown>) {
    step();
    this.schedule(undefined, 10);
  }, 10);
  await s.advanceTo(Math.round((T0 + w.durationS) * 1000));
  timerSub.unsubscribe();
  sub.unsubscribe();
  await handle.stop();
  await wd.shutdown();
  return { commands, plannerCommands, violations };
}

/** UNICYCLE_SOURCE re-exported for callers counting sources. */
export { UNICYCLE_SOURCE };
