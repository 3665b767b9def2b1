import type { Header, Odometry, PlannerTiming, Trajectory } from '../core/msgs.js';
import { stampToSeconds } from '../core/time.js';
import {
  badReport as bad,
  DIAG_LEVEL,
  fmt,
  fmtPair,
  okReport as ok,
  type Fault,
  type MonitorReport,
} from './faults.js';
import type { WatchdogParams } from './params.js';
import { rateDeadline, rateInputs } from './rateInputs.js';
import { consistencyMonitor } from './consistencyMonitor.js';
import { speedMismatchOf } from './egoSpeed.js';
import { RECEIPT_EPS_S, rateCount, type Received, type TickClocks, type WatchdogInputs } from './inputs.js';

/** The report of one monitor: a diagnostic status and the faults it raises (an ERROR/STALE status has ≥ 1). */
type Monitor = (inputs: WatchdogInputs, clocks: TickClocks, p: WatchdogParams) => MonitorReport[];

/**
 * Age of a stamped input against its deadline: missing, in the future, stale, or fresh. Stale is judged twice: the
 * header stamp against ROS time, and the receipt time against the steady clock (an input that stopped arriving is
 * stale even while a frozen ROS time keeps its stamp looking new).
 */
function stampAge(
  name: string,
  label: string,
  rec: Received<{ header: Header }> | undefined,
  clocks: TickClocks,
  maxAgeS: number,
  maxKey: string,
  p: WatchdogParams,
  faults: { missing: Fault['name']; stale: Fault['name'] },
): MonitorReport {
  if (!rec) return bad(name, DIAG_LEVEL.stale, [{ name: faults.missing, message: `no ${label} received yet` }]);
  const byStamp = stampAgeOf(name, label, rec.msg.header, clocks.rosS, maxAgeS, maxKey, p, faults);
  const gap = clocks.steadyS - rec.receivedS;
  if (byStamp.faults.length || !(gap > maxAgeS + RECEIPT_EPS_S)) return byStamp;
  const [g, m] = fmtPair(gap, maxAgeS);
  return bad(
    name,
    DIAG_LEVEL.error,
    [{ name: faults.stale, message: `${label} not received for ${g} s (steady clock), exceeds ${maxKey} ${m} s` }],
    () => [...byStamp.values, { key: 'receipt_gap_s', value: fmt(gap, 3) }],
  );
}

/** The header stamp's age against ROS time: in the future, stale, or fresh. */
function stampAgeOf(
  name: string,
  label: string,
  header: Header,
  nowS: number,
  maxAgeS: number,
  maxKey: string,
  p: WatchdogParams,
  faults: { missing: Fault['name']; stale: Fault['name'] },
): MonitorReport {
  const age = nowS - stampToSeconds(header.stamp);
  const values = () => [{ key: 'age_s', value: fmt(age, 3) }];
  if (!Number.isFinite(age)) {
    return bad(
      name,
      DIAG_LEVEL.error,
      [{ name: faults.stale, message: `${label} age is ${age} (stamp not finite)` }],
      values,
    );
  }
  if (age < -p.max_future_stamp_s) {
    return bad(
      name,
      DIAG_LEVEL.error,
      [
        {
          name: 'stamp_in_future',
          message: `${label} stamp ${fmt(-age)} s ahead of now exceeds max_future_stamp_s ${fmt(p.max_future_stamp_s)} s (clock mismatch)`,
        },
      ],
      values,
    );
  }
  if (age > maxAgeS) {
    const [a, m] = fmtPair(age, maxAgeS);
    return bad(
      name,
      DIAG_LEVEL.error,
      [{ name: faults.stale, message: `${label} age ${a} s exceeds ${maxKey} ${m} s` }],
      values,
    );
  }
  return ok(name, () => `${label} age ${fmt(age, 3)} s`, values);
}

/** Every field of a plan point is finite (the monitor's fast path; the loop below names the first that is not). */
const finitePoint = (pt: Trajectory['points'][number]): boolean =>
  Number.isFinite(pt.t) &&
  Number.isFinite(pt.x) &&
  Number.isFinite(pt.y) &&
  Number.isFinite(pt.heading) &&
  Number.isFinite(pt.speed) &&
  Number.isFinite(pt.acceleration) &&
  Number.isFinite(pt.curvature);

/** Why a trajectory breaks the AR1 contract, or undefined when it is valid. */
function trajectoryProblem(t: Trajectory, p: WatchdogParams): string | undefined {
  if (t.points.length !== p.trajectory_points)
    return `plan has ${t.points.length} points, expected ${p.trajectory_points}`;
  if (!(Math.abs(t.dt - p.trajectory_dt_s) <= 1e-6)) return `plan dt ${t.dt} s, expected ${p.trajectory_dt_s} s`;
  if (!Number.isFinite(t.initial_speed)) return `plan initial_speed is ${t.initial_speed}`;
  if (t.points.every(finitePoint)) return undefined;
  for (let i = 0; i < t.points.length; i++) {
    const pt = t.points[i]!;
    for (const k of ['t', 'x', 'y', 'heading', 'speed', 'acceleration', 'curvature'] as const) {
      if (!Number.isFinite(pt[k])) return `plan point ${i} ${k} is ${pt[k]}`;
    }
  }
  return undefined;
}

/** The clock_backward fault of a step from fromS to toS. */
export function clockStepBackOf(fromS: number, toS: number): Fault {
  const [a, b] = fmtPair(toS, fromS);
  return { name: 'clock_backward', message: `ROS time stepped back ${fmt(fromS - toS, 3)} s (from ${b} s to ${a} s)` };
}

const clockMonitor: Monitor = (i, { rosS: nowS, prevRosS }) => {
  const faults: Fault[] = [];
  if (!(Number.isFinite(nowS) && nowS > 0))
    faults.push({ name: 'clock_zero', message: `ROS time is ${nowS} s (sim clock not started: no /clock yet)` });
  if (prevRosS !== undefined && nowS < prevRosS) faults.push(clockStepBackOf(prevRosS, nowS));
  else if (i.clockStepBack) faults.push(i.clockStepBack);
  return [faults.length ? bad('clock', DIAG_LEVEL.error, faults) : ok('clock', () => `ROS time ${fmt(nowS, 3)} s`)];
};

/** The watchdog's own loop: a tick later than one control period + max_loop_lag_s after the previous one. */
const loopMonitor: Monitor = (_i, { steadyS, prevSteadyS }, p) => {
  if (prevSteadyS === undefined) return [ok('loop', () => 'first tick')];
  const interval = steadyS - prevSteadyS;
  const values = () => [{ key: 'interval_s', value: fmt(interval, 4) }];
  const allowed = 1 / p.control_rate_hz + p.max_loop_lag_s;
  if (interval > allowed) {
    const [a, m] = fmtPair(interval, allowed);
    return [
      bad(
        'loop',
        DIAG_LEVEL.error,
        [
          {
            name: 'loop_lag',
            message: `control loop lagging: ${a} s between ticks exceeds 1/control_rate_hz + max_loop_lag_s ${m} s`,
          },
        ],
        values,
      ),
    ];
  }
  return [ok('loop', () => `tick interval ${fmt(interval, 4)} s`, values)];
};

const planMonitor: Monitor = (i, clocks, p) => {
  const report = stampAge('plan', 'plan', i.trajectory, clocks, p.max_plan_age_s, 'max_plan_age_s', p, {
    missing: 'plan_missing',
    stale: 'plan_stale',
  });
  const problem = i.trajectory && trajectoryProblem(i.trajectory.msg, p);
  if (!problem) return [report];
  return [
    bad('plan', DIAG_LEVEL.error, [...report.faults, { name: 'plan_invalid', message: problem }], () => report.values),
  ];
};

const commandMonitor: Monitor = (i, { steadyS }, p) => {
  const c = i.command;
  if (!c)
    return [
      bad('command', DIAG_LEVEL.stale, [{ name: 'command_missing', message: 'no planner command received yet' }]),
    ];
  const gap = steadyS - c.receivedS; // receipt gap on the steady clock: a ROS time step cannot hide a stopped stream
  const values = () => [{ key: 'gap_s', value: fmt(gap, 3) }];
  const faults: Fault[] = [];
  if (!(gap <= p.command_gap_s)) {
    const [g, m] = fmtPair(gap, p.command_gap_s);
    faults.push({ name: 'command_gap', message: `command gap ${g} s exceeds command_gap_s ${m} s` });
  }
  for (const k of ['acceleration', 'curvature', 'speed'] as const) {
    if (!Number.isFinite(c.msg[k]))
      faults.push({ name: 'command_invalid', message: `planner command ${k} is ${c.msg[k]}` });
  }
  return [
    faults.length
      ? bad('command', DIAG_LEVEL.error, faults, values)
      : ok('command', () => `command gap ${fmt(gap, 3)} s`, values),
  ];
};

/**
 * An odometry position step that the reported speed cannot explain: |Δposition| > max(|v_prev|, |v_cur|)·Δt +
 * odometry_max_jump_m, with Δt the stamp difference (a stamp going backwards or not finite explains nothing: Δt = 0).
 * Undefined when plausible or when a position is not finite (nothing to compare).
 */
export function odometryJumpOf(prev: Odometry, cur: Odometry, p: WatchdogParams): Fault | undefined {
  const a = prev.pose?.pose?.position,
    b = cur.pose?.pose?.position;
  if (!a || !b) return undefined;
  const distanceM = Math.hypot(b.x - a.x, b.y - a.y, b.z - a.z);
  if (!Number.isFinite(distanceM)) return undefined;
  const rawDt = stampToSeconds(cur.header.stamp) - stampToSeconds(prev.header.stamp);
  const dtS = Number.isFinite(rawDt) && rawDt > 0 ? rawDt : 0;
  const speeds = [prev.twist.twist.linear.x, cur.twist.twist.linear.x].filter(Number.isFinite).map(Math.abs);
  const speed = speeds.length ? Math.max(...speeds) : 0;
  const explainedM = speed * dtS;
  if (distanceM <= explainedM + p.odometry_max_jump_m) return undefined;
  return {
    name: 'odometry_jump',
    message:
      `odometry position jumped ${fmt(distanceM)} m in ${fmt(rawDt, 3)} s ` +
      `(speed ${fmt(speed)} m/s explains ${fmt(explainedM)} m, odometry_max_jump_m ${fmt(p.odometry_max_jump_m)} m)`,
  };
}

const odometryMonitor: Monitor = (i, clocks, p) => {
  const extra = [i.odometryJump, i.odometryStalled, speedMismatchOf(i, clocks.rosS, p, clocks.steadyS)].filter(
    (f): f is Fault => f !== undefined,
  );
  const reports = odometryReport(i, clocks, p);
  return extra.length
    ? reports.map((r) => bad(r.name, DIAG_LEVEL.error, [...r.faults, ...extra], () => r.values))
    : reports;
};

const odometryReport: Monitor = (i, clocks, p) => {
  const report = stampAge('odometry', 'odometry', i.odometry, clocks, p.odometry_stale_s, 'odometry_stale_s', p, {
    missing: 'odometry_missing',
    stale: 'odometry_stale',
  });
  const v = i.odometry?.msg.twist.twist.linear.x;
  if (v === undefined || Number.isFinite(v)) {
    return [
      v === undefined || report.level !== DIAG_LEVEL.ok
        ? report
        : ok(
            'odometry',
            () => `${report.message}, speed ${fmt(v)} m/s`,
            () => [...report.values, { key: 'speed_mps', value: fmt(v, 3) }],
          ),
    ];
  }
  return [
    bad(
      'odometry',
      DIAG_LEVEL.error,
      [...report.faults, { name: 'odometry_invalid', message: `odometry speed is ${v}` }],
      () => report.values,
    ),
  ];
};

const cameraMonitor: Monitor = (i, clocks, p) =>
  p.cameras.topics.map((topic) =>
    stampAge(
      `camera ${topic}`,
      `camera ${topic}`,
      i.cameras.get(topic),
      clocks,
      p.camera_stale_s,
      'camera_stale_s',
      p,
      { missing: 'camera_missing', stale: 'camera_stale' },
    ),
  );

/** True when a plan's timing breaks the budget: too slow, not finite, or an engine error. */
function overBudget(t: PlannerTiming, budgetMs: number): boolean {
  return t.error !== '' || !(t.total_ms <= budgetMs) || !(t.latency_ms <= budgetMs);
}

const planningMonitor: Monitor = (i, _nowS, p) => {
  const { budget_ms, max_over_budget, window } = p.planning_budget;
  const recent = i.timings.slice(-window);
  const over = recent.filter((t) => overBudget(t.msg, budget_ms)).length;
  const n = recent.length;
  const values = () => [{ key: 'over_budget', value: `${over}/${n}` }];
  if (over >= max_over_budget) {
    const last = recent[recent.length - 1]!.msg;
    return [
      bad(
        'planning',
        DIAG_LEVEL.error,
        [
          {
            name: 'planning_over_budget',
            message: `${over} of the last ${recent.length} plans over budget_ms ${fmt(budget_ms, 0)} ms (last total ${fmt(last.total_ms, 0)} ms, latency ${fmt(last.latency_ms, 0)} ms${last.error ? `, error "${last.error}"` : ''})`,
          },
        ],
        values,
      ),
    ];
  }
  const msg = () => (n ? `${over} of the last ${n} plans over budget` : 'no timing received yet');
  return [ok('planning', msg, values, over > 0 ? DIAG_LEVEL.warn : DIAG_LEVEL.ok)];
};

/** How many receipt times are after afterS (a count without a filtered copy: the monitors run every tick). */
function receiptsSince(list: readonly number[] | undefined, afterS: number): number {
  let count = 0;
  if (list) for (const t of list) if (t > afterS) count++;
  return count;
}

/**
 * Frequency liveness (openpilot's "freq_ok"): an input that arrives, but too slowly, is a fault. Fewer than
 * ceil(min_rate_hz × rate_window_s) receipts in the last rate_window_s of the steady clock, once the input has been
 * received for rate_window_s. A stream that stops entirely is caught earlier by its staleness deadline.
 */
const rateMonitor: Monitor = (i, { steadyS }, p) =>
  rateInputs(p).map(({ key, label, param, minHz, fault }) => {
    const deadline = rateDeadline(i, key, minHz, p);
    const count = receiptsSince(i.receipts.get(key), steadyS - p.rate_window_s);
    const n = rateCount(minHz, p);
    const values = () => [{ key: 'count', value: String(count) }];
    if (deadline === undefined || !(steadyS > deadline)) {
      const windowS = p.rate_window_s;
      const sinceFirstS = steadyS - (i.firstReceiptS.get(key) ?? Number.NaN);
      const message = () =>
        deadline === undefined
          ? 'not received yet'
          : count >= n
            ? `at least ${n} in the last ${fmt(windowS)} s`
            : `${count} since the first receipt ${fmt(sinceFirstS, 3)} s ago`;
      return ok(`rate ${label}`, message, values);
    }
    const [hz, min] = fmtPair(count / p.rate_window_s, minHz, 1);
    return bad(
      `rate ${label}`,
      DIAG_LEVEL.error,
      [
        {
          name: fault,
          message: `${label} rate ${hz} Hz (${count} in the last ${fmt(p.rate_window_s)} s) below ${param} ${min} Hz`,
        },
      ],
      values,
    );
  });

/** Every monitor, in report order. Adding a monitor never touches the state machine. */
const MONITORS: readonly Monitor[] = [
  clockMonitor,
  loopMonitor,
  planMonitor,
  commandMonitor,
  odometryMonitor,
  cameraMonitor,
  planningMonitor,
  rateMonitor,
  consistencyMonitor,
];

/** Runs every monitor. clocks may be a plain ROS time (then the steady clock reads the same, and no previous tick). */
export function runMonitors(inputs: WatchdogInputs, clocks: TickClocks | number, p: WatchdogParams): MonitorReport[] {
  const c: TickClocks = typeof clocks === 'number' ? { rosS: clocks, steadyS: clocks } : clocks;
  const out: MonitorReport[] = [];
  for (const m of MONITORS) for (const r of m(inputs, c, p)) out.push(r); // a loop: flatMap was slow in V8 (every tick)
  return out;
}
