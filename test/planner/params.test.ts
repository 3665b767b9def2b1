import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NO_OVERRIDES, ParameterError, readParamsFile } from '../../nodes/core/params/index.js';
import { DEFAULT_CONSISTENCY } from '../../nodes/consistency/index.js';
import {
  cameraInputs,
  consistencyParamsOf,
  loadPlannerParams,
  PLANNER_SCHEMA_PATH,
} from '../../nodes/planner/params.js';

const YAML_PATH = fileURLToPath(new URL('../../config/ar1_planner.yaml', import.meta.url));
type Schema = { properties?: Record<string, Schema>; default?: unknown; description?: string; type?: string };

function leaves(s: Schema, prefix: string[] = []): string[][] {
  if (s.type !== 'object' || !s.properties) return [prefix];
  return Object.entries(s.properties).flatMap(([k, v]) => leaves(v, [...prefix, k]));
}

describe('planner/params', () => {
  const schema = JSON.parse(readFileSync(PLANNER_SCHEMA_PATH, 'utf8')) as Schema;

  it('config/ar1_planner.yaml validates and equals the schema defaults', () => {
    const fromFile = loadPlannerParams({ sources: [readParamsFile(YAML_PATH, 'ar1_planner')] });
    expect(fromFile).to.deep.equal(loadPlannerParams(NO_OVERRIDES));
    expect(fromFile.max_plan_rate_hz).to.equal(10);
    expect(fromFile.control_rate_hz).to.equal(50);
    expect(fromFile.execution_providers).to.deep.equal(['cuda', 'cpu']);
  });

  it('every schema key is in the loaded params (typed by the generated PlannerParams), has a default and a [unit] in its description', () => {
    const params = loadPlannerParams(NO_OVERRIDES) as unknown as Record<string, unknown>;
    for (const path of leaves(schema)) {
      const value = path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], params);
      expect(value, `${path.join('.')} loaded`).to.not.equal(undefined);
      const s = path.reduce<Schema>((n, k) => n.properties![k]!, schema);
      expect(s.default, `${path.join('.')} default`).to.not.equal(undefined);
      expect(s.description, `${path.join('.')} unit`).to.match(/\[[^\]]+\]$/);
    }
    const yaml = readFileSync(YAML_PATH, 'utf8');
    for (const path of leaves(schema))
      expect(yaml, `${path.join('.')} in the yaml`).to.contain(`${path[path.length - 1]}:`);
  });

  it('refuses a typo, a bad value and unequal camera lists with the origin and key', () => {
    const src = (values: Record<string, unknown>) => ({ sources: [{ origin: 'p.yaml', values }] });
    expect(() => loadPlannerParams(src({ max_plan_rate: 5 }))).to.throw(
      ParameterError,
      /^p\.yaml: max_plan_rate: unknown parameter for ar1_planner/,
    );
    expect(() => loadPlannerParams(src({ control_rate_hz: 0 }))).to.throw(
      ParameterError,
      /^p\.yaml: control_rate_hz: expected a value > 0, got number 0/,
    );
    expect(() => loadPlannerParams(src({ cameras: { transports: ['raw', 'raw'] } }))).to.throw(
      ParameterError,
      /^p\.yaml: cameras\.transports: expected 4 values \(one per cameras\.names\), got 2$/,
    );
    expect(() => loadPlannerParams(src({ cameras: { transports: ['raw', 'raw', 'h264', 'raw'] } }))).to.throw(
      ParameterError,
      /cameras\.transports\.2: expected one of "raw", "compressed"/,
    );
  });

  it("consistency defaults in the schema equal the consistency module's (thresholds and AR1 vocabulary)", () => {
    const p = loadPlannerParams(NO_OVERRIDES);
    expect(p.consistency.enabled).to.equal(true);
    expect(consistencyParamsOf(p.consistency)).to.deep.equal(JSON.parse(JSON.stringify(DEFAULT_CONSISTENCY)));
  });

  it('compressed cameras subscribe <topic>/compressed', () => {
    const p = loadPlannerParams({
      sources: [{ origin: '-p', values: { cameras: { transports: ['raw', 'compressed', 'raw', 'raw'] } } }],
    });
    const cams = cameraInputs(p);
    expect(cams[1]).to.deep.equal({
      name: 'camera_front_wide_120fov',
      transport: 'compressed',
      topic: '/sensors/camera/camera_front_wide_120fov/image_raw/compressed',
    });
    expect(cams[0]!.topic).to.equal('/sensors/camera/camera_cross_left_120fov/image_raw');
  });
});
