/**
 * What the watchdog has received: the latest input of each kind with its receipt time on the steady clock, the
 * receipts kept for the frequency liveness check, and the odometry track for the pose-derived speed. Monitors read
 * only this and the current time.
 */
import type { Header, Odometry, PlannerTiming, Trajectory, UnicycleCommand } from '../core/msgs.js';
import type { Fault } from './faults.js';
import type { RateInput, WatchdogParams } from './params.js';

/** A message with the time it was received on the watchdog's STEADY clock [s] (not ROS time: see TickClocks). */
export interface Received<M> {
  readonly msg: M;
  readonly receivedS: number;
}

/**
 * The two clocks of one tick. Stamps (plan t0, odometry and camera header stamps) are judged against ROS time;
 * liveness (receipt gaps, receipt rates, the loop's own period) against the steady clock, which never steps, so a
 * ROS time step backward cannot hide a stopped input. prev* are the previous tick's readings (undefined at the first).
 */
export interface TickClocks {
  readonly rosS: number;
  readonly steadyS: number;
  readonly prevRosS?: number | undefined;
  readonly prevSteadyS?: number | undefined;
}

/**
 * [s] slack on receipt-gap limits: float seconds at epoch scale (1.7e9 s) resolve about 0.2 µs, so an input arriving
 * exactly every limit (10 Hz odometry against odometry_stale_s 0.1 in a simulator) reads 0.1000001 s apart.
 */
export const RECEIPT_EPS_S = 1e-6;

/** An odometry position with its header stamp [s], for the pose-derived speed. */
export interface TrackPoint {
  readonly t: number;
  readonly x: number;
  readonly y: number;
  readonly z: number;
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
  /** Consistency verdicts of the plans' reasoning (consistencyMonitor.ts), from /ar1/reasoning. */
  reasoning?: ConsistencyTrack;
  /** Steady receipt times per rate-monitored input (rateKey), newest last, at most rateCount of them. */
  receipts: Map<string, number[]>;
  /** Steady time of the first receipt per rate-monitored input. */
  firstReceiptS: Map<string, number>;
  /** Recent odometry positions by stamp, oldest first, spanning about pose_speed_window_s (see trackOdometry). */
  odometryTrack: TrackPoint[];
  /** Odometry positions moving while their stamps stand still (a frozen clock): set by trackOdometry, cleared when stamps advance. */
  odometryStalled?: Fault;
  /**
   * A ROS time step backward seen at a receipt, held by the node until a tick has reported it (by the time that tick
   * runs, ROS time may have caught up with the value it stepped back from).
   */
  clockStepBack?: Fault;
}

export const emptyInputs = (): WatchdogInputs => ({
  timings: [],
  cameras: new Map(),
  receipts: new Map(),
  firstReceiptS: new Map(),
  odometryTrack: [],
});

/** Key of a rate-monitored input in WatchdogInputs.receipts: "command", "trajectory", "odometry", "camera <topic>". */
export const rateKey = (input: Exclude<RateInput, 'cameras'> | { camera: string }): string =>
  typeof input === 'string' ? input : `camera ${input.camera}`;

/** Receipts an input needs in every rate_window_s: ceil(min_rate_hz × rate_window_s); 0 = not monitored. */
export function rateCount(minRateHz: number, p: WatchdogParams): number {
  return minRateHz > 0 ? Math.max(1, Math.ceil(minRateHz * p.rate_window_s - 1e-9)) : 0;
}

/** Records a receipt for the frequency liveness check (keeps only the last rateCount receipts: bounded memory). */
export function recordReceipt(
  i: WatchdogInputs,
  key: string,
  steadyS: number,
  minRateHz: number,
  p: WatchdogParams,
): void {
  const n = rateCount(minRateHz, p);
  if (n === 0) return;
  if (!i.firstReceiptS.has(key)) i.firstReceiptS.set(key, steadyS);
  let list = i.receipts.get(key);
  if (!list) i.receipts.set(key, (list = []));
  list.push(steadyS);
  if (list.length > n) list.splice(0, list.length - n);
}

/** The watchdog's running record of the planner's reasoning–action consistency verdicts. */
export interface ConsistencyTrack {
  /** Inconsistent plans in a row (not-assessable plans skipped). */
  consecutive: number;
  /** Verdicts received, by kind. */
  counts: { consistent: number; inconsistent: number; not_assessable: number };
  /** The latest inconsistent plan: its t0 [s] and the verdict's detail. */
  lastInconsistent?: { t0S: number; detail: string };
}
