import { isPlainObject } from '../../core/params/overrides.js';

/** rcl_interfaces ParameterType values (numeric: rclnodejs declares them as an ambient const enum). */
export const PARAMETER_TYPE = {
  bool: 1, integer: 2, double: 3, string: 4, boolArray: 6, integerArray: 7, doubleArray: 8, stringArray: 9,
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
 * The ROS parameter type of a JS value, or a reason it has none (an empty list has no element type; a mixed list
 * is not a ROS parameter). Whole numbers are INTEGER, as rcl types YAML "1"; "1.0" reads as 1 in JS, so a double
 * parameter given as 1.0 shows as an integer in `ros2 param get` (the node itself reads the number either way).
 */
export function toRclParameterValue(value: unknown): RclParameterValue | string {
  if (typeof value === 'boolean') return { type: PARAMETER_TYPE.bool, value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { type: PARAMETER_TYPE.double, value };
    return Number.isSafeInteger(value) ? { type: PARAMETER_TYPE.integer, value: BigInt(value) } : { type: PARAMETER_TYPE.double, value };
  }
  if (typeof value === 'string') return { type: PARAMETER_TYPE.string, value };
  if (Array.isArray(value)) {
    if (value.length === 0) return 'an empty list has no ROS parameter type';
    if (value.every((x) => typeof x === 'boolean')) return { type: PARAMETER_TYPE.boolArray, value: value as boolean[] };
    if (value.every((x) => typeof x === 'string')) return { type: PARAMETER_TYPE.stringArray, value: value as string[] };
    if (value.every((x) => typeof x === 'number')) {
      return value.every((x) => Number.isSafeInteger(x))
        ? { type: PARAMETER_TYPE.integerArray, value: (value as number[]).map((x) => BigInt(x)) }
        : { type: PARAMETER_TYPE.doubleArray, value: value as number[] };
    }
    return 'a list mixing types is not a ROS parameter';
  }
  return `a ${value === null ? 'null' : typeof value} is not a ROS parameter`;
}
