import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { NO_OVERRIDES, loadParameters, readParamsFile, readSchema } from '../../../nodes/core/params/index.js';
import {
  PARAMETER_TYPE,
  flattenParameters,
  parameterSpec,
  toRclParameterValue,
} from '../../../nodes/adapters/rclnodejs/parameters.js';
import { PLANNER_SCHEMA_PATH, loadPlannerParams } from '../../../nodes/planner/params.js';
import { WATCHDOG_SCHEMA_PATH, loadWatchdogParams } from '../../../nodes/watchdog/params.js';
import { SIM_SCHEMA_PATH } from '../../../nodes/sim/rosNode.js';

const config = (f: string) => fileURLToPath(new URL(`../../../config/${f}`, import.meta.url));

type Leaf = { type?: string; items?: { type?: string }; description?: string } & Record<string, unknown>;

/** The schema entry of a dotted name, read directly (independent of parameterSpec). */
function leafOf(schema: Record<string, unknown>, dotted: string): Leaf {
  return dotted
    .split('.')
    .reduce<Record<string, unknown>>(
      (n, k) => (n['properties'] as Record<string, Record<string, unknown>>)[k]!,
      schema,
    ) as Leaf;
}

/** The ROS type the schema's JSON type must give, for a scalar or an array of them. */
const EXPECTED: Record<string, number> = {
  number: PARAMETER_TYPE.double,
  integer: PARAMETER_TYPE.integer,
  boolean: PARAMETER_TYPE.bool,
  string: PARAMETER_TYPE.string,
  'array:number': PARAMETER_TYPE.doubleArray,
  'array:integer': PARAMETER_TYPE.integerArray,
  'array:boolean': PARAMETER_TYPE.boolArray,
  'array:string': PARAMETER_TYPE.stringArray,
};

const NODES = [
  {
    node: 'ar1_planner',
    schemaPath: PLANNER_SCHEMA_PATH,
    values: () => loadPlannerParams({ sources: [readParamsFile(config('ar1_planner.yaml'), 'ar1_planner')] }),
  },
  {
    node: 'ar1_watchdog',
    schemaPath: WATCHDOG_SCHEMA_PATH,
    values: () => loadWatchdogParams({ sources: [readParamsFile(config('ar1_watchdog.yaml'), 'ar1_watchdog')] }),
  },
  {
    node: 'ar1_sim',
    schemaPath: SIM_SCHEMA_PATH,
    values: () =>
      loadParameters('ar1_sim', readSchema(SIM_SCHEMA_PATH), {
        sources: [
          readParamsFile(config('ar1_sim.yaml'), 'ar1_sim'),
          { origin: '-p', values: { scenario: 'config/scenarios/curve.yaml' } },
        ],
      }),
  },
];

describe('core/params: ROS parameter declarations come from the schemas', () => {
  for (const { node, schemaPath, values } of NODES) {
    it(`${node}: every shipped value is declared with the schema's type (number → DOUBLE even when whole, integer → INTEGER), description and bounds`, () => {
      const schema = readSchema(schemaPath);
      const flat = flattenParameters(values() as unknown as Record<string, unknown>);
      expect(flat.length).to.be.greaterThan(5);
      const kinds = new Set<string>();
      const bothBounds = new Set<string>();
      for (const [name, value] of flat) {
        const leaf = leafOf(schema, name);
        const kind = leaf.type === 'array' ? `array:${leaf.items?.type}` : String(leaf.type);
        kinds.add(kind);
        const spec = parameterSpec(schema, name);
        const p = toRclParameterValue(value, spec);
        expect(p, name).to.be.an('object');
        if (typeof p === 'string') continue;
        expect(p.type, `${name} (${kind}) = ${JSON.stringify(value)}`).to.equal(EXPECTED[kind]);
        if (p.type === PARAMETER_TYPE.integer) expect(p.value, name).to.equal(BigInt(value as number));
        if (p.type === PARAMETER_TYPE.double) expect(p.value, name).to.equal(value);
        expect(spec?.description, name).to.equal(leaf.description);
        const bounded = (leaf.type === 'array' ? leaf.items : leaf) as Record<string, unknown>; // a list: per element
        const lo = bounded['minimum'] ?? bounded['exclusiveMinimum'];
        const hi = bounded['maximum'] ?? bounded['exclusiveMaximum'];
        if (lo !== undefined && hi !== undefined) bothBounds.add(kind);
        expect(spec?.minimum, `${name} minimum`).to.equal(lo);
        expect(spec?.maximum, `${name} maximum`).to.equal(hi);
      }
      expect([...kinds]).to.include('number');
      if (node === 'ar1_watchdog') expect([...bothBounds]).to.include.members(['number', 'array:number']);
    });
  }

  it('a rate written 50.0 in the YAML (read as the whole number 50) is DOUBLE; an integer count is INTEGER', () => {
    const schema = readSchema(PLANNER_SCHEMA_PATH);
    const p = loadPlannerParams(NO_OVERRIDES);
    expect(p.control_rate_hz).to.equal(50);
    expect(toRclParameterValue(p.control_rate_hz, parameterSpec(schema, 'control_rate_hz'))).to.deep.equal({
      type: PARAMETER_TYPE.double,
      value: 50,
    });
    expect(toRclParameterValue(p.cameras.buffer_size, parameterSpec(schema, 'cameras.buffer_size'))).to.deep.equal({
      type: PARAMETER_TYPE.integer,
      value: 16n,
    });
    // Without the schema a whole number would be INTEGER: the schema is what makes it DOUBLE.
    expect(toRclParameterValue(50)).to.deep.equal({ type: PARAMETER_TYPE.integer, value: 50n });
  });

  it('an empty list the watchdog ships (cameras.topics, emergency.faults) gets its element type from the schema', () => {
    const schema = readSchema(WATCHDOG_SCHEMA_PATH);
    const p = loadWatchdogParams(NO_OVERRIDES);
    expect(p.cameras.topics).to.deep.equal([]);
    for (const name of ['cameras.topics', 'cameras.types', 'emergency.faults']) {
      expect(toRclParameterValue([], parameterSpec(schema, name)), name).to.deep.equal({
        type: PARAMETER_TYPE.stringArray,
        value: [],
      });
    }
  });
});
