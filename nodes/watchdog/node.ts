import { interval, Subject, Subscription, type Observable } from 'rxjs';
import type { Header, UnicycleSource } from '../core/msgs.js';
import { UNICYCLE_SOURCE } from '../core/msgs.js';
import { QOS_COMMAND, QOS_SENSOR } from '../core/qos.js';
import { errorMessage } from '../core/errors.js';
import type { RosNode } from '../core/transport.js';
import { diagnosticsOf, safetyStateOf, stampOf } from './diagnostics.js';
import { fmt } from './faults.js';
import { fallbackBrake } from './fallbackBrake.js';
import { limitsGate } from './limitsGate.js';
import { emptyInputs, type Received } from './monitors.js';
import type { WatchdogParams } from './params.js';
import type { WatchdogState } from './safetyState.js';
import { checkShape } from './shapes.js';
import {
  controlPeriodS, initialCore, tickCore, type CoreState, type Refusal, type Requests, type TickResult, type Transition,
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
  /** Number of control ticks run. */
  readonly tickCount: number;
  readonly lastTick: TickResult | undefined;
  /** Each tick's result, after its messages were published. */
  readonly ticks$: Observable<TickResult>;
  /** Stops the timer and subscriptions, then publishes a final brake (moving) or hold (stopped) command. */
  stop(): Promise<void>;
}

const CAMERA_TYPES = { image: 'sensor_msgs/msg/Image', compressed: 'sensor_msgs/msg/CompressedImage' } as const;

/**
 * Wires ar1_watchdog to a RosNode: subscriptions update the latest inputs, the node's OWN timer at
 * control_rate_hz (on ros.scheduler, so any RxJS scheduler works) runs tickCore and publishes the command,
 * /ar1/safety_state and /diagnostics. No maths here.
 */
export function startWatchdog(ros: RosNode, params: WatchdogParams): WatchdogHandle {
  const p = params;
  const t = p.topics;
  const inputs = emptyInputs();
  let requests: Requests = { reset: false };
  let core: CoreState = initialCore();
  let lastTick: TickResult | undefined;
  let tickCount = 0;
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

  /** Accepts a well-formed message, or counts and logs (once per reason) why it was dropped. */
  const accept = <M>(topic: string, msg: M, kind: Parameters<typeof checkShape>[0], store: (r: Received<M>) => void) => {
    const problem = checkShape(kind, msg);
    if (problem) {
      const key = `${topic}: ${problem}`;
      const n = (dropped.get(key) ?? 0) + 1;
      dropped.set(key, n);
      if (n === 1) ros.logger.warn(`${topic}: dropped malformed message: ${problem} ${ctx()}`);
      return;
    }
    store({ msg, receivedS: ros.clock.now() });
  };
  subs.add(ros.subscribe('ar1_msgs/msg/UnicycleCommand', t.command, QOS_COMMAND)
    .subscribe((m) => accept(t.command, m, 'command', (r) => { inputs.command = r; })));
  subs.add(ros.subscribe('ar1_msgs/msg/Trajectory', t.trajectory, QOS_COMMAND)
    .subscribe((m) => accept(t.trajectory, m, 'trajectory', (r) => { inputs.trajectory = r; })));
  subs.add(ros.subscribe('ar1_msgs/msg/PlannerTiming', t.timing, QOS_COMMAND)
    .subscribe((m) => accept(t.timing, m, 'timing', (r) => {
      inputs.timings.push(r);
      if (inputs.timings.length > p.planning_budget.window) inputs.timings.shift();
    })));
  subs.add(ros.subscribe('nav_msgs/msg/Odometry', t.odometry, QOS_SENSOR)
    .subscribe((m) => accept(t.odometry, m, 'odometry', (r) => { inputs.odometry = r; })));
  p.cameras.topics.forEach((topic, i) => {
    const type = CAMERA_TYPES[p.cameras.types[i]!];
    subs.add(ros.subscribe(type, topic, QOS_SENSOR)
      .subscribe((m) => accept(topic, m as { header: Header }, 'stamped', (r) => { inputs.cameras.set(topic, r); })));
  });
  subs.add(ros.subscribe('std_msgs/msg/Empty', t.reset, QOS_COMMAND).subscribe(() => { requests.reset = true; }));
  subs.add(ros.subscribe('std_msgs/msg/Bool', t.engage, QOS_COMMAND).subscribe((m) => {
    if (typeof m?.data === 'boolean') requests.engage = m.data;
    else accept(t.engage, m, 'bool', () => {});
  }));

  const diagEvery = Math.max(1, Math.round(p.control_rate_hz / p.diagnostics_rate_hz));

  const runTick = (req: Requests): TickResult => {
    const nowS = ros.clock.now();
    let r: TickResult;
    try {
      r = tickCore(core, inputs, req, nowS, p);
    } catch (e) {
      // Never let a bug stop the braking: brake with the fallback profile and latch fallback.
      const reason = `internal error in tick: ${errorMessage(e)}`;
      const dt = controlPeriodS(p);
      const { command, fired } = limitsGate(fallbackBrake(core.last, dt, p.fallback), core.last, core.lastMeasuredSpeed ?? 0, dt, p.limits);
      const transition = core.state === 'fallback' ? undefined : { timeS: nowS, from: core.state, to: 'fallback' as const, event: 'fault_moving' as const, reason };
      r = {
        core: { ...core, state: 'fallback', last: command, reason: transition ? reason : core.reason },
        command: { ...command, speed: core.lastSpeed, source: 'fallback' }, fired, reports: [], faults: [],
        ...(transition ? { transition } : {}), refusals: [], planAgeS: -1, lastLatencyMs: -1,
      };
      ros.logger.error(`${reason} ${ctx()}`);
    }
    core = r.core;
    lastTick = r;
    tickCount++;
    const stamp = stampOf(nowS);
    cmdPub.publish({
      header: { stamp, frame_id: '' }, acceleration: r.command.accel, curvature: r.command.curvature,
      speed: r.command.speed, source: UNICYCLE_SOURCE[r.command.source],
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

  subs.add(interval(1000 / p.control_rate_hz, ros.scheduler).subscribe(() => {
    const req = requests;
    requests = { reset: false };
    runTick(req);
  }));
  subs.add(ros.shutdown$.subscribe({ complete: () => subs.unsubscribe() }));

  return {
    get state() { return core.state; },
    transitions,
    refusals,
    commandCounts,
    dropped,
    get tickCount() { return tickCount; },
    get lastTick() { return lastTick; },
    ticks$: ticks.asObservable(),
    async stop() {
      if (stopped) return;
      stopped = true;
      subs.unsubscribe();
      runTick({ engage: false, reset: false, disengageReason: 'watchdog stopping' });
      ticks.complete();
    },
  };
}
