/**
 * `ar1 node sim` on a real ROS 2 graph: the simulator process publishes /clock, odometry, the four raw cameras and
 * the ground truth through rclnodejs, and drives its vehicle model with /vehicle/unicycle_command from the real
 * ar1_watchdog process; the real ar1_planner plans on sim time. Closed loop: the car must stop before the barrier,
 * and the simulator's exit status is the scenario's verdict.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import './hooks.js';
import {
  NodeProcess,
  REPO,
  SOURCE,
  STATE,
  record,
  stampS,
  waitFor,
  type Recorder,
  type SafetyStateMsg,
  type Stamp,
  type UnicycleCommandMsg,
} from './graph.js';

/** 12 s: 8 m/s towards a barrier 60 m ahead; stop before it, on the road. */
const SCENARIO = `name: graph_barrier
duration_s: 12
road: { width_m: 7.2, segments: [{ kind: straight, length_m: 200 }] }
route: { length_m: 150 }
ego: { speed_mps: 8 }
obstacles: [{ kind: barrier, at_m: 60 }]
pass: { no_collision: true, stop_before_obstacle: true, max_offroad_m: 0 }
`;

interface OdometryMsg {
  header: { stamp: Stamp };
  twist: { twist: { linear: { x: number } } };
  pose: { pose: { position: { x: number } } };
}

describe('ROS 2 graph: ar1 node sim closes the loop around the real planner and watchdog', function () {
  this.timeout(180_000);
  let dir = '';
  const procs: NodeProcess[] = [];
  const recs: Array<{ close(): void }> = [];
  after(async () => {
    for (const r of recs) r.close();
    await Promise.all(procs.map((p) => p.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes /clock, odometry, cameras and ground truth; the watchdog drives the car to a stop before the barrier; exit 0', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-ros2-sim-'));
    const bundle = join(dir, 'bundle');
    const made = spawnSync(process.execPath, [join(REPO, 'bin', 'ar1.js'), 'model', 'make-demo', bundle], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(made.status, made.stderr).to.equal(0);
    writeFileSync(join(dir, 'scenario.yaml'), SCENARIO);
    const sim = ['-p', 'use_sim_time:=true'];
    const planner = new NodeProcess('planner', [
      'node',
      'planner',
      '--bundle',
      bundle,
      '--ros-args',
      '--params-file',
      join(REPO, 'config', 'ar1_planner.yaml'),
      '-p',
      'execution_providers:=[cpu]',
      ...sim,
    ]);
    const watchdog = new NodeProcess('watchdog', [
      'node',
      'watchdog',
      '--ros-args',
      '--params-file',
      join(REPO, 'config', 'ar1_watchdog.yaml'),
      '-p',
      'auto_engage:=true',
      ...sim,
    ]);
    procs.push(planner, watchdog);
    await planner.waitForOutput(/ar1_planner running/, 60);
    await watchdog.waitForOutput(/ar1_watchdog running/, 60);
    const vehicle = await record<UnicycleCommandMsg>('ar1_msgs/msg/UnicycleCommand', '/vehicle/unicycle_command');
    const state = await record<SafetyStateMsg>('ar1_msgs/msg/SafetyState', '/ar1/safety_state');
    const clock = await record<{ clock: Stamp }>('rosgraph_msgs/msg/Clock', '/clock');
    const odom = await record<OdometryMsg>('nav_msgs/msg/Odometry', '/localization/odometry', 'best_effort');
    const truth = await record<OdometryMsg>('nav_msgs/msg/Odometry', '/sim/ground_truth/odometry');
    const camera: Recorder<{ header: { stamp: Stamp }; width: number; height: number; encoding: string }> & {
      close(): void;
    } = await record('sensor_msgs/msg/Image', '/sensors/camera/camera_front_tele_30fov/image_raw', 'best_effort');
    recs.push(vehicle, state, clock, odom, truth, camera);

    const simNode = new NodeProcess('sim', [
      'node',
      'sim',
      '--ros-args',
      '--params-file',
      join(REPO, 'config', 'ar1_sim.yaml'),
      '-p',
      `scenario:=${join(dir, 'scenario.yaml')}`,
    ]);
    procs.push(simNode);
    const logs = () => [simNode.log.slice(-3000), planner.log.slice(-2000), watchdog.log.slice(-2000)].join('\n');
    await waitFor(
      'the watchdog in nominal on sim time',
      60,
      () => state.messages.some((m) => m.msg.state === STATE.nominal),
      logs,
    );
    const exit = await Promise.race([
      simNode.exit,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`the simulator did not exit\n${logs()}`)), 90_000),
      ),
    ]);
    expect(exit.code, logs()).to.equal(0);
    expect(simNode.log).to.match(/graph_barrier PASS: .*collision no/);

    // /clock: simulated time from 1000 s, increasing.
    const clocks = clock.messages.map((m) => stampS(m.msg.clock));
    expect(clocks[0]).to.be.within(1000, 1013);
    for (let i = 1; i < clocks.length; i++) expect(clocks[i]).to.be.greaterThan(clocks[i - 1]!);
    // Cameras at the configured size, raw; odometry and ground truth on sim time.
    expect(camera.count).to.be.greaterThan(50);
    expect([camera.last!.width, camera.last!.height, camera.last!.encoding]).to.deep.equal([320, 180, 'rgb8']);
    expect(stampS(odom.last!.header.stamp)).to.be.within(1000, 1012.1);
    // The loop closed: the planner drove (through the watchdog), the car stopped before the barrier (front 3.8 m ahead of the pose).
    // On failure, say why the planner lost control: each change of the safety state with its reasons, and the logs.
    const changes = state.messages
      .filter((m, i, all) => i === 0 || m.msg.state_name !== all[i - 1]!.msg.state_name)
      .map((m) => `${stampS(m.msg.header.stamp).toFixed(2)} ${m.msg.state_name}: ${m.msg.reasons.join('; ')}`);
    expect(
      vehicle.messages.filter((m) => m.msg.source === SOURCE.planner).length,
      `at least 1 s of planner control; safety states:\n${changes.join('\n')}\n${logs()}`,
    ).to.be.greaterThan(50);
    const last = truth.last!;
    expect(last.twist.twist.linear.x).to.equal(0);
    expect(last.pose.pose.position.x + 3.8).to.be.within(50, 60 - 0.1);
  });

  it('a scenario with a planner fault is refused before ROS starts: one line, exit 2', async () => {
    const p = new NodeProcess('sim', [
      'node',
      'sim',
      '--ros-args',
      '-p',
      `scenario:=${join(REPO, 'config', 'scenarios', 'fault_planner_crash.yaml')}`,
    ]);
    procs.push(p);
    const { code } = await p.exit;
    expect(code).to.equal(2);
    expect(p.output.join('').trim()).to.match(
      /^ar1: .*fault_planner_crash\.yaml: faults\[0\]\.kind: planner_crash cannot be injected by ar1 node sim/,
    );
  });
});
