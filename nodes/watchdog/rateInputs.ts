/**
 * The inputs whose receipt rate the watchdog judges (openpilot's "freq_ok"), and when each one's rate fails. Shared
 * by the rate monitor, which runs on every tick, and the deadline timer, which runs on every receipt; the list is
 * built once per parameters object.
 */
import type { Fault } from './faults.js';
import { rateCount, rateKey, type WatchdogInputs } from './inputs.js';
import type { WatchdogParams } from './params.js';

/** A rate-monitored input: its receipts key, label, min_rate_hz key, min rate, fault, and its deadline's text. */
interface RateInput {
  key: string;
  label: string;
  param: string;
  minHz: number;
  fault: Fault['name'];
  /** pendingDeadlines' text: the whole text, or for a camera the text after "camera <topic> ". */
  what: string;
  cameraTopic?: string;
}

/** rateInputs by parameters: the monitors and deadlineStatus ask on every tick and receipt; parameters never change. */
const rateInputsOf = new WeakMap<WatchdogParams, readonly RateInput[]>();

/** The rate-monitored inputs of these parameters, in report order (built once per parameters object). */
export function rateInputs(p: WatchdogParams): readonly RateInput[] {
  const known = rateInputsOf.get(p);
  if (known) return known;
  const m = p.min_rate_hz;
  const list: RateInput[] = [
    {
      key: rateKey('command'),
      label: 'command',
      param: 'min_rate_hz.command',
      minHz: m.command,
      fault: 'command_slow',
      what: 'command rate',
    },
    {
      key: rateKey('trajectory'),
      label: 'plan',
      param: 'min_rate_hz.trajectory',
      minHz: m.trajectory,
      fault: 'plan_slow',
      what: 'plan rate',
    },
    {
      key: rateKey('odometry'),
      label: 'odometry',
      param: 'min_rate_hz.odometry',
      minHz: m.odometry,
      fault: 'odometry_slow',
      what: 'odometry rate',
    },
    ...p.cameras.topics.map((topic): RateInput => ({
      key: rateKey({ camera: topic }),
      label: `camera ${topic}`,
      param: 'min_rate_hz.cameras',
      minHz: m.cameras,
      fault: 'camera_slow',
      what: 'rate',
      cameraTopic: topic,
    })),
  ];
  const judged = list.filter((r) => rateCount(r.minHz, p) > 0);
  rateInputsOf.set(p, judged);
  return judged;
}

/** Steady time [s] at which an input's receipt rate fails, or undefined when it is not yet judged (never received). */
export function rateDeadline(i: WatchdogInputs, key: string, minHz: number, p: WatchdogParams): number | undefined {
  const first = i.firstReceiptS.get(key);
  if (first === undefined) return undefined;
  const n = rateCount(minHz, p);
  const list = i.receipts.get(key) ?? [];
  return (list.length >= n ? list[list.length - n]! : first) + p.rate_window_s;
}
