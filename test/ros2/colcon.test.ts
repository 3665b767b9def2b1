/**
 * The vehicle install as documented: colcon builds ar1_msgs and ar1_ros with npm offline (packages from the npm
 * cache, rclnodejs's addon from the prebuilt one or compiled against the installed Node's headers), and the
 * installed wrappers start with the exact command lines launch_ros builds from launch/ar1.launch.yaml.
 * The build goes to .ros2/colcon-test (kept: a second run reuses it, as colcon does on a vehicle).
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCH_DIR, nodeArgv, readLaunchFile, resolveArgs } from '../deploy/launchFile.js';
import { REPO, graphNode, record, waitFor, type SafetyStateMsg } from './graph.js';
import { suite } from './hooks.js';

const WS = join(REPO, '.ros2', 'colcon-test');
const INSTALL = join(WS, 'install');

describe('ROS 2 graph: the colcon install', function () {
  this.timeout(20 * 60_000);
  let build: ReturnType<typeof spawnSync>;

  before(() => {
    build = spawnSync(
      'colcon',
      [
        '--log-base',
        join(WS, 'log'),
        'build',
        '--base-paths',
        join(REPO, 'msg'),
        join(REPO, 'ros'),
        '--build-base',
        join(WS, 'build'),
        '--install-base',
        INSTALL,
        '--event-handlers',
        'console_cohesion-',
        'console_direct-',
      ],
      { cwd: REPO, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true' }, timeout: 19 * 60_000 },
    );
  });

  it('builds ar1_msgs and ar1_ros without the network (npm --offline)', () => {
    expect(build.status, `${build.stdout}\n${build.stderr}`).to.equal(0);
    const share = join(INSTALL, 'ar1_ros', 'share', 'ar1_ros');
    for (const f of [
      'bin/ar1.js',
      'config/ar1_watchdog.yaml',
      'launch/ar1.launch.yaml',
      'node_modules/rclnodejs/generated/ar1_msgs',
    ]) {
      expect(existsSync(join(share, f)), f).to.equal(true);
    }
    for (const w of ['ar1_planner', 'ar1_watchdog'])
      expect(existsSync(join(INSTALL, 'ar1_ros', 'lib', 'ar1_ros', w)), w).to.equal(true);
  });

  it('the installed ar1_watchdog and ar1_planner start with the command lines ar1.launch.yaml builds', async () => {
    expect(build.status, 'the build above').to.equal(0);
    const file = readLaunchFile(join(LAUNCH_DIR, 'ar1.launch.yaml'));
    const home = join(INSTALL, 'ar1_ros', 'share', 'ar1_ros');
    const vars = resolveArgs(file, { ar1_home: home, bundle: suite.bundle, namespace: '/it_colcon' });
    const state = await record<SafetyStateMsg>('ar1_msgs/msg/SafetyState', '/ar1/safety_state');
    const children = file.nodes.map((n) => {
      const [exec, ...args] = nodeArgv(n, vars, LAUNCH_DIR);
      const env = { ...process.env, ...Object.fromEntries(n.env.map((e) => [e.name, home])) };
      const child = spawn(join(INSTALL, 'ar1_ros', 'lib', 'ar1_ros', exec!), args, {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
      });
      child.stderr.on('data', (b: Buffer) => {
        out += b.toString();
      });
      return {
        name: n.name,
        child,
        out: () => out,
        exit: new Promise<number | null>((r) => child.once('exit', (c) => r(c))),
      };
    });
    const logs = () => children.map((c) => `[${c.name}]\n${c.out()}`).join('\n');
    try {
      for (const c of children)
        await waitFor(
          `${c.name} running`,
          60,
          () =>
            c.child.exitCode !== null
              ? (() => {
                  throw new Error(`${c.name} exited: ${logs()}`);
                })()
              : /running \[namespace=\/it_colcon\]/.test(c.out()),
          logs,
        );
      await waitFor('/ar1/safety_state from the installed watchdog', 20, () => state.count > 0, logs);
      const node = await graphNode();
      const names = node.getPublishersInfoByTopic('/ar1/command', false).map((e) => e.node_name);
      expect(names, 'the installed planner publishes /ar1/command').to.include('ar1_planner');
      for (const c of children) c.child.kill('SIGINT');
      for (const c of children) expect(await c.exit, `${c.name}: SIGINT → exit 0 (${c.out().slice(-500)})`).to.equal(0);
    } finally {
      for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
      state.close();
    }
  });
});
