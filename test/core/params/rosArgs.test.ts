import { expect } from 'chai';
import {
  COMMAND_LINE_ORIGIN,
  ParameterError,
  parameterOverridesFromArgs,
  paramsFromArgs,
  parseRosArgs,
} from '../../../nodes/core/params/index.js';
import { tempFiles } from './fixtures.js';

describe('core/params/rosArgs: --ros-args parsing', () => {
  it('collects --params-file in order, and keeps what is outside --ros-args', () => {
    const a = parseRosArgs([
      'watchdog',
      '--ros-args',
      '--params-file',
      'a.yaml',
      '--params-file',
      'b.yaml',
      '--',
      '--bundle',
      'x',
    ]);
    expect(a.paramsFiles).to.deep.equal(['a.yaml', 'b.yaml']);
    expect(a.rest).to.deep.equal(['watchdog', '--bundle', 'x']);
  });

  it('types -p values as YAML (int, double, bool, string, list) and keeps dotted names', () => {
    const a = parseRosArgs([
      '--ros-args',
      '-p',
      'rate_hz:=50',
      '-p',
      'max_plan_age_s:=0.25',
      '-p',
      'verbose:=true',
      '-p',
      'provider:=cpu',
      '--param',
      'limits.reference_speed_mps:=[1.0, 2.5]',
      '-p',
      'label:="42"',
      '-p',
      'empty:=',
    ]);
    expect(a.params).to.deep.equal([
      { name: 'rate_hz', value: 50 },
      { name: 'max_plan_age_s', value: 0.25 },
      { name: 'verbose', value: true },
      { name: 'provider', value: 'cpu' },
      { name: 'limits.reference_speed_mps', value: [1, 2.5] },
      { name: 'label', value: '42' },
      { name: 'empty', value: '' },
    ]);
    expect(paramsFromArgs(a)).to.deep.include({ limits: { reference_speed_mps: [1, 2.5] }, rate_hz: 50 });
  });

  it('"-p node:name:=v" applies only to that node; a later -p wins', () => {
    const a = parseRosArgs([
      '--ros-args',
      '-p',
      'ar1_planner:rate_hz:=5',
      '-p',
      'ar1_watchdog:rate_hz:=7',
      '-p',
      'x:=1',
      '-p',
      'x:=2',
    ]);
    expect(paramsFromArgs(a, 'ar1_watchdog')).to.deep.equal({ rate_hz: 7, x: 2 });
    expect(paramsFromArgs(a, 'ar1_planner')).to.deep.equal({ rate_hz: 5, x: 2 });
  });

  it('-r remaps topics; __node and __ns rename the node', () => {
    const a = parseRosArgs([
      '--ros-args',
      '-r',
      '~/input/plan:=/ar1/trajectory',
      '-r',
      '__node:=wd',
      '--remap',
      '__ns:=/car1',
    ]);
    expect([...a.remaps]).to.deep.equal([['~/input/plan', '/ar1/trajectory']]);
    expect(a.nodeName).to.equal('wd');
    expect(a.namespace).to.equal('/car1');
  });

  it('--log-level takes a level or logger:=level; --enclave and the log switches are accepted', () => {
    expect(parseRosArgs(['--ros-args', '--log-level', 'debug']).logLevel).to.equal('debug');
    expect(parseRosArgs(['--ros-args', '--log-level', 'ar1_watchdog:=warn']).logLevel).to.equal('warn');
    expect(() =>
      parseRosArgs(['--ros-args', '-e', '/enc', '--disable-rosout-logs', '--enable-stdout-logs']),
    ).to.not.throw();
  });

  it('unknown --ros-args flags are errors naming the flag and the supported ones', () => {
    expect(() => parseRosArgs(['--ros-args', '--param-file', 'a.yaml'])).to.throw(
      ParameterError,
      /^--ros-args: unknown argument "--param-file" \(supported: --params-file, -p, -r, --log-level, -e\)$/,
    );
  });

  it('a flag without its value, or a -p/-r without ":=", is an error', () => {
    expect(() => parseRosArgs(['--ros-args', '--params-file'])).to.throw(
      ParameterError,
      /--params-file: expected a value after it, got nothing/,
    );
    expect(() => parseRosArgs(['--ros-args', '-p', 'rate_hz=5'])).to.throw(
      ParameterError,
      /-p rate_hz=5: expected name:=value/,
    );
    expect(() => parseRosArgs(['--ros-args', '-r', 'a'])).to.throw(ParameterError, /-r a: expected from:=to/);
    expect(() => parseRosArgs(['--ros-args', '-p', 'node::=1'])).to.throw(ParameterError, /empty name/);
  });

  it('flags outside --ros-args are not ROS arguments', () => {
    expect(parseRosArgs(['-p', 'x:=1']).params).to.deep.equal([]);
  });
});

describe('core/params/fromArgs: parameterOverridesFromArgs', () => {
  it('gives one source per params file (in order), then the -p overrides', () => {
    const f = tempFiles({
      'a.yaml': '/**:\n  ros__parameters:\n    rate_hz: 20\n',
      'b.yaml':
        'ar1_watchdog:\n  ros__parameters:\n    rate_hz: 30\nar1_planner:\n  ros__parameters:\n    bundle_dir: /p\n',
    });
    const args = parseRosArgs([
      '--ros-args',
      '--params-file',
      f['a.yaml']!,
      '--params-file',
      f['b.yaml']!,
      '-p',
      'verbose:=true',
    ]);
    const o = parameterOverridesFromArgs(args, 'ar1_watchdog');
    expect(o.sources.map((s) => ({ origin: s.origin, values: s.values }))).to.deep.equal([
      { origin: f['a.yaml'], values: { rate_hz: 20 } },
      { origin: f['b.yaml'], values: { rate_hz: 30 } },
      { origin: COMMAND_LINE_ORIGIN, values: { verbose: true } },
    ]);
    expect(o.sources[0]!.wildcard).to.deep.equal({ rate_hz: 20 }); // the "/**" part, kept apart for ROS wildcard semantics
    expect(o.sources[1]!.wildcard).to.equal(undefined);
  });

  it('has no -p source when no -p applies to the node', () => {
    const o = parameterOverridesFromArgs(parseRosArgs(['--ros-args', '-p', 'other:x:=1']), 'ar1_watchdog');
    expect(o.sources).to.deep.equal([]);
  });

  it('a missing params file fails with its path', () => {
    expect(() =>
      parameterOverridesFromArgs(parseRosArgs(['--ros-args', '--params-file', '/no/such.yaml']), 'n'),
    ).to.throw(ParameterError, /^\/no\/such\.yaml: cannot read parameter file \(no such file\)$/);
  });
});
