import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import {
  ParameterError,
  loadParameters,
  parameterOverridesFromArgs,
  parseParamsText,
  parseRosArgs,
  readParamsFile,
} from '../../../nodes/core/params/index.js';
import { loadPlannerParams } from '../../../nodes/planner/params.js';
import { loadWatchdogParams } from '../../../nodes/watchdog/params.js';
import { TEST_SCHEMA, tempFiles } from './fixtures.js';

const WATCHDOG_YAML = new URL('../../../config/ar1_watchdog.yaml', import.meta.url).pathname;
const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e, (e as Error).message).to.be.instanceOf(ParameterError);
    return (e as Error).message;
  }
  throw new Error('expected a ParameterError');
};
const polluted = () => (Object.prototype as Record<string, unknown>)['polluted'];

describe('core/params: hostile and unlucky input', () => {
  afterEach(() => {
    delete (Object.prototype as Record<string, unknown>)['polluted'];
  });

  describe('prototype pollution: no parameter name reaches an object prototype', () => {
    it('-p __proto__.polluted:=1 is refused naming the key; Object.prototype untouched', () => {
      expect(messageOf(() => parseRosArgs(['--ros-args', '-p', '__proto__.polluted:=1']))).to.equal(
        '--ros-args -p: __proto__.polluted: "__proto__" is not allowed in a parameter name',
      );
      expect(
        messageOf(() => parseRosArgs(['--ros-args', '-p', 'ar1_watchdog:constructor.prototype.polluted:=1'])),
      ).to.match(/"constructor" is not allowed in a parameter name/);
      expect(polluted()).to.equal(undefined);
    });

    it('a mapping value hiding __proto__ (-p x:={__proto__: {polluted: 1}}) is refused', () => {
      const args = parseRosArgs(['--ros-args', '-p', 'x:={__proto__: {polluted: 1}}']);
      expect(messageOf(() => parameterOverridesFromArgs(args, 'ar1_watchdog'))).to.match(
        /__proto__: "__proto__" is not allowed/,
      );
      expect(polluted()).to.equal(undefined);
    });

    it('YAML keys: __proto__ as a mapping key or a dotted part, in any section, is refused naming file and section', () => {
      for (const text of [
        '/**:\n  ros__parameters:\n    __proto__:\n      polluted: 1\n',
        'ar1_watchdog:\n  ros__parameters:\n    limits.__proto__.polluted: 1\n',
        'ar1_watchdog:\n  ros__parameters:\n    limits:\n      prototype:\n        polluted: 1\n',
      ]) {
        expect(
          messageOf(() => parseParamsText(text, 'w.yaml', 'ar1_watchdog')),
          text,
        ).to.match(/^w\.yaml: (\/\*\*|ar1_watchdog): .* is not allowed in a parameter name$/);
      }
      expect(polluted()).to.equal(undefined);
    });

    it('empty name parts are refused', () => {
      expect(messageOf(() => parseRosArgs(['--ros-args', '-p', 'limits..x:=1']))).to.match(
        /expected a parameter name without empty parts/,
      );
    });
  });

  describe('messages and bounds', () => {
    it('NaN and Inf: "expected a finite number, got number NaN" (was "expected number, got number null")', () => {
      const load = (v: unknown) =>
        messageOf(() =>
          loadParameters('n', TEST_SCHEMA, {
            sources: [{ origin: 'w.yaml', values: { bundle_dir: '/m', max_plan_age_s: v } }],
          }),
        );
      expect(load(Number.NaN)).to.equal('w.yaml: max_plan_age_s: expected a finite number, got number NaN');
      expect(load(Number.POSITIVE_INFINITY)).to.equal(
        'w.yaml: max_plan_age_s: expected a finite number, got number Infinity',
      );
      // YAML .nan / .inf reach the loader as NaN / Infinity.
      const file = parseParamsText(
        'ar1_watchdog:\n  ros__parameters:\n    command_gap_s: .nan\n',
        'w.yaml',
        'ar1_watchdog',
      );
      expect(messageOf(() => loadWatchdogParams({ sources: [file] }))).to.equal(
        'w.yaml: command_gap_s: expected a finite number, got number NaN',
      );
    });

    it('control_rate_hz: 1e-6 is refused (the watchdog then published nothing)', () => {
      const file = parseParamsText(
        'ar1_watchdog:\n  ros__parameters:\n    control_rate_hz: 1.0e-6\n',
        'w.yaml',
        'ar1_watchdog',
      );
      expect(messageOf(() => loadWatchdogParams({ sources: [file] }))).to.equal(
        'w.yaml: control_rate_hz: expected a value >= 10, got number 0.000001',
      );
    });
  });

  describe('node sections: typos and ROS wildcard semantics', () => {
    it('a typo in a node section name (ar1_watchdgo:) is an error naming the section and the node meant', () => {
      expect(
        messageOf(() =>
          parseParamsText('ar1_watchdgo:\n  ros__parameters:\n    command_gap_s: 0.05\n', 'w.yaml', 'ar1_watchdog'),
        ),
      ).to.equal('w.yaml: ar1_watchdgo: no node of this suite is named "ar1_watchdgo"; did you mean ar1_watchdog?');
      expect(
        messageOf(() =>
          parseParamsText('/vehicle/AR1_Planner:\n  ros__parameters:\n    seed: 1\n', 'p.yaml', 'ar1_watchdog'),
        ),
      ).to.match(/did you mean ar1_planner\?$/);
    });

    it('sections for other nodes (foxglove_bridge) are theirs and ignored, as in ROS', () => {
      expect(
        parseParamsText('foxglove_bridge:\n  ros__parameters:\n    port: 8765\n', 'x.yaml', 'ar1_watchdog').values,
      ).to.deep.equal({});
    });

    it("the watchdog file's /** section applies to the planner only where the planner declares the key", () => {
      const planner = loadPlannerParams({ sources: [readParamsFile(WATCHDOG_YAML, 'ar1_planner')] });
      expect(planner.control_rate_hz).to.equal(50); // declared by both
      const f = tempFiles({
        'w.yaml': '/**:\n  ros__parameters:\n    control_rate_hz: 25.0\n    max_plan_age_s: 0.3\n',
      });
      expect(loadPlannerParams({ sources: [readParamsFile(f['w.yaml']!, 'ar1_planner')] }).control_rate_hz).to.equal(
        25,
      );
      expect(loadWatchdogParams({ sources: [readParamsFile(f['w.yaml']!, 'ar1_watchdog')] }).max_plan_age_s).to.equal(
        0.3,
      );
    });

    it("a /** key that no node declares is an error naming it; the node's own section still refuses unknown keys", () => {
      const f = tempFiles({ 'w.yaml': '/**:\n  ros__parameters:\n    max_plan_age: 0.3\n' });
      expect(messageOf(() => loadPlannerParams({ sources: [readParamsFile(f['w.yaml']!, 'ar1_planner')] }))).to.equal(
        `${f['w.yaml']}: /**: max_plan_age: declared by no node (ar1_planner, ar1_watchdog); check the spelling`,
      );
      const own = tempFiles({ 'p.yaml': 'ar1_planner:\n  ros__parameters:\n    max_plan_age_s: 0.3\n' });
      expect(messageOf(() => loadPlannerParams({ sources: [readParamsFile(own['p.yaml']!, 'ar1_planner')] }))).to.match(
        /max_plan_age_s: unknown parameter for ar1_planner/,
      );
    });
  });

  describe('files that are not small regular UTF-8 files end with an error instead of hanging', () => {
    it('a FIFO, a device and a /proc file', function () {
      const dir = tempFiles({ x: '' });
      const fifo = `${dir['x']!}.fifo`;
      try {
        execFileSync('mkfifo', [fifo]);
      } catch {
        this.skip();
      }
      expect(messageOf(() => readParamsFile(fifo, 'n'))).to.equal(
        `${fifo}: cannot read parameter file (expected a regular file, got a FIFO, socket or device)`,
      );
      expect(messageOf(() => readParamsFile('/dev/zero', 'n'))).to.match(/expected a regular file/);
      expect(messageOf(() => readParamsFile('/proc/self/status', 'n'))).to.match(/^\/proc\/self\/status: /);
    });

    it('a file over 1 MiB (a 2-million-element list) is refused by size before parsing', () => {
      const f = tempFiles({ 'big.yaml': '' });
      writeFileSync(
        f['big.yaml']!,
        `/**:\n  ros__parameters:\n    cameras.topics: [${Array.from({ length: 2_000_000 }, () => '0').join(',')}]\n`,
      );
      expect(messageOf(() => readParamsFile(f['big.yaml']!, 'n'))).to.match(
        /cannot read parameter file \(expected at most 1048576 bytes, got \d+\)$/,
      );
    });

    it('Latin-1 bytes (a topic name) are refused naming the line, never silently mangled', () => {
      const f = tempFiles({ 'l1.yaml': '' });
      writeFileSync(
        f['l1.yaml']!,
        Buffer.concat([
          Buffer.from('ar1_watchdog:\n  ros__parameters:\n    topics:\n      odometry: /caf'),
          Buffer.from([0xe9]),
          Buffer.from('/odom\n'),
        ]),
      );
      expect(messageOf(() => readParamsFile(f['l1.yaml']!, 'ar1_watchdog'))).to.equal(
        `${f['l1.yaml']}: line 4: not valid UTF-8 (Latin-1 or binary bytes); save the file as UTF-8`,
      );
    });
  });
});
