import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { ParameterError, describe } from './paramsFile.js';
import { deepMerge, isPlainObject, originOf, type ParameterOverrides, type ParameterSource } from './overrides.js';
import { declares, suiteSchemas } from './suite.js';

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
export function loadParameters<T>(nodeName: string, schema: ParameterSchema, given: ParameterOverrides): T {
  const overrides: ParameterOverrides = { sources: given.sources.map((s) => applyWildcard(s, nodeName, schema)) };
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
    throw new ParameterError(
      errors
        .slice(0, 5)
        .map((e) => formatError(e, nodeName, overrides, merged))
        .join('\n'),
    );
  }
  return value as T;
}

/** Every leaf key path of nested values (a list is a leaf). */
function leafPaths(values: Readonly<Record<string, unknown>>, prefix: string[] = []): string[][] {
  return Object.entries(values).flatMap(([k, v]) =>
    isPlainObject(v) && Object.keys(v).length ? leafPaths(v, [...prefix, k]) : [[...prefix, k]],
  );
}

const has = (values: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): boolean => {
  let v: unknown = values;
  for (const p of path) {
    if (!isPlainObject(v) || !Object.prototype.hasOwnProperty.call(v, p)) return false;
    v = v[p];
  }
  return true;
};

function without(values: Readonly<Record<string, unknown>>, path: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  const [head, ...rest] = path;
  if (head === undefined || !Object.prototype.hasOwnProperty.call(out, head)) return out;
  const { [head]: child, ...others } = out;
  if (rest.length === 0) return others;
  if (!isPlainObject(child)) return out;
  const pruned = without(child, rest);
  return Object.keys(pruned).length ? { ...others, [head]: pruned } : others;
}

/** Keys every ROS 2 node accepts. */
const ROS_KEYS = new Set(['use_sim_time', 'qos_overrides']);

/**
 * ROS semantics for a params file's "/**" section: a wildcard key applies to the nodes that declare it. Keys this
 * node does not declare (and its own section does not set) are left out for it; a key that no node of the suite
 * declares is an error naming it.
 */
function applyWildcard(s: ParameterSource, nodeName: string, schema: ParameterSchema): ParameterSource {
  if (!s.wildcard) return s;
  let values = s.values as Record<string, unknown>;
  for (const path of leafPaths(s.wildcard)) {
    if (ROS_KEYS.has(path[0]!) || declares(schema, path) || has(s.exact, path)) continue;
    const others = suiteSchemas()
      .filter((n) => n.node !== nodeName && declares(n.schema, path))
      .map((n) => n.node);
    if (others.length === 0) {
      const all = [...new Set([...suiteSchemas().map((n) => n.node), nodeName])].join(', ');
      throw new ParameterError(`${s.origin}: /**: ${path.join('.')}: declared by no node (${all}); check the spelling`);
    }
    values = without(values, path);
  }
  return { origin: s.origin, values };
}

function formatError(
  e: ErrorObject,
  nodeName: string,
  overrides: ParameterOverrides,
  merged: Record<string, unknown>,
): string {
  const path = e.instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'additionalProperties')
    path.push(String((e.params as { additionalProperty: string }).additionalProperty));
  const key = path.join('.') || '(root)';
  const origin = originOf(overrides, path) ?? `${nodeName} defaults`;
  const actual = path.reduce<unknown>((v, p) => (v as Record<string, unknown> | undefined)?.[p], merged);
  const p = e.params as Record<string, unknown>;
  let expected: string;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${origin}: ${key}: unknown parameter for ${nodeName} (check the spelling; see config/${nodeName}.schema.json)`;
    case 'required':
      return `${origin}: ${path.length ? key + '.' : ''}${String(p['missingProperty'])}: required parameter missing: expected a value, got nothing`;
    case 'type':
      expected = typeof actual === 'number' && !Number.isFinite(actual) ? 'a finite number' : `${String(p['type'])}`;
      break;
    case 'minimum':
      expected = `a value >= ${String(p['limit'])}`;
      break;
    case 'maximum':
      expected = `a value <= ${String(p['limit'])}`;
      break;
    case 'exclusiveMinimum':
      expected = `a value > ${String(p['limit'])}`;
      break;
    case 'exclusiveMaximum':
      expected = `a value < ${String(p['limit'])}`;
      break;
    case 'enum':
      expected = `one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'minItems':
      expected = `at least ${String(p['limit'])} items`;
      break;
    case 'maxItems':
      expected = `at most ${String(p['limit'])} items`;
      break;
    case 'pattern':
      expected = `a string matching ${String(p['pattern'])}`;
      break;
    default:
      expected = e.message ?? e.keyword;
  }
  return `${origin}: ${key}: expected ${expected}, got ${describe(actual)}`;
}
