/**
 * Named faults, as openpilot's events.py names its events: monitors raise them, the state machine only sees
 * "some fault is active", and emergency.faults picks which of them select the stronger braking profile.
 */
export const FAULT_NAMES = [
  'clock_zero',
  'clock_backward',
  'loop_lag',
  'plan_missing',
  'plan_stale',
  'plan_invalid',
  'plan_slow',
  'command_missing',
  'command_gap',
  'command_invalid',
  'command_slow',
  'odometry_missing',
  'odometry_stale',
  'odometry_invalid',
  'odometry_jump',
  'odometry_slow',
  'speed_mismatch',
  'camera_missing',
  'camera_stale',
  'camera_slow',
  'planning_over_budget',
  'stamp_in_future',
  'reasoning_inconsistent',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** One active fault: its name and a one-line message with the values, e.g. "plan age 0.73 s exceeds …". */
export interface Fault {
  readonly name: FaultName;
  readonly message: string;
}

/** diagnostic_msgs/DiagnosticStatus levels. */
export const DIAG_LEVEL = { ok: 0, warn: 1, error: 2, stale: 3 } as const;
export type DiagLevel = (typeof DIAG_LEVEL)[keyof typeof DIAG_LEVEL];

/** Formats a number with fixed decimals for messages; non-finite values print as they are. */
export const fmt = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

/**
 * A measured value and the limit it broke, with enough decimals (at least minDigits, at most 9) that the two printed
 * numbers differ, so a message always shows the excess: "0.104 s exceeds … 0.100 s", never "0.10 s exceeds … 0.10 s".
 */
export function fmtPair(value: number, limit: number, minDigits = 3): [string, string] {
  let d = minDigits;
  while (
    d < 9 &&
    Number.isFinite(value) &&
    Number.isFinite(limit) &&
    value !== limit &&
    value.toFixed(d) === limit.toFixed(d)
  )
    d++;
  return [fmt(value, d), fmt(limit, d)];
}

/** What one monitor found in a tick: its diagnostic status and the faults it raises. */
export interface MonitorReport {
  readonly name: string;
  readonly level: DiagLevel;
  readonly message: string;
  readonly values: ReadonlyArray<{ key: string; value: string }>;
  readonly faults: readonly Fault[];
}

type Values = MonitorReport['values'];
const NO_VALUES = (): Values => [];

/**
 * A monitor's report whose status text (message and values) is formatted when it is read, from values the monitor
 * captured at its tick (numbers and strings, never the inputs, which change afterwards). The monitors run on every
 * tick, but only /diagnostics reads the text, and it goes out on one tick in control_rate_hz / diagnostics_rate_hz
 * and on transitions; formatting every status on every tick was half of the watchdog's monitor time. The level and
 * the faults are made at once: their messages go out in every SafetyState and decide the transitions.
 * message and values are own enumerable getters, so each read formats them again, to the same text, and a spread,
 * structuredClone, JSON or deep equality of the report sees them as plain properties.
 */
function lazyReport(
  name: string,
  level: DiagLevel,
  faults: readonly Fault[],
  message: () => string,
  values: () => Values,
): MonitorReport {
  return {
    name,
    level,
    faults,
    get message() {
      return message();
    },
    get values() {
      return values();
    },
  };
}

/** A report with no fault at the given level (OK, or WARN for a warning that does not stop the vehicle). */
export const okReport = (
  name: string,
  message: () => string,
  values: () => Values = NO_VALUES,
  level: DiagLevel = DIAG_LEVEL.ok,
): MonitorReport => lazyReport(name, level, [], message, values);

/** A report that raises faults (level ERROR or STALE): its message is the faults' messages joined with "; ". */
export const badReport = (
  name: string,
  level: DiagLevel,
  faults: readonly Fault[],
  values: () => Values = NO_VALUES,
): MonitorReport => lazyReport(name, level, faults, () => faults.map((f) => f.message).join('; '), values);
