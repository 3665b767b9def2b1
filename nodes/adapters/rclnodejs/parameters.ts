import { isPlainObject } from '../../core/params/overrides.js';

/** rcl_interfaces ParameterType values (numeric: rclnodejs declares them as an ambient const enum). */
export const PARAMETER_TYPE = {
  bool: 1,
  integer: 2,
  double: 3,
  string: 4,
  boolArray: 6,
  integerArray: 7,
  doubleArray: 8,
  stringArray: 9,
} as const;

export interface RclParameterValue {
  type: (typeof PARAMETER_TYPE)[keyof typeof PARAMETER_TYPE];
  /** As rclnodejs wants it: INTEGER values are bigint. */
  value: boolean | bigint | number | string | boolean[] | bigint[] | number[] | string[];
}

/** Nested parameter values → ROS names with dots: { limits: { a: 1 } } → [["limits.a", 1]]. */
export function flattenParameters(values: Readonly<Record<string, unknown>>, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(values)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v)) out.push(...flattenParameters(v, name));
    else out.push([name, v]);
  }
  return out;
}

/**
 * What a node's JSON schema says of one parameter, as far as its ROS declaration needs it: the schema is the one
 * source of a declared parameter's type, description and range (`declareParameters` in rclNode.ts).
 */
export interface ParameterSpec {
  type?: 'number' | 'integer' | 'string' | 'boolean' | 'array';
  /** Element type of an array parameter. */
  items?: 'number' | 'integer' | 'string' | 'boolean';
  description?: string;
  /** Lower bound (inclusive or exclusive in the schema); of each element for a list. */
  minimum?: number;
  /** Upper bound; of each element for a list. */
  maximum?: number;
}

/** The schema entry of a dotted parameter name ("limits.accel_max_mps2"), or undefined when the schema has none. */
export function parameterSpec(
  schema: Readonly<Record<string, unknown>> | undefined,
  dottedName: string,
): ParameterSpec | undefined {
  let node: unknown = schema;
  for (const key of dottedName.split('.')) {
    const props = isPlainObject(node) ? node['properties'] : undefined;
    if (!isPlainObject(props) || !Object.hasOwn(props, key)) return undefined;
    node = props[key];
  }
  if (!isPlainObject(node)) return undefined;
  const itemSchema = isPlainObject(node['items']) ? node['items'] : undefined;
  const items = itemSchema?.['type'];
  // A list's bounds are its elements' (limits.accel_max_mps2: every value within them).
  const num = (k: string) =>
    typeof node[k] === 'number' ? node[k] : typeof itemSchema?.[k] === 'number' ? itemSchema[k] : undefined;
  const minimum = num('minimum') ?? num('exclusiveMinimum');
  const maximum = num('maximum') ?? num('exclusiveMaximum');
  const spec: ParameterSpec = {};
  if (typeof node['type'] === 'string') spec.type = node['type'] as ParameterSpec['type'];
  if (typeof items === 'string') spec.items = items as ParameterSpec['items'];
  if (typeof node['description'] === 'string') spec.description = node['description'];
  if (minimum !== undefined) spec.minimum = minimum;
  if (maximum !== undefined) spec.maximum = maximum;
  return spec;
}

/**
 * The ROS parameter type of a value, or a reason it has none. With the schema's spec, its type decides: a
 * "number" is DOUBLE even when written 50.0 (which reads as 50 in JS), an "integer" INTEGER, and an empty list
 * gets its element type. Without one, whole numbers are INTEGER (as rcl types YAML "1"), an empty list has no
 * element type, and a mixed list is not a ROS parameter.
 */
export function toRclParameterValue(value: unknown, spec?: ParameterSpec): RclParameterValue | string {
  if (spec?.type === 'number' && typeof value === 'number') return { type: PARAMETER_TYPE.double, value };
  if (spec?.type === 'array' && Array.isArray(value)) {
    if (spec.items === 'number' && value.every((x) => typeof x === 'number'))
      return { type: PARAMETER_TYPE.doubleArray, value: value as number[] };
    if (value.length === 0) {
      if (spec.items === 'integer') return { type: PARAMETER_TYPE.integerArray, value: [] as bigint[] };
      if (spec.items === 'string') return { type: PARAMETER_TYPE.stringArray, value: [] as string[] };
      if (spec.items === 'boolean') return { type: PARAMETER_TYPE.boolArray, value: [] as boolean[] };
    }
  }
  if (typeof value === 'boolean') return { type: PARAMETER_TYPE.bool, value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { type: PARAMETER_TYPE.double, value };
    return Number.isSafeInteger(value)
      ? { type: PARAMETER_TYPE.integer, value: BigInt(value) }
      : { type: PARAMETER_TYPE.double, value };
  }
  if (typeof value === 'string') return { type: PARAMETER_TYPE.string, value };
  if (Array.isArray(value)) {
    if (value.length === 0) return 'an empty list has no ROS parameter type';
    if (value.every((x) => typeof x === 'boolean'))
      return { type: PARAMETER_TYPE.boolArray, value: value as boolean[] };
    if (value.every((x) => typeof x === 'string'))
      return { type: PARAMETER_TYPE.stringArray, value: value as string[] };
    if (value.every((x) => typeof x === 'number')) {
      return value.every((x) => Number.isSafeInteger(x))
        ? { type: PARAMETER_TYPE.integerArray, value: (value as number[]).map((x) => BigInt(x)) }
        : { type: PARAMETER_TYPE.doubleArray, value: value as number[] };
    }
    return 'a list mixing types is not a ROS parameter';
  }
  return `a ${value === null ? 'null' : typeof value} is not a ROS parameter`;
}
