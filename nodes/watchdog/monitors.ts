import type { Header, Odometry, PlannerTiming, Trajectory, UnicycleCommand } from '../core/msgs.js';
import { stampToSeconds } from '../core/time.js';
import { DIAG_LEVEL, fmt, type DiagLevel, type Fault } from './faults.js';
import type { WatchdogParams } from './params.js';

/** A message with the node-clock time it was received [s]. */
export interface Received<M> {
  readonly msg: M;
  readonly receivedS: number;
}

/** The latest inputs the watchdog has seen; monitors read only this and the current time. */
export interface WatchdogInputs {
  command?: Received<UnicycleCommand>;
  trajectory?: Received<Trajectory>;
  /** Latest timings, newest last, at most planning_budget.window. */
  timings: Array<Received<PlannerTiming>>;
  odometry?: Received<Odometry>;
  /** Latest camera header per configured camera topic. */
  cameras: Map<string, Received<{ header: Header }>>;
  /** An implausible odometry position step seen between two consecutive samples (odometryJumpOf), held by the node. */
  odometryJump?: Fault;
}

export const emptyInputs = (): WatchdogInputs => ({ timings: [], cameras: new Map() });

/** The report of one monitor: a diagnostic status and the faults it raises (an ERROR/STALE status has ≥ 1). */
export interface MonitorReport {
  readonly name: string;
  readonly level: DiagLevel;
  readonly message: string;
  readonly values: ReadonlyArray<{ key: string; value: string }>;
  readonly faults: readonly Fault[];
}

type Monitor = (inputs: WatchdogInputs, nowS: number, p: WatchdogParams) => MonitorReport[];

const ok = (name: string, message: string, values: MonitorReport['values'] = []): MonitorReport =>
  ({ name, level: DIAG_LEVEL.ok, message, values, faults: [] });
const bad = (name: string, level: DiagLevel, faults: Fault[], values: MonitorReport['values'] = []): MonitorReport =>
  ({ name, level, message: faults.map((f) => f.message).join('; '), values, faults });

/** Age of a stamped input against its deadline: missing, in the future, stale, or fresh. */
function stampAge(name: string, label: string, header: Header | undefined, nowS: number, maxAgeS: number, maxKey: string,
  p: WatchdogParams, faults: { missing: Fault['name']; stale: Fault['name'] }): MonitorReport {
  if (!header) return bad(name, DIAG_LEVEL.stale, [{ name: faults.missing, message: `no ${label} received yet` }]);
  const age = nowS - stampToSeconds(header.stamp);
  const values = [{ key: 'age_s', value: fmt(age, 3) }];
  if (!Number.isFinite(age)) {
    return bad(name, DIAG_LEVEL.error, [{ name: faults.stale, message: `${label} age is ${age} (stamp not finite)` }], values);
  }
  if (age < -p.max_future_stamp_s) {
    return bad(name, DIAG_LEVEL.error, [{ name: 'stamp_in_future', message:
      `${label} stamp ${fmt(-age)} s ahead of now exceeds max_future_stamp_s ${fmt(p.max_future_stamp_s)} s (clock mismatch)` }], values);
  }
  if (age > maxAgeS) {
    return bad(name, DIAG_LEVEL.error, [{ name: faults.stale, message: `${label} age ${fmt(age)} s exceeds ${maxKey} ${fmt(maxAgeS)} s` }], values);
  }
  return ok(name, `${label} age ${fmt(age, 3)} s`, values);
}

/** Why a trajectory breaks the AR1 contract, or undefined when it is valid. */
export function trajectoryProblem(t: Trajectory, p: WatchdogParams): string | undefined {
  if (t.points.length !== p.trajectory_points) return `plan has ${t.points.length} points, expected ${p.trajectory_points}`;
  if (!(Math.abs(t.dt - p.trajectory_dt_s) <= 1e-6)) return `plan dt ${t.dt} s, expected ${p.trajectory_dt_s} s`;
  if (!Number.isFinite(t.initial_speed)) return `plan initial_speed is ${t.initial_speed}`;
  for (let i = 0; i < t.points.length; i++) {
    const pt = t.points[i]!;
    for (const k of ['t', 'x', 'y', 'heading', 'speed', 'acceleration', 'curvature'] as const) {
      if (!Number.isFinite(pt[k])) return `plan point ${i} ${k} is ${pt[k]}`;
    }
  }
  return undefined;
}

const clockMonitor: Monitor = (_i, nowS) => [
  Number.isFinite(nowS) && nowS > 0
    ? ok('clock', `ROS time ${fmt(nowS, 3)} s`)
    : bad('clock', DIAG_LEVEL.error, [{ name: 'clock_zero', message: `ROS time is ${nowS} s (sim clock not started: no /clock yet)` }]),
];

const planMonitor: Monitor = (i, nowS, p) => {
  const report = stampAge('plan', 'plan', i.trajectory?.msg.header, nowS, p.max_plan_age_s, 'max_plan_age_s', p,
    { missing: 'plan_missing', stale: 'plan_stale' });
  const problem = i.trajectory && trajectoryProblem(i.trajectory.msg, p);
  if (!problem) return [report];
  return [bad('plan', DIAG_LEVEL.error, [...report.faults, { name: 'plan_invalid', message: problem }], report.values)];
};

const commandMonitor: Monitor = (i, nowS, p) => {
  const c = i.command;
  if (!c) return [bad('command', DIAG_LEVEL.stale, [{ name: 'command_missing', message: 'no planner command received yet' }])];
  const gap = nowS - c.receivedS;
  const values = [{ key: 'gap_s', value: fmt(gap, 3) }];
  const faults: Fault[] = [];
  if (gap > p.command_gap_s) faults.push({ name: 'command_gap', message: `command gap ${fmt(gap)} s exceeds command_gap_s ${fmt(p.command_gap_s)} s` });
  for (const k of ['acceleration', 'curvature', 'speed'] as const) {
    if (!Number.isFinite(c.msg[k])) faults.push({ name: 'command_invalid', message: `planner command ${k} is ${c.msg[k]}` });
  }
  return [faults.length ? bad('command', DIAG_LEVEL.error, faults, values) : ok('command', `command gap ${fmt(gap, 3)} s`, values)];
};

/** Measured forward speed [m/s] when odometry is fresh and finite, else undefined. */
export function egoSpeed(i: WatchdogInputs, nowS: number, p: WatchdogParams): number | undefined {
  const o = i.odometry;
  if (!o) return undefined;
  const age = nowS - stampToSeconds(o.msg.header.stamp);
  const v = o.msg.twist.twist.linear.x;
  return age <= p.odometry_stale_s && age >= -p.max_future_stamp_s && Number.isFinite(v) ? v : undefined;
}

/**
 * An odometry position step that the reported speed cannot explain: |Δposition| > max(|v_prev|, |v_cur|)·Δt +
 * odometry_max_jump_m, with Δt the stamp difference (a stamp going backwards or not finite explains nothing: Δt = 0).
 * Undefined when plausible or when a position is not finite (nothing to compare).
 */
export function odometryJumpOf(prev: Odometry, cur: Odometry, p: WatchdogParams): Fault | undefined {
  const a = prev.pose?.pose?.position, b = cur.pose?.pose?.position;
  if (!a || !b) return undefined;
  const distanceM = Math.hypot(b.x - a.x, b.y - a.y, b.z - a.z);
  if (!Number.isFinite(distanceM)) return undefined;
  const rawDt = stampToSeconds(cur.header.stamp) - stampToSeconds(prev.header.stamp);
  const dtS = Number.isFinite(rawDt) && rawDt > 0 ? rawDt : 0;
  const speeds = [prev.twist.twist.linear.x, cur.twist.twist.linear.x].filter(Number.isFinite).map(Math.abs);
  const speed = speeds.length ? Math.max(...speeds) : 0;
  const explainedM = speed * dtS;
  if (distanceM <= explainedM + p.odometry_max_jump_m) return undefined;
  return { name: 'odometry_jump', message: `odometry position jumped ${fmt(distanceM)} m in ${fmt(rawDt, 3)} s `
    + `(speed ${fmt(speed)} m/s explains ${fmt(explainedM)} m, odometry_max_jump_m ${fmt(p.odometry_max_jump_m)} m)` };
}

const odometryMonitor: Monitor = (i, nowS, p) => {
  const jump = i.odometryJump;
  const reports = odometryReport(i, nowS, p);
  return jump ? reports.map((r) => bad(r.name, DIAG_LEVEL.error, [...r.faults, jump], r.values)) : reports;
};

const odometryReport: Monitor = (i, nowS, p) => {
  const report = stampAge('odometry', 'odometry', i.odometry?.msg.header, nowS, p.odometry_stale_s, 'odometry_stale_s', p,
    { missing: 'odometry_missing', stale: 'odometry_stale' });
  const v = i.odometry?.msg.twist.twist.linear.x;
  if (v === undefined || Number.isFinite(v)) {
    return [v === undefined || report.level !== DIAG_LEVEL.ok ? report
      : ok('odometry', `${report.message}, speed ${fmt(v)} m/s`, [...report.values, { key: 'speed_mps', value: fmt(v, 3) }])];
  }
  return [bad('odometry', DIAG_LEVEL.error, [...report.faults, { name: 'odometry_invalid', message: `odometry speed is ${v}` }], report.values)];
};

const cameraMonitor: Monitor = (i, nowS, p) => p.cameras.topics.map((topic) =>
  stampAge(`camera ${topic}`, `camera ${topic}`, i.cameras.get(topic)?.msg.header, nowS, p.camera_stale_s, 'camera_stale_s', p,
    { missing: 'camera_missing', stale: 'camera_stale' }));

/** True when a plan's timing breaks the budget: too slow, not finite, or an engine error. */
export function overBudget(t: PlannerTiming, budgetMs: number): boolean {
  return t.error !== '' || !(t.total_ms <= budgetMs) || !(t.latency_ms <= budgetMs);
}

const planningMonitor: Monitor = (i, _nowS, p) => {
  const { budget_ms, max_over_budget, window } = p.planning_budget;
  const recent = i.timings.slice(-window);
  const over = recent.filter((t) => overBudget(t.msg, budget_ms)).length;
  const values = [{ key: 'over_budget', value: `${over}/${recent.length}` }];
  if (over >= max_over_budget) {
    const last = recent[recent.length - 1]!.msg;
    return [bad('planning', DIAG_LEVEL.error, [{ name: 'planning_over_budget', message:
      `${over} of the last ${recent.length} plans over budget_ms ${fmt(budget_ms, 0)} ms (last total ${fmt(last.total_ms, 0)} ms, latency ${fmt(last.latency_ms, 0)} ms${last.error ? `, error "${last.error}"` : ''})` }], values)];
  }
  const msg = recent.length ? `${over} of the last ${recent.length} plans over budget` : 'no timing received yet';
  return [{ name: 'planning', level: over > 0 ? DIAG_LEVEL.warn : DIAG_LEVEL.ok, message: msg, values, faults: [] }];
};

/** Every monitor, in report order. Adding a monitor never touches the state machine. */
export const MONITORS: readonly Monitor[] = [clockMonitor, planMonitor, commandMonitor, odometryMonitor, cameraMonitor, planningMonitor];

/**
 * The times [s, node clock] at which an input's deadline passes (plan t0 + max_plan_age_s, command receipt +
 * command_gap_s, odometry stamp + odometry_stale_s, camera stamp + camera_stale_s), for the node's deadline timer.
 * Only finite ones; the monitors fault once now is strictly past them.
 */
export function pendingDeadlines(i: WatchdogInputs, p: WatchdogParams): number[] {
  const out: number[] = [];
  const push = (d: number) => { if (Number.isFinite(d)) out.push(d); };
  if (i.command) push(i.command.receivedS + p.command_gap_s);
  if (i.trajectory) push(stampToSeconds(i.trajectory.msg.header.stamp) + p.max_plan_age_s);
  if (i.odometry) push(stampToSeconds(i.odometry.msg.header.stamp) + p.odometry_stale_s);
  for (const topic of p.cameras.topics) {
    const c = i.cameras.get(topic);
    if (c) push(stampToSeconds(c.msg.header.stamp) + p.camera_stale_s);
  }
  return out;
}

export function runMonitors(inputs: WatchdogInputs, nowS: number, p: WatchdogParams): MonitorReport[] {
  return MONITORS.flatMap((m) => m(inputs, nowS, p));
}
