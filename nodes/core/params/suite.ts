import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The nodes of this suite and their parameter schemas (config/<node>.schema.json). A params file's "/**" section is
 * shared by all of them: a wildcard key applies to the nodes that declare it, and one that no node declares is an
 * error. Section names close to one of these names (a typo) are errors too.
 */
export const SUITE_NODES = ['ar1_planner', 'ar1_watchdog'] as const;

const schemaPath = (node: string) => fileURLToPath(new URL(`../../../config/${node}.schema.json`, import.meta.url));
let cache: ReadonlyArray<{ node: string; schema: Record<string, unknown> }> | undefined;

/** Every suite node's schema (read once). */
export function suiteSchemas(): ReadonlyArray<{ node: string; schema: Record<string, unknown> }> {
  cache ??= SUITE_NODES.map((node) => ({
    node,
    schema: JSON.parse(readFileSync(schemaPath(node), 'utf8')) as Record<string, unknown>,
  }));
  return cache;
}

/** True when a schema declares the parameter at path (a key inside an array or a free-form mapping counts too). */
export function declares(schema: Record<string, unknown>, path: readonly string[]): boolean {
  let node: Record<string, unknown> | undefined = schema;
  for (const part of path) {
    const props = node['properties'] as Record<string, Record<string, unknown>> | undefined;
    if (node['type'] !== 'object' && props === undefined) return true; // a leaf: the validator judges what is below
    if (props && Object.prototype.hasOwnProperty.call(props, part)) {
      node = props[part]!;
      continue;
    }
    return node['additionalProperties'] !== undefined && node['additionalProperties'] !== false;
  }
  return true;
}

/** Levenshtein distance (small strings: node names). */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The suite node a section name probably meant (a typo: distance ≤ 2, or another case), or undefined. */
export function nearNodeName(name: string, known: readonly string[]): string | undefined {
  if (known.includes(name)) return undefined;
  return known.find((k) => k.toLowerCase() === name.toLowerCase() || editDistance(k, name) <= 2);
}
