import { fileURLToPath } from 'node:url';
import { loadParameters, readSchema, ParameterError, originOf, type ParameterOverrides } from '../core/params/index.js';
import type { FaultName } from './faults.js';
import type { WatchdogParams } from './params.generated.js';

/** config/ar1_watchdog.schema.json, the single source of truth for keys, types, defaults, bounds and units. */
export const WATCHDOG_SCHEMA_PATH = fileURLToPath(new URL('../../config/ar1_watchdog.schema.json', import.meta.url));

/** Parameters of ar1_watchdog: the type generated from config/ar1_watchdog.schema.json (units in the key suffixes). */
export type { WatchdogParams };

/**
 * A braking profile: ramp from the last commanded acceleration to accel_mps2 (negative) with jerk_mps3 (negative;
 * its magnitude is used in both directions), and release_jerk_mps3 while the ramp leaves a positive acceleration.
 */
export type BrakeProfile = WatchdogParams['fallback'];

/** Inputs whose receipt rate is monitored (frequency liveness): the keys of min_rate_hz. */
export type RateInput = keyof WatchdogParams['min_rate_hz'];

/** Compile-time check: the schema's emergency.faults enum lists exactly the watchdog's fault names. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
type _EmergencyFaultsAreFaultNames = Holds<Same<WatchdogParams['emergency']['faults'][number], FaultName>>;

/** Speed-indexed limits: every array has one value per reference speed. */
export type LimitTables = WatchdogParams['limits'];

const LIMIT_ARRAY_KEYS = [
  'accel_max_mps2',
  'accel_min_mps2',
  'jerk_max_mps3',
  'curvature_max_pm',
  'lat_accel_mps2',
  'lat_jerk_mps3',
] as const satisfies ReadonlyArray<keyof LimitTables>;

let schemaCache: ReturnType<typeof readSchema> | undefined;

/**
 * Loads and checks the watchdog parameters: schema defaults, then the override sources, validated against the
 * schema, then cross-field checks (equal array lengths, increasing speeds, braking profiles inside the limits).
 * Errors are ParameterError with "<origin>: <key>: expected …, got …".
 */
export function loadWatchdogParams(overrides: ParameterOverrides, nodeName = 'ar1_watchdog'): WatchdogParams {
  schemaCache ??= readSchema(WATCHDOG_SCHEMA_PATH);
  const p = loadParameters<WatchdogParams>(nodeName, schemaCache, overrides);
  checkWatchdogParams(p, overrides, nodeName);
  return p;
}

/** Cross-field checks the schema cannot express; throws ParameterError naming origin, key, expected and got. */
function checkWatchdogParams(p: WatchdogParams, overrides: ParameterOverrides, nodeName = 'ar1_watchdog'): void {
  const fail = (path: string, expected: string, got: string): never => {
    const origin = originOf(overrides, path.split('.')) ?? `${nodeName} defaults`;
    throw new ParameterError(`${origin}: ${path}: expected ${expected}, got ${got}`);
  };
  const n = p.limits.reference_speed_mps.length;
  for (const key of LIMIT_ARRAY_KEYS) {
    const len = p.limits[key].length;
    if (len !== n) fail(`limits.${key}`, `${n} values (one per limits.reference_speed_mps)`, `${len}`);
  }
  p.limits.reference_speed_mps.forEach((v, i, a) => {
    if (i > 0 && !(v > a[i - 1]!))
      fail('limits.reference_speed_mps', 'strictly increasing speeds', `[${a.join(', ')}]`);
  });
  if (p.cameras.types.length !== p.cameras.topics.length) {
    fail('cameras.types', `${p.cameras.topics.length} values (one per cameras.topics)`, `${p.cameras.types.length}`);
  }
  const dupe = p.cameras.topics.find((t, i, a) => a.indexOf(t) !== i);
  if (dupe !== undefined) fail('cameras.topics', 'distinct topics', `"${dupe}" twice`);
  if (p.planning_budget.window < p.planning_budget.max_over_budget) {
    fail(
      'planning_budget.window',
      `a value >= planning_budget.max_over_budget (${p.planning_budget.max_over_budget})`,
      `${p.planning_budget.window}`,
    );
  }
  // Every published command passes the limits gate; a braking profile it would have to clamp is a configuration error.
  const weakestDecel = Math.max(...p.limits.accel_min_mps2);
  const minJerk = Math.min(...p.limits.jerk_max_mps3);
  for (const [key, v] of [
    ['fallback.accel_mps2', p.fallback.accel_mps2],
    ['emergency.accel_mps2', p.emergency.accel_mps2],
    ['standstill.hold_accel_mps2', p.standstill.hold_accel_mps2],
  ] as const) {
    if (v < weakestDecel) fail(key, `a value >= ${weakestDecel} m/s^2 (the weakest limits.accel_min_mps2)`, `${v}`);
  }
  for (const [key, v] of [
    ['fallback.jerk_mps3', p.fallback.jerk_mps3],
    ['emergency.jerk_mps3', p.emergency.jerk_mps3],
    ['fallback.release_jerk_mps3', p.fallback.release_jerk_mps3],
    ['emergency.release_jerk_mps3', p.emergency.release_jerk_mps3],
  ] as const) {
    if (Math.abs(v) > minJerk) fail(key, `|jerk| <= ${minJerk} m/s^3 (the smallest limits.jerk_max_mps3)`, `${v}`);
  }
  if (p.emergency.accel_mps2 > p.fallback.accel_mps2) {
    fail(
      'emergency.accel_mps2',
      `a value <= fallback.accel_mps2 (${p.fallback.accel_mps2}): the emergency profile is the stronger one`,
      `${p.emergency.accel_mps2}`,
    );
  }
  if (p.diagnostics_rate_hz > p.control_rate_hz) {
    fail('diagnostics_rate_hz', `a value <= control_rate_hz (${p.control_rate_hz})`, `${p.diagnostics_rate_hz}`);
  }
}
