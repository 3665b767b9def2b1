/** Parameter values from one origin: a params file, or "-p" on the command line. Values are nested objects. */
export interface ParameterSource {
  /** Where the values came from, used in error messages: a file path or "command line (-p)". */
  readonly origin: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** Sources in the order given; later sources override earlier ones key by key (as ROS 2 does). */
export interface ParameterOverrides {
  readonly sources: readonly ParameterSource[];
}

export const NO_OVERRIDES: ParameterOverrides = Object.freeze({ sources: [] });

/** Expands "a.b.c" keys into nested objects, as ROS 2 treats them the same. */
export function expandDottedKeys(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const parts = key.split('.');
    let target = out;
    for (const part of parts.slice(0, -1)) {
      const next = target[part];
      if (next === undefined || !isPlainObject(next)) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    const leaf = parts[parts.length - 1]!;
    const expanded = isPlainObject(value) ? expandDottedKeys(value) : value;
    target[leaf] = isPlainObject(expanded) && isPlainObject(target[leaf])
      ? deepMerge(target[leaf] as Record<string, unknown>, expanded) : expanded;
  }
  return out;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
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
      if (!isPlainObject(v) || !(p in v)) { found = false; break; }
      v = v[p];
    }
    if (found) return overrides.sources[i]!.origin;
  }
  return undefined;
}
