import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from '@foxglove/rosmsg';
import { ros2jazzy } from '@foxglove/rosmsg-msgs-common';
import type { MessageDefinition, MessageDefinitionField } from '@foxglove/message-definition';
import { VERDICTS } from '../../nodes/consistency/verdict.js';
import {
  MESSAGE_FIELDS,
  fieldsOf,
  messageTypeName,
  parseFieldType,
  type FieldTable,
} from '../../nodes/core/msgFields.js';
import {
  CONSISTENCY,
  SAFETY_STATE,
  UNICYCLE_SOURCE,
  type MessageTypeName,
  type Point,
  type UnicycleCommand,
} from '../../nodes/core/msgs.js';

const MSG_DIR = new URL('../../msg/msg/', import.meta.url);
const msgFiles = readdirSync(MSG_DIR)
  .filter((f) => f.endsWith('.msg'))
  .sort();
const JAZZY = ros2jazzy as unknown as Record<string, MessageDefinition | undefined>;

/** A parsed field written the way a .msg file (and our table) spells it. */
function rosTypeString(f: MessageDefinitionField, ownPackage: string): string {
  let base = f.type;
  if (base === 'time') base = 'builtin_interfaces/Time';
  else if (base === 'duration') base = 'builtin_interfaces/Duration';
  else if (f.isComplex && !base.includes('/')) base = `${ownPackage}/${base}`; // same-package reference
  if (f.upperBound !== undefined) base += `<=${f.upperBound}`;
  if (!f.isArray) return base;
  if (f.arrayLength !== undefined) return `${base}[${f.arrayLength}]`;
  if (f.arrayUpperBound !== undefined) return `${base}[<=${f.arrayUpperBound}]`;
  return `${base}[]`;
}

function parseMsgFile(file: string): MessageDefinition {
  const defs = parse(readFileSync(new URL(file, MSG_DIR), 'utf8'), { ros2: true, skipTypeFixup: true });
  expect(defs, `${file}: top-level definitions`).to.have.length(1);
  return defs[0]!;
}

const fields = (def: MessageDefinition, pkg: string) =>
  def.definitions.filter((f) => !f.isConstant).map((f) => [f.name, rosTypeString(f, pkg)] as [string, string]);

const ALL_TYPES = Object.keys(MESSAGE_FIELDS) as MessageTypeName[];

/** @foxglove/rosmsg (ros2 mode) reports "byte" and "char" as "uint8", their CDR representation. */
const canonical = (table: Array<[string, string]>) =>
  table.map(([n, t]) => [n, t.replace(/^(byte|char)(?=\[|$)/, 'uint8')] as [string, string]);

describe('ar1_msgs .msg files agree with nodes/core/msgs.ts (via msgFields.ts)', () => {
  it('msg/msg holds the six ar1_msgs interfaces', () => {
    expect(msgFiles).to.include.members([
      'UnicycleCommand.msg',
      'TrajectoryPoint.msg',
      'Trajectory.msg',
      'Reasoning.msg',
      'PlannerTiming.msg',
      'SafetyState.msg',
    ]);
  });

  it('every .msg file has a TypeScript entry and every ar1_msgs entry has a .msg file', () => {
    const fromFiles = msgFiles.map((f) => `ar1_msgs/msg/${f.replace(/\.msg$/, '')}`).sort();
    const fromTs = ALL_TYPES.filter((t) => t.startsWith('ar1_msgs/')).sort();
    expect(fromTs).to.deep.equal(fromFiles);
  });

  for (const file of msgFiles) {
    const type = `ar1_msgs/msg/${file.replace(/\.msg$/, '')}` as MessageTypeName;
    it(`${file}: field names, order and types match MESSAGE_FIELDS['${type}']`, () => {
      const def = parseMsgFile(file);
      expect(canonical(fieldsOf(type)), `${type} (TypeScript table) vs msg/msg/${file}`).to.deep.equal(
        fields(def, 'ar1_msgs'),
      );
    });
  }

  it('UnicycleCommand SOURCE_* constants equal UNICYCLE_SOURCE', () => {
    const constants = parseMsgFile('UnicycleCommand.msg').definitions.filter((f) => f.isConstant);
    const fromMsg = Object.fromEntries(constants.map((c) => [c.name, c.value]));
    const fromTs = Object.fromEntries(
      Object.entries(UNICYCLE_SOURCE).map(([k, v]) => [`SOURCE_${k.toUpperCase()}`, v]),
    );
    expect(fromMsg).to.deep.equal(fromTs);
    for (const c of constants) expect(c.type, c.name).to.equal(MESSAGE_FIELDS['ar1_msgs/msg/UnicycleCommand'].source);
  });

  it('SafetyState STATE_* constants equal SAFETY_STATE', () => {
    const constants = parseMsgFile('SafetyState.msg').definitions.filter((f) => f.isConstant);
    const fromMsg = Object.fromEntries(constants.map((c) => [c.name, c.value]));
    const fromTs = Object.fromEntries(Object.entries(SAFETY_STATE).map(([k, v]) => [`STATE_${k.toUpperCase()}`, v]));
    expect(fromMsg).to.deep.equal(fromTs);
    for (const c of constants) expect(c.type, c.name).to.equal(MESSAGE_FIELDS['ar1_msgs/msg/SafetyState'].state);
  });

  it('Reasoning CONSISTENCY_* constants equal CONSISTENCY and VERDICTS', () => {
    const constants = parseMsgFile('Reasoning.msg').definitions.filter((f) => f.isConstant);
    const fromMsg = Object.fromEntries(constants.map((c) => [c.name, c.value]));
    const fromTs = Object.fromEntries(
      Object.entries(CONSISTENCY).map(([k, v]) => [`CONSISTENCY_${k.toUpperCase()}`, v]),
    );
    expect(fromMsg).to.deep.equal(fromTs);
    expect(Object.keys(CONSISTENCY)).to.deep.equal([...VERDICTS]);
    for (const c of constants) expect(c.type, c.name).to.equal(MESSAGE_FIELDS['ar1_msgs/msg/Reasoning'].consistency);
  });

  it('msg/CMakeLists.txt lists every .msg file exactly once, and only those', () => {
    const cmake = readFileSync(new URL('../CMakeLists.txt', MSG_DIR), 'utf8');
    const listed = [...cmake.matchAll(/"msg\/([^"]+\.msg)"/g)].map((m) => m[1]!).sort();
    expect(listed).to.deep.equal(msgFiles);
  });

  it('every package the .msg files use is a dependency in CMakeLists.txt and package.xml', () => {
    const cmake = readFileSync(new URL('../CMakeLists.txt', MSG_DIR), 'utf8');
    const xml = readFileSync(new URL('../package.xml', MSG_DIR), 'utf8');
    const deps = /DEPENDENCIES([^)]*)\)/.exec(cmake)?.[1]?.trim().split(/\s+/) ?? [];
    const used = new Set<string>();
    for (const file of msgFiles) {
      for (const [, t] of fields(parseMsgFile(file), 'ar1_msgs')) {
        const { base, complex } = parseFieldType(t);
        if (complex && !base.startsWith('ar1_msgs/')) used.add(base.split('/')[0]!);
      }
    }
    expect(used.size).to.be.greaterThan(0);
    for (const pkg of used) {
      expect(deps, `CMakeLists.txt DEPENDENCIES`).to.include(pkg);
      expect(cmake, `find_package(${pkg})`).to.match(new RegExp(`find_package\\(${pkg} REQUIRED\\)`));
      expect(xml, `package.xml <depend>${pkg}`).to.include(`<depend>${pkg}</depend>`);
    }
  });
});

describe('standard message tables agree with the ROS 2 Jazzy definitions', () => {
  for (const type of ALL_TYPES.filter((t) => !t.startsWith('ar1_msgs/'))) {
    const short = type.replace('/msg/', '/');
    it(`${type} matches @foxglove/rosmsg-msgs-common ros2jazzy['${short}']`, () => {
      const def = JAZZY[short];
      expect(def, `no Jazzy definition for ${short}`).to.not.equal(undefined);
      expect(canonical(fieldsOf(type))).to.deep.equal(fields(def!, short.split('/')[0]!));
    });
  }
});

describe('MESSAGE_FIELDS is closed', () => {
  it('every complex field type refers to a message type in the table', () => {
    for (const type of ALL_TYPES) {
      for (const [name, t] of fieldsOf(type)) {
        const { base, complex } = parseFieldType(t);
        if (complex) expect(() => messageTypeName(base), `${type}.${name}: ${t}`).to.not.throw();
      }
    }
  });
});

describe('parseFieldType', () => {
  it('splits base, array kind and length', () => {
    expect(parseFieldType('float64')).to.deep.equal({ base: 'float64', array: 'none', complex: false });
    expect(parseFieldType('uint8[]')).to.deep.equal({ base: 'uint8', array: 'dynamic', complex: false });
    expect(parseFieldType('float64[36]')).to.deep.equal({
      base: 'float64',
      array: 'fixed',
      length: 36,
      complex: false,
    });
    expect(parseFieldType('int32[<=4]')).to.deep.equal({ base: 'int32', array: 'bounded', length: 4, complex: false });
    expect(parseFieldType('ar1_msgs/TrajectoryPoint[]')).to.deep.equal({
      base: 'ar1_msgs/TrajectoryPoint',
      array: 'dynamic',
      complex: true,
    });
  });
  it('rejects what is not a field type, quoting it', () => {
    expect(() => parseFieldType('float64[')).to.throw(TypeError, /got "float64\["/);
    expect(() => parseFieldType('std_msgs/msg/Header')).to.throw(TypeError, /std_msgs\/msg\/Header/);
  });
  it('messageTypeName names unknown types', () => {
    expect(messageTypeName('std_msgs/Header')).to.equal('std_msgs/msg/Header');
    expect(() => messageTypeName('std_msgs/Float32')).to.throw(TypeError, /"std_msgs\/Float32" is not a message type/);
  });
});

// Compile-time checks (run by `tsc` in `npm test`): the table type rejects a missing field, an extra field and a
// ROS type that cannot hold the TypeScript field. Each @ts-expect-error fails the build if the error goes away.
export const typeChecks = [
  // @ts-expect-error z is missing
  { x: 'float64', y: 'float64' } satisfies FieldTable<Point>,
  // @ts-expect-error w is not a field of Point
  { x: 'float64', y: 'float64', z: 'float64', w: 'float64' } satisfies FieldTable<Point>,
  // @ts-expect-error a number field cannot be a string
  { x: 'string', y: 'float64', z: 'float64' } satisfies FieldTable<Point>,
  {
    // @ts-expect-error header is a message, not a primitive
    header: 'float64',
    acceleration: 'float64',
    curvature: 'float64',
    speed: 'float64',
    source: 'uint8',
  } satisfies FieldTable<UnicycleCommand>,
  { x: 'float64', y: 'float64', z: 'float32' } satisfies FieldTable<Point>,
];
