/**
 * ROS 2 integration suite: planner and watchdog as real processes on a real ROS graph (rclnodejs, DDS).
 * Runs only where ROS 2 is sourced and rclnodejs is prepared; elsewhere every test is pending with the reason.
 * How to run: docs/vehicle.md §11. Uses wall time by necessity (real processes); timeouts scale with AR1_IT_TIMEOUT_S.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../deploy/launchFile.js';

const CAMERAS = ['camera_cross_left_120fov', 'camera_front_wide_120fov', 'camera_cross_right_120fov', 'camera_front_tele_30fov'];
const TIMEOUT_S = Number(process.env['AR1_IT_TIMEOUT_S'] ?? 60);
const SOURCE_PLANNER = 0;
const SOURCE_FALLBACK = 1;
const STATE_NOMINAL = 1;
const STATE_FALLBACK = 2;

/** Why the suite cannot run here, or undefined. Checked without importing rclnodejs (an import without a binary builds one). */
export function ros2Unavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env['ROS_DISTRO'] || !env['AMENT_PREFIX_PATH']) return 'ROS 2 is not sourced (ROS_DISTRO/AMENT_PREFIX_PATH unset)';
  const rcl = join(REPO, 'node_modules', 'rclnodejs');
  const built = existsSync(join(rcl, 'build', 'Release', 'rclnodejs.node'));
  const prebuilt = existsSync(join(rcl, 'prebuilds', `linux-${process.arch}`))
    && readdirSync(join(rcl, 'prebuilds', `linux-${process.arch}`)).some((f) => f.startsWith(`${env['ROS_DISTRO']}-`) && f.includes('-node-'));
  if (!built && !prebuilt) return `rclnodejs has no native binding for ROS ${env['ROS_DISTRO']} (run node node_modules/rclnodejs/scripts/install.cjs)`;
  if (!existsSync(join(rcl, 'generated', 'ar1_msgs'))) {
    return 'rclnodejs messages for ar1_msgs are not generated (source the ar1_msgs overlay, run node node_modules/rclnodejs/scripts/generate_messages.cjs)';
  }
  return undefined;
}

// The slice of rclnodejs this suite uses, typed here so it compiles without ROS-generated typings.
interface RclPublisher { publish(msg: unknown): void }
interface RclTime { nanoseconds: bigint }
interface RclNode {
  createPublisher(type: string, topic: string, options?: unknown): RclPublisher;
  createSubscription(type: string, topic: string, options: unknown, cb: (msg: never) => void): unknown;
  now(): RclTime;
  spin(): void;
  destroy(): void;
}
interface Rcl {
  init(): Promise<void>;
  Node: new (name: string) => RclNode;
  shutdown(): void;
  isShutdown?(): boolean;
}

interface Stamp { sec: number; nanosec: number }
interface Command { acceleration: number; curvature: number; speed: number; source: number; header: { stamp: Stamp } }
interface SafetyStateMsg { state: number; state_name: string; reasons: string[] }

const stampOf = (t: RclTime): Stamp => ({ sec: Number(t.nanoseconds / 1_000_000_000n), nanosec: Number(t.nanoseconds % 1_000_000_000n) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, timeoutS: number, get: () => T | undefined, logs: () => string): Promise<T> {
  const end = Date.now() + timeoutS * 1000;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutS} s waiting for ${what}\n--- node output ---\n${logs()}`);
    await sleep(50);
  }
}

function startNode(kind: 'planner' | 'watchdog', extra: string[], logs: string[]): ChildProcess {
  const args = [join(REPO, 'bin', 'ar1.js'), 'node', kind, ...extra];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer) => { logs.push(`[${kind}] ${b.toString()}`); if (logs.length > 400) logs.shift(); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

const skipReason = ros2Unavailable();

describe(`integration: ROS 2 graph (planner + watchdog processes)${skipReason ? ` — skipped: ${skipReason}` : ''}`, function () {
  this.timeout((TIMEOUT_S * 4 + 60) * 1000);
  let rcl: Rcl | undefined;
  let node: RclNode | undefined;
  let tmp = '';
  const logs: string[] = [];
  let planner: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let feed: ReturnType<typeof setInterval> | undefined;
  const got = {
    trajectories: 0, reasoning: 0, plannerCommands: 0,
    vehicle: [] as Command[], state: undefined as SafetyStateMsg | undefined,
  };
  const out = () => logs.join('').slice(-8000);

  before(async function () {
    if (skipReason) {
      console.log(`      ROS 2 integration suite skipped: ${skipReason}`);
      this.skip();
    }
    tmp = mkdtempSync(join(tmpdir(), 'ar1-it-'));
    const bundle = join(tmp, 'bundle');
    const made = spawnSync(process.execPath, [join(REPO, 'bin', 'ar1.js'), 'model', 'make-demo', bundle], { cwd: REPO, encoding: 'utf8' });
    expect(made.status, `ar1 model make-demo: ${made.stderr}`).to.equal(0);

    const rosArgs = (kind: string, more: string[] = []) => [
      '--ros-args', '--params-file', join(REPO, 'config', `ar1_${kind}.yaml`), '-p', 'use_sim_time:=false', ...more];
    watchdog = startNode('watchdog', rosArgs('watchdog'), logs);
    planner = startNode('planner', ['--bundle', bundle, ...rosArgs('planner', [
      '-p', 'execution_providers:=[cpu]',
      '-p', 'cameras.transports:=[compressed,compressed,compressed,compressed]'])], logs);

    const { default: loaded } = (await import('rclnodejs')) as unknown as { default: Rcl };
    rcl = loaded;
    await rcl.init();
    node = new rcl.Node(`ar1_integration_test_${process.pid}`);
    const reliable = { qos: { history: 1, depth: 10, reliability: 1, durability: 2 } };
    node.createSubscription('ar1_msgs/msg/Trajectory', '/ar1/trajectory', reliable, () => { got.trajectories++; });
    node.createSubscription('ar1_msgs/msg/Reasoning', '/ar1/reasoning', reliable, () => { got.reasoning++; });
    node.createSubscription('ar1_msgs/msg/UnicycleCommand', '/ar1/command', reliable, () => { got.plannerCommands++; });
    node.createSubscription('ar1_msgs/msg/UnicycleCommand', '/vehicle/unicycle_command', reliable,
      (m: never) => { got.vehicle.push(m as Command); if (got.vehicle.length > 2000) got.vehicle.shift(); });
    node.createSubscription('ar1_msgs/msg/SafetyState', '/ar1/safety_state', reliable, (m: never) => { got.state = m as SafetyStateMsg; });
    node.spin();

    // Inputs: 4 cameras at 10 Hz (1920×1080 JPEG, as the vehicle's compressed transport sends), odometry at 50 Hz
    // driving straight at 5 m/s.
    const { default: sharp } = await import('sharp');
    const jpeg = new Uint8Array(await sharp({ create: { width: 1920, height: 1080, channels: 3, background: { r: 90, g: 110, b: 120 } } })
      .jpeg({ quality: 70 }).toBuffer());
    const cams = CAMERAS.map((c) => node!.createPublisher('sensor_msgs/msg/CompressedImage', `/sensors/camera/${c}/image_raw/compressed`));
    const odom = node.createPublisher('nav_msgs/msg/Odometry', '/localization/odometry');
    const t0 = Number(node.now().nanoseconds) / 1e9;
    let tick = 0;
    feed = setInterval(() => {
      const now = node!.now();
      const stamp = stampOf(now);
      const x = 5 * (Number(now.nanoseconds) / 1e9 - t0);
      odom.publish({
        header: { stamp, frame_id: 'odom' }, child_frame_id: 'base_link',
        pose: { pose: { position: { x, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: new Array(36).fill(0) },
        twist: { twist: { linear: { x: 5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: new Array(36).fill(0) },
      });
      if (tick++ % 5 === 0) {
        // A fresh Uint8Array per publish: rclnodejs copies the whole underlying buffer (rclnodejs-notes §5).
        for (const [i, pub] of cams.entries()) pub.publish({ header: { stamp, frame_id: CAMERAS[i]! }, format: 'jpeg', data: jpeg.slice() });
      }
    }, 20);
  });

  after(async () => {
    if (feed) clearInterval(feed);
    for (const c of [planner, watchdog]) if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    try { node?.destroy(); } catch { /* already gone */ }
    try { if (rcl && !(rcl.isShutdown?.() ?? false)) rcl.shutdown(); } catch { /* already shut down */ }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the planner publishes trajectories, reasoning and 50 Hz commands from cameras + odometry', async () => {
    await waitFor('/ar1/trajectory, /ar1/reasoning and /ar1/command', TIMEOUT_S,
      () => (got.trajectories >= 2 && got.reasoning >= 1 && got.plannerCommands >= 50 ? true : undefined), out);
  });

  it('the watchdog holds while disengaged, then forwards planner commands once engaged', async () => {
    const state = await waitFor('/ar1/safety_state', TIMEOUT_S, () => got.state, out);
    expect(state.state_name).to.equal('disengaged');
    const engage = node!.createPublisher('std_msgs/msg/Bool', '/ar1/watchdog/engage');
    await waitFor('state nominal after engage', TIMEOUT_S, () => {
      if (got.state?.state === STATE_NOMINAL) return true;
      engage.publish({ data: true });
      return undefined;
    }, out);
    got.vehicle.length = 0;
    await waitFor('planner-sourced /vehicle/unicycle_command', 5, () => (got.vehicle.filter((c) => c.source === SOURCE_PLANNER).length >= 10 ? true : undefined), out);
  });

  it('killing the planner brakes: fallback source, non-increasing acceleration, state fallback', async () => {
    got.vehicle.length = 0;
    planner!.kill('SIGKILL');
    await exited(planner!);
    // 0.1 s command gap at 50 Hz + one tick; allow DDS and scheduling slack.
    const fallback = await waitFor('fallback commands on /vehicle/unicycle_command', 3,
      () => { const f = got.vehicle.filter((c) => c.source === SOURCE_FALLBACK); return f.length >= 25 ? f : undefined; }, out);
    for (let i = 1; i < fallback.length; i++) {
      expect(fallback[i]!.acceleration, `fallback command ${i}`).to.be.at.most(fallback[i - 1]!.acceleration + 1e-9);
    }
    expect(fallback[fallback.length - 1]!.acceleration).to.be.below(fallback[0]!.acceleration);
    expect(fallback[fallback.length - 1]!.acceleration).to.be.at.least(-3.5 - 1e-9);
    expect(got.state?.state).to.equal(STATE_FALLBACK);
    expect(got.state?.reasons.length).to.be.greaterThan(0);
  });

  it('SIGTERM stops the watchdog within 2 s', async () => {
    const start = Date.now();
    watchdog!.kill('SIGTERM');
    const code = await Promise.race([exited(watchdog!), sleep(2000).then(() => 'timeout' as const)]);
    expect(code, out()).to.not.equal('timeout');
    expect(Date.now() - start).to.be.below(2000);
  });
});
