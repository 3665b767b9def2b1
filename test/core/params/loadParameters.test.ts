import { expect } from 'chai';
import {
  COMMAND_LINE_ORIGIN,
  NO_OVERRIDES,
  ParameterError,
  loadParameters,
  parameterOverridesFromArgs,
  parseRosArgs,
  type ParameterOverrides,
} from '../../../nodes/core/params/index.js';
import { TEST_SCHEMA, tempFiles, type TestParams } from './fixtures.js';

const NODE = 'ar1_watchdog';
const fromFile = (origin: string, values: Record<string, unknown>): ParameterOverrides => ({
  sources: [{ origin, values }],
});
const load = (o: ParameterOverrides) => loadParameters<TestParams>(NODE, TEST_SCHEMA, o);
const errorOf = (o: ParameterOverrides): string => {
  try {
    load(o);
  } catch (e) {
    expect(e).to.be.instanceOf(ParameterError);
    return (e as Error).message;
  }
  throw new Error('expected a ParameterError');
};

describe('core/params/loadParameters: merge, defaults, validation', () => {
  it('fills schema defaults under the given values, nested ones included', () => {
    expect(load(fromFile('w.yaml', { bundle_dir: '/m', limits: { max_curvature: 0.1 } }))).to.deep.equal({
      bundle_dir: '/m',
      max_plan_age_s: 0.5,
      rate_hz: 50,
      provider: 'cuda',
      verbose: false,
      limits: { reference_speed_mps: [1, 10, 30], max_curvature: 0.1 },
    });
  });

  it('later sources override earlier ones key by key (file, then -p)', () => {
    const o: ParameterOverrides = {
      sources: [
        { origin: 'a.yaml', values: { bundle_dir: '/a', rate_hz: 10, limits: { max_curvature: 0.1 } } },
        { origin: COMMAND_LINE_ORIGIN, values: { rate_hz: 25, limits: { reference_speed_mps: [3] } } },
      ],
    };
    const p = load(o);
    expect(p.rate_hz).to.equal(25);
    expect(p.limits).to.deep.equal({ max_curvature: 0.1, reference_speed_mps: [3] });
  });

  it('ignores the ROS-only parameters every node accepts (use_sim_time, qos_overrides)', () => {
    const p = load(fromFile('w.yaml', { bundle_dir: '/m', use_sim_time: true, qos_overrides: { '/x': {} } }));
    expect(p).to.not.have.property('use_sim_time');
  });

  it('does not modify the sources', () => {
    const values = { bundle_dir: '/m' };
    load(fromFile('w.yaml', values));
    expect(values).to.deep.equal({ bundle_dir: '/m' });
  });

  it('end to end: params file with /** and exact sections, then typed -p overrides', () => {
    const f = tempFiles({
      'w.yaml': [
        '/**:',
        '  ros__parameters:',
        '    bundle_dir: /models/ar1',
        '    rate_hz: 20',
        '    limits.max_curvature: 0.3',
        'ar1_watchdog:',
        '  ros__parameters:',
        '    rate_hz: 40',
      ].join('\n'),
    });
    const args = parseRosArgs([
      '--ros-args',
      '--params-file',
      f['w.yaml']!,
      '-p',
      'provider:=cpu',
      '-p',
      'limits.reference_speed_mps:=[2.0, 4.0]',
    ]);
    expect(load(parameterOverridesFromArgs(args, NODE))).to.deep.equal({
      bundle_dir: '/models/ar1',
      max_plan_age_s: 0.5,
      rate_hz: 40,
      provider: 'cpu',
      verbose: false,
      limits: { reference_speed_mps: [2, 4], max_curvature: 0.3 },
    });
  });

  describe('every error names the origin, the key path, what was expected and what was given', () => {
    it('unknown key (a typo) is an error, not a silent default', () => {
      expect(errorOf(fromFile('config/w.yaml', { bundle_dir: '/m', max_plan_age: 0.3 }))).to.match(
        /^config\/w\.yaml: max_plan_age: unknown parameter for ar1_watchdog \(check the spelling; see config\/ar1_watchdog\.schema\.json\)$/,
      );
    });

    it('unknown nested key gives the dotted path', () => {
      expect(errorOf(fromFile('config/w.yaml', { bundle_dir: '/m', limits: { max_curvatur: 0.3 } }))).to.match(
        /^config\/w\.yaml: limits\.max_curvatur: unknown parameter for ar1_watchdog/,
      );
    });

    it('wrong type', () => {
      expect(errorOf(fromFile('config/w.yaml', { bundle_dir: '/m', max_plan_age_s: 'fast' }))).to.match(
        /^config\/w\.yaml: max_plan_age_s: expected number, got string "fast"$/,
      );
      expect(errorOf(fromFile('config/w.yaml', { bundle_dir: '/m', rate_hz: 12.5 }))).to.match(
        /^config\/w\.yaml: rate_hz: expected integer, got number 12\.5$/,
      );
      expect(
        errorOf(fromFile('config/w.yaml', { bundle_dir: '/m', limits: { reference_speed_mps: [1, 'x'] } })),
      ).to.match(/^config\/w\.yaml: limits\.reference_speed_mps\.1: expected number, got string "x"$/);
    });

    it('out of range (minimum, exclusive minimum, maximum)', () => {
      expect(errorOf(fromFile('w.yaml', { bundle_dir: '/m', rate_hz: 0 }))).to.match(
        /^w\.yaml: rate_hz: expected a value >= 1, got number 0$/,
      );
      expect(errorOf(fromFile('w.yaml', { bundle_dir: '/m', max_plan_age_s: 0 }))).to.match(
        /^w\.yaml: max_plan_age_s: expected a value > 0, got number 0$/,
      );
      expect(errorOf(fromFile('w.yaml', { bundle_dir: '/m', max_plan_age_s: 7 }))).to.match(
        /^w\.yaml: max_plan_age_s: expected a value <= 5, got number 7$/,
      );
      expect(errorOf(fromFile('w.yaml', { bundle_dir: '/m', limits: { reference_speed_mps: [] } }))).to.match(
        /^w\.yaml: limits\.reference_speed_mps: expected at least 1 items, got a list \[\]$/,
      );
    });

    it('enum', () => {
      expect(errorOf(fromFile('w.yaml', { bundle_dir: '/m', provider: 'tensorrt' }))).to.match(
        /^w\.yaml: provider: expected one of "cuda", "cpu", got string "tensorrt"$/,
      );
    });

    it('missing required parameter', () => {
      expect(errorOf(NO_OVERRIDES)).to.match(
        /^ar1_watchdog defaults: bundle_dir: required parameter missing: expected a value, got nothing$/,
      );
      expect(errorOf(fromFile('w.yaml', { rate_hz: 5 }))).to.match(/bundle_dir: required parameter missing/);
    });

    it('a bad -p value is blamed on the command line, not on the file it overrides', () => {
      const o: ParameterOverrides = {
        sources: [
          { origin: 'w.yaml', values: { bundle_dir: '/m', rate_hz: 10 } },
          { origin: COMMAND_LINE_ORIGIN, values: { rate_hz: -1 } },
        ],
      };
      expect(errorOf(o)).to.match(/^command line \(-p\): rate_hz: expected a value >= 1, got number -1$/);
    });

    it('reports several errors at once, one per line', () => {
      const lines = errorOf(fromFile('w.yaml', { bundle_dir: '/m', rate_hz: 0, provider: 'x' })).split('\n');
      expect(lines).to.have.length(2);
      expect(lines.some((l) => /rate_hz/.test(l))).to.equal(true);
      expect(lines.some((l) => /provider/.test(l))).to.equal(true);
    });
  });
});
