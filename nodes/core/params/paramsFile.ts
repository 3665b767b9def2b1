import { readFileSync } from 'node:fs';
import { parseDocument, YAMLParseError } from 'yaml';
import { UserError } from '../errors.js';
import { deepMerge, expandDottedKeys, isPlainObject, type ParameterSource } from './overrides.js';

export class ParameterError extends UserError {
  override readonly name = 'ParameterError';
}

/**
 * Reads a ROS 2 parameter file ("node_name: ros__parameters: …", "/**:" wildcard, "/ns/node_name:") and returns
 * the values that apply to the node, wildcard first, then the exact name (as rcl merges them).
 */
export function readParamsFile(path: string, nodeName: string, namespace = '/'): ParameterSource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ParameterError(`${path}: cannot read parameter file (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`);
  }
  return parseParamsText(text, path, nodeName, namespace);
}

export function parseParamsText(text: string, origin: string, nodeName: string, namespace = '/'): ParameterSource {
  let doc: unknown;
  // Warnings (e.g. an unknown !tag) are errors too: a parameter file must mean exactly what it says.
  const parsed = parseDocument(text, { logLevel: 'silent' });
  const problem = parsed.errors[0] ?? parsed.warnings[0];
  if (problem) {
    const where = problem.linePos ? ` line ${problem.linePos[0].line}` : '';
    const first = problem.message.split('\n')[0];
    throw new ParameterError(`${origin}:${where}: not valid YAML: ${first}`);
  }
  try {
    doc = parsed.toJS();
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` line ${e.linePos[0].line}` : '';
    throw new ParameterError(`${origin}:${where}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return { origin, values: {} };
  if (!isPlainObject(doc)) {
    throw new ParameterError(`${origin}: expected a mapping of node names to "ros__parameters", got ${describe(doc)}`);
  }
  const ns = namespace === '/' ? '' : namespace.replace(/\/$/, '');
  const exactKeys = new Set([nodeName, `/${nodeName}`, `${ns}/${nodeName}`]);
  let merged: Record<string, unknown> = {};
  const apply = (key: string) => {
    const section = doc[key];
    if (!isPlainObject(section) || !('ros__parameters' in section)) {
      throw new ParameterError(`${origin}: ${key}: expected a "ros__parameters" mapping, got ${describe(section)}`);
    }
    const extra = Object.keys(section).filter((k) => k !== 'ros__parameters');
    if (extra.length) throw new ParameterError(`${origin}: ${key}: unexpected key "${extra[0]}" beside ros__parameters`);
    const params = section['ros__parameters'];
    if (params === null) return;
    if (!isPlainObject(params)) throw new ParameterError(`${origin}: ${key}.ros__parameters: expected a mapping, got ${describe(params)}`);
    // Per parameter, as rcl merges: the exact node section overrides single (dotted) keys, not whole groups.
    merged = deepMerge(merged, expandDottedKeys(params));
  };
  for (const key of Object.keys(doc)) {
    const section = doc[key];
    if (!isPlainObject(section) || !('ros__parameters' in section)) {
      throw new ParameterError(`${origin}: ${key}: expected a "ros__parameters" mapping, got ${describe(section)}`);
    }
  }
  if ('/**' in doc) apply('/**');
  for (const key of Object.keys(doc)) if (exactKeys.has(key)) apply(key);
  return { origin, values: merged };
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list [${v.map((x) => JSON.stringify(x)).join(', ')}]`;
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
