import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

/** Repository root (test/deploy/ → ../..). */
export const REPO = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');

export interface LaunchArg {
  name: string;
  default?: string;
  description?: string;
}
export interface LaunchNode {
  pkg: string;
  exec: string;
  name: string;
  namespace?: string;
  args?: string;
  ros_args?: string;
  param: Array<{ from?: string; name?: string; value?: unknown }>;
  remap: Array<{ from: string; to: string }>;
  env: Array<{ name: string; value: string }>;
}
export interface LaunchExecutable {
  cmd: string;
  name?: string;
  if?: string;
}
export interface LaunchInclude {
  file: string;
  arg: Array<{ name: string; value: string }>;
}
export interface LaunchFile {
  path: string;
  args: LaunchArg[];
  nodes: LaunchNode[];
  executables: LaunchExecutable[];
  includes: LaunchInclude[];
}

const ACTIONS = new Set(['arg', 'node', 'executable', 'include']);

/** Parses a ROS 2 YAML launch file into the four actions this project uses; anything else is an error. */
export function readLaunchFile(path: string): LaunchFile {
  const doc = parse(readFileSync(path, 'utf8')) as unknown;
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { launch?: unknown }).launch)) {
    throw new Error(`${path}: expected a top-level "launch:" list`);
  }
  const out: LaunchFile = { path, args: [], nodes: [], executables: [], includes: [] };
  for (const [i, entry] of (doc as { launch: unknown[] }).launch.entries()) {
    const keys = Object.keys(entry as object);
    const kind = keys[0];
    if (keys.length !== 1 || kind === undefined || !ACTIONS.has(kind)) {
      throw new Error(`${path}: launch[${i}]: expected one of ${[...ACTIONS].join(', ')}, got ${JSON.stringify(keys)}`);
    }
    const body = (entry as Record<string, Record<string, unknown>>)[kind]!;
    if (kind === 'arg') out.args.push(body as unknown as LaunchArg);
    if (kind === 'node') {
      out.nodes.push({ param: [], remap: [], env: [], ...(body as object) } as unknown as LaunchNode);
    }
    if (kind === 'executable') out.executables.push(body as unknown as LaunchExecutable);
    if (kind === 'include') out.includes.push({ arg: [], ...(body as object) } as unknown as LaunchInclude);
  }
  return out;
}

/** Names used by $(var NAME) in a string. */
export function varsIn(text: string): string[] {
  return [...text.matchAll(/\$\(var ([A-Za-z0-9_]+)\)/g)].map((m) => m[1]!);
}

/** Every string value in a parsed launch action, for scanning substitutions. */
export function stringsIn(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(stringsIn);
  if (typeof v === 'object' && v !== null) return Object.values(v).flatMap(stringsIn);
  return [];
}

/**
 * Evaluates the substitutions these files use, the way launch does, with share/ar1_ros mapped onto the repository
 * (the colcon package installs the same tree there). Unknown substitutions throw.
 */
export function substitute(text: string, vars: ReadonlyMap<string, string>, launchDir: string): string {
  let out = text;
  for (let guard = 0; guard < 20 && out.includes('$('); guard++) {
    out = out.replace(/\$\(([a-z-]+)(?: ([^()]*))?\)/g, (_, fn: string, arg: string | undefined) => {
      if (fn === 'var') {
        const v = vars.get(arg ?? '');
        if (v === undefined) throw new Error(`$(var ${arg}) is not declared`);
        return v;
      }
      if (fn === 'find-pkg-share') {
        if (arg !== 'ar1_ros') throw new Error(`$(find-pkg-share ${arg}): only ar1_ros is known here`);
        return REPO;
      }
      if (fn === 'dirname') return launchDir;
      throw new Error(`unsupported substitution $(${fn}${arg ? ' ' + arg : ''})`);
    });
  }
  return out;
}

/** Arguments with their defaults evaluated in order (as DeclareLaunchArgument does), then the given overrides. */
export function resolveArgs(file: LaunchFile, given: Record<string, string> = {}): Map<string, string> {
  const vars = new Map<string, string>();
  for (const a of file.args) {
    if (a.name in given) vars.set(a.name, given[a.name]!);
    else if (a.default !== undefined) vars.set(a.name, substitute(String(a.default), vars, dirname(file.path)));
  }
  return vars;
}

/** launch_ros's shell-like split of args/ros_args/cmd strings (whitespace; no quoting is used in our files). */
export function splitCmdline(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/**
 * The argv launch_ros builds for a node (launch_ros actions/node.py): exec, args, "--ros-args" ros_args, then
 * "--ros-args -r __node:=… -r __ns:=… --params-file … -r from:=to".
 */
export function nodeArgv(node: LaunchNode, vars: ReadonlyMap<string, string>, launchDir: string): string[] {
  const s = (t: string) => substitute(t, vars, launchDir);
  const argv = [node.exec];
  if (node.args) argv.push(...splitCmdline(s(node.args)));
  if (node.ros_args) argv.push('--ros-args', ...splitCmdline(s(node.ros_args)));
  argv.push('--ros-args', '-r', `__node:=${s(node.name)}`);
  if (node.namespace !== undefined) argv.push('-r', `__ns:=${s(node.namespace)}`);
  for (const p of node.param) {
    if (p.from === undefined)
      throw new Error(`${node.name}: dict parameters are not used (see the launch file header)`);
    argv.push('--params-file', s(p.from));
  }
  for (const r of node.remap) argv.push('-r', `${s(r.from)}:=${s(r.to)}`);
  return argv;
}

export const LAUNCH_DIR = join(REPO, 'launch');
