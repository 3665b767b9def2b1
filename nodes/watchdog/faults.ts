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
