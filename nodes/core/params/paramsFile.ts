import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { parseDocument, YAMLParseError } from 'yaml';
import { ParameterError } from './errors.js';
import { deepMerge, expandDottedKeys, isPlainObject, type ParameterSource } from './overrides.js';
import { nearNodeName, SUITE_NODES } from './suite.js';

export { ParameterError };

/** [bytes] largest parameter file read; a larger one (or a FIFO, a device, /proc) is refused instead of hanging. */
export const MAX_PARAMS_FILE_BYTES = 1 << 20;

/** 1-based line of the first byte sequence that is not UTF-8. */
function firstInvalidUtf8Line(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return line;
}

/** Reads a regular file of at most maxBytes as UTF-8; anything else is a ParameterError naming the path. */
function readSmallTextFile(path: string, maxBytes: number): string {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile())
      throw new ParameterError(
        `${path}: cannot read parameter file (expected a regular file, got ${st.isDirectory() ? 'a directory' : 'a FIFO, socket or device'})`,
      );
    size = st.size;
  } catch (e) {
    if (e instanceof ParameterError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ParameterError(
      `${path}: cannot read parameter file (${code === 'ENOENT' ? 'no such file' : (code ?? String(e))})`,
    );
  }
  if (size > maxBytes)
    throw new ParameterError(`${path}: cannot read parameter file (expected at most ${maxBytes} bytes, got ${size})`);
  const fd = openSync(path, 'r');
  try {
    // Read at most maxBytes + 1 whatever stat said (/proc files report size 0).
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > maxBytes)
        throw new ParameterError(`${path}: cannot read parameter file (expected at most ${maxBytes} bytes, got more)`);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, n));
    } catch {
      const bad = firstInvalidUtf8Line(buf.subarray(0, n));
      throw new ParameterError(
        `${path}: line ${bad}: not valid UTF-8 (Latin-1 or binary bytes); save the file as UTF-8`,
      );
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a ROS 2 parameter file ("node_name: ros__parameters: …", "/**:" wildcard, "/ns/node_name:") and returns
 * the values that apply to the node, wildcard first, then the exact name (as rcl merges them).
 */
export function readParamsFile(path: string, nodeName: string, namespace = '/'): ParameterSource {
  let text: string;
  try {
    text = readSmallTextFile(path, MAX_PARAMS_FILE_BYTES);
  } catch (e) {
    if (e instanceof ParameterError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ParameterError(`${path}: cannot read parameter file (${code ?? String(e)})`);
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
  let wildcard: Record<string, unknown> | undefined;
  let exact: Record<string, unknown> = {};
  const apply = (key: string) => {
    const section = doc[key];
    if (!isPlainObject(section) || !('ros__parameters' in section)) {
      throw new ParameterError(`${origin}: ${key}: expected a "ros__parameters" mapping, got ${describe(section)}`);
    }
    const extra = Object.keys(section).filter((k) => k !== 'ros__parameters');
    if (extra.length)
      throw new ParameterError(`${origin}: ${key}: unexpected key "${extra[0]}" beside ros__parameters`);
    const params = section['ros__parameters'];
    if (params === null) return;
    if (!isPlainObject(params))
      throw new ParameterError(`${origin}: ${key}.ros__parameters: expected a mapping, got ${describe(params)}`);
    // Per parameter, as rcl merges: the exact node section overrides single (dotted) keys, not whole groups.
    const expanded = expandDottedKeys(params, `${origin}: ${key}`);
    if (key === '/**') wildcard = expanded;
    else exact = deepMerge(exact, expanded);
    merged = deepMerge(merged, expanded);
  };
  for (const key of Object.keys(doc)) {
    const section = doc[key];
    if (!isPlainObject(section) || !('ros__parameters' in section)) {
      throw new ParameterError(`${origin}: ${key}: expected a "ros__parameters" mapping, got ${describe(section)}`);
    }
    // Sections for other nodes are theirs (ROS semantics), but one a letter or two away from a node of this suite
    // is a typo that would silently drop every parameter in it.
    const base = key.split('/').pop() ?? key;
    if (key !== '/**' && !exactKeys.has(key) && base !== nodeName) {
      const meant = nearNodeName(base, [...SUITE_NODES, nodeName]);
      if (meant)
        throw new ParameterError(`${origin}: ${key}: no node of this suite is named "${base}"; did you mean ${meant}?`);
    }
  }
  if (Object.prototype.hasOwnProperty.call(doc, '/**')) apply('/**');
  for (const key of Object.keys(doc)) if (exactKeys.has(key)) apply(key);
  return { origin, values: merged, ...(wildcard ? { wildcard, exact } : {}) };
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return `number ${String(v)}`;
  if (Array.isArray(v)) return `a list [${v.map((x) => JSON.stringify(x)).join(', ')}]`;
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
