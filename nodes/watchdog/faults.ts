/**
 * Named faults, as openpilot's events.py names its events: monitors raise them, the state machine only sees
 * "some fault is active", and emergency.faults picks which of them select the stronger braking profile.
 */
export const FAULT_NAMES = [
  'clock_zero',
  'plan_missing', 'plan_stale', 'plan_invalid',
  'command_missing', 'command_gap', 'command_invalid',
  'odometry_missing', 'odometry_stale', 'odometry_invalid', 'odometry_jump',
  'camera_missing', 'camera_stale',
  'planning_over_budget',
  'stamp_in_future',
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
