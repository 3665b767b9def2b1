/**
 * Scenario files for `ar1 sim`: YAML validated against nodes/sim/scenario.schema.json (types, bounds, unknown keys),
 * then checked for what a schema cannot say (the route on the rendered road, faults inside the run). Every problem is
 * one line naming the file and the key.
 */
import { readFileSync, statSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { UserError } from '../core/errors.js';
import { describe } from '../core/params/paramsFile.js';
import { Road, type Segment } from './road.js';
import type { VehicleParams } from './vehicle.js';

export type FaultSpec =
  | { kind: 'camera_dropout'; at_s: number; camera: string; duration_s?: number }
  | { kind: 'stale_odometry'; at_s: number; duration_s?: number }
  | { kind: 'planner_crash'; at_s: number }
  | { kind: 'planner_hang'; at_s: number; duration_s?: number }
  | { kind: 'clock_backward'; at_s: number; jump_s: number }
  | { kind: 'nonfinite_plan'; at_s: number; duration_s?: number };

export type WatchdogStateName = 'disengaged' | 'nominal' | 'fallback' | 'stopped';

export interface PassThresholds {
  min_progress_m?: number;
  max_progress_m?: number;
  max_offroad_m?: number;
  max_offroad_s?: number;
  no_collision?: boolean;
  min_distance_m?: number;
  min_ttc_s?: number;
  max_abs_jerk_mps3?: number;
  max_abs_lat_accel_mps2?: number;
  max_abs_lat_jerk_mps3?: number;
  stop_before_obstacle?: boolean;
  reaches_state?: Exclude<WatchdogStateName, 'disengaged'>;
  final_state?: WatchdogStateName;
  max_fallback_s?: number;
}

export interface BarrierSpec {
  kind: 'barrier';
  at_m: number;
  lifts_at_s: number | null;
  height_m: number;
}

export interface Scenario {
  name: string;
  description?: string;
  duration_s: number;
  road: { width_m: number; segments: Segment[] };
  route: { length_m: number; lane_offset_m: number };
  ego: { speed_mps: number; warmup_s: number };
  vehicle: VehicleParams;
  obstacles: BarrierSpec[];
  faults: FaultSpec[];
  pass: PassThresholds;
}

/** A validated scenario with the file it came from and its road. */
export interface LoadedScenario {
  file: string;
  scenario: Scenario;
  road: Road;
}

const SCENARIO_SCHEMA_PATH = new URL('./scenario.schema.json', import.meta.url);
/** [bytes] a scenario is a small text file; anything larger (or a FIFO, /proc) is refused. */
const MAX_BYTES = 1 << 20;

const ajv = new Ajv({
  allErrors: false,
  useDefaults: true,
  strict: true,
  strictRequired: false,
  discriminator: true,
  allowUnionTypes: true,
});
let validator: ReturnType<typeof ajv.compile> | undefined;
const validate = () => (validator ??= ajv.compile(JSON.parse(readFileSync(SCENARIO_SCHEMA_PATH, 'utf8')) as object));

/** The kinds a list's items may have, for the error when an item's kind is unknown or missing. */
const KINDS: Record<string, readonly string[]> = {
  segments: ['straight', 'arc'],
  faults: ['camera_dropout', 'stale_odometry', 'planner_crash', 'planner_hang', 'clock_backward', 'nonfinite_plan'],
};

/** `faults[2].camera` from an ajv instance path. */
function keyOf(path: readonly string[]): string {
  return path.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function formatError(file: string, e: ErrorObject, doc: unknown): string {
  const path = e.instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const p = e.params as Record<string, unknown>;
  const actual = path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], doc);
  const at = (extra?: string) => `${file}: ${keyOf(extra === undefined ? path : [...path, extra]) || '(top level)'}`;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${at(String(p['additionalProperty']))}: unknown key (check the spelling; see nodes/sim/scenario.schema.json)`;
    case 'required':
      return `${at(String(p['missingProperty']))}: required key missing: expected a value, got nothing`;
    case 'discriminator': {
      const kinds = KINDS[path[path.length - 2] ?? ''] ?? [];
      return `${at('kind')}: expected one of ${kinds.join(', ')}, got ${describe((actual as Record<string, unknown> | undefined)?.['kind'])}`;
    }
    case 'type':
      return `${at()}: expected ${typeof actual === 'number' && !Number.isFinite(actual) ? 'a finite number' : String(p['type'])}, got ${describe(actual)}`;
    case 'minimum':
      return `${at()}: expected a value >= ${String(p['limit'])}, got ${describe(actual)}`;
    case 'maximum':
      return `${at()}: expected a value <= ${String(p['limit'])}, got ${describe(actual)}`;
    case 'exclusiveMinimum':
      return `${at()}: expected a value > ${String(p['limit'])}, got ${describe(actual)}`;
    case 'exclusiveMaximum':
      return `${at()}: expected a value < ${String(p['limit'])}, got ${describe(actual)}`;
    case 'enum':
      return `${at()}: expected one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${describe(actual)}`;
    case 'const':
      return `${at()}: expected ${JSON.stringify(p['allowedValue'])}, got ${describe(actual)}`;
    case 'minItems':
      return `${at()}: expected at least ${String(p['limit'])} items, got ${Array.isArray(actual) ? actual.length : describe(actual)}`;
    case 'maxItems':
      return `${at()}: expected at most ${String(p['limit'])} items, got ${Array.isArray(actual) ? actual.length : describe(actual)}`;
    case 'pattern':
      return `${at()}: expected a string matching ${String(p['pattern'])}, got ${describe(actual)}`;
    case 'minLength':
      return `${at()}: expected a non-empty string, got ${describe(actual)}`;
    default:
      return `${at()}: ${e.message ?? e.keyword}, got ${describe(actual)}`;
  }
}

function readText(file: string): string {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile())
      throw new UserError(
        `${file}: cannot read scenario (expected a regular file, got ${st.isDirectory() ? 'a directory' : 'a FIFO, socket or device'})`,
      );
    size = st.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: cannot read scenario (${code === 'ENOENT' ? 'no such file' : (code ?? String(e))})`);
  }
  if (size > MAX_BYTES)
    throw new UserError(`${file}: cannot read scenario (expected at most ${MAX_BYTES} bytes, got ${size})`);
  const bytes = readFileSync(file);
  if (bytes.length > MAX_BYTES)
    throw new UserError(`${file}: cannot read scenario (expected at most ${MAX_BYTES} bytes, got more)`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${file}: not valid UTF-8; save the scenario as UTF-8`);
  }
}

/** Parses and validates a scenario's text; `file` names it in errors. */
export function parseScenario(text: string, file: string): LoadedScenario {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line;
    throw new UserError(
      `${file}:${line !== undefined ? ` line ${line}:` : ''} not valid YAML (${err.code}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')})`,
    );
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UserError(`${file}: expected a mapping of scenario keys, got ${describe(raw)}`);
  const value = structuredClone(raw) as Record<string, unknown>;
  const v = validate();
  if (!v(value)) throw new UserError(formatError(file, v.errors![0]!, raw));
  const sc = value as unknown as Scenario;
  return { file, scenario: sc, road: checkGeometry(sc, file) };
}

/** Reads, parses and validates a scenario file. */
export function loadScenario(file: string): LoadedScenario {
  return parseScenario(readText(file), file);
}

/** What the schema cannot say: the route and the obstacles lie on the rendered road; faults start inside the run. */
function checkGeometry(sc: Scenario, file: string): Road {
  const half = sc.road.width_m / 2;
  const road = new Road(sc.road.segments, half);
  const fix = (v: number) => v.toFixed(1);
  if (sc.route.length_m > road.length + 1e-9) {
    throw new UserError(
      `${file}: route.length_m: the route leaves the rendered area: it ends ${fix(sc.route.length_m)} m along the road, expected at most the road's length ${fix(road.length)} m (lengthen road.segments)`,
    );
  }
  const reach = Math.abs(sc.route.lane_offset_m) + sc.vehicle.width_m / 2;
  if (reach > half) {
    throw new UserError(
      `${file}: route.lane_offset_m: the ego box would start off the road: |offset| + half the car's width = ${reach.toFixed(2)} m, expected at most half the road's width ${half.toFixed(2)} m`,
    );
  }
  sc.obstacles.forEach((o, i) => {
    if (o.at_m > sc.route.length_m)
      throw new UserError(
        `${file}: obstacles[${i}].at_m: expected a place on the route (at most route.length_m ${fix(sc.route.length_m)} m), got ${o.at_m}`,
      );
    if (o.at_m <= sc.vehicle.length_m - sc.vehicle.rear_overhang_m)
      throw new UserError(
        `${file}: obstacles[${i}].at_m: expected the barrier ahead of the car's front (> ${fix(sc.vehicle.length_m - sc.vehicle.rear_overhang_m)} m), got ${o.at_m}`,
      );
  });
  if (sc.ego.warmup_s >= sc.duration_s)
    throw new UserError(
      `${file}: ego.warmup_s: expected less than duration_s ${sc.duration_s} s, got ${sc.ego.warmup_s}`,
    );
  sc.faults.forEach((f, i) => {
    if (f.at_s >= sc.duration_s)
      throw new UserError(
        `${file}: faults[${i}].at_s: expected a time inside the run (< duration_s ${sc.duration_s} s), got ${f.at_s}`,
      );
  });
  return road;
}

/** Refuses, before the run, faults that cannot be applied with these cameras (an unknown camera name). */
export function checkFaultsApply(l: LoadedScenario, cameras: readonly string[]): void {
  l.scenario.faults.forEach((f, i) => {
    if (f.kind === 'camera_dropout' && f.camera !== 'all' && !cameras.includes(f.camera)) {
      throw new UserError(
        `${l.file}: faults[${i}].camera: expected one of ${cameras.join(', ')} or all (the planner's cameras.names), got "${f.camera}"`,
      );
    }
  });
}
