/**
 * Parameters on a real ROS 2 graph: a params file plus `-p` overrides reach the node's behaviour, and the node
 * declares what it runs with (types from the schema, descriptions, read-only), as `ros2 param get/describe` read
 * them through the parameter services. A bad value stops start-up with one line.
 */
import { expect } from 'chai';
import { NodeProcess, graphNode, maxStampGapS, record, stampS, waitFor, type UnicycleCommandMsg } from './graph.js';
import './hooks.js';

/** rcl_interfaces/msg/ParameterType */
const TYPE = { bool: 1, integer: 2, double: 3, string: 4, integerArray: 7, doubleArray: 8, stringArray: 9 } as const;

interface ParameterValue {
  type: number;
  integer_value: bigint | number;
  double_value: number;
  string_value: string;
  double_array_value: ArrayLike<number>;
  string_array_value: string[];
}
interface Descriptor {
  name: string;
  type: number;
  description: string;
  read_only: boolean;
  additional_constraints: string;
}

async function call<T>(service: string, type: string, request: unknown): Promise<T> {
  const node = await graphNode();
  const client = node.createClient(type, service);
  expect(await client.waitForService(10_000), `${service} is offered`).to.equal(true);
  return (await client.sendRequestAsync(request)) as T;
}

describe('ROS 2 graph: parameters', function () {
  this.timeout(90_000);

  describe('a watchdog started with the params file, -p overrides and a renamed node', () => {
    let wd: NodeProcess;
    before(async () => {
      wd = NodeProcess.watchdog([
        '-r',
        '__node:=it_watchdog',
        '-p',
        'control_rate_hz:=25.0',
        '-p',
        'topics.vehicle_command:=/it/vehicle_command',
        '-p',
        'planning_budget.window:=7',
        '-p',
        'it_watchdog:fallback.accel_mps2:=-2.0',
      ]);
      await wd.waitForOutput(/running/, 30);
    });
    after(() => wd.stop());

    it('publishes on the overridden topic at the overridden rate', async () => {
      const cmds = await record<UnicycleCommandMsg>('ar1_msgs/msg/UnicycleCommand', '/it/vehicle_command');
      await waitFor(
        '26 commands on /it/vehicle_command',
        10,
        () => cmds.count >= 26,
        () => wd.log,
      );
      const msgs = cmds.messages.map((m) => m.msg);
      const spanS = stampS(msgs.at(-1)!.header.stamp) - stampS(msgs[0]!.header.stamp);
      const rateHz = (msgs.length - 1) / spanS;
      expect(rateHz, 'command rate [Hz]').to.be.within(22, 26);
      expect(maxStampGapS(msgs)).to.be.below(0.1);
      cmds.close();
    });

    it('declares every value it runs with under its new name: the overrides, the file, the schema defaults; doubles as DOUBLE', async () => {
      const names = [
        'control_rate_hz',
        'topics.vehicle_command',
        'planning_budget.window',
        'fallback.accel_mps2',
        'max_plan_age_s',
        'limits.accel_max_mps2',
        'cameras.topics',
        'auto_engage',
      ];
      const { values } = await call<{ values: ParameterValue[] }>(
        '/it_watchdog/get_parameters',
        'rcl_interfaces/srv/GetParameters',
        { names },
      );
      const byName = Object.fromEntries(names.map((n, i) => [n, values[i]!]));
      expect(byName['control_rate_hz']!.type).to.equal(TYPE.double);
      expect(byName['control_rate_hz']!.double_value).to.equal(25);
      expect(byName['topics.vehicle_command']!.string_value).to.equal('/it/vehicle_command');
      expect(byName['planning_budget.window']!.type).to.equal(TYPE.integer);
      expect(Number(byName['planning_budget.window']!.integer_value)).to.equal(7);
      expect(byName['fallback.accel_mps2']!.double_value, 'a node-scoped -p').to.equal(-2);
      expect(byName['max_plan_age_s']!.type, 'from the params file').to.equal(TYPE.double);
      expect(byName['max_plan_age_s']!.double_value).to.equal(0.5);
      expect(byName['limits.accel_max_mps2']!.type, '[2.0, 2.0, 2.0] is a double array').to.equal(TYPE.doubleArray);
      expect(Array.from(byName['limits.accel_max_mps2']!.double_array_value)).to.deep.equal([2, 2, 2]);
      expect(byName['cameras.topics']!.type, "an empty list gets the schema's element type").to.equal(TYPE.stringArray);
      expect(byName['auto_engage']!.type).to.equal(TYPE.bool);
    });

    it("describes each parameter with the schema's description, unit and bounds, read-only", async () => {
      const { descriptors } = await call<{ descriptors: Descriptor[] }>(
        '/it_watchdog/describe_parameters',
        'rcl_interfaces/srv/DescribeParameters',
        { names: ['control_rate_hz', 'command_gap_s'] },
      );
      const [rate, gap] = descriptors;
      expect(rate!.read_only).to.equal(true);
      expect(rate!.description).to.include('[Hz]');
      expect(rate!.additional_constraints, 'the schema bounds of control_rate_hz').to.match(/>= \d+(\.\d+)?, <= 1000/);
      expect(gap!.description).to.include('[s]');
    });
  });

  it('a bad -p value stops start-up with one line naming the key, expected and found, exit 2', async () => {
    const wd = NodeProcess.watchdog(['-p', 'command_gap_s:=fast']);
    const { code } = await wd.exit;
    const out = wd.output.join('');
    expect(code, out).to.equal(2);
    expect(out).to.include('command_gap_s').and.include('fast');
    expect(out.trim().split('\n'), 'one line').to.have.length(1);
  });

  it('a params file that does not exist stops start-up with one line naming it, exit 2', async () => {
    const wd = new NodeProcess('watchdog', [
      'node',
      'watchdog',
      '--ros-args',
      '--params-file',
      '/nonexistent/ar1_watchdog.yaml',
    ]);
    const { code } = await wd.exit;
    const out = wd.output.join('');
    expect(code, out).to.equal(2);
    expect(out).to.include('/nonexistent/ar1_watchdog.yaml');
    expect(out.trim().split('\n'), 'one line').to.have.length(1);
  });
});
