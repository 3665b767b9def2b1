import { parse } from 'yaml';
import { ParameterError } from './paramsFile.js';
import { checkParameterName, expandDottedKeys } from './overrides.js';

/** What "--ros-args …" says, parsed the way rcl does for the options this suite supports. */
export interface RosArgs {
  paramsFiles: string[];
  /** "-p name:=value" in order, values YAML-typed as rcl types them; "-p node:name:=value" sets node. */
  params: Array<{ name: string; value: unknown; node?: string }>;
  /** "-r from:=to"; "__node" and "__ns" are pulled out into nodeName/namespace. */
  remaps: Map<string, string>;
  nodeName?: string;
  namespace?: string;
  logLevel?: string;
  /** Arguments outside --ros-args … [--]. */
  rest: string[];
}

/** Splits argv into ROS arguments and the rest. Unknown ROS flags are errors, never ignored. */
export function parseRosArgs(argv: readonly string[]): RosArgs {
  const out: RosArgs = { paramsFiles: [], params: [], remaps: new Map(), rest: [] };
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--ros-args') {
      inRos = true;
      continue;
    }
    if (!inRos) {
      out.rest.push(a);
      continue;
    }
    if (a === '--') {
      inRos = false;
      continue;
    }
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new ParameterError(`--ros-args: ${a}: expected a value after it, got nothing`);
      return v;
    };
    switch (a) {
      case '--params-file':
        out.paramsFiles.push(next());
        break;
      case '-p':
      case '--param': {
        const v = next();
        const at = v.indexOf(':=');
        if (at <= 0) throw new ParameterError(`--ros-args: ${a} ${v}: expected name:=value`);
        const name = v.slice(0, at);
        const text = v.slice(at + 2);
        if (v.includes('\uFFFD'))
          throw new ParameterError(`--ros-args: ${a} ${v}: not valid UTF-8 (Latin-1 or binary bytes)`);
        let value: unknown;
        try {
          value = parse(text);
        } catch {
          value = text;
        }
        const colon = name.lastIndexOf(':');
        if (colon === name.length - 1)
          throw new ParameterError(`--ros-args: ${a} ${v}: expected [node:]name:=value, got an empty name`);
        checkParameterName(colon < 0 ? name : name.slice(colon + 1), `--ros-args ${a}`);
        out.params.push(
          colon < 0
            ? { name, value: value ?? text }
            : { name: name.slice(colon + 1), value: value ?? text, node: name.slice(0, colon) },
        );
        break;
      }
      case '-r':
      case '--remap': {
        const v = next();
        const at = v.indexOf(':=');
        if (at <= 0) throw new ParameterError(`--ros-args: ${a} ${v}: expected from:=to`);
        const from = v.slice(0, at);
        const to = v.slice(at + 2);
        if (from === '__node' || from === '__name') out.nodeName = to;
        else if (from === '__ns') out.namespace = to;
        else out.remaps.set(from, to);
        break;
      }
      case '--log-level': {
        const v = next();
        out.logLevel = v.includes(':=') ? v.slice(v.indexOf(':=') + 2) : v;
        break;
      }
      case '-e':
      case '--enclave':
        next();
        break;
      case '--disable-rosout-logs':
      case '--disable-stdout-logs':
      case '--enable-rosout-logs':
      case '--enable-stdout-logs':
      case '--disable-external-lib-logs':
        break;
      default:
        throw new ParameterError(
          `--ros-args: unknown argument "${a}" (supported: --params-file, -p, -r, --log-level, -e)`,
        );
    }
  }
  return out;
}

/** "-p" overrides as one nested parameter source; with nodeName, "-p other_node:name:=…" is left out (as rcl does). */
export function paramsFromArgs(args: RosArgs, nodeName?: string): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const { name, value, node } of args.params) {
    if (node === undefined || nodeName === undefined || node.replace(/^\//, '').split('/').pop() === nodeName)
      flat[name] = value;
  }
  return expandDottedKeys(flat, '--ros-args -p');
}
