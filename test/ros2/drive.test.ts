/**
 * A drive on a real ROS 2 graph: planner and watchdog processes, four 1080p JPEG cameras at 10 Hz and odometry at
 * 50 Hz from this process. Checks what the vehicle sees: every topic with its type and QoS, the plan outputs, the
 * 50 Hz command stream through engage, and disengage.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from './hooks.js';
import {
  CAMERAS,
  NodeProcess,
  REPO,
  SOURCE,
  STATE,
  World,
  cameraTopic,
  graphNode,
  maxStampGapS,
  qos,
  record,
  stampS,
  waitFor,
  type Recorder,
  type SafetyStateMsg,
  type TimingMsg,
  type UnicycleCommandMsg,
} from './graph.js';

const RELIABLE = 1,
  BEST_EFFORT = 2,
  TRANSIENT_LOCAL = 1,
  VOLATILE = 2;
const PRESET = {
  sensor: { reliability: BEST_EFFORT, durability: VOLATILE, depth: 5 },
  command: { reliability: RELIABLE, durability: VOLATILE, depth: 10 },
  latched: { reliability: RELIABLE, durability: TRANSIENT_LOCAL, depth: 1 },
} as const;
type Preset = keyof typeof PRESET;

/** The topic table of the README ("Topics"), restated: who publishes or subscribes what, with which QoS. */
const TOPICS: Array<{ topic: string; type: string; pub?: string; sub?: string[]; qos: Preset }> = [
  ...CAMERAS.map((c) => ({
    topic: cameraTopic(c),
    type: 'sensor_msgs/msg/CompressedImage',
    sub: ['ar1_planner'],
    qos: 'sensor' as const,
  })),
  {
    topic: '/localization/odometry',
    type: 'nav_msgs/msg/Odometry',
    sub: ['ar1_planner', 'ar1_watchdog'],
    qos: 'sensor',
  },
  {
    topic: '/ar1/trajectory',
    type: 'ar1_msgs/msg/Trajectory',
    pub: 'ar1_planner',
    sub: ['ar1_watchdog'],
    qos: 'command',
  },
  { topic: '/ar1/path', type: 'nav_msgs/msg/Path', pub: 'ar1_planner', qos: 'command' },
  {
    topic: '/ar1/reasoning',
    type: 'ar1_msgs/msg/Reasoning',
    pub: 'ar1_planner',
    sub: ['ar1_watchdog'],
    qos: 'command',
  },
  { topic: '/ar1/reasoning_text', type: 'std_msgs/msg/String', pub: 'ar1_planner', qos: 'latched' },
  {
    topic: '/ar1/timing',
    type: 'ar1_msgs/msg/PlannerTiming',
    pub: 'ar1_planner',
    sub: ['ar1_watchdog'],
    qos: 'command',
  },
  {
    topic: '/ar1/command',
    type: 'ar1_msgs/msg/UnicycleCommand',
    pub: 'ar1_planner',
    sub: ['ar1_watchdog'],
    qos: 'command',
  },
  { topic: '/ar1/watchdog/engage', type: 'std_msgs/msg/Bool', sub: ['ar1_watchdog'], qos: 'command' },
  { topic: '/ar1/watchdog/reset', type: 'std_msgs/msg/Empty', sub: ['ar1_watchdog'], qos: 'command' },
  { topic: '/vehicle/unicycle_command', type: 'ar1_msgs/msg/UnicycleCommand', pub: 'ar1_watchdog', qos: 'command' },
  { topic: '/ar1/safety_state', type: 'ar1_msgs/msg/SafetyState', pub: 'ar1_watchdog', qos: 'command' },
  { topic: '/diagnostics', type: 'diagnostic_msgs/msg/DiagnosticArray', pub: 'ar1_watchdog', qos: 'command' },
];

describe('ROS 2 graph: a drive with planner and watchdog', function () {
  this.timeout(90_000);
  let planner: NodeProcess;
  let watchdog: NodeProcess;
  let world: World;
  let vehicle: Recorder<UnicycleCommandMsg>;
  let plannerCommands: Recorder<UnicycleCommandMsg>;
  let state: Recorder<SafetyStateMsg>;
  let timing: Recorder<TimingMsg>;
  let trajectories: Recorder<{ header: { stamp: { sec: number; nanosec: number } }; points: unknown[]; dt: number }>;
  const logs = () => `${planner?.log.slice(-3000)}\n${watchdog?.log.slice(-3000)}`;

  before(async () => {
    watchdog = NodeProcess.watchdog();
    planner = NodeProcess.planner(suite.bundle);
    vehicle = await record('ar1_msgs/msg/UnicycleCommand', '/vehicle/unicycle_command');
    plannerCommands = await record('ar1_msgs/msg/UnicycleCommand', '/ar1/command');
    state = await record('ar1_msgs/msg/SafetyState', '/ar1/safety_state');
    timing = await record('ar1_msgs/msg/PlannerTiming', '/ar1/timing');
    trajectories = await record('ar1_msgs/msg/Trajectory', '/ar1/trajectory');
    world = await World.start({ speedMps: 5, obeyCommands: false });
  });

  after(async () => {
    await Promise.all([world?.stop(), planner?.stop(), watchdog?.stop()]);
  });

  it('the planner turns 1080p JPEG cameras and odometry into trajectories, reasoning, timing and 50 Hz commands', async () => {
    await waitFor(
      'two trajectories and 50 planner commands',
      60,
      () => trajectories.count >= 2 && plannerCommands.count >= 50,
      logs,
    );
    const traj = trajectories.last!;
    expect(traj.points).to.have.length(64);
    expect(traj.dt).to.be.closeTo(0.1, 1e-9);
    const t = timing.messages.map((m) => m.msg).find((m) => m.error === '');
    expect(t, 'a /ar1/timing without error').to.not.equal(undefined);
    expect(t!.frames_received).to.be.greaterThan(0);
    expect(t!.frames_planned).to.be.greaterThan(0);
  });

  it('a late joiner gets the last reasoning text (latched), and /ar1/reasoning carries the same text', async () => {
    const reasoning = await record<{ text: string }>('ar1_msgs/msg/Reasoning', '/ar1/reasoning');
    await waitFor('a /ar1/reasoning', 10, () => reasoning.count >= 1, logs);
    const late = await record<{ data: string }>('std_msgs/msg/String', '/ar1/reasoning_text', 'latched');
    const text = await waitFor('the latched /ar1/reasoning_text', 10, () => late.last?.data, logs);
    expect(text).to.be.a('string').and.not.equal('');
    reasoning.close();
    late.close();
  });

  it('every topic has the type, publisher, subscribers and QoS the README documents', async () => {
    const node = await graphNode();
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    for (const row of TOPICS) {
      const want = PRESET[row.qos];
      const pubs = node
        .getPublishersInfoByTopic(row.topic, false)
        .filter((e) => e.node_name.startsWith('ar1_') && !e.node_name.startsWith('ar1_ros2_suite'));
      const subs = node
        .getSubscriptionsInfoByTopic(row.topic, false)
        .filter((e) => e.node_name.startsWith('ar1_') && !e.node_name.startsWith('ar1_ros2_suite'));
      // By node name: DDS keeps the endpoints of a killed process until its lease runs out.
      const names = (es: typeof pubs) => [...new Set(es.map((e) => e.node_name))].sort();
      expect(names(pubs), `${row.topic}: publishers`).to.deep.equal(row.pub ? [row.pub] : []);
      expect(names(subs), `${row.topic}: subscribers`).to.deep.equal([...(row.sub ?? [])].sort());
      for (const e of [...pubs, ...subs]) {
        const what = `${row.topic} (${e.node_name})`;
        expect(e.topic_type, `${what}: type`).to.equal(row.type);
        expect(e.qos_profile.reliability, `${what}: reliability`).to.equal(want.reliability);
        expect(e.qos_profile.durability, `${what}: durability`).to.equal(want.durability);
        expect(e.qos_profile.depth, `${what}: depth`).to.equal(want.depth);
      }
      const docName = row.topic.startsWith('/sensors/camera/') ? '/sensors/camera/<camera>/image_raw' : row.topic;
      const line = readme.split('\n').find((l) => l.startsWith('| `' + docName));
      expect(line, `README topic table has a row for ${docName}`).to.be.a('string');
      expect(line, `README row of ${docName} names its QoS`).to.include(row.qos);
    }
  });

  it('the watchdog holds while disengaged, forwards planner commands once engaged, and publishes /diagnostics', async () => {
    const diagnostics = await record<{ status: Array<{ name: string }> }>(
      'diagnostic_msgs/msg/DiagnosticArray',
      '/diagnostics',
    );
    const first = await waitFor('/ar1/safety_state', 10, () => state.last, logs);
    expect(first.state_name).to.equal('disengaged');
    // Disengaged while moving: the fallback ramp (hold only at standstill); never a planner command.
    await waitFor('vehicle commands while disengaged', 10, () => vehicle.count >= 10, logs);
    expect(
      vehicle.messages.some((m) => m.msg.source === SOURCE.planner),
      'a planner command while disengaged',
    ).to.equal(false);
    const engage = (await graphNode()).createPublisher('std_msgs/msg/Bool', '/ar1/watchdog/engage', {
      qos: await qos('reliable'),
    });
    await waitFor(
      'state nominal after engage',
      20,
      () => {
        if (state.last?.state === STATE.nominal) return true;
        engage.publish({ data: true });
        return undefined;
      },
      () => `${JSON.stringify(state.last)}\n${logs()}`,
    );
    const since = performance.now();
    await waitFor(
      '50 planner-sourced vehicle commands',
      10,
      () => vehicle.since(since).filter((c) => c.source === SOURCE.planner).length >= 50,
      logs,
    );
    const names = await waitFor('/diagnostics statuses', 5, () => diagnostics.last?.status.map((s) => s.name), logs);
    expect(names.join(' ')).to.include('state');
    diagnostics.close();
  });

  it('the 50 Hz vehicle command stream holds while planning: 10 s nominal, no gap over command_gap_s', async () => {
    const since = performance.now();
    const end = since + 10_000;
    await waitFor('10 s of driving', 20, () => performance.now() >= end, logs);
    const cmds = vehicle.since(since);
    const states = state.since(since);
    const left = [
      ...new Set(
        states.filter((s) => s.state !== STATE.nominal).map((s) => `${s.state_name}: ${s.reasons.join(', ')}`),
      ),
    ];
    expect(left.length, `left nominal: ${left.slice(0, 5).join(' | ')}`).to.equal(0);
    expect(
      cmds.every((c) => c.source === SOURCE.planner),
      'every command from the planner',
    ).to.equal(true);
    expect(cmds.length, 'commands in 10 s at 50 Hz').to.be.at.least(450);
    expect(maxStampGapS(cmds), 'largest gap between vehicle command stamps [s]').to.be.at.most(0.1);
    for (const c of cmds) expect(Number.isFinite(c.acceleration) && Number.isFinite(c.curvature)).to.equal(true);
    const tcmds = plannerCommands.since(since);
    expect(maxStampGapS(tcmds), 'largest gap between /ar1/command stamps [s]').to.be.at.most(0.1);
    const lastT0 = stampS(trajectories.last!.header.stamp);
    expect(stampS(cmds.at(-1)!.header.stamp) - lastT0, 'plan age at the last command [s]').to.be.below(0.5);
  });

  it('disengage (engage false) hands back: no planner command reaches the vehicle any more', async () => {
    const engage = (await graphNode()).createPublisher('std_msgs/msg/Bool', '/ar1/watchdog/engage', {
      qos: await qos('reliable'),
    });
    await waitFor(
      'state disengaged (or braking to a stop) after engage false',
      10,
      () => {
        const s = state.last?.state;
        if (s === STATE.disengaged || s === STATE.fallback) return true;
        engage.publish({ data: false });
        return undefined;
      },
      logs,
    );
    const since = performance.now();
    await waitFor('non-planner vehicle commands after disengage', 5, () => vehicle.since(since).length >= 10, logs);
    expect(
      vehicle.since(since).some((c) => c.source === SOURCE.planner),
      'no planner command after disengage',
    ).to.equal(false);
  });
});
