import { dirname } from 'node:path';
import { expect } from 'chai';
import { ParameterError, parseParamsText, readParamsFile } from '../../../nodes/core/params/index.js';
import { UserError } from '../../../nodes/core/errors.js';
import { tempFiles } from './fixtures.js';

const parseFor = (text: string, node = 'ar1_watchdog', ns = '/') => parseParamsText(text, 'cfg.yaml', node, ns).values;

describe('core/params/paramsFile: ROS 2 parameter files', () => {
  describe('sections that apply to a node', () => {
    it('reads "<node>: ros__parameters:"', () => {
      expect(parseFor('ar1_watchdog:\n  ros__parameters:\n    rate_hz: 50\n')).to.deep.equal({ rate_hz: 50 });
    });

    it('reads the "/**" wildcard for any node name', () => {
      const text = '/**:\n  ros__parameters:\n    rate_hz: 20\n';
      expect(parseFor(text, 'renamed_by_launch')).to.deep.equal({ rate_hz: 20 });
    });

    it('exact node name overrides the wildcard, key by key, whatever the order in the file', () => {
      const text = [
        'ar1_watchdog:',
        '  ros__parameters:',
        '    rate_hz: 100',
        '    limits: { max_curvature: 0.1 }',
        '/**:',
        '  ros__parameters:',
        '    rate_hz: 20',
        '    provider: cpu',
        '    limits: { max_curvature: 0.3, reference_speed_mps: [1.0, 5.0] }',
      ].join('\n');
      expect(parseFor(text)).to.deep.equal({
        rate_hz: 100,
        provider: 'cpu',
        limits: { max_curvature: 0.1, reference_speed_mps: [1, 5] },
      });
    });

    it('accepts "/node" and "/ns/node" keys for the node in that namespace', () => {
      expect(parseFor('/ar1_watchdog:\n  ros__parameters:\n    rate_hz: 7\n')).to.deep.equal({ rate_hz: 7 });
      const text = '/car1/ar1_watchdog:\n  ros__parameters:\n    rate_hz: 8\n';
      expect(parseFor(text, 'ar1_watchdog', '/car1')).to.deep.equal({ rate_hz: 8 });
      expect(parseFor(text, 'ar1_watchdog', '/car2')).to.deep.equal({});
    });

    it('ignores sections of other nodes', () => {
      const text =
        'ar1_planner:\n  ros__parameters:\n    bundle_dir: /m\nar1_watchdog:\n  ros__parameters:\n    rate_hz: 5\n';
      expect(parseFor(text)).to.deep.equal({ rate_hz: 5 });
      expect(parseFor(text, 'ar1_planner')).to.deep.equal({ bundle_dir: '/m' });
    });

    it('expands dotted keys and merges them with nested mappings', () => {
      const text =
        '/**:\n  ros__parameters:\n    limits.max_curvature: 0.15\n    limits:\n      reference_speed_mps: [2.0]\n';
      expect(parseFor(text)).to.deep.equal({ limits: { max_curvature: 0.15, reference_speed_mps: [2] } });
    });

    it('keeps YAML types: int, double, bool, string, lists', () => {
      const text = '/**:\n  ros__parameters:\n    a: 1\n    b: 1.5\n    c: true\n    d: "1"\n    e: [a, b]\n';
      expect(parseFor(text)).to.deep.equal({ a: 1, b: 1.5, c: true, d: '1', e: ['a', 'b'] });
    });

    it('an empty file or empty ros__parameters gives no values', () => {
      expect(parseFor('')).to.deep.equal({});
      expect(parseFor('/**:\n  ros__parameters:\n')).to.deep.equal({});
    });
  });

  describe('errors name the file, the key, what was expected and what was found', () => {
    it('unreadable file: path and reason', () => {
      expect(() => readParamsFile('/nonexistent/ar1/watchdog.param.yaml', 'ar1_watchdog')).to.throw(
        ParameterError,
        /^\/nonexistent\/ar1\/watchdog\.param\.yaml: cannot read parameter file \(no such file\)$/,
      );
    });

    it('unreadable file: a folder given as the file', () => {
      const dir = dirname(tempFiles({ 'x.yaml': '' })['x.yaml']!);
      expect(() => readParamsFile(dir, 'n')).to.throw(
        ParameterError,
        new RegExp(`^${dir}: cannot read parameter file \\(expected a regular file, got a directory\\)$`),
      );
    });

    it('a ParameterError is a UserError (one line in the CLI, exit code 2)', () => {
      const e = (() => {
        try {
          readParamsFile('/nonexistent.yaml', 'n');
        } catch (err) {
          return err;
        }
      })();
      expect(e).to.be.instanceOf(UserError);
      expect((e as UserError).exitCode).to.equal(2);
    });

    it('bad YAML: file and line number', () => {
      const text = '/**:\n  ros__parameters:\n    rate_hz: 50\n    limits: [1, 2\n';
      expect(() => parseFor(text)).to.throw(ParameterError, /^cfg\.yaml: line [45]: not valid YAML: .+/);
    });

    it('read from disk, bad YAML names the real path', () => {
      const { 'bad.yaml': path } = tempFiles({ 'bad.yaml': 'a: b: c\n' });
      expect(() => readParamsFile(path!, 'n')).to.throw(ParameterError, new RegExp(`^${path}: line 1: not valid YAML`));
    });

    it('wrong structure: a top-level list', () => {
      expect(() => parseFor('- a\n- b\n')).to.throw(
        ParameterError,
        /^cfg\.yaml: expected a mapping of node names to "ros__parameters", got a list \["a", "b"\]$/,
      );
    });

    it('wrong structure: a node section without ros__parameters (even of another node)', () => {
      expect(() => parseFor('ar1_planner:\n  bundle_dir: /m\n')).to.throw(
        ParameterError,
        /^cfg\.yaml: ar1_planner: expected a "ros__parameters" mapping, got a mapping$/,
      );
      expect(() => parseFor('ar1_watchdog: 3\n')).to.throw(
        ParameterError,
        /^cfg\.yaml: ar1_watchdog: expected a "ros__parameters" mapping, got number 3$/,
      );
    });

    it('wrong structure: a key beside ros__parameters', () => {
      expect(() => parseFor('/**:\n  ros__parameters: {}\n  ros_parameters: {}\n')).to.throw(
        ParameterError,
        /^cfg\.yaml: \/\*\*: unexpected key "ros_parameters" beside ros__parameters$/,
      );
    });

    it('wrong structure: ros__parameters is not a mapping', () => {
      expect(() => parseFor('/**:\n  ros__parameters: [1]\n')).to.throw(
        ParameterError,
        /^cfg\.yaml: \/\*\*\.ros__parameters: expected a mapping, got a list \[1\]$/,
      );
    });
  });
  it('an unknown YAML tag is an error, not a warning and a silently different value', () => {
    expect(() =>
      parseParamsText('ar1_planner:\n  ros__parameters:\n    seed: !foo 3\n', 'p.yaml', 'ar1_planner'),
    ).to.throw(/^p\.yaml: line 3: not valid YAML: Unresolved tag: !foo/);
  });
});
