import { Subject, Subscription, timer, type Observable } from 'rxjs';
import type { Header, MessageOf, MessageTypeName, UnicycleSource } from '../core/msgs.js';
import { QOS_COMMAND, QOS_SENSOR, type QosProfile } from '../core/qos.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { RosNode } from '../core/transport.js';
import { diagnosticsOf, safetyStateOf, vehicleCommandOf } from './tickMessages.js';
import { fmt } from './faults.js';
import { emptyInputs } from './inputs.js';
import { deadlineStatus } from './deadlines.js';
import type { WatchdogParams } from './params.js';
import { receive, type WatchdogMessage } from './receive.js';
import type { WatchdogState } from './safetyState.js';
import { checkShape, type ShapeKind } from './shapes.js';
import { DeadlineTimer } from './deadlineTimer.js';
import {
  controlPeriodS,
  controlTick,
  deadlineTickDue,
  elapsedDtS,
  initialCore,
  noteReceiptRosTime,
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
const CAMERA_TYPES = { image: 'sensor_msgs/msg/Image', compressed: 'sensor_msgs/msg/CompressedImage' } as const;

export interface WatchdogOptions {
  /**
   * The steady (monotonic) clock that liveness is judged on: receipt gaps, receipt rates, the loop's own period.
   * Default: the transport's ros.steadyClock; without one, ROS time (and a warning at start).
   */
  steadyClock?: Clock;
}

/**
 * Wires ar1_watchdog to a RosNode: subscriptions store the inputs (receive), the node's OWN periodic timer at
 * control_rate_hz and a one-shot deadline timer, both on the transport's steady scheduler where it has one (else
 * ros.scheduler), run controlTick, and each tick's command, /ar1/safety_state and /diagnostics are published. Every
 * decision (monitors, state, command, limits, fallback braking) is made in watchdogCore.ts; here only I/O, timers
 * and logs.
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
  let stopped = false;
  const transitions: Transition[] = [];
  const refusals: Refusal[] = [];
  const commandCounts: Record<UnicycleSource, number> = { planner: 0, fallback: 0, hold: 0 };
  const dropped = new Map<string, number>();
  const ticks = new Subject<TickResult>();
  const subs = new Subscription();
  const ctx = () => `[node=${ros.name} t=${fmt(ros.clock.now(), 3)} s]`;
  const clocksNow = () => ({ rosS: ros.clock.now(), steadyS: steady.now() });
  const periodS = controlPeriodS(p);
  const periodMs = 1000 * periodS;
  const deadline = new DeadlineTimer(timers, steady, periodS, DEADLINE_EPSILON_S, onDeadline);

  const cmdPub = ros.createPublisher('ar1_msgs/msg/UnicycleCommand', t.vehicle_command, QOS_COMMAND);
  const statePub = ros.createPublisher('ar1_msgs/msg/SafetyState', t.safety_state, QOS_COMMAND);
  const diagPub = ros.createPublisher('diagnostic_msgs/msg/DiagnosticArray', t.diagnostics, QOS_COMMAND);

  // ---- Inputs: shape check → receive → note ROS time → re-arm the deadline timer.
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
  const accept = (topic: string, shape: ShapeKind, msg: unknown, tagged: () => WatchdogMessage) => {
    try {
      const problem = checkShape(shape, msg);
      if (problem) {
        drop(topic, problem);
        return;
      }
      const jump = receive(inputs, tagged(), steady.now(), p);
      if (jump) ros.logger.warn(`${t.odometry}: ${jump.message} ${ctx()}`);
      const noted = noteReceiptRosTime(core, inputs, ros.clock.now());
      core = noted.core;
      if (noted.steppedBack) tickSoon(); // clock_backward: a tick 1 ms from now, not at the next period
      armDeadline();
    } catch (e) {
      drop(topic, `handling threw: ${errorMessage(e)}`);
    }
  };
  const input = <T extends MessageTypeName>(
    type: T,
    topic: string,
    qos: QosProfile,
    shape: ShapeKind,
    tag: (m: MessageOf<T>) => WatchdogMessage,
  ) => subs.add(ros.subscribe(type, topic, qos).subscribe((m) => accept(topic, shape, m, () => tag(m))));
  input('ar1_msgs/msg/UnicycleCommand', t.command, QOS_COMMAND, 'command', (msg) => ({ kind: 'command', msg }));
  input('ar1_msgs/msg/Trajectory', t.trajectory, QOS_COMMAND, 'trajectory', (msg) => ({ kind: 'trajectory', msg }));
  input('ar1_msgs/msg/PlannerTiming', t.timing, QOS_COMMAND, 'timing', (msg) => ({ kind: 'timing', msg }));
  input('nav_msgs/msg/Odometry', t.odometry, QOS_SENSOR, 'odometry', (msg) => ({ kind: 'odometry', msg }));
  p.cameras.topics.forEach((topic, i) =>
    input(CAMERA_TYPES[p.cameras.types[i]!], topic, QOS_SENSOR, 'stamped', (msg) => ({
      kind: 'camera',
      topic,
      msg: msg as { header: Header },
    })),
  );
  input('ar1_msgs/msg/Reasoning', t.reasoning, QOS_COMMAND, 'reasoning', (msg) => ({ kind: 'reasoning', msg }));
  subs.add(
    ros.subscribe('std_msgs/msg/Empty', t.reset, QOS_COMMAND).subscribe(() => {
      requests.reset = true;
    }),
  );
  subs.add(
    ros.subscribe('std_msgs/msg/Bool', t.engage, QOS_COMMAND).subscribe((m) => {
      const problem = checkShape('bool', m);
      if (problem) drop(t.engage, problem);
      else requests.engage = m.data;
    }),
  );
  const takeRequests = (): Requests => {
    const req = requests;
    requests = { reset: false };
    return req;
  };

  // ---- One tick: controlTick, then publish and log. dtS is its rate-limit interval: the control period for
  // periodic ticks, the steady time since the previous tick for a deadline tick or the final one (elapsedDtS).
  const diagEvery = Math.max(1, Math.round(p.control_rate_hz / p.diagnostics_rate_hz));
  const runTick = (req: Requests, dtS: number): TickResult => {
    const clocks = clocksNow();
    const { result: r, error } = controlTick(core, inputs, req, clocks, p, dtS);
    if (error !== undefined) ros.logger.error(`${error} ${ctx()}`);
    core = r.core;
    lastTick = r;
    tickCount++;
    lastTickSteadyS = clocks.steadyS;
    cmdPub.publish(vehicleCommandOf(r, clocks.rosS));
    commandCounts[r.command.source]++;
    statePub.publish(safetyStateOf(r, clocks.rosS));
    if (r.transition || tickCount % diagEvery === 0) diagPub.publish(diagnosticsOf(r, clocks.rosS, ros.name));
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

  // ---- The periodic timer: one tick per control period. A deadline tick restarts it, so the next periodic tick
  // comes one full period after the deadline tick (command spacing never drops below a period afterwards).
  let periodic = Subscription.EMPTY;
  const startPeriodic = () => {
    periodic.unsubscribe();
    periodic = timer(periodMs, periodMs, timers).subscribe(() => runTick(takeRequests(), periodS));
  };

  // ---- The deadline timer: one firing at the earliest input deadline not yet passed, re-armed whenever an input is
  // accepted, so a passed deadline is acted on within DEADLINE_EPSILON_S instead of at the next periodic tick.
  // Deadlines are on two clocks (stamps on ROS time, receipts and rates on the steady clock); deadlineStatus turns
  // each into a delay from now on its own clock. A firing for a deadline that a newer input moved later does nothing
  // and re-arms. An input whose deadline has ALREADY passed when it arrives (stale on arrival: a stamp stepping
  // back) runs a tick soon, as does a ROS time step backward seen at a receipt.
  function armDeadline(): void {
    if (stopped) return;
    const clocks = clocksNow();
    const { passed, nextS } = deadlineStatus(inputs, p, clocks);
    if (passed && core.state === 'nominal') tickSoon();
    else deadline.armIn(clocks.steadyS, nextS);
  }
  function tickSoon(): void {
    if (!stopped && core.state === 'nominal') deadline.soon();
  }
  function onDeadline(): void {
    if (stopped) return;
    if (deadlineTickDue(core, inputs, p, clocksNow())) {
      deadlineTickCount++;
      runTick(takeRequests(), elapsedDtS(lastTickSteadyS, steady.now(), p));
      startPeriodic();
    }
    armDeadline();
  }

  startPeriodic();
  subs.add(() => {
    periodic.unsubscribe();
    deadline.cancel();
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
      runTick(
        { engage: false, reset: false, disengageReason: 'watchdog stopping' },
        elapsedDtS(lastTickSteadyS, steady.now(), p),
      );
      ticks.complete();
    },
  };
}
