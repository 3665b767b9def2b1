import { fileURLToPath } from 'node:url';
import { TEXT_ACTIONS, type ConsistencyParams, type TextAction } from '../consistency/index.js';
import { loadParameters, readSchema, ParameterError, originOf, type ParameterOverrides } from '../core/params/index.js';
import type { PlannerParams } from './params.generated.js';

/** config/ar1_planner.schema.json: keys, types, defaults, bounds and units. */
export const PLANNER_SCHEMA_PATH = fileURLToPath(new URL('../../config/ar1_planner.schema.json', import.meta.url));

/** Parameters of ar1_planner: the type generated from config/ar1_planner.schema.json (units in the key suffixes). */
export type { PlannerParams };

type CameraTransport = PlannerParams['cameras']['transports'][number];

/** One camera input, resolved from the parallel cameras.* lists. */
export interface CameraInput {
  name: string;
  /** Topic actually subscribed (…/compressed for compressed transport). */
  topic: string;
  transport: CameraTransport;
}

/** The `consistency` section as the schema spells it (`consistencyParamsOf` gives the module's shape). */
export type PlannerConsistencyParams = PlannerParams['consistency'];

/**
 * The consistency module's parameters from the planner's `consistency` section: every key other than `enabled`,
 * `negation_scope_words` and `vocabulary` is a trajectory threshold (a test holds the result to the module's
 * defaults, so a key added to the schema section must be one the module knows).
 */
export function consistencyParamsOf(c: PlannerConsistencyParams): ConsistencyParams {
  const { enabled: _enabled, negation_scope_words, vocabulary: v, ...trajectory } = c;
  const phrases = Object.fromEntries(TEXT_ACTIONS.map((a) => [a, [...v[a]]])) as Record<TextAction, string[]>;
  return {
    trajectory: { ...trajectory },
    vocabulary: {
      phrases,
      negation: [...v.negation],
      clause_breaks: [...v.clause_breaks],
      other_agent: [...v.other_agent],
      deferral: [...v.deferral],
      ignore: [...v.ignore],
      negation_scope_words,
    },
  };
}

let schemaCache: ReturnType<typeof readSchema> | undefined;

/** Loads, validates (schema + cross-key checks) and types the planner's parameters. */
export function loadPlannerParams(overrides: ParameterOverrides, nodeName = 'ar1_planner'): PlannerParams {
  schemaCache ??= readSchema(PLANNER_SCHEMA_PATH);
  const params = loadParameters<PlannerParams>(nodeName, schemaCache, overrides);
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

/** The camera inputs in model order, with the topic each subscribes. */
export function cameraInputs(params: PlannerParams): CameraInput[] {
  return params.cameras.names.map((name, i) => {
    const transport = params.cameras.transports[i]!;
    const base = params.cameras.topics[i]!;
    return { name, transport, topic: transport === 'compressed' ? `${base.replace(/\/$/, '')}/compressed` : base };
  });
}
