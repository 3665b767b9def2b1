import type { UnicycleCommand, UnicycleSource } from '../core/msgs.js';
import { errorMessage } from '../core/errors.js';
import { stampToSeconds } from '../core/time.js';
import { fmt, type Fault, type MonitorReport } from './faults.js';
import { fallbackBrake, standstillHold } from './fallbackBrake.js';
import { limitsGate, type Actuation, type LimitName } from './limitsGate.js';
import { egoSpeed, limitSpeed } from './egoSpeed.js';
import type { TickClocks, WatchdogInputs } from './inputs.js';
import { deadlineStatus } from './deadlines.js';
import { clockStepBackOf, runMonitors } from './monitors.js';
import type { BrakeProfile, WatchdogParams } from './params.js';
import { eventOf, step, type SafetyEvent, type WatchdogState } from './safetyState.js';

/**
 * One control tick as a pure function: monitors → one event → state table → command → limits gate.
 * watchdogNode.ts does the I/O around it (through controlTick); property tests drive tickCore directly.
 */
export interface CoreState {
  readonly state: WatchdogState;
  /** Braking profile in use; escalates fallback → emergency, never back, until nominal. */
  readonly profile: 'fallback' | 'emergency';
  /** Last published actuation (the gate's rate limits and the ramps start from it). */
  readonly last?: Actuation;
  /** Last published speed [m/s] (estimate when odometry is not fresh). */
  readonly lastSpeed: number;
  /**
   * Speed the limits gate used [m/s]: the measured speed (worse case of twist and positions) while odometry is
   * fresh; while it is not, the last one grown by every positive commanded acceleration since (a car that kept
   * accelerating is never judged slower than it can be).
   */
  readonly lastMeasuredSpeed?: number;
  /** Once engaged, auto_engage never fires again. */
  readonly engagedOnce: boolean;
  /** Why the current state was entered. */
  readonly reason: string;
  /** ROS time and steady time of the previous tick [s] (clock_backward and loop_lag compare against them). */
  readonly lastRosS?: number;
  readonly lastSteadyS?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;

export const initialCore = (): CoreState => ({
  state: 'disengaged',
  profile: 'fallback',
  lastSpeed: 0,
  engagedOnce: false,
  reason: 'start-up',
});

/** Operator requests received since the previous tick. */
export interface Requests {
  /** Last engage request: true = engage, false = disengage, undefined = none. */
  engage?: boolean;
  reset: boolean;
  /** Reason recorded for a disengage (default "operator disengage"), e.g. the node stopping. */
  disengageReason?: string;
}

export interface Transition {
  timeS: number;
  from: WatchdogState;
  to: WatchdogState;
  event: SafetyEvent;
  reason: string;
}

export interface Refusal {
  timeS: number;
  request: 'engage' | 'disengage' | 'reset';
  reason: string;
}

interface PublishedCommand extends Actuation {
  readonly speed: number;
  readonly source: UnicycleSource;
}

export interface TickResult {
  readonly core: CoreState;
  readonly command: PublishedCommand;
  readonly fired: LimitName[];
  readonly reports: MonitorReport[];
  readonly faults: Fault[];
  readonly transition?: Transition;
  readonly refusals: Refusal[];
  /** now − t0 of the latest plan [s], −1 when none. */
  readonly planAgeS: number;
  /** latency_ms of the latest timing, −1 when none. */
  readonly lastLatencyMs: number;
}

/** [m/s^2] no car brakes harder than this (~1 g): the limits gate's speed decays at most this fast. */
const MAX_PHYSICAL_DECEL_MPS2 = 10;

export function controlPeriodS(p: WatchdogParams): number {
  return 1 / p.control_rate_hz;
}

/**
 * @param nowS ROS time of this tick [s] (stamps are judged against it)
 * @param dtS rate-limit interval of this tick [s]: time since the last published command, in (0, control period];
 *   the control period for periodic ticks, less for a deadline tick (the ramp and gate then allow less change).
 * @param steadyS the watchdog's steady (monotonic) clock [s]: receipt gaps, receipt rates and the loop period are
 *   judged on it; defaults to nowS (a caller with one clock).
 */
export function tickCore(
  core: CoreState,
  inputs: WatchdogInputs,
  requests: Requests,
  nowS: number,
  p: WatchdogParams,
  dtS = controlPeriodS(p),
  steadyS = nowS,
): TickResult {
  const dt = clampDtS(dtS, p);
  const reports = runMonitors(
    inputs,
    { rosS: nowS, steadyS, prevRosS: core.lastRosS, prevSteadyS: core.lastSteadyS },
    p,
  );
  const faults: Fault[] = [];
  for (const r of reports) for (const f of r.faults) faults.push(f);
  const measured = egoSpeed(inputs, nowS, p, steadyS);
  const standstill = measured !== undefined && Math.abs(measured) <= p.standstill_speed_mps;
  const autoEngage = p.auto_engage && !core.engagedOnce && core.state === 'disengaged';
  const autoRecover = p.auto_recover && core.state === 'stopped';
  const event = eventOf({
    disengageRequested: requests.engage === false,
    engageRequested: requests.engage === true || autoEngage,
    resetRequested: requests.reset || autoRecover,
    faulted: faults.length > 0,
    standstill,
  });
  const next = step(core.state, event);
  // The texts of transitions and refusals, formatted only on a tick that has one (most ticks have neither).
  const texts: ReasonTexts = {
    faults: () => faults.map((f) => f.message).join('; '),
    speed: () =>
      measured === undefined
        ? 'speed unknown (no fresh odometry)'
        : `speed ${fmt(measured)} m/s ${standstill ? '<=' : '>'} standstill_speed_mps ${fmt(p.standstill_speed_mps)}`,
  };

  let transition: Transition | undefined;
  if (next !== core.state) {
    const reason =
      next === 'stopped' && event === 'fault_stopped'
        ? `vehicle stopped: ${texts.speed()}; active faults: ${texts.faults()}`
        : transitionReason(event, texts, requests, autoEngage, autoRecover);
    transition = { timeS: nowS, from: core.state, to: next, event, reason };
  }
  const refusals = refusalsOf(core.state, next, event, requests, texts, nowS);

  // Braking profile: escalate to emergency when a listed fault is active, back to fallback only in nominal.
  const emergencyFault = faults.some((f) => p.emergency.faults.includes(f.name));
  const profile: CoreState['profile'] =
    next === 'nominal' ? 'fallback' : core.profile === 'emergency' || emergencyFault ? 'emergency' : 'fallback';
  const brake: BrakeProfile = profile === 'emergency' ? p.emergency : p.fallback;

  const choice = commandChoice(next, standstill, inputs.command?.msg, brake);
  // The gate's speed: the worse case of twist and position-derived speed (lateral limits tighten with speed).
  // The gate's speed never drops faster than a car can brake (a twist that sticks low, or stale odometry, cannot
  // make the car look slower than physics allows), and grows with every positive command while speed is unknown.
  const measuredForGate = limitSpeed(inputs, nowS, p, steadyS, core.last?.accel);
  const prevGate = core.lastMeasuredSpeed === undefined ? undefined : Math.abs(core.lastMeasuredSpeed);
  const lastMeasuredSpeed =
    measuredForGate !== undefined
      ? Math.max(measuredForGate, prevGate === undefined ? 0 : prevGate - MAX_PHYSICAL_DECEL_MPS2 * dt)
      : prevGate === undefined
        ? undefined
        : prevGate + Math.max(core.last?.accel ?? 0, 0) * dt;
  const gateSpeed = lastMeasuredSpeed ?? 0;
  const { command, fired } = commandOf(choice, core.last, gateSpeed, dt, p);
  // The published speed: the planner's, 0 when holding; when braking (or the planner's is not finite) the measured
  // one, else the last one carried forward by the command.
  let speed = choice.source === 'planner' ? choice.planner.speed : choice.source === 'hold' ? 0 : Number.NaN;
  if (!Number.isFinite(speed)) speed = measured ?? Math.max(core.lastSpeed + command.accel * dt, 0);
  if (!Number.isFinite(speed)) speed = 0;

  const latestPlan = inputs.trajectory?.msg;
  const planAgeS = latestPlan ? nowS - stampToSeconds(latestPlan.header.stamp) : -1;
  const latency = inputs.timings[inputs.timings.length - 1]?.msg.latency_ms;
  // Built key by key, not with object spreads: spreads of objects of several shapes took a slow path in V8 (a
  // tenth of the watchdog's time in a replay); the keys present are the same.
  const nextCore: Mutable<CoreState> = {
    state: next,
    profile,
    last: command,
    lastSpeed: speed,
    engagedOnce: core.engagedOnce || next === 'nominal',
    reason: transition ? transition.reason : core.reason,
  };
  if (lastMeasuredSpeed !== undefined) nextCore.lastMeasuredSpeed = lastMeasuredSpeed;
  if (Number.isFinite(nowS)) nextCore.lastRosS = nowS;
  if (Number.isFinite(steadyS)) nextCore.lastSteadyS = steadyS;
  return {
    core: nextCore,
    command: { accel: command.accel, curvature: command.curvature, speed, source: choice.source },
    fired,
    reports,
    faults,
    ...(transition ? { transition } : {}),
    refusals,
    planAgeS: Number.isFinite(planAgeS) ? planAgeS : -1,
    lastLatencyMs: latency !== undefined && Number.isFinite(latency) ? latency : -1,
  };
}

/** What a tick commands, before the limits gate. */
type CommandChoice =
  | { readonly source: 'planner'; readonly planner: UnicycleCommand }
  | { readonly source: 'hold' }
  | { readonly source: 'fallback'; readonly brake: BrakeProfile };

/**
 * What a state commands: NOMINAL forwards the planner's command; STOPPED, and DISENGAGED at a standstill, hold;
 * everything else brakes with the profile in use: FALLBACK, DISENGAGED while moving or with the speed unknown (no
 * one else commands the vehicle), and NOMINAL without a planner command (which the monitors fault anyway).
 */
function commandChoice(
  state: WatchdogState,
  standstill: boolean,
  planner: UnicycleCommand | undefined,
  brake: BrakeProfile,
): CommandChoice {
  if (state === 'nominal' && planner) return { source: 'planner', planner };
  if (state === 'stopped' || (state === 'disengaged' && standstill)) return { source: 'hold' };
  return { source: 'fallback', brake };
}

/**
 * The one place where the vehicle command is made, for every tick including one that threw (controlTick): the
 * planner's command, the standstill hold (a ramp to standstill.hold_accel_mps2 with the fallback jerks) or the
 * fallback brake (a jerk-limited ramp to the profile's deceleration), curvature held when braking or holding; then
 * the limits gate at gateSpeed, from the last published command. Whatever the inputs, the result is finite and
 * within the limits.
 */
function commandOf(
  choice: CommandChoice,
  last: Actuation | undefined,
  gateSpeed: number,
  dt: number,
  p: WatchdogParams,
): { command: Actuation; fired: LimitName[] } {
  const raw: Actuation =
    choice.source === 'planner'
      ? { accel: choice.planner.acceleration, curvature: choice.planner.curvature }
      : choice.source === 'hold'
        ? standstillHold(last, dt, p.standstill.hold_accel_mps2, p.fallback.jerk_mps3, p.fallback.release_jerk_mps3)
        : fallbackBrake(last, dt, choice.brake);
  return limitsGate(raw, last, gateSpeed, dt, p.limits);
}

/** A tick's rate-limit interval [s]: dtS clamped to (0, control period]; the period when dtS is not positive. */
function clampDtS(dtS: number, p: WatchdogParams): number {
  const period = controlPeriodS(p);
  return Number.isFinite(dtS) && dtS > 0 ? Math.min(dtS, period) : period;
}

/** [s] smallest rate-limit interval of an off-period tick (the ramp and gate need dt > 0); less changes nothing. */
const MIN_TICK_DT_S = 1e-6;

/**
 * The rate-limit interval of a tick off the period (a deadline tick, the final one at stop): the steady time since
 * the previous tick, clamped to [1 µs, control period]; a full period when there was none (prevSteadyS NaN).
 */
export function elapsedDtS(prevSteadyS: number, steadyS: number, p: WatchdogParams): number {
  const e = steadyS - prevSteadyS;
  const period = controlPeriodS(p);
  return Number.isFinite(e) ? Math.min(Math.max(e, MIN_TICK_DT_S), period) : period;
}

/** The two clocks read at a tick or a deadline [s]: ROS time (stamps) and the steady clock (liveness). */
type Clocks = Pick<TickClocks, 'rosS' | 'steadyS'>;

/**
 * The tick the node runs: tickCore; or, when it throws (a bug), the braking ramp of the profile in use from the last
 * published command,
 * latched in FALLBACK with the reason "internal error in tick: …" (also returned as error, for the log), so a bug
 * never stops the braking. Then it releases the faults the node holds until a tick has reported them: a ROS time
 * step back seen at a receipt (reported by any tick), an odometry jump (once reported with the vehicle stopped).
 */
export function controlTick(
  core: CoreState,
  inputs: WatchdogInputs,
  requests: Requests,
  clocks: Clocks,
  p: WatchdogParams,
  dtS: number,
): { result: TickResult; error?: string } {
  let result: TickResult;
  let error: string | undefined;
  try {
    result = tickCore(core, inputs, requests, clocks.rosS, p, dtS, clocks.steadyS);
  } catch (e) {
    error = `internal error in tick: ${errorMessage(e)}`;
    result = internalErrorTick(core, error, clocks.rosS, clampDtS(dtS, p), p);
  }
  delete inputs.clockStepBack;
  if (inputs.odometryJump && result.faults.some((f) => f.name === 'odometry_jump')) {
    // Reported at least once; it stays a fault (and the state latched) until the vehicle is seen stopped.
    const v = egoSpeed(inputs, clocks.rosS, p, clocks.steadyS);
    if (v !== undefined && Math.abs(v) <= p.standstill_speed_mps) delete inputs.odometryJump;
  }
  return error === undefined ? { result } : { result, error };
}

/**
 * A tick that threw: brake from the last published command with the profile in use (emergency once a listed fault
 * escalated it, else fallback), gated at the last gate speed (the inputs are not trusted), and latch FALLBACK.
 * Nothing is reported but the transition.
 */
function internalErrorTick(core: CoreState, reason: string, nowS: number, dt: number, p: WatchdogParams): TickResult {
  const brake = { source: 'fallback', brake: core.profile === 'emergency' ? p.emergency : p.fallback } as const;
  const { command, fired } = commandOf(brake, core.last, core.lastMeasuredSpeed ?? 0, dt, p);
  const transition: Transition | undefined =
    core.state === 'fallback'
      ? undefined
      : { timeS: nowS, from: core.state, to: 'fallback', event: 'fault_moving', reason };
  return {
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
}

/**
 * { ...core, lastRosS }, key by key: the same keys (an optional key present only when it is in core), without the
 * object spread, which took V8's slow path for cores of several shapes on every receipt. CopiedKeys makes a key added
 * to CoreState a compile error here until it is copied.
 */
function withLastRosS(core: CoreState, lastRosS: number): CoreState {
  const c: Mutable<CoreState> = {
    state: core.state,
    profile: core.profile,
    lastSpeed: core.lastSpeed,
    engagedOnce: core.engagedOnce,
    reason: core.reason,
  };
  if ('last' in core) c.last = core.last;
  if ('lastMeasuredSpeed' in core) c.lastMeasuredSpeed = core.lastMeasuredSpeed;
  c.lastRosS = lastRosS;
  if ('lastSteadyS' in core) c.lastSteadyS = core.lastSteadyS;
  return c;
}
type CopiedKeys =
  | 'state'
  | 'profile'
  | 'lastSpeed'
  | 'engagedOnce'
  | 'reason'
  | 'last'
  | 'lastMeasuredSpeed'
  | 'lastRosS'
  | 'lastSteadyS';
type _EveryCoreKeyCopied = Holds<Same<CopiedKeys, keyof CoreState>>;

/**
 * ROS time read at a receipt, kept in core.lastRosS for the next tick to compare against. A step backward (below the
 * latest ROS time seen at a receipt or tick) is held in inputs.clockStepBack until a tick reports it (ROS time may
 * have caught up by then); steppedBack tells the node to run a tick soon.
 */
export function noteReceiptRosTime(
  core: CoreState,
  inputs: WatchdogInputs,
  rosS: number,
): { core: CoreState; steppedBack: boolean } {
  if (!Number.isFinite(rosS)) return { core, steppedBack: false };
  if (core.lastRosS !== undefined && rosS < core.lastRosS) {
    inputs.clockStepBack ??= clockStepBackOf(core.lastRosS, rosS);
    return { core, steppedBack: true };
  }
  // Several inputs arrive at one instant: the core stays the same object when its ROS time does not change.
  return { core: core.lastRosS === rosS ? core : withLastRosS(core, rosS), steppedBack: false };
}

/**
 * Whether a deadline timer firing now runs a tick: only in NOMINAL, when an input deadline has passed or ROS time
 * stepped back, both of which fault, so the tick leaves NOMINAL. Leaving any other state needs a tick with every
 * monitor healthy, which the periodic tick checks.
 */
export function deadlineTickDue(core: CoreState, inputs: WatchdogInputs, p: WatchdogParams, clocks: Clocks): boolean {
  if (core.state !== 'nominal') return false;
  const stepBack = inputs.clockStepBack !== undefined || (core.lastRosS !== undefined && clocks.rosS < core.lastRosS);
  return stepBack || deadlineStatus(inputs, p, clocks).passed;
}

/** The fault and speed texts of one tick, formatted when called (only transitions and refusals use them). */
interface ReasonTexts {
  readonly faults: () => string;
  readonly speed: () => string;
}

function transitionReason(
  event: SafetyEvent,
  texts: ReasonTexts,
  requests: Requests,
  autoEngage: boolean,
  autoRecover: boolean,
): string {
  switch (event) {
    case 'disengage':
      return requests.disengageReason ?? 'operator disengage';
    case 'fault_moving':
    case 'fault_stopped':
      return texts.faults();
    case 'reset_stopped':
      return `${requests.reset ? 'operator reset' : autoRecover ? 'auto_recover' : 'reset'} accepted: all monitors healthy, ${texts.speed()}`;
    case 'reset_moving':
      return `reset refused while moving: ${texts.speed()}`;
    case 'engage':
      return requests.engage === true
        ? 'operator engage: all monitors healthy'
        : autoEngage
          ? 'auto_engage: first healthy tick'
          : 'engage';
    case 'moving':
      return `vehicle moving: ${texts.speed()}`;
    case 'standstill':
      return `vehicle stopped: ${texts.speed()}`;
  }
}

/** Operator requests that did not take effect this tick, with why (auto requests are not reported). */
function refusalsOf(
  from: WatchdogState,
  to: WatchdogState,
  event: SafetyEvent,
  requests: Requests,
  texts: ReasonTexts,
  timeS: number,
): Refusal[] {
  const out: Refusal[] = [];
  const blocked = () => {
    if (event === 'disengage') return 'disengage requested in the same tick';
    const faultText = texts.faults();
    return faultText ? `active faults: ${faultText}` : '';
  };
  if (requests.reset && !(event === 'reset_stopped' && to === 'nominal' && from !== 'nominal')) {
    let reason: string;
    if (from === 'nominal') reason = 'nothing latched in nominal';
    else if (from === 'disengaged') reason = 'reset does not engage; send engage';
    else reason = blocked() || `vehicle not stopped: ${texts.speed()}`;
    out.push({ timeS, request: 'reset', reason });
  }
  if (requests.engage === true && !(to === 'nominal' && event === 'engage')) {
    let reason: string;
    if (from === 'nominal') reason = 'already engaged';
    else if (from === 'fallback' || from === 'stopped') reason = `${from} is latched: reset when healthy and stopped`;
    else
      reason =
        blocked() ||
        (event === 'reset_moving' || event === 'reset_stopped' ? 'reset requested in the same tick' : 'not engaged');
    out.push({ timeS, request: 'engage', reason });
  }
  if (requests.engage === false && from === 'fallback') {
    out.push({ timeS, request: 'disengage', reason: 'fallback is latched until standstill; the stop completes first' });
  }
  return out;
}
