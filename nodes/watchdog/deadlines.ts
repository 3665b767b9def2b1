/**
 * The watchdog's input deadlines (staleness by stamp on ROS time and by receipt on the steady clock, and receipt
 * rates): listed for tests and logs (pendingDeadlines), and checked on every receipt by the deadline timer
 * (deadlineStatus), which builds no list and no text.
 */
import { stampToSeconds } from '../core/time.js';
import { RECEIPT_EPS_S, type TickClocks, type WatchdogInputs } from './inputs.js';
import type { WatchdogParams } from './params.js';
import { rateDeadline, rateInputs } from './rateInputs.js';

/** An input deadline: when it passes, on which clock, and for what. */
export interface Deadline {
  readonly atS: number;
  readonly clock: 'ros' | 'steady';
  readonly what: string;
}

/**
 * The deadlines of the latest inputs, for the node's deadline timer: on ROS time, plan t0 + max_plan_age_s, odometry
 * stamp + odometry_stale_s, camera stamp + camera_stale_s; on the steady clock, command receipt + command_gap_s and
 * the moment each monitored receipt rate would fall below its minimum. Only finite ones; the monitors fault once the
 * clock is strictly past them.
 */
export function pendingDeadlines(i: WatchdogInputs, p: WatchdogParams): Deadline[] {
  const out: Deadline[] = [];
  visitDeadlines(i, p, (atS, clock, what, cameraTopic) =>
    out.push({ atS, clock, what: cameraTopic === undefined ? what : `camera ${cameraTopic} ${what}` }),
  );
  return out;
}

/**
 * Visits each finite input deadline of pendingDeadlines, in its order, with what it is for: the whole text, or for a
 * camera the text after "camera <topic> " (so that deadlineStatus, run on every receipt, builds no text and no list).
 */
function visitDeadlines(
  i: WatchdogInputs,
  p: WatchdogParams,
  visit: (atS: number, clock: Deadline['clock'], what: string, cameraTopic?: string) => void,
): void {
  const push = (atS: number | undefined, clock: Deadline['clock'], what: string, cameraTopic?: string) => {
    if (atS !== undefined && Number.isFinite(atS)) visit(atS, clock, what, cameraTopic);
  };
  if (i.command) push(i.command.receivedS + p.command_gap_s, 'steady', 'command gap');
  if (i.trajectory) push(stampToSeconds(i.trajectory.msg.header.stamp) + p.max_plan_age_s, 'ros', 'plan age');
  if (i.odometry) push(stampToSeconds(i.odometry.msg.header.stamp) + p.odometry_stale_s, 'ros', 'odometry age');
  for (const topic of p.cameras.topics) {
    const c = i.cameras.get(topic);
    if (c) push(stampToSeconds(c.msg.header.stamp) + p.camera_stale_s, 'ros', 'age', topic);
  }
  // The same inputs by receipt, on the steady clock (a frozen ROS time cannot keep a stopped input looking fresh).
  if (i.trajectory) push(i.trajectory.receivedS + p.max_plan_age_s + RECEIPT_EPS_S, 'steady', 'plan receipt');
  if (i.odometry) push(i.odometry.receivedS + p.odometry_stale_s + RECEIPT_EPS_S, 'steady', 'odometry receipt');
  for (const topic of p.cameras.topics) {
    const c = i.cameras.get(topic);
    if (c) push(c.receivedS + p.camera_stale_s + RECEIPT_EPS_S, 'steady', 'receipt', topic);
  }
  for (const r of rateInputs(p)) push(rateDeadline(i, r.key, r.minHz, p), 'steady', r.what, r.cameraTopic);
}

/** Seconds from now until a deadline passes (negative once it has), on its own clock. */
const secondsUntil = (atS: number, clock: Deadline['clock'], clocks: Pick<TickClocks, 'rosS' | 'steadyS'>): number =>
  atS - (clock === 'ros' ? clocks.rosS : clocks.steadyS);

/**
 * For the deadline timer: whether any pending deadline has passed, and the seconds until the earliest one that has
 * not (Infinity when there is none).
 */
export function deadlineStatus(
  i: WatchdogInputs,
  p: WatchdogParams,
  clocks: Pick<TickClocks, 'rosS' | 'steadyS'>,
): { passed: boolean; nextS: number } {
  let nextS = Number.POSITIVE_INFINITY;
  let passed = false;
  visitDeadlines(i, p, (atS, clock) => {
    const s = secondsUntil(atS, clock, clocks);
    if (s < 0) passed = true;
    else if (s < nextS) nextS = s;
  });
  return { passed, nextS };
}
