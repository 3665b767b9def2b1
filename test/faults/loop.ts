/**
 * The fault rig: the REAL ar1_planner and ar1_watchdog on one InProcessBus in virtual time (SteppingScheduler),
 * with a closed-loop vehicle (speed integrated from /vehicle/unicycle_command), 10 Hz cameras, 50 Hz odometry and
 * an engine wrapper that injects faults. Scenarios flip `world` fields and `engine.mode` over virtual time.
 */
import { interval, Subscription } from 'rxjs';
import { InProcessBus } from '../../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../../nodes/adapters/inprocess/inProcessNode.js';
import { SteppingScheduler } from '../../nodes/adapters/inprocess/virtualScheduler.js';
import { EngineError, type PlanInput, type PlanningEngine, type PlanResult } from '../../nodes/core/planningEngine.js';
import { MemoryLogger, type Logger } from '../../nodes/core/logger.js';
import type {
  Image,
  Odometry,
  PlannerTiming,
  SafetyState,
  UnicycleCommand,
  UnicycleSource,
} from '../../nodes/core/msgs.js';
import { UNICYCLE_SOURCE } from '../../nodes/core/msgs.js';
import { QOS_COMMAND, QOS_SENSOR } from '../../nodes/core/qos.js';
import { secondsToStamp } from '../../nodes/core/time.js';
import type { RosNode } from '../../nodes/core/transport.js';
import { loadPlannerParams, type PlannerParams } from '../../nodes/planner/params.js';
import { startPlanner, type PlannerHandle } from '../../nodes/planner/plannerNode.js';
import { startWatchdog, type WatchdogHandle } from '../../nodes/watchdog/watchdogNode.js';
import { loadWatchdogParams, type WatchdogParams } from '../../nodes/watchdog/params.js';
import { AR1_CAMERAS, CONTRACT, fakeResult, H, W } from '../planner/harness.js';

export type EngineMode = 'ok' | 'throw' | 'reject' | 'hang' | 'nan' | 'inf' | 'crash';

/** Wraps an engine and injects faults per `mode`; counts calls and the plans that never returned. */
export class FaultyEngine implements PlanningEngine {
  mode: EngineMode = 'ok';
  calls = 0;
  hung = 0;
  constructor(readonly inner: PlanningEngine) {}
  get contract() {
    return this.inner.contract;
  }
  get provider() {
    return this.inner.provider;
  }
  plan(input: PlanInput): Promise<PlanResult> {
    this.calls++;
    switch (this.mode) {
      case 'ok':
        return this.inner.plan(input);
      case 'throw':
        throw new Error('injected synchronous throw in plan()');
      case 'reject':
        return Promise.reject(new EngineError('runtime', 'injected: session.run failed'));
      case 'crash':
        return Promise.reject(new EngineError('worker_crashed', 'injected: inference worker exited with code 1'));
      case 'hang':
        this.hung++;
        return new Promise<PlanResult>(() => {});
      case 'nan':
      case 'inf': {
        const bad = this.mode === 'nan' ? Number.NaN : Number.POSITIVE_INFINITY;
        return this.inner.plan(input).then((r) => {
          const acceleration = Float64Array.from(r.trajectory.acceleration);
          acceleration[5] = bad;
          return { ...r, trajectory: { ...r.trajectory, acceleration } };
        });
      }
    }
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Fast fake engine: resolves after latencyMs of virtual time with harness.fakeResult (0.5 m/s² plan). */
export class VirtualEngine implements PlanningEngine {
  readonly contract = CONTRACT;
  readonly provider = 'fake';
  constructor(
    private readonly scheduler: SteppingScheduler,
    public latencyMs: number,
  ) {}
  plan(input: PlanInput): Promise<PlanResult> {
    return new Promise((resolve) => {
      this.scheduler.schedule(() => resolve(fakeResult(input)), this.latencyMs);
    });
  }
  async close(): Promise<void> {}
}

export interface LoopWorld {
  /** Per camera: publishing or not. */
  cameras: boolean[];
  /** Per camera: override the published frame (wrong size, encoding). */
  frame?: (camera: number, stampS: number) => Image;
  odometry: boolean;
  /** Added to every published stamp (cameras and odometry): negative = timestamps go backwards. */
  stampOffsetS: number;
  /** Added to the odometry position (teleport). */
  teleportM: number;
  /** Vehicle speed [m/s], integrated from the watchdog's commands. */
  speed: number;
  x: number;
}

export interface LoopOptions {
  startS?: number;
  latencyMs?: number;
  speed?: number;
  planner?: Record<string, unknown>;
  watchdog?: Record<string, unknown>;
  /** Keep every vehicle command / timing / state (tests); the soak checks on the fly instead. */
  record?: boolean;
  engine?: PlanningEngine;
  /** Replaces the watchdog's clock (sim clock at zero). */
  watchdogClock?: () => number;
  logger?: () => Logger;
  /** Awaited before each virtual instant (a real engine: WorkTracker.idle). */
  idle?: () => Promise<void>;
  track?: <T>(p: Promise<T>) => Promise<T>;
}

export interface Loop {
  s: SteppingScheduler;
  bus: InProcessBus;
  engine: FaultyEngine;
  planner: PlannerHandle;
  watchdog: WatchdogHandle;
  plannerLog: Logger;
  watchdogLog: Logger;
  pp: PlannerParams;
  wp: WatchdogParams;
  world: LoopWorld;
  vehicle: Array<{ tS: number; msg: UnicycleCommand }>;
  timing: Array<{ tS: number; msg: PlannerTiming }>;
  states: Array<{ tS: number; msg: SafetyState }>;
  nowS(): number;
  runTo(tS: number): Promise<void>;
  runFor(s: number): Promise<void>;
  engage(on?: boolean): void;
  reset(): void;
  /** Stops both nodes and the simulated world. */
  close(): Promise<void>;
}

export const SOURCE_NAME: Record<number, UnicycleSource> = Object.fromEntries(
  Object.entries(UNICYCLE_SOURCE).map(([k, v]) => [v, k as UnicycleSource]),
);

export function image(stampS: number, over: Partial<Image> = {}): Image {
  return {
    header: { stamp: secondsToStamp(stampS), frame_id: 'cam' },
    height: H,
    width: W,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: W * 3,
    data: new Uint8Array(W * H * 3),
    ...over,
  };
}

export function makeLoop(o: LoopOptions = {}): Loop {
  const s = new SteppingScheduler((o.startS ?? 100) * 1000);
  const bus = new InProcessBus(s);
  const pp = loadPlannerParams({ sources: [{ origin: 'fault rig', values: o.planner ?? {} }] });
  const wp = loadWatchdogParams({
    sources: [
      {
        origin: 'fault rig',
        values: {
          cameras: { topics: pp.cameras.topics, types: pp.cameras.topics.map(() => 'image') },
          ...o.watchdog,
        },
      },
    ],
  });
  const plannerLog = o.logger?.() ?? new MemoryLogger();
  const watchdogLog = o.logger?.() ?? new MemoryLogger();
  const plannerNode = new InProcessNode(bus, { name: 'ar1_planner', logger: plannerLog });
  const wNode = new InProcessNode(bus, { name: 'ar1_watchdog', logger: watchdogLog });
  const wRos: RosNode = o.watchdogClock
    ? {
        name: wNode.name,
        namespace: wNode.namespace,
        clock: { now: o.watchdogClock },
        scheduler: wNode.scheduler,
        logger: watchdogLog,
        parameterOverrides: wNode.parameterOverrides,
        shutdown$: wNode.shutdown$,
        subscribe: wNode.subscribe.bind(wNode),
        createPublisher: wNode.createPublisher.bind(wNode),
        shutdown: wNode.shutdown.bind(wNode),
      }
    : wNode;
  const sim = new InProcessNode(bus, { name: 'sim' });
  const engine = new FaultyEngine(o.engine ?? new VirtualEngine(s, o.latencyMs ?? 100));
  const world: LoopWorld = {
    cameras: AR1_CAMERAS.map(() => true),
    odometry: true,
    stampOffsetS: 0,
    teleportM: 0,
    speed: o.speed ?? 10,
    x: 0,
  };
  const nowS = () => s.now() / 1000;
  const vehicle: Loop['vehicle'] = [];
  const timing: Loop['timing'] = [];
  const states: Loop['states'] = [];
  const record = o.record ?? true;
  const subs = new Subscription();
  const dtCtl = 1 / wp.control_rate_hz;
  subs.add(
    sim.subscribe('ar1_msgs/msg/UnicycleCommand', wp.topics.vehicle_command, QOS_COMMAND).subscribe((msg) => {
      if (record) vehicle.push({ tS: nowS(), msg });
      world.speed = Math.max(0, world.speed + msg.acceleration * dtCtl);
    }),
  );
  if (record) {
    subs.add(
      sim
        .subscribe('ar1_msgs/msg/PlannerTiming', pp.topics.timing, QOS_COMMAND)
        .subscribe((msg) => timing.push({ tS: nowS(), msg })),
    );
    subs.add(
      sim
        .subscribe('ar1_msgs/msg/SafetyState', wp.topics.safety_state, QOS_COMMAND)
        .subscribe((msg) => states.push({ tS: nowS(), msg })),
    );
  }
  const camPubs = pp.cameras.topics.map((t) => sim.createPublisher('sensor_msgs/msg/Image', t, QOS_SENSOR));
  const odomPub = sim.createPublisher('nav_msgs/msg/Odometry', pp.odometry.topic, QOS_SENSOR);
  const engagePub = sim.createPublisher('std_msgs/msg/Bool', wp.topics.engage, QOS_COMMAND);
  const resetPub = sim.createPublisher('std_msgs/msg/Empty', wp.topics.reset, QOS_COMMAND);
  subs.add(
    interval(20, s).subscribe(() => {
      world.x += world.speed * 0.02;
      if (!world.odometry) return;
      const t = nowS() + world.stampOffsetS;
      const msg: Odometry = {
        header: { stamp: secondsToStamp(t), frame_id: 'map' },
        child_frame_id: 'base_link',
        pose: {
          pose: { position: { x: world.x + world.teleportM, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
          covariance: [],
        },
        twist: { twist: { linear: { x: world.speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
      };
      odomPub.publish(msg);
    }),
  );
  subs.add(
    interval(100, s).subscribe(() => {
      const t = nowS() + world.stampOffsetS;
      camPubs.forEach((p, c) => {
        if (world.cameras[c]) p.publish(world.frame ? world.frame(c, t) : image(t));
      });
    }),
  );

  const planner = startPlanner(plannerNode, pp, engine, o.track ? { track: o.track } : {});
  const watchdog = startWatchdog(wRos, wp);
  const idle = o.idle ?? (() => new Promise<void>((r) => setImmediate(r)));
  return {
    s,
    bus,
    engine,
    planner,
    watchdog,
    plannerLog,
    watchdogLog,
    pp,
    wp,
    world,
    vehicle,
    timing,
    states,
    nowS,
    runTo: (tS) => s.advanceTo(Math.round(tS * 1000), idle),
    runFor: (d) => s.advanceTo(Math.round(s.now() + d * 1000), idle),
    engage: (on = true) => engagePub.publish({ data: on }),
    reset: () => resetPub.publish({}),
    async close() {
      subs.unsubscribe();
      await planner.stop();
      await watchdog.stop();
    },
  };
}

/** Sum of a drop-reason record. */
export const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** received = planned + dropped + waiting. */
export function balanced(st: {
  received: number;
  planned: number;
  waiting: number;
  dropped: Record<string, number>;
}): boolean {
  return st.received === st.planned + st.waiting + total(st.dropped);
}

/** Vehicle commands at or after tS, by source name. */
export function sourcesAfter(loop: Loop, tS: number): UnicycleSource[] {
  return loop.vehicle.filter((v) => v.tS >= tS - 1e-9).map((v) => SOURCE_NAME[v.msg.source]!);
}

/** The first time at or after tS the vehicle command was not from the planner. */
export function firstNonPlannerAfter(loop: Loop, tS: number): number | undefined {
  return loop.vehicle.find((v) => v.tS >= tS - 1e-9 && SOURCE_NAME[v.msg.source] !== 'planner')?.tS;
}
