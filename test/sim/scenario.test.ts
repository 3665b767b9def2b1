import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../nodes/core/errors.js';
import { checkFaultsApply, loadScenario, parseScenario } from '../../nodes/sim/scenario.js';

const SCENARIOS = fileURLToPath(new URL('../../config/scenarios/', import.meta.url));
const CAMERAS = [
  'camera_cross_left_120fov',
  'camera_front_wide_120fov',
  'camera_cross_right_120fov',
  'camera_front_tele_30fov',
];

const BASE = `name: t
duration_s: 10
road:
  width_m: 7.2
  segments:
    - { kind: straight, length_m: 100 }
route: { length_m: 90 }
ego: { speed_mps: 10 }
pass: {}
`;

/** The one-line error a scenario text gets (throws if it is accepted). */
function errorOf(text: string): string {
  try {
    parseScenario(text, 'x.yaml');
  } catch (e) {
    expect(e).to.be.instanceOf(UserError);
    const m = (e as Error).message;
    expect(m.split('\n')).to.have.length(1);
    return m;
  }
  throw new Error('accepted');
}

describe('sim/scenario: files, schema, path-precise errors', () => {
  it('ships the curve, the barrier stop, the pull-away and one scenario per fault, all valid', () => {
    const files = readdirSync(SCENARIOS)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(files).to.include.members(['curve.yaml', 'barrier_stop.yaml', 'pull_away.yaml']);
    const kinds = new Set<string>();
    const cameras = new Set<string>();
    for (const f of files) {
      const l = loadScenario(join(SCENARIOS, f));
      checkFaultsApply(l, CAMERAS);
      expect(l.scenario.name, f).to.equal(f.replace(/\.yaml$/, ''));
      expect(Object.keys(l.scenario.pass).length, `${f} has thresholds`).to.be.greaterThan(0);
      for (const x of l.scenario.faults) {
        kinds.add(x.kind);
        if (x.kind === 'camera_dropout') cameras.add(x.camera);
      }
    }
    expect([...kinds].sort()).to.deep.equal([
      'camera_dropout',
      'clock_backward',
      'nonfinite_plan',
      'planner_crash',
      'planner_hang',
      'stale_odometry',
    ]);
    expect(cameras.has('all') && cameras.size === 2, 'camera dropout: one and all').to.equal(true);
  });

  it('fills the vehicle model and lists from the schema defaults, with units', () => {
    const s = parseScenario(BASE, 'x.yaml').scenario;
    expect(s.vehicle).to.deep.equal({
      accel_lag_s: 0.2,
      curvature_lag_s: 0.15,
      accel_min_mps2: -8,
      accel_max_mps2: 3,
      curvature_max_1pm: 0.2,
      length_m: 4.8,
      width_m: 1.9,
      rear_overhang_m: 1,
    });
    expect(s.ego.warmup_s).to.equal(2);
    expect(s.route.lane_offset_m).to.equal(0);
    expect(s.faults).to.deep.equal([]);
  });

  const cases: Array<[string, string, RegExp]> = [
    ['an unknown key', BASE + 'vehicle: { acel_lag_s: 0.1 }\n', /^x\.yaml: vehicle\.acel_lag_s: unknown key/],
    [
      'a wrong type',
      BASE.replace('speed_mps: 10', 'speed_mps: fast'),
      /^x\.yaml: ego\.speed_mps: expected number, got string "fast"$/,
    ],
    [
      'a value out of range',
      BASE + 'vehicle: { accel_lag_s: -1 }\n',
      /^x\.yaml: vehicle\.accel_lag_s: expected a value >= 0, got number -1$/,
    ],
    ['a missing key', BASE.replace('duration_s: 10\n', ''), /^x\.yaml: duration_s: required key missing/],
    [
      'an unknown fault kind',
      BASE + 'faults: [{ kind: meteor, at_s: 1 }]\n',
      /^x\.yaml: faults\[0\]\.kind: expected one of camera_dropout, stale_odometry, planner_crash, planner_hang, clock_backward, nonfinite_plan, got string "meteor"$/,
    ],
    [
      'a fault without its camera',
      BASE + 'faults: [{ kind: camera_dropout, at_s: 1 }]\n',
      /^x\.yaml: faults\[0\]\.camera: required key missing/,
    ],
    [
      'a misspelt fault key',
      BASE + 'faults: [{ kind: stale_odometry, at_s: 1, durtion_s: 2 }]\n',
      /^x\.yaml: faults\[0\]\.durtion_s: unknown key/,
    ],
    [
      'an arc without its radius',
      BASE.replace('kind: straight, length_m: 100', 'kind: arc, length_m: 100, direction: left'),
      /^x\.yaml: road\.segments\[0\]\.radius_m: required key missing/,
    ],
    [
      'a route leaving the rendered area',
      BASE.replace('length_m: 90 }', 'length_m: 150 }'),
      /^x\.yaml: route\.length_m: the route leaves the rendered area: it ends 150\.0 m along the road, expected at most the road's length 100\.0 m/,
    ],
    [
      'a route starting off the road',
      BASE.replace('length_m: 90 }', 'length_m: 90, lane_offset_m: 3 }'),
      /^x\.yaml: route\.lane_offset_m: the ego box would start off the road/,
    ],
    [
      'a barrier beyond the route',
      BASE + 'obstacles: [{ kind: barrier, at_m: 95 }]\n',
      /^x\.yaml: obstacles\[0\]\.at_m: expected a place on the route/,
    ],
    [
      'a fault after the end',
      BASE + 'faults: [{ kind: planner_crash, at_s: 12 }]\n',
      /^x\.yaml: faults\[0\]\.at_s: expected a time inside the run \(< duration_s 10 s\), got 12$/,
    ],
    [
      'two barriers',
      BASE + 'obstacles: [{ kind: barrier, at_m: 50 }, { kind: barrier, at_m: 60 }]\n',
      /^x\.yaml: obstacles: expected at most 1 items, got 2$/,
    ],
    ['not YAML', 'name: [unclosed\n', /^x\.yaml: line \d+: not valid YAML/],
    ['not a mapping', '- a\n- b\n', /^x\.yaml: expected a mapping of scenario keys, got a list/],
    [
      'a non-finite number',
      BASE.replace('duration_s: 10', 'duration_s: .nan'),
      /^x\.yaml: duration_s: expected a finite number|^x\.yaml: duration_s: expected a value/,
    ],
  ];
  for (const [what, text, re] of cases)
    it(`refuses ${what} in one line naming the key`, () => expect(errorOf(text)).to.match(re));

  it('refuses a fault naming a camera the planner does not have, before the run', () => {
    const l = parseScenario(BASE + 'faults: [{ kind: camera_dropout, at_s: 1, camera: camera_rear }]\n', 'x.yaml');
    expect(() => checkFaultsApply(l, CAMERAS)).to.throw(
      UserError,
      /^x\.yaml: faults\[0\]\.camera: expected one of camera_cross_left_120fov, .* or all \(the planner's cameras\.names\), got "camera_rear"$/,
    );
  });

  it('refuses a file that is missing, a directory or too large, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ar1-scn-'));
    try {
      expect(() => loadScenario(join(dir, 'none.yaml'))).to.throw(
        UserError,
        /none\.yaml: cannot read scenario \(no such file\)/,
      );
      expect(() => loadScenario(dir)).to.throw(
        UserError,
        /cannot read scenario \(expected a regular file, got a directory\)/,
      );
      writeFileSync(join(dir, 'big.yaml'), 'x'.repeat((1 << 20) + 1));
      expect(() => loadScenario(join(dir, 'big.yaml'))).to.throw(UserError, /expected at most 1048576 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
