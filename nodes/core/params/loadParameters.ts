import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { ParameterError, describe } from './paramsFile.js';
import { deepMerge, originOf, type ParameterOverrides } from './overrides.js';

/** A JSON Schema (draft-07) for one node's parameters: type, default, bounds and "[unit]" in each description. */
export type ParameterSchema = Record<string, unknown>;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
const validators = new WeakMap<object, ReturnType<typeof ajv.compile>>();

export function readSchema(path: string): ParameterSchema {
  return JSON.parse(readFileSync(path, 'utf8')) as ParameterSchema;
}

/**
 * Merges the sources over the schema defaults and validates. Unknown keys are errors (a typo must not fall
 * back to a default). Errors name the origin (file or -p), the key path, what was expected and what was given.
 */
export function loadParameters<T>(nodeName: string, schema: ParameterSchema, overrides: ParameterOverrides): T {
  let merged: Record<string, unknown> = {};
  for (const s of overrides.sources) merged = deepMerge(merged, s.values as Record<string, unknown>);
  // ROS-only parameters every node accepts.
  delete merged['use_sim_time'];
  delete merged['qos_overrides'];
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  const value = structuredClone(merged);
  if (!validate(value)) {
    const errors = validate.errors ?? [];
    throw new ParameterError(errors.slice(0, 5).map((e) => formatError(e, nodeName, overrides, merged)).join('\n'));
  }
  return value as T;
}

function formatError(e: ErrorObject, nodeName: string, overrides: ParameterOverrides, merged: Record<string, unknown>): string {
  const path = e.instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'additionalProperties') path.push(String((e.params as { additionalProperty: string }).additionalProperty));
  const key = path.join('.') || '(root)';
  const origin = originOf(overrides, path) ?? `${nodeName} defaults`;
  const actual = path.reduce<unknown>((v, p) => (v as Record<string, unknown> | undefined)?.[p], merged);
  const p = e.params as Record<string, unknown>;
  let expected: string;
  switch (e.keyword) {
    case 'additionalProperties': return `${origin}: ${key}: unknown parameter for ${nodeName} (check the spelling; see config/${nodeName}.schema.json)`;
    case 'required': return `${origin}: ${path.length ? key + '.' : ''}${String(p['missingProperty'])}: required parameter missing: expected a value, got nothing`;
    case 'type': expected = `${String(p['type'])}`; break;
    case 'minimum': expected = `a value >= ${String(p['limit'])}`; break;
    case 'maximum': expected = `a value <= ${String(p['limit'])}`; break;
    case 'exclusiveMinimum': expected = `a value > ${String(p['limit'])}`; break;
    case 'exclusiveMaximum': expected = `a value < ${String(p['limit'])}`; break;
    case 'enum': expected = `one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`; break;
    case 'minItems': expected = `at least ${String(p['limit'])} items`; break;
    case 'maxItems': expected = `at most ${String(p['limit'])} items`; break;
    case 'pattern': expected = `a string matching ${String(p['pattern'])}`; break;
    default: expected = e.message ?? e.keyword;
  }
  return `${origin}: ${key}: expected ${expected}, got ${describe(actual)}`;
}
