/**
 * Harness for the ROS 2 suite: the nodes run as real processes (`ar1 node …`) on a real rcl + DDS graph, and this
 * process plays the rest of the vehicle through its own rclnodejs node: cameras, odometry (optionally from a simple
 * vehicle that obeys /vehicle/unicycle_command), /clock, operator requests, and recorders for every output.
 *
 * Real processes mean wall-clock time. Tests wait for conditions with generous timeouts and assert on what the nodes
 * published (message stamps, exit codes), never on how long this machine took.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorldControl, WorldOptions, WorldStatus } from './worldProtocol.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CAMERAS = [
  'camera_cross_left_120fov',
  'camera_front_wide_120fov',
  'camera_cross_right_120fov',
  'camera_front_tele_30fov',
] as const;
export const cameraTopic = (camera: string) => `/sensors/camera/${camera}/image_raw/compressed`;
/** Scales every wait of the suite (a slow or loaded machine). */
export const SLACK = Number(process.env['AR1_ROS2_SLACK'] ?? 1);

export const SOURCE = { planner: 0, fallback: 1, hold: 2 } as const;
export const STATE = { disengaged: 0, nominal: 1, fallback: 2, stopped: 3 } as const;

/** Why the suite cannot run here, or undefined. Checked without importing rclnodejs. */
export function ros2Unavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env['ROS_DISTRO'] || !env['AMENT_PREFIX_PATH'])
    return 'ROS 2 is not sourced (ROS_DISTRO or AMENT_PREFIX_PATH is unset)';
  const rcl = join(REPO, 'node_modules', 'rclnodejs');
  const built = existsSync(join(rcl, 'build', 'Release', 'rclnodejs.node'));
  const prebuiltDir = join(rcl, 'prebuilds', `linux-${process.arch}`);
  const prebuilt =
    existsSync(prebuiltDir) &&
    readdirSync(prebuiltDir).some((f) => f.startsWith(`${env['ROS_DISTRO']}-`) && f.includes('-node-'));
  if (!built && !prebuilt)
    return `rclnodejs has no native addon for ROS ${env['ROS_DISTRO']} (see "ROS 2 machines" in the README)`;
  if (!existsSync(join(rcl, 'generated', 'ar1_msgs'))) {
    return 'rclnodejs has no generated classes for ar1_msgs (build msg/, source its overlay, then generate the messages)';
  }
  return undefined;
}

/**
 * A graph of this run's own, set in the environment before rcl starts (spawned processes inherit it): DDS on the
 * loopback interface only (unless the caller configured Cyclone DDS), and a ROS domain of its own per run, so two
 * runs on one machine (or a stack already running) never hear each other. AR1_ROS2_DOMAIN_ID picks the domain.
 */
export function isolateGraph(env: NodeJS.ProcessEnv = process.env): string {
  env['CYCLONEDDS_URI'] ??= pathToFileURL(join(REPO, 'test', 'ros2', 'cyclonedds.xml')).href;
  env['ROS_DOMAIN_ID'] = env['AR1_ROS2_DOMAIN_ID'] ?? String(120 + (process.pid % 100));
  return env['ROS_DOMAIN_ID'];
}

// ---------------------------------------------------------------------------------------------------------------
// The slice of rclnodejs the suite uses, typed here so the suite compiles without ROS-generated typings.
export interface RclTime {
  nanoseconds: bigint;
}
export interface RclPublisher {
  publish(msg: unknown): void;
}
export interface RclClient {
  waitForService(timeoutMs?: number): Promise<boolean>;
  sendRequestAsync(request: unknown): Promise<unknown>;
}
export interface EndpointInfo {
  node_name: string;
  topic_type: string;
  qos_profile: { depth: number; history: number; reliability: number; durability: number };
}
export interface RclNode {
  createPublisher(type: string, topic: string, options?: unknown): RclPublisher;
  createSubscription(type: string, topic: string, options: unknown, cb: (msg: never) => void): unknown;
  destroySubscription(sub: unknown): void;
  destroyPublisher(pub: unknown): void;
  createClient(type: string, service: string): RclClient;
  getPublishersInfoByTopic(topic: string, noDemangle: boolean): EndpointInfo[];
  getSubscriptionsInfoByTopic(topic: string, noDemangle: boolean): EndpointInfo[];
  now(): RclTime;
  spin(): void;
  destroy(): void;
}
export interface Rcl {
  init(): Promise<void>;
  Node: new (name: string) => RclNode;
  QoS: new (history: number, depth: number, reliability: number, durability: number) => unknown;
  shutdown(): void;
  isShutdown(): boolean;
}

let rclPromise: Promise<Rcl> | undefined;
let testNode: RclNode | undefined;

/** rclnodejs, initialised once for the whole suite. */
export function rcl(): Promise<Rcl> {
  return (rclPromise ??= (async () => {
    const mod = (await import('rclnodejs')) as unknown as { default: Rcl };
    await mod.default.init();
    return mod.default;
  })());
}

/** The suite's own node (spinning), created once. */
export async function graphNode(): Promise<RclNode> {
  if (testNode) return testNode;
  const r = await rcl();
  testNode = new r.Node(`ar1_ros2_suite_${process.pid}`);
  testNode.spin();
  return testNode;
}

export async function closeGraph(): Promise<void> {
  if (!rclPromise) return;
  const r = await rclPromise;
  try {
    testNode?.destroy();
  } catch {
    /* already destroyed */
  }
  if (!r.isShutdown()) r.shutdown();
}

/** QoS as rclnodejs wants it (a plain object is refused with "A number was expected"). */
export async function qos(kind: 'reliable' | 'best_effort' | 'latched', depth = 10): Promise<unknown> {
  const r = await rcl();
  if (kind === 'latched') return new r.QoS(1, depth, 1, 1);
  return new r.QoS(1, depth, kind === 'reliable' ? 1 : 2, 2);
}

// ---------------------------------------------------------------------------------------------------------------
export interface Stamp {
  sec: number;
  nanosec: number;
}
export interface Header {
  stamp: Stamp;
  frame_id: string;
}
export interface UnicycleCommandMsg {
  header: Header;
  acceleration: number;
  curvature: number;
  speed: number;
  source: number;
}
export interface SafetyStateMsg {
  header: Header;
  state: number;
  state_name: string;
  reasons: string[];
  limits_active: string[];
  plan_age_s: number;
}
export interface TimingMsg {
  header: Header;
  error: string;
  frames_received: number;
  frames_planned: number;
  frames_dropped: number;
  drop_reasons: string[];
  drop_counts: number[] | Uint32Array;
  latency_ms: number;
  total_ms: number;
}
export interface DiagnosticArrayMsg {
  status: Array<{ level: number; name: string; message: string }>;
}

export const stampS = (s: Stamp): number => s.sec + s.nanosec / 1e9;
export const stampOfNs = (ns: bigint): Stamp => ({
  sec: Number(ns / 1_000_000_000n),
  nanosec: Number(ns % 1_000_000_000n),
});
export const stampOfS = (s: number): Stamp => stampOfNs(BigInt(Math.round(s * 1e9)));
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every message of one topic, with the wall time [ms] it arrived here. */
export class Recorder<M> {
  readonly messages: Array<{ msg: M; atMs: number }> = [];
  constructor(
    readonly topic: string,
    private readonly keep = 20_000,
  ) {}
  push(msg: M): void {
    this.messages.push({ msg, atMs: performance.now() });
    if (this.messages.length > this.keep) this.messages.splice(0, this.messages.length - this.keep);
  }
  get last(): M | undefined {
    return this.messages.at(-1)?.msg;
  }
  get count(): number {
    return this.messages.length;
  }
  since(atMs: number): M[] {
    return this.messages.filter((m) => m.atMs >= atMs).map((m) => m.msg);
  }
  clear(): void {
    this.messages.length = 0;
  }
}

export async function record<M>(
  type: string,
  topic: string,
  kind: 'reliable' | 'best_effort' | 'latched' = 'reliable',
): Promise<Recorder<M> & { close(): void }> {
  const node = await graphNode();
  const rec = new Recorder<M>(topic);
  const sub = node.createSubscription(type, topic, { qos: await qos(kind) }, (m: never) => rec.push(m as M));
  return Object.assign(rec, { close: () => node.destroySubscription(sub) });
}

/** Polls get() every 20 ms until it returns a value; fails with the nodes' output after timeoutS (× SLACK). */
export async function waitFor<T>(
  what: string,
  timeoutS: number,
  get: () => T | undefined | false,
  context: () => string = () => '',
): Promise<T> {
  const end = performance.now() + timeoutS * SLACK * 1000;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > end)
      throw new Error(
        `timed out after ${timeoutS * SLACK} s waiting for ${what}${context() ? `\n--- context ---\n${context()}` : ''}`,
      );
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------------------------
/** One `ar1 node …` process with its output kept. */
export class NodeProcess {
  readonly output: string[] = [];
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly label: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.child = spawn(process.execPath, [join(REPO, 'bin', 'ar1.js'), ...args], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => {
      this.output.push(b.toString());
      if (this.output.length > 500) this.output.shift();
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exit = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
  }

  static planner(bundle: string, rosArgs: string[] = [], env?: NodeJS.ProcessEnv): NodeProcess {
    return new NodeProcess(
      'planner',
      [
        'node',
        'planner',
        '--bundle',
        bundle,
        '--ros-args',
        '--params-file',
        join(REPO, 'config', 'ar1_planner.yaml'),
        '-p',
        'execution_providers:=[cpu]',
        '-p',
        'cameras.transports:=[compressed,compressed,compressed,compressed]',
        ...rosArgs,
      ],
      env,
    );
  }

  static watchdog(rosArgs: string[] = [], env?: NodeJS.ProcessEnv): NodeProcess {
    return new NodeProcess(
      'watchdog',
      ['node', 'watchdog', '--ros-args', '--params-file', join(REPO, 'config', 'ar1_watchdog.yaml'), ...rosArgs],
      env,
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  get log(): string {
    return this.output
      .join('')
      .split('\n')
      .map((l) => `[${this.label}] ${l}`)
      .join('\n');
  }

  async waitForOutput(re: RegExp, timeoutS: number): Promise<string> {
    return waitFor(
      `${this.label} output ${re}`,
      timeoutS,
      () => this.output.join('').match(re)?.[0],
      () => this.log.slice(-4000),
    );
  }

  /**
   * Stops it if still running (after-hooks): SIGTERM, so that its DDS participant leaves the graph at once (a killed
   * one stays discovered until its lease runs out and would show up in the next test's graph), SIGKILL after 3 s.
   */
  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await this.exit;
      clearTimeout(t);
    }
    await this.exit;
  }
}

// ---------------------------------------------------------------------------------------------------------------
export type VehicleOptions = Pick<WorldOptions, 'speedMps' | 'obeyCommands'>;

/**
 * The world the nodes see, run by worldProcess.ts in a process of its own (so this process's own work never delays a
 * sensor message): four 1920×1080 JPEG cameras at 10 Hz and odometry at 50 Hz from a straight-driving vehicle,
 * stamped with system time or with a simulated /clock it publishes. This object steers it and mirrors its state.
 */
export class World {
  #speedMps: number;
  #nowS = 0;
  #out = '';
  readonly stoppedCameras = { add: (camera: string) => this.#send({ stopCamera: camera }) };
  /** The camera's next frame is not published (one frame lost). */
  dropFrame(camera: string): void {
    this.#send({ dropFrame: camera });
  }

  private constructor(
    private readonly child: ChildProcess,
    options: WorldOptions,
  ) {
    this.#speedMps = options.speedMps;
  }

  static async start(options: WorldOptions = { speedMps: 5, obeyCommands: false }): Promise<World> {
    const script = join(REPO, 'test', 'ros2', 'worldProcess.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const world = new World(child, options);
    let ready = false;
    let buf = '';
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready') ready = true;
        else if (line.startsWith('{')) {
          const st = JSON.parse(line) as WorldStatus;
          world.#speedMps = st.speedMps;
          world.#nowS = st.nowS;
        }
      }
    });
    child.stderr!.on('data', (b: Buffer) => {
      world.#out += b.toString();
    });
    await waitFor('the world process', 60, () => {
      if (child.exitCode !== null) throw new Error(`the world process exited (${child.exitCode}): ${world.#out}`);
      return ready;
    });
    return world;
  }

  #send(c: WorldControl): void {
    if (this.child.exitCode === null) this.child.stdin!.write(`${JSON.stringify(c)}\n`);
  }

  /** The vehicle's speed [m/s], as of the last status line (every 50 ms). */
  get speedMps(): number {
    return this.#speedMps;
  }
  /** The world's time [s]: system time, or its simulated clock. */
  get nowS(): number {
    return this.#nowS;
  }
  set odometryStopped(v: boolean) {
    this.#send({ odometryStopped: v });
  }
  /** Follow the vehicle commands from now on (with obeyCommands). */
  set obeying(v: boolean) {
    this.#send({ obeying: v });
  }
  /** Shift every stamp by this [s] (a stale or backward-stepping sensor clock). */
  set stampOffsetS(v: number) {
    this.#send({ stampOffsetS: v });
  }
  /** The simulated /clock runs (true) or stops publishing and stands still (false). */
  set clockRunning(v: boolean) {
    this.#send({ clockRunning: v });
  }
  /** Steps the simulated clock by s [s] (negative: backward). */
  stepClock(s: number): void {
    this.#send({ clockStepS: s });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.#send({ exit: true });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}

/** Largest gap [s] between consecutive header stamps. */
export function maxStampGapS(msgs: ReadonlyArray<{ header: Header }>): number {
  let gap = 0;
  for (let i = 1; i < msgs.length; i++)
    gap = Math.max(gap, stampS(msgs[i]!.header.stamp) - stampS(msgs[i - 1]!.header.stamp));
  return gap;
}

// ---------------------------------------------------------------------------------------------------------------
export interface Drive {
  /** Replaceable: a test may start a new planner after killing this one. */
  planner: NodeProcess;
  readonly watchdog: NodeProcess;
  world: World;
  vehicle: Recorder<UnicycleCommandMsg>;
  plannerCommands: Recorder<UnicycleCommandMsg>;
  state: Recorder<SafetyStateMsg>;
  timing: Recorder<TimingMsg>;
  logs(): string;
  engage(on?: boolean): Promise<void>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface DriveOptions {
  bundle: string;
  plannerArgs?: string[];
  watchdogArgs?: string[];
  vehicle?: VehicleOptions;
  /** The world publishes /clock from this time [s] and stamps with it (run the nodes with use_sim_time:=true). */
  simClock?: { startS: number };
}

/** Planner + watchdog processes and a world feeding them; engaged and nominal when it resolves. */
export async function startDrive(o: DriveOptions): Promise<Drive> {
  const watchdog = NodeProcess.watchdog(o.watchdogArgs);
  const planner = NodeProcess.planner(o.bundle, o.plannerArgs);
  const node = await graphNode();
  const recs = {
    vehicle: await record<UnicycleCommandMsg>('ar1_msgs/msg/UnicycleCommand', '/vehicle/unicycle_command'),
    plannerCommands: await record<UnicycleCommandMsg>('ar1_msgs/msg/UnicycleCommand', '/ar1/command'),
    state: await record<SafetyStateMsg>('ar1_msgs/msg/SafetyState', '/ar1/safety_state'),
    timing: await record<TimingMsg>('ar1_msgs/msg/PlannerTiming', '/ar1/timing'),
  };
  const world = await World.start({
    ...(o.vehicle ?? { speedMps: 5, obeyCommands: true }),
    ...(o.simClock ? { simClock: o.simClock } : {}),
  });
  const reliable = await qos('reliable');
  const engagePub = node.createPublisher('std_msgs/msg/Bool', '/ar1/watchdog/engage', { qos: reliable });
  const resetPub = node.createPublisher('std_msgs/msg/Empty', '/ar1/watchdog/reset', { qos: reliable });
  const logs = () =>
    [drive.planner.log.slice(-3000), watchdog.log.slice(-3000), `last state: ${JSON.stringify(recs.state.last)}`].join(
      '\n',
    );
  const drive: Drive = {
    planner,
    watchdog,
    world,
    ...recs,
    logs,
    async engage(on = true) {
      const want = on ? STATE.nominal : STATE.disengaged;
      await waitFor(
        on ? 'state nominal after engage' : 'state disengaged',
        30,
        () => {
          if (recs.state.last?.state === want) return true;
          engagePub.publish({ data: on });
          return undefined;
        },
        logs,
      );
    },
    async reset() {
      resetPub.publish({});
    },
    async close() {
      await world.stop();
      for (const r of Object.values(recs)) r.close();
      await Promise.all([drive.planner.stop(), planner.stop(), watchdog.stop()]);
    },
  };
  try {
    await waitFor(
      'the first planner command',
      60,
      () => {
        for (const n of [planner, watchdog])
          if (!n.running) throw new Error(`${n.label} exited during start-up\n${logs()}`);
        return recs.plannerCommands.count > 0;
      },
      logs,
    );
    await drive.engage();
    world.obeying = true;
  } catch (e) {
    await drive.close();
    throw e;
  }
  return drive;
}
