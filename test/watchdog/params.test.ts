import { expect } from 'chai';
import { FAULT_NAMES } from '../../nodes/watchdog/faults.js';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import {
  NO_OVERRIDES,
  readParamsFile,
  readSchema,
  ParameterError,
  type ParameterOverrides,
} from '../../nodes/core/params/index.js';
import { loadWatchdogParams, WATCHDOG_SCHEMA_PATH } from '../../nodes/watchdog/params.js';

const YAML_PATH = new URL('../../config/ar1_watchdog.yaml', import.meta.url).pathname;
const cli = (values: Record<string, unknown>): ParameterOverrides => ({
  sources: [{ origin: 'command line (-p)', values }],
});

/** Every leaf key path of the schema's properties. */
function schemaLeaves(schema: Record<string, unknown>, prefix = ''): string[] {
  const props = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(props).flatMap(([k, s]) =>
    s['type'] === 'object' ? schemaLeaves(s, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe('watchdog/params', () => {
  it('config/ar1_watchdog.yaml validates against the schema and equals the schema defaults', () => {
    const src = readParamsFile(YAML_PATH, 'ar1_watchdog');
    const schema = readSchema(WATCHDOG_SCHEMA_PATH);
    const validate = new Ajv({ strict: true, allowUnionTypes: true }).compile(schema);
    expect(validate(structuredClone(src.values)), JSON.stringify(validate.errors)).to.equal(true);
    expect(loadWatchdogParams({ sources: [src] })).to.deep.equal(loadWatchdogParams(NO_OVERRIDES));
  });

  it('the YAML file is keyed by the node name ("ar1_watchdog: ros__parameters:", never "/**") and documents every key with [unit] and default', () => {
    const text = readFileSync(YAML_PATH, 'utf8');
    expect(text).to.match(/^ar1_watchdog:\n {2}ros__parameters:/m);
    expect(text).not.to.match(/^\/\*\*:/m);
    for (const line of text.split('\n').filter((l) => /^\s+[a-z_]+: \S/.test(l))) {
      expect(line, line).to.match(/# \[[^\]]+\]/);
    }
  });

  it('every schema key has a default, a [unit] in its description, and is declared in WatchdogParams', () => {
    const schema = readSchema(WATCHDOG_SCHEMA_PATH);
    const source = readFileSync(new URL('../../nodes/watchdog/params.generated.ts', import.meta.url), 'utf8');
    const params = loadWatchdogParams(NO_OVERRIDES) as unknown as Record<string, unknown>;
    const leaves = schemaLeaves(schema);
    expect(leaves.length).to.be.greaterThan(30);
    for (const path of leaves) {
      const parts = path.split('.');
      let node: Record<string, unknown> = schema;
      for (const part of parts) node = (node['properties'] as Record<string, Record<string, unknown>>)[part]!;
      expect(node, path).to.have.property('default');
      expect(String(node['description']), path).to.match(/\[[^\]]+\]$/);
      // declared in WatchdogParams (the interface generated from the schema) and present in the loaded object
      expect(source, path).to.match(new RegExp(`\\b${parts[parts.length - 1]}\\??:`));
      const value = parts.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], params);
      expect(value, path).to.not.equal(undefined);
    }
  });

  it('the schema lists every fault name for emergency.faults, and only those', () => {
    const schema = readSchema(WATCHDOG_SCHEMA_PATH) as {
      properties: { emergency: { properties: { faults: { items: { enum: string[] } } } } };
    };
    expect(schema.properties.emergency.properties.faults.items.enum).to.deep.equal([...FAULT_NAMES]);
  });

  it('sane bounds: a control rate of 1e-6 Hz, a 1e9 s deadline or a 50 m/s² limit are refused naming the key', () => {
    expect(() => loadWatchdogParams(cli({ control_rate_hz: 1e-6 }))).to.throw(
      /control_rate_hz: expected a value >= 10, got number 0\.000001/,
    );
    expect(() => loadWatchdogParams(cli({ command_gap_s: 1e9 }))).to.throw(/command_gap_s: expected a value <= 2/);
    expect(() => loadWatchdogParams(cli({ limits: { accel_max_mps2: [50, 2, 2] } }))).to.throw(
      /limits\.accel_max_mps2\.0: expected a value <= 10/,
    );
    expect(() => loadWatchdogParams(cli({ fallback: { release_jerk_mps3: -6 } }))).to.throw(
      /fallback\.release_jerk_mps3: expected \|jerk\| <= 5 m\/s\^3/,
    );
  });

  it('-p overrides win and nested keys work', () => {
    const p = loadWatchdogParams(
      cli({ max_plan_age_s: 1.5, fallback: { accel_mps2: -3 }, cameras: { topics: ['/cam'], types: ['image'] } }),
    );
    expect(p.max_plan_age_s).to.equal(1.5);
    expect(p.fallback).to.deep.equal({ accel_mps2: -3, jerk_mps3: -1.5, release_jerk_mps3: -5 });
    expect(p.cameras.topics).to.deep.equal(['/cam']);
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['unknown key', { max_plan_age: 1 }, /command line \(-p\): max_plan_age: unknown parameter for ar1_watchdog/],
    [
      'a negative deadline',
      { max_plan_age_s: -1 },
      /command line \(-p\): max_plan_age_s: expected a value > 0, got number -1/,
    ],
    [
      'unequal limit arrays',
      { limits: { lat_accel_mps2: [3, 3] } },
      /^command line \(-p\): limits\.lat_accel_mps2: expected 3 values \(one per limits\.reference_speed_mps\), got 2$/,
    ],
    [
      'non-increasing speeds',
      { limits: { reference_speed_mps: [1, 1, 30] } },
      /limits\.reference_speed_mps: expected strictly increasing speeds, got \[1, 1, 30\]/,
    ],
    [
      'camera types of another length',
      { cameras: { topics: ['/a', '/b'], types: ['image'] } },
      /cameras\.types: expected 2 values \(one per cameras\.topics\), got 1/,
    ],
    [
      'a bad camera type',
      { cameras: { topics: ['/a'], types: ['jpeg'] } },
      /cameras\.types\.0: expected one of "image", "compressed", got string "jpeg"/,
    ],
    [
      'window smaller than N',
      { planning_budget: { window: 2 } },
      /planning_budget\.window: expected a value >= planning_budget\.max_over_budget \(3\), got 2/,
    ],
    [
      'fallback beyond the accel limit',
      { fallback: { accel_mps2: -4 } },
      /fallback\.accel_mps2: expected a value >= -3\.5 m\/s\^2/,
    ],
    [
      'fallback jerk beyond the jerk limit',
      { fallback: { jerk_mps3: -6 } },
      /fallback\.jerk_mps3: expected \|jerk\| <= 5 m\/s\^3/,
    ],
    [
      'emergency weaker than fallback',
      { emergency: { accel_mps2: -1 } },
      /emergency\.accel_mps2: expected a value <= fallback\.accel_mps2 \(-2\.5\)/,
    ],
    [
      'an unknown emergency fault',
      { emergency: { faults: ['plan_late'] } },
      /emergency\.faults\.0: expected one of "clock_zero"/,
    ],
  ];
  for (const [what, values, pattern] of bad) {
    it(`refuses ${what} with a precise error`, () => {
      expect(() => loadWatchdogParams(cli(values))).to.throw(ParameterError, pattern);
    });
  }

  it('names the file when a params file is wrong', () => {
    const src = { origin: 'config/x.yaml', values: { limits: { jerk_max_mps3: [5] } } };
    expect(() => loadWatchdogParams({ sources: [src] })).to.throw(
      /^config\/x\.yaml: limits\.jerk_max_mps3: expected 3 values/,
    );
  });
});
