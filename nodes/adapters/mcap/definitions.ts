/**
 * Bundled ROS 2 message definitions: the ROS 2 Jazzy common interfaces (@foxglove/rosmsg-msgs-common) plus our
 * own ar1_msgs, parsed from msg/msg/*.msg. Used to encode what we write and to decode bags whose embedded
 * definition is missing, empty or broken.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from '@foxglove/rosmsg';
import { ros2jazzy } from '@foxglove/rosmsg-msgs-common';

/** A parsed message definition (the shape @foxglove/rosmsg returns). */
export type MessageDefinition = ReturnType<typeof parse>[number];
export type MessageDefinitionField = MessageDefinition['definitions'][number];

const AR1_PACKAGE = 'ar1_msgs';
const MSG_DIR = fileURLToPath(new URL('../../../msg/msg/', import.meta.url));

/** `pkg/msg/Type` or `pkg/Type` → `pkg/Type` (the key spelling of parsed definitions). */
export function shortTypeName(type: string): string {
  return type.replace('/msg/', '/');
}

/** `pkg/Type` or `pkg/msg/Type` → `pkg/msg/Type` (the ROS 2 spelling used for topics and schemas). */
export function fullTypeName(type: string): string {
  const parts = type.split('/');
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : type;
}

/** Parses one .msg file of `pkg`; bare complex types are resolved within the package, as rosidl does. */
function parseMsgFile(pkg: string, name: string, text: string): MessageDefinition {
  let parsed: MessageDefinition[];
  try {
    parsed = parse(text, { ros2: true, skipTypeFixup: true });
  } catch (e) {
    throw new Error(`${pkg}/msg/${name}.msg: ${(e as Error).message}`, { cause: e });
  }
  const root = parsed[0];
  if (!root || parsed.length !== 1)
    throw new Error(`${pkg}/msg/${name}.msg: expected one definition, got ${parsed.length}`);
  return {
    name: `${pkg}/${name}`,
    definitions: root.definitions.map((f) =>
      f.isComplex === true && !f.type.includes('/') ? { ...f, type: `${pkg}/${f.type}` } : f,
    ),
  };
}

let registry: Map<string, MessageDefinition> | undefined;

function loadRegistry(): Map<string, MessageDefinition> {
  const map = new Map<string, MessageDefinition>();
  for (const [key, def] of Object.entries(ros2jazzy as unknown as Record<string, MessageDefinition>)) map.set(key, def);
  for (const file of readdirSync(MSG_DIR)
    .filter((f) => f.endsWith('.msg'))
    .sort()) {
    const name = file.slice(0, -'.msg'.length);
    map.set(`${AR1_PACKAGE}/${name}`, parseMsgFile(AR1_PACKAGE, name, readFileSync(MSG_DIR + file, 'utf8')));
  }
  return map;
}

/** The bundled definition of a type (either spelling), or undefined. */
export function bundledDefinition(type: string): MessageDefinition | undefined {
  registry ??= loadRegistry();
  return registry.get(shortTypeName(type));
}

/**
 * The definition list a CDR reader/writer needs: the root (unnamed) first, then every complex type it uses,
 * transitively. Throws naming the missing type when a dependency is not bundled.
 */
export function bundledDefinitionList(type: string): MessageDefinition[] {
  const root = bundledDefinition(type);
  if (!root) throw new Error(`no bundled definition for ${fullTypeName(type)}`);
  const out: MessageDefinition[] = [{ definitions: root.definitions }];
  const seen = new Set<string>([shortTypeName(type)]);
  const visit = (def: MessageDefinition): void => {
    for (const f of def.definitions) {
      if (f.isComplex !== true || seen.has(f.type)) continue;
      seen.add(f.type);
      const dep = bundledDefinition(f.type);
      if (!dep) throw new Error(`no bundled definition for ${f.type} (used by ${fullTypeName(type)})`);
      out.push(dep);
      visit(dep);
    }
  };
  visit(root);
  return out;
}
