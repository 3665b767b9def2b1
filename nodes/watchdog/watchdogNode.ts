import { Subject, Subscription, timer, type Observable } from 'rxjs';
import type { Header, UnicycleSource } from '../core/msgs.js';
import { UNICYCLE_SOURCE } from '../core/msgs.js';
import { QOS_COMMAND, QOS_SENSOR } from '../core/qos.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { RosNode } from '../core/transport.js';
import { diagnosticsOf, safetyStateOf, stampOf } from './diagnostics.js';
import { fmt } from './faults.js';
import { fallbackBrake } from './fallbackBrake.js';
import { limitsGate } from './limitsGate.js';
import { egoSpeed, trackOdometry } from './egoSpeed.js';
import { emptyInputs, rateKey, recordReceipt, type Received } from './inputs.js';
import { clockStepBackOf, odometryJumpOf, pendingDeadlines, secondsUntil } from './monitors.js';
import type { WatchdogParams } from './params.js';
import type { WatchdogState } from './safetyState.js';
import { checkShape } from './shapes.js';
import { noteReasoning } from './consistencyMonitor.js';
import {
  controlPeriodS,
  initialCore,
  tickCore,
  type CoreState,
  type Refusal,
  type Requests,
  type TickResult,
  type Transition,
} from './watchdogCore.js';

/** A running watchdog: inspectable state for tests, replay reports and the benchmark. */
export interface WatchdogHandle {
  readonly state: WatchdogState;
  /** Every state change with its time [s] and reason, in order. */
  readonly transitions: readonly Transition[];
  /** Operator requests that did not take effect, with why. */
  readonly refusals: readonly Refusal[];
  /** Commands published on the vehicle topic, per source. */
  readonly commandCounts: Readonly<Record<UnicycleSource, number>>;
  /** Input messages dropped as malformed, per "topic: reason". */
  readonly dropped: ReadonlyMap<string, number>;
  /** Number of control ticks run (periodic + deadline ticks). */
  readonly tickCount: number;
  /** Ticks run by a deadline timer (an input's deadline passed between two periodic ticks). */
  readonly deadlineTickCount: number;
  readonly lastTick: TickResult | undefined;
  /** Each tick's result, after its messages were published. */
  readonly ticks$: Observable<TickResult>;
  /** Stops the timer and subscriptions, then publishes a final brake (moving) or hold (stopped) command. */
  stop(): Promise<void>;
}

/**
 * [s] a deadline timer fires this long after the deadline: the monitors fault on "age > limit" (strictly), so at the
 * deadline itself nothing is late yet. 1 ms is the resolution of Node's timers and of its wall clock.
 */
export const DEADLINE_EPSILON_S = 0.001;
/** [s] smallest rate-limit interval passed to the ramp and gate (they need dt > 0); a shorter step changes nothing. */
const MIN_TICK_DT_S = 1e-6;

const CAMERA_TYPES = { image: 'sensor_msgs/msg/Image', compressed: 'sensor_msgs/msg/CompressedImage' } as const;

export interface WatchdogOptions {
  /**
   * The steady (monotonic) clock that liveness is judged on: receipt gaps, receipt rates, the loop's own period.
   * Default: the transport's ros.steadyClock; without one, ROS time (and a warning at start).
   */
  steadyClock?: Clock;
}

/**
 * Wires ar1_watchdog to a RosNode: subscriptions update the latest inputs, the node's OWN timer at
 * control_rate_hz (on the transport's steady scheduler where it has one, else ros.scheduler) runs tickCore and publishes the command,
 * /ar1/safety_state and /diagnostics. No maths here.
 */
export function startWatchdog(ros: RosNode, params: WatchdogParams, options: WatchdogOptions = {}): WatchdogHandle {
  const p = params;
  const steady: Clock = options.steadyClock ?? ros.steadyClock ?? ros.clock;
  // The control loop and deadline timers run on steady time where the transport has it: a /clock that stops (a
  // simulator that hangs) must not stop the watchdog, which then brakes on the silent command stream.
  const timers = ros.steadyScheduler ?? ros.scheduler;
  if (steady === ros.clock) {
    ros.logger.warn(
      `${ros.name}: the transport gives no steady clock: receipt gaps and rates are judged on ROS time, so a ROS time step can hide a stopped input`,
    );
  }
  const t = p.topics;
  const inputs = emptyInputs();
  let requests: Requests = { reset: false };
  let core: CoreState = initialCore();
  let lastTick: TickResult | undefined;
  let tickCount = 0;
  let deadlineTickCount = 0;
  let lastTickSteadyS = Number.NaN;
  // Deadline timer state (see armDeadline): the pending one-shot and the steady time it is due [s].
  let deadlineTimer = Subscription.EMPTY;
  let armedDueS = Number.POSITIVE_INFINITY;
  let lastSoonS = Number.NaN;
  let stopped = false;
  const transitions: Transition[] = [];
  const refusals: Refusal[] = [];
  const commandCounts: Record<UnicycleSource, number> = { planner: 0, fallback: 0, hold: 0 };
  const dropped = new Map<string, number>();
  const ticks = new Subject<TickResult>();
  const subs = new Subscription();
  const ctx = () => `[node=${ros.name} t=${fmt(ros.clock.now(), 3)} s]`;

  const cmdPub = ros.createPublisher('ar1_msgs/msg/UnicycleCommand', t.vehicle_command, QOS_COMMAND);
  const statePub = ros.createPublisher('ar1_msgs/msg/SafetyState', t.safety_state, QOS_COMMAND);
  const diagPub = ros.createPublisher('diagnostic_msgs/msg/DiagnosticArray', t.diagnostics, QOS_COMMAND);

  const drop = (topic: string, problem: string) => {
    const key = `${topic}: ${problem}`;
    const n = (dropped.get(key) ?? 0) + 1;
    dropped.set(key, n);
    if (n === 1) ros.logger.warn(`${topic}: dropped malformed message: ${problem} ${ctx()}`);
  };
  /**
   * Accepts a well-formed message, or counts and logs (once per reason) why it was dropped. Any exception in the
   * handling is contained and counted: a subscription callback never throws into the transport.
   */
  const accept = <M>(
    topic: string,
    msg: M,
    kind: Parameters<typeof checkShape>[0],
    store: (r: Received<M>) => void,
    rate?: string,
  ) => {
    try {
      const problem = checkShape(kind, msg);
      if (problem) {
        drop(topic, problem);
        return;
      }
      const steadyS = steady.now();
      store({ msg, receivedS: steadyS });
      if (rate !== undefined) recordReceipt(inputs, rate, steadyS, rateMinHz(rate), p);
      noteRosTime();
      armDeadline();
    } catch (e) {
      drop(topic, `handling threw: ${errorMessage(e)}`);
    }
  };
  const rateMinHz = (key: string) =>
    key.startsWith('camera ') ? p.min_rate_hz.cameras : p.min_rate_hz[key as 'command' | 'trajectory' | 'odometry'];
  subs.add(
    ros.subscribe('ar1_msgs/msg/UnicycleCommand', t.command, QOS_COMMAND).subscribe((m) =>
      accept(
        t.command,
        m,
        'command',
        (r) => {
          inputs.command = r;
        },
        rateKey('command'),
      ),
    ),
  );
  subs.add(
    ros.subscribe('ar1_msgs/msg/Trajectory', t.trajectory, QOS_COMMAND).subscribe((m) =>
      accept(
        t.trajectory,
        m,
        'trajectory',
        (r) => {
          inputs.trajectory = r;
        },
        rateKey('trajectory'),
      ),
    ),
  );
  subs.add(
    ros.subscribe('ar1_msgs/msg/PlannerTiming', t.timing, QOS_COMMAND).subscribe((m) =>
      accept(t.timing, m, 'timing', (r) => {
        inputs.timings.push(r);
        if (inputs.timings.length > p.planning_budget.window) inputs.timings.shift();
      }),
    ),
  );
  subs.add(
    ros.subscribe('nav_msgs/msg/Odometry', t.odometry, QOS_SENSOR).subscribe((m) =>
      accept(
        t.odometry,
        m,
        'odometry',
        (r) => {
          const jump = inputs.odometry && odometryJumpOf(inputs.odometry.msg, r.msg, p);
          if (jump) inputs.odometryTrack.length = 0; // the pose-derived speed never spans a jump
          if (jump && !inputs.odometryJump) {
            inputs.odometryJump = jump; // held until a tick has reported it with the vehicle stopped (see runTick)
            ros.logger.warn(`${t.odometry}: ${jump.message} ${ctx()}`);
          }
          trackOdometry(inputs, r.msg, p);
          inputs.odometry = r;
        },
        rateKey('odometry'),
      ),
    ),
  );
  p.cameras.topics.forEach((topic, i) => {
    const type = CAMERA_TYPES[p.cameras.types[i]!];
    subs.add(
      ros.subscribe(type, topic, QOS_SENSOR).subscribe((m) =>
        accept(
          topic,
          m as { header: Header },
          'stamped',
          (r) => {
            inputs.cameras.set(topic, r);
          },
          rateKey({ camera: topic }),
        ),
      ),
    );
  });
  subs.add(
    ros
      .subscribe('ar1_msgs/msg/Reasoning', t.reasoning, QOS_COMMAND)
      .subscribe((m) => accept(t.reasoning, m, 'reasoning', (r) => noteReasoning(inputs, r.msg))),
  );
  subs.add(
    ros.subscribe('std_msgs/msg/Empty', t.reset, QOS_COMMAND).subscribe(() => {
      requests.reset = true;
    }),
  );
  subs.add(
    ros.subscribe('std_msgs/msg/Bool', t.engage, QOS_COMMAND).subscribe((m) => {
      if (typeof m?.data === 'boolean') requests.engage = m.data;
      else accept(t.engage, m, 'bool', () => {});
    }),
  );

  /**
   * Keeps the latest ROS time seen (at receipts and ticks) in core.lastRosS, so that the next tick compares against
   * it: a ROS time step backward seen at a receipt runs a tick at once (in NOMINAL) and faults clock_backward.
   */
  function noteRosTime(): void {
    const rosS = ros.clock.now();
    if (!Number.isFinite(rosS)) return;
    if (core.lastRosS !== undefined && rosS < core.lastRosS) {
      inputs.clockStepBack ??= clockStepBackOf(core.lastRosS, rosS); // held until a tick reports it
      tickSoon();
      return;
    }
    core = { ...core, lastRosS: rosS };
  }

  const diagEvery = Math.max(1, Math.round(p.control_rate_hz / p.diagnostics_rate_hz));

  /**
   * Runs one tick and publishes. dtS is the rate-limit interval of this tick: the control period for periodic ticks,
   * the real time since the last published command (clamped to (0, period]) for a deadline tick or the final one,
   * so the jerk and lateral-jerk limits hold over the time that actually elapsed between two commands.
   */
  const runTick = (req: Requests, dtS: number): TickResult => {
    const nowS = ros.clock.now();
    const steadyS = steady.now();
    let r: TickResult;
    try {
      r = tickCore(core, inputs, req, nowS, p, dtS, steadyS);
    } catch (e) {
      // Never let a bug stop the braking: brake with the fallback profile and latch fallback.
      const reason = `internal error in tick: ${errorMessage(e)}`;
      const dt = dtS;
      const { command, fired } = limitsGate(
        fallbackBrake(core.last, dt, p.fallback),
        core.last,
        core.lastMeasuredSpeed ?? 0,
        dt,
        p.limits,
      );
      const transition =
        core.state === 'fallback'
          ? undefined
          : { timeS: nowS, from: core.state, to: 'fallback' as const, event: 'fault_moving' as const, reason };
      r = {
        core: { ...core, state: 'fallback', last: command, reason: transition ? reason : core.reason },
        command: { ...command, speed: core.lastSpeed, source: 'fallback' },
        fired,
        reports: [],
        faults: [],
        ...(transition ? { transition } : {}),
        refusals: [],
        planAgeS: -1,
        lastLatencyMs: -1,
      };
      ros.logger.error(`${reason} ${ctx()}`);
    }
    core = r.core;
    lastTick = r;
    tickCount++;
    delete inputs.clockStepBack; // reported by this tick
    lastTickSteadyS = steadyS;
    if (inputs.odometryJump && r.faults.some((f) => f.name === 'odometry_jump')) {
      // Reported at least once; it stays a fault (and the state latched) until the vehicle is seen stopped.
      const v = egoSpeed(inputs, nowS, p, steadyS);
      if (v !== undefined && Math.abs(v) <= p.standstill_speed_mps) delete inputs.odometryJump;
    }
    const stamp = stampOf(nowS);
    cmdPub.publish({
      header: { stamp, frame_id: '' },
      acceleration: r.command.accel,
      curvature: r.command.curvature,
      speed: r.command.speed,
      source: UNICYCLE_SOURCE[r.command.source],
    });
    commandCounts[r.command.source]++;
    statePub.publish(safetyStateOf(r, nowS));
    if (r.transition || tickCount % diagEvery === 0) diagPub.publish(diagnosticsOf(r, nowS, ros.name));
    if (r.transition) {
      transitions.push(r.transition);
      const { from, to, reason } = r.transition;
      const log = to === 'fallback' ? ros.logger.warn : ros.logger.info;
      log.call(ros.logger, `${reason} → ${to} (from ${from}) ${ctx()}`);
    }
    for (const f of r.refusals) {
      refusals.push(f);
      ros.logger.warn(`${f.request} refused: ${f.reason} ${ctx()}`);
    }
    ticks.next(r);
    return r;
  };

  const periodS = controlPeriodS(p);
  const periodMs = 1000 * periodS;
  const takeRequests = (): Requests => {
    const req = requests;
    requests = { reset: false };
    return req;
  };
  /** Steady time since the last published command, clamped to (0, period]; a full period before the first tick. */
  const elapsedDtS = (): number => {
    const e = steady.now() - lastTickSteadyS;
    return Number.isFinite(e) ? Math.min(Math.max(e, MIN_TICK_DT_S), periodS) : periodS;
  };

  // The periodic timer: one tick per control period. A deadline tick restarts it so that the next periodic tick
  // comes one full period after the deadline tick (command spacing never drops below a period afterwards).
  let periodic = Subscription.EMPTY;
  const startPeriodic = () => {
    periodic.unsubscribe();
    periodic = timer(periodMs, periodMs, timers).subscribe(() => runTick(takeRequests(), periodS));
  };

  // The deadline timer: one one-shot timer at the earliest input deadline not yet passed, re-armed whenever an input
  // is accepted, so a passed deadline is acted on within DEADLINE_EPSILON_S instead of at the next periodic tick.
  // Deadlines are on two clocks (stamps on ROS time, receipts and rates on the steady clock); each is turned into a
  // delay from now on its own clock. A timer armed for a deadline that a newer input moved later fires harmlessly
  // and re-arms. An input whose deadline has ALREADY passed when it arrives (stale on arrival: a stamp stepping
  // back) runs a tick at once (tickSoon), as does a ROS time step backward seen at a receipt.
  function armDeadline(): void {
    if (stopped) return;
    const clocks = { rosS: ros.clock.now(), steadyS: steady.now() };
    let next = Number.POSITIVE_INFINITY;
    let passed = false;
    for (const d of pendingDeadlines(inputs, p)) {
      const s = secondsUntil(d, clocks);
      if (s < 0) passed = true;
      else if (s < next) next = s;
    }
    if (passed && core.state === 'nominal') {
      tickSoon();
      return;
    }
    if (!Number.isFinite(next)) return;
    const dueS = clocks.steadyS + next + DEADLINE_EPSILON_S;
    if (!(dueS < armedDueS)) return; // the armed timer fires first; when it does, it re-arms for what is left
    schedule(dueS, (next + DEADLINE_EPSILON_S) * 1000);
  }
  /**
   * Runs a deadline tick DEADLINE_EPSILON_S from now (not in the same instant: a periodic tick of this instant may
   * just have published), unless the armed timer fires sooner.
   */
  function tickSoon(): void {
    if (stopped || core.state !== 'nominal') return;
    const nowS = steady.now();
    const dueS = nowS + DEADLINE_EPSILON_S;
    // At most one per control period: were a passed deadline not to fault (rounding), the periodic tick handles it,
    // not a run of immediate ones.
    if (armedDueS <= dueS || nowS - lastSoonS < periodS) return;
    lastSoonS = nowS;
    schedule(dueS, DEADLINE_EPSILON_S * 1000);
  }
  function schedule(dueS: number, delayMs: number): void {
    deadlineTimer.unsubscribe();
    armedDueS = dueS;
    deadlineTimer = timers.schedule(onDeadline, Number.isFinite(delayMs) ? Math.max(0, delayMs) : 0);
  }
  function onDeadline(): void {
    armedDueS = Number.POSITIVE_INFINITY;
    deadlineTimer = Subscription.EMPTY;
    if (stopped) return;
    const clocks = { rosS: ros.clock.now(), steadyS: steady.now() };
    const passed = pendingDeadlines(inputs, p).some((d) => secondsUntil(d, clocks) < 0);
    const stepBack = inputs.clockStepBack !== undefined || (core.lastRosS !== undefined && clocks.rosS < core.lastRosS);
    if ((passed || stepBack) && core.state === 'nominal') {
      // In NOMINAL a passed deadline (or a step back) faults, so this tick leaves NOMINAL. Outside NOMINAL nothing
      // is run: leaving any other state needs a tick with every monitor healthy, which the periodic tick checks.
      deadlineTickCount++;
      runTick(takeRequests(), elapsedDtS());
      startPeriodic();
    }
    armDeadline();
  }

  startPeriodic();
  subs.add(() => {
    periodic.unsubscribe();
    deadlineTimer.unsubscribe();
  });
  subs.add(ros.shutdown$.subscribe({ complete: () => subs.unsubscribe() }));

  return {
    get state() {
      return core.state;
    },
    transitions,
    refusals,
    commandCounts,
    dropped,
    get tickCount() {
      return tickCount;
    },
    get deadlineTickCount() {
      return deadlineTickCount;
    },
    get lastTick() {
      return lastTick;
    },
    ticks$: ticks.asObservable(),
    async stop() {
      if (stopped) return;
      stopped = true;
      subs.unsubscribe();
      runTick({ engage: false, reset: false, disengageReason: 'watchdog stopping' }, elapsedDtS());
      ticks.complete();
    },
  };
}
