import { ParameterError } from './errors.js';
/** Parameter values from one origin: a params file, or "-p" on the command line. Values are nested objects. */
export interface ParameterSource {
  /** Where the values came from, used in error messages: a file path or "command line (-p)". */
  readonly origin: string;
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * The part of values set by a params file's "/**" (wildcard) section, when it has one. As in ROS, a wildcard key
   * applies to the nodes that declare it: the loader leaves out wildcard keys this node does not declare (unless
   * the node's own section sets them too), and refuses a wildcard key that no node of the suite declares.
   */
  readonly wildcard?: Readonly<Record<string, unknown>>;
  /** The part of values set by the node's own section(s). */
  readonly exact?: Readonly<Record<string, unknown>>;
}

/** Sources in the order given; later sources override earlier ones key by key (as ROS 2 does). */
export interface ParameterOverrides {
  readonly sources: readonly ParameterSource[];
}

export const NO_OVERRIDES: ParameterOverrides = Object.freeze({ sources: [] });

/**
 * Names that would reach an object's prototype ("__proto__", "constructor", "prototype"): never a parameter name,
 * so no parameter file or -p override can write to Object.prototype.
 */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Throws unless every dot-separated part of a parameter name is a usable name. */
export function checkParameterName(key: string, origin?: string): string[] {
  const parts = key.split('.');
  const where = origin ? `${origin}: ` : '';
  for (const part of parts) {
    if (FORBIDDEN_NAMES.has(part))
      throw new ParameterError(`${where}${key}: "${part}" is not allowed in a parameter name`);
    if (part === '')
      throw new ParameterError(`${where}${key}: expected a parameter name without empty parts, got "${key}"`);
  }
  return parts;
}

/** Expands "a.b.c" keys into nested objects, as ROS 2 treats them the same. Refuses prototype-reaching names. */
export function expandDottedKeys(values: Record<string, unknown>, origin?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const parts = checkParameterName(key, origin);
    let target = out;
    for (const part of parts.slice(0, -1)) {
      const next = target[part];
      if (next === undefined || !isPlainObject(next)) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    const leaf = parts[parts.length - 1]!;
    const expanded = isPlainObject(value) ? expandDottedKeys(value, origin) : value;
    target[leaf] =
      isPlainObject(expanded) && isPlainObject(target[leaf])
        ? deepMerge(target[leaf] as Record<string, unknown>, expanded)
        : expanded;
  }
  return out;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (FORBIDDEN_NAMES.has(k)) throw new ParameterError(`${k}: "${k}" is not allowed in a parameter name`);
    const prev = Object.prototype.hasOwnProperty.call(out, k) ? out[k] : undefined;
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

/** The source that last set a key path (for error messages), or undefined when only the default applies. */
export function originOf(overrides: ParameterOverrides, path: readonly string[]): string | undefined {
  for (let i = overrides.sources.length - 1; i >= 0; i--) {
    let v: unknown = overrides.sources[i]!.values;
    let found = true;
    for (const p of path) {
      if (Array.isArray(v)) break; // an element of a list: the source that set the list
      if (!isPlainObject(v) || !Object.prototype.hasOwnProperty.call(v, p)) {
        found = false;
        break;
      }
      v = v[p];
    }
    if (found) return overrides.sources[i]!.origin;
  }
  return undefined;
}
