/**
 * rosbag2-style `ros2msg` schema text generated from bundled definitions: the top-level .msg text, then each
 * dependency not yet emitted (depth-first, sorted) after a line of 80 '=' and `MSG: pkg/Type`
 * (rb2 rosbag2_storage_mcap, docs/message_definition_encoding.md). Comments are not kept; constants,
 * bounds and default values are.
 */
import { bundledDefinition, fullTypeName, shortTypeName } from './definitions.js';
import type { MessageDefinitionField } from './definitions.js';

const SEPARATOR = '='.repeat(80);

function fieldType(f: MessageDefinitionField): string {
  if (f.type === 'time') return 'builtin_interfaces/Time';
  if (f.type === 'duration') return 'builtin_interfaces/Duration';
  return f.type === 'string' && f.upperBound !== undefined ? `string<=${f.upperBound}` : f.type;
}

function literal(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function fieldLine(f: MessageDefinitionField): string {
  if (f.isConstant === true) return `${f.type} ${f.name}=${f.valueText ?? String(f.value)}`;
  const array =
    f.isArray !== true
      ? ''
      : f.arrayLength !== undefined
        ? `[${f.arrayLength}]`
        : f.arrayUpperBound !== undefined
          ? `[<=${f.arrayUpperBound}]`
          : '[]';
  const def =
    f.defaultValue === undefined
      ? ''
      : ' ' + (Array.isArray(f.defaultValue) ? `[${f.defaultValue.map(literal).join(', ')}]` : literal(f.defaultValue));
  return `${fieldType(f)}${array} ${f.name}${def}`;
}

function dependencies(type: string): string[] {
  const def = bundledDefinition(type);
  if (!def) throw new Error(`no bundled definition for ${fullTypeName(type)}`);
  const out = new Set<string>();
  for (const f of def.definitions) {
    if (f.isConstant === true) continue;
    const t = fieldType(f);
    if (t.includes('/')) out.add(t);
  }
  return [...out].sort();
}

/** The schema text rosbag2 would embed for `type` (either spelling). Throws if a type is not bundled. */
export function ros2msgSchemaText(type: string): string {
  const emitted = new Set<string>();
  const render = (t: string): string => {
    const def = bundledDefinition(t);
    if (!def) throw new Error(`no bundled definition for ${fullTypeName(t)}`);
    let text = def.definitions.map(fieldLine).join('\n') + '\n';
    for (const dep of dependencies(t)) {
      if (emitted.has(dep)) continue;
      emitted.add(dep);
      text += `\n${SEPARATOR}\nMSG: ${dep}\n` + render(dep);
    }
    return text;
  };
  return render(shortTypeName(type));
}
