/**
 * What the watchdog does with an accepted input message (its shape already checked): store it in WatchdogInputs
 * with its steady receipt time and record the receipt for the rate check. Odometry is also judged for a position
 * jump and added to the track for the pose-derived speed; timings keep the last planning_budget.window.
 */
import type { Header, Odometry, PlannerTiming, Reasoning, Trajectory, UnicycleCommand } from '../core/msgs.js';
import { noteReasoning } from './consistencyMonitor.js';
import { trackOdometry } from './egoSpeed.js';
import type { Fault } from './faults.js';
import { rateKey, recordReceipt, type WatchdogInputs } from './inputs.js';
import { odometryJumpOf } from './monitors.js';
import type { WatchdogParams } from './params.js';

/** An input message, tagged by what it is (a camera also by its topic). */
export type WatchdogMessage =
  | { readonly kind: 'command'; readonly msg: UnicycleCommand }
  | { readonly kind: 'trajectory'; readonly msg: Trajectory }
  | { readonly kind: 'timing'; readonly msg: PlannerTiming }
  | { readonly kind: 'odometry'; readonly msg: Odometry }
  | { readonly kind: 'camera'; readonly topic: string; readonly msg: { header: Header } }
  | { readonly kind: 'reasoning'; readonly msg: Reasoning };

/**
 * Stores an accepted message received at steadyS [s] on the steady clock. Returns an odometry position jump seen
 * for the first time (the node logs it once); the jump is held in i.odometryJump until a tick has reported it with
 * the vehicle stopped (controlTick), and the pose-derived speed never spans it.
 */
export function receive(i: WatchdogInputs, m: WatchdogMessage, steadyS: number, p: WatchdogParams): Fault | undefined {
  let newJump: Fault | undefined;
  switch (m.kind) {
    case 'command':
      i.command = { msg: m.msg, receivedS: steadyS };
      recordReceipt(i, rateKey('command'), steadyS, p.min_rate_hz.command, p);
      break;
    case 'trajectory':
      i.trajectory = { msg: m.msg, receivedS: steadyS };
      recordReceipt(i, rateKey('trajectory'), steadyS, p.min_rate_hz.trajectory, p);
      break;
    case 'timing':
      i.timings.push({ msg: m.msg, receivedS: steadyS });
      if (i.timings.length > p.planning_budget.window) i.timings.shift();
      break;
    case 'odometry': {
      const jump = i.odometry && odometryJumpOf(i.odometry.msg, m.msg, p);
      if (jump) i.odometryTrack.length = 0;
      if (jump && !i.odometryJump) newJump = i.odometryJump = jump;
      trackOdometry(i, m.msg, p);
      i.odometry = { msg: m.msg, receivedS: steadyS };
      recordReceipt(i, rateKey('odometry'), steadyS, p.min_rate_hz.odometry, p);
      break;
    }
    case 'camera':
      i.cameras.set(m.topic, { msg: m.msg, receivedS: steadyS });
      recordReceipt(i, rateKey({ camera: m.topic }), steadyS, p.min_rate_hz.cameras, p);
      break;
    case 'reasoning':
      noteReasoning(i, m.msg);
      break;
  }
  return newJump;
}
