import { fileURLToPath } from 'node:url';
import {
  TEXT_ACTIONS,
  type ConsistencyParams,
  type TextAction,
  type TrajectoryThresholds,
} from '../consistency/index.js';
import { loadParameters, readSchema, ParameterError, originOf, type ParameterOverrides } from '../core/params/index.js';

/** config/ar1_planner.schema.json: keys, types, defaults, bounds and units. */
export const PLANNER_SCHEMA_PATH = fileURLToPath(new URL('../../config/ar1_planner.schema.json', import.meta.url));

type CameraTransport = 'raw' | 'compressed';

/** One camera input, resolved from the parallel cameras.* lists. */
export interface CameraInput {
  name: string;
  /** Topic actually subscribed (…/compressed for compressed transport). */
  topic: string;
  transport: CameraTransport;
}

/** Parameters of ar1_planner, as in config/ar1_planner.schema.json (units in the key suffixes). */
export interface PlannerParams {
  bundle_dir: string;
  /** sha256 of the bundle's manifest.yaml; '' = not pinned. */
  manifest_sha256: string;
  execution_providers: string[];
  seed: number;
  samples: number;
  max_plan_rate_hz: number;
  control_rate_hz: number;
  frame_id: string;
  time_reset_threshold_s: number;
  /** [s] a plan running longer is abandoned (plan_timeout). */
  plan_timeout_s: number;
  cameras: {
    names: string[];
    topics: string[];
    transports: CameraTransport[];
    buffer_size: number;
    frame_tolerance_s: number;
    stamp_jitter_s: number;
    max_skew_s: number;
  };
  odometry: { topic: string; buffer_s: number; buffer_size: number; max_gap_s: number; max_jump_m: number };
  topics: {
    trajectory: string;
    path: string;
    reasoning: string;
    reasoning_text: string;
    timing: string;
    command: string;
  };
  /** Reasoning–action consistency: trajectory thresholds, the text vocabulary (`consistencyParamsOf` gives the module's shape). */
  consistency: PlannerConsistencyParams;
}

/** The `consistency` section as the schema spells it. */
export type PlannerConsistencyParams = TrajectoryThresholds & {
  enabled: boolean;
  negation_scope_words: number;
  vocabulary: Record<TextAction | 'negation' | 'clause_breaks' | 'other_agent' | 'deferral' | 'ignore', string[]>;
};

function copyConsistency(c: PlannerConsistencyParams): PlannerConsistencyParams {
  const v = c.vocabulary;
  return {
    enabled: c.enabled,
    horizon_s: c.horizon_s,
    window_s: c.window_s,
    accelerate_min_mps2: c.accelerate_min_mps2,
    decelerate_min_mps2: c.decelerate_min_mps2,
    keep_speed_max_mps2: c.keep_speed_max_mps2,
    stop_speed_mps: c.stop_speed_mps,
    creep_max_speed_mps: c.creep_max_speed_mps,
    lateral_min_distance_m: c.lateral_min_distance_m,
    straight_max_heading_rad: c.straight_max_heading_rad,
    straight_max_offset_m: c.straight_max_offset_m,
    turn_min_heading_rad: c.turn_min_heading_rad,
    lane_change_min_offset_m: c.lane_change_min_offset_m,
    lane_change_max_end_heading_ratio: c.lane_change_max_end_heading_ratio,
    negation_scope_words: c.negation_scope_words,
    vocabulary: {
      ...(Object.fromEntries(TEXT_ACTIONS.map((a) => [a, [...v[a]]])) as Record<TextAction, string[]>),
      negation: [...v.negation],
      clause_breaks: [...v.clause_breaks],
      other_agent: [...v.other_agent],
      deferral: [...v.deferral],
      ignore: [...v.ignore],
    },
  };
}

/** The consistency module's parameters from the planner's `consistency` section. */
export function consistencyParamsOf(c: PlannerConsistencyParams): ConsistencyParams {
  const v = c.vocabulary;
  const phrases = Object.fromEntries(TEXT_ACTIONS.map((a) => [a, [...v[a]]])) as Record<TextAction, string[]>;
  return {
    trajectory: {
      horizon_s: c.horizon_s,
      window_s: c.window_s,
      accelerate_min_mps2: c.accelerate_min_mps2,
      decelerate_min_mps2: c.decelerate_min_mps2,
      keep_speed_max_mps2: c.keep_speed_max_mps2,
      stop_speed_mps: c.stop_speed_mps,
      creep_max_speed_mps: c.creep_max_speed_mps,
      lateral_min_distance_m: c.lateral_min_distance_m,
      straight_max_heading_rad: c.straight_max_heading_rad,
      straight_max_offset_m: c.straight_max_offset_m,
      turn_min_heading_rad: c.turn_min_heading_rad,
      lane_change_min_offset_m: c.lane_change_min_offset_m,
      lane_change_max_end_heading_ratio: c.lane_change_max_end_heading_ratio,
    },
    vocabulary: {
      phrases,
      negation: [...v.negation],
      clause_breaks: [...v.clause_breaks],
      other_agent: [...v.other_agent],
      deferral: [...v.deferral],
      ignore: [...v.ignore],
      negation_scope_words: c.negation_scope_words,
    },
  };
}

let schemaCache: ReturnType<typeof readSchema> | undefined;

/** Loads, validates (schema + cross-key checks) and types the planner's parameters. */
export function loadPlannerParams(overrides: ParameterOverrides, nodeName = 'ar1_planner'): PlannerParams {
  schemaCache ??= readSchema(PLANNER_SCHEMA_PATH);
  const raw = loadParameters<Record<string, unknown>>(nodeName, schemaCache, overrides);
  const params = toPlannerParams(raw);
  const n = params.cameras.names.length;
  for (const key of ['topics', 'transports'] as const) {
    const got = params.cameras[key].length;
    if (got !== n) {
      const origin =
        originOf(overrides, ['cameras', key]) ?? originOf(overrides, ['cameras', 'names']) ?? `${nodeName} defaults`;
      throw new ParameterError(`${origin}: cameras.${key}: expected ${n} values (one per cameras.names), got ${got}`);
    }
  }
  const dup = params.cameras.names.find((name, i) => params.cameras.names.indexOf(name) !== i);
  if (dup !== undefined) {
    const origin = originOf(overrides, ['cameras', 'names']) ?? `${nodeName} defaults`;
    throw new ParameterError(`${origin}: cameras.names: expected distinct names, got "${dup}" twice`);
  }
  return params;
}

/** Copies every schema key out of validated raw values (each key read here once; a test checks none is missed). */
export function toPlannerParams(raw: Record<string, unknown>): PlannerParams {
  const r = raw as unknown as PlannerParams;
  const c = r.cameras;
  const o = r.odometry;
  const t = r.topics;
  return {
    bundle_dir: r.bundle_dir,
    manifest_sha256: r.manifest_sha256,
    execution_providers: [...r.execution_providers],
    seed: r.seed,
    samples: r.samples,
    max_plan_rate_hz: r.max_plan_rate_hz,
    control_rate_hz: r.control_rate_hz,
    frame_id: r.frame_id,
    time_reset_threshold_s: r.time_reset_threshold_s,
    plan_timeout_s: r.plan_timeout_s,
    cameras: {
      names: [...c.names],
      topics: [...c.topics],
      transports: [...c.transports],
      buffer_size: c.buffer_size,
      frame_tolerance_s: c.frame_tolerance_s,
      stamp_jitter_s: c.stamp_jitter_s,
      max_skew_s: c.max_skew_s,
    },
    odometry: {
      topic: o.topic,
      buffer_s: o.buffer_s,
      buffer_size: o.buffer_size,
      max_gap_s: o.max_gap_s,
      max_jump_m: o.max_jump_m,
    },
    topics: {
      trajectory: t.trajectory,
      path: t.path,
      reasoning: t.reasoning,
      reasoning_text: t.reasoning_text,
      timing: t.timing,
      command: t.command,
    },
    consistency: copyConsistency(r.consistency),
  };
}

/** The camera inputs in model order, with the topic each subscribes. */
export function cameraInputs(params: PlannerParams): CameraInput[] {
  return params.cameras.names.map((name, i) => {
    const transport = params.cameras.transports[i]!;
    const base = params.cameras.topics[i]!;
    return { name, transport, topic: transport === 'compressed' ? `${base.replace(/\/$/, '')}/compressed` : base };
  });
}
