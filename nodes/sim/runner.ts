/**
 * `ar1 sim`'s loop: the REAL ar1_planner and ar1_watchdog on the in-process transport in virtual time, as replay
 * runs them, with the simulator in place of the bag. The watchdog's /vehicle/unicycle_command drives the vehicle
 * model; the simulator publishes odometry, the four cameras re-rendered from the simulated pose, /clock and the
 * ground truth; faults are applied at their times. Writes the output bag, report.json and report.html.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { createBagWriter } from '../adapters/mcap/index.js';
import { InProcessBus, type BusMessage } from '../adapters/inprocess/bus.js';
import { InProcessNode, type InProcessNodeOptions } from '../adapters/inprocess/inProcessNode.js';
import { SteppingScheduler, WorkTracker } from '../adapters/inprocess/virtualScheduler.js';
import type { PlanInput, PlanningEngine, PlanResult } from '../core/planningEngine.js';
import { UserError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { MessageOf, MessageTypeName, Reasoning, Trajectory } from '../core/msgs.js';
import { ConsistencyCollector } from '../replay/consistencyReport.js';
import { QOS_COMMAND, QOS_SENSOR, type QosProfile } from '../core/qos.js';
import type { Publisher } from '../core/transport.js';
import { stampToSeconds } from '../core/time.js';
import { startPlanner } from '../planner/plannerNode.js';
import { startWatchdog } from '../watchdog/watchdogNode.js';
import { describeLatency, withModelledLatency, type LatencyModel } from '../replay/latencyModel.js';
import { loadReplayParams, PLANNER_NODE, WATCHDOG_NODE } from '../replay/runner.js';
import type { PlannerParams } from '../planner/params.js';
import { stableJson } from '../replay/report.js';
import { SAMPLE_CAMERAS } from '../replay/sampleBag.js';
import type { CameraSpec } from '../replay/sample/scene.js';
import { checkThresholds, type SeriesPoint } from './metrics.js';
import type { SimReport } from './simReport.js';
import { checkFaultsApply, type FaultSpec, type LoadedScenario, type WatchdogStateName } from './scenario.js';
import { CLOCK_TOPIC, GROUND_TRUTH_TOPIC, PHYSICS_DT_S, Simulator } from './simulator.js';
import { clockOffsetS, faultActive } from './world.js';
import { renderSimHtml, type PlanDrawing } from './reportHtml.js';

/** [ms] virtual time of the run's start (a plausible ROS time; 0 would read as "sim clock not started"). */
const SIM_START_MS = 1_700_000_000_000;
const SIM_NODE = 'ar1_sim';
export { GROUND_TRUTH_TOPIC };

export interface SimOptions {
  loaded: LoadedScenario;
  engine: PlanningEngine;
  paramsFiles: readonly string[];
  outDir: string;
  seed: number;
  latency: LatencyModel;
  version: string;
  /** Record the rendered camera frames in the output bag (large). Default false. */
  frames?: boolean;
  /** Render camera frames (default true); off, the cameras publish a flat grey frame (benchmarking the loop). */
  render?: boolean;
  /** Write the bag and reports (default true). */
  write?: boolean;
  logger?: Logger;
  onProgress?: (fraction: number) => void;
}

export interface SimResult {
  outDir: string;
  report: SimReport;
  files: { bag: string; report: string; html: string } | undefined;
  /** Simulated seconds. */
  simulatedS: number;
  /** The run every 0.1 s (what the report plots). */
  series: SeriesPoint[];
}

/** The cameras the simulator renders, in the planner's order; a camera it cannot render is refused. */
export function simCameras(names: readonly string[]): CameraSpec[] {
  return names.map((n, i) => {
    const c = SAMPLE_CAMERAS.find((s) => s.name === n);
    if (!c)
      throw new UserError(
        `cameras.names[${i}]: the simulator renders ${SAMPLE_CAMERAS.map((s) => s.name).join(', ')}; got "${n}"`,
      );
    return c;
  });
}

/** The planner parameters the simulator can serve: cameras it renders, each on a raw topic. */
export function checkSimParams(pp: PlannerParams): CameraSpec[] {
  const cams = simCameras(pp.cameras.names);
  const i = pp.cameras.transports.findIndex((t) => t !== 'raw');
  if (i >= 0)
    throw new UserError(
      `cameras.transports[${i}]: the simulator publishes raw sensor_msgs/Image frames; expected raw, got ${pp.cameras.transports[i]}`,
    );
  return cams;
}

/** An InProcessNode whose publications can be cut (a frozen or dead process: nothing it publishes gets out). */
class GatedNode extends InProcessNode {
  constructor(
    bus: InProcessBus,
    options: InProcessNodeOptions,
    private readonly silenced: () => boolean,
  ) {
    super(bus, options);
  }
  override createPublisher<T extends MessageTypeName>(
    type: T,
    topic: string,
    qos: QosProfile,
  ): Publisher<MessageOf<T>> {
    const inner = super.createPublisher(type, topic, qos);
    return {
      topic,
      publish: (m) => {
        if (!this.silenced()) inner.publish(m);
      },
    };
  }
}

const SOURCES = ['planner', 'fallback', 'hold'];

export async function runScenario(o: SimOptions): Promise<SimResult> {
  const { scenario: sc, road } = o.loaded;
  const log = o.logger ?? silentLogger;
  const params = loadReplayParams(o.paramsFiles, o.seed, 1);
  const pp = params.planner;
  const cams = checkSimParams(pp);
  checkFaultsApply(o.loaded, pp.cameras.names);
  const width = o.engine.contract.imageWidth;
  const height = o.engine.contract.imageHeight;
  const render = o.render ?? true;
  const write = o.write ?? true;

  const scheduler = new SteppingScheduler(SIM_START_MS);
  const bus = new InProcessBus(scheduler);
  const tracker = new WorkTracker();
  const idle = () => tracker.idle();
  const trueS = () => (scheduler.now() - SIM_START_MS) / 1000;
  const rosS = () => scheduler.now() / 1000 + clockOffsetS(sc.faults, trueS());
  const active = (kind: FaultSpec['kind'], pred: (f: FaultSpec) => boolean = () => true) =>
    sc.faults.some((f) => f.kind === kind && pred(f) && faultActive(f, trueS()));

  // The model, as replay runs it (latency in virtual time), with non-finite plans injected while that fault is on.
  const modelled = withModelledLatency(o.engine, scheduler, tracker, o.latency);
  const restartable = o.engine as PlanningEngine & { restartWorker?: () => Promise<void> };
  const engine: PlanningEngine & { restartWorker?: () => Promise<void> } = {
    contract: modelled.contract,
    get provider() {
      return modelled.provider;
    },
    close: () => modelled.close(),
    // As on a vehicle: frames are written once into the engine's shared memory (the planner's frame store), and a
    // plan past plan_timeout_s gets a fresh worker.
    ...(modelled.createFrameStore ? { createFrameStore: modelled.createFrameStore.bind(modelled) } : {}),
    ...(typeof restartable.restartWorker === 'function'
      ? { restartWorker: restartable.restartWorker.bind(restartable) }
      : {}),
    plan: async (input: PlanInput): Promise<PlanResult> => {
      const r = await modelled.plan(input);
      if (!active('nonfinite_plan')) return r;
      const acceleration = Float64Array.from(r.trajectory.acceleration);
      acceleration[5] = Number.NaN;
      return { ...r, trajectory: { ...r.trajectory, acceleration } };
    },
  };

  // Output bag: every topic; camera frames only with `frames`.
  const cameraTopics = new Set(pp.cameras.topics);
  const bagDir = join(o.outDir, 'bag');
  const writer = write ? (await mkdir(o.outDir, { recursive: true }), await createBagWriter(bagDir)) : undefined;
  const declared = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  let writeError: unknown;
  const subs: Subscription[] = [];
  if (writer) {
    subs.push(
      bus.published$.subscribe((m: BusMessage) => {
        if (!o.frames && cameraTopics.has(m.topic)) return;
        chain = chain.then(async () => {
          if (writeError) return;
          try {
            if (!declared.has(m.topic)) {
              declared.add(m.topic);
              await writer.addTopic(
                m.topic,
                m.type,
                cameraTopics.has(m.topic) || m.topic === pp.odometry.topic ? QOS_SENSOR : QOS_COMMAND,
              );
            }
            await writer.write(m.topic, BigInt(Math.round(m.timeMs * 1e6)), m.message);
          } catch (e) {
            writeError = e;
          }
        });
      }),
    );
  }

  let crashed = false;
  const plannerRos = new GatedNode(
    bus,
    { name: PLANNER_NODE, logger: log, clock: { now: rosS } },
    () => crashed || active('planner_hang'),
  );
  const watchdogRos = new InProcessNode(bus, { name: WATCHDOG_NODE, logger: log, clock: { now: rosS } });
  const simRos = new InProcessNode(bus, { name: SIM_NODE, logger: log, clock: { now: rosS } });
  const watchdog = startWatchdog(watchdogRos, params.watchdog);
  const planner = startPlanner(plannerRos, pp, engine);

  // What the report needs.
  const reasoning = new Map<string, { first_s: number; count: number }>();
  const plans: PlanDrawing[] = [];
  const commands: Array<{ tS: number; accel: number; source: string }> = [];
  let published = 0;
  let nextDrawS = 0;
  const consistency = new ConsistencyCollector();
  subs.push(
    bus.messages(pp.topics.reasoning, 'ar1_msgs/msg/Reasoning').subscribe((m) => {
      consistency.reasoning(m as Reasoning);
      const text = (m as Reasoning).text;
      const r = reasoning.get(text);
      if (r) r.count++;
      else reasoning.set(text, { first_s: Number(trueS().toFixed(3)), count: 1 });
    }),
  );
  subs.push(
    bus.messages(pp.topics.trajectory, 'ar1_msgs/msg/Trajectory').subscribe((m) => {
      published++;
      const tr = m as Trajectory;
      consistency.trajectory(tr);
      // The plan is in the rig frame at its t0: drawn from the true pose at t0, about once a second.
      const t0True = stampToSeconds(tr.header.stamp) - rosS() + trueS();
      if (t0True < nextDrawS) return;
      nextDrawS = t0True + 1;
      const pose = sim.truth[Math.max(0, Math.min(sim.truth.length - 1, Math.round(t0True / PHYSICS_DT_S)))];
      if (!pose) return;
      const c = Math.cos(pose.yaw);
      const s = Math.sin(pose.yaw);
      plans.push({
        t0S: t0True,
        points: tr.points.map((p) => [pose.x + c * p.x - s * p.y, pose.y + s * p.x + c * p.y] as [number, number]),
      });
    }),
  );

  const transitions: SimReport['watchdog']['transitions'] = [];
  const sim = new Simulator({
    loaded: o.loaded,
    cameras: cams,
    width,
    height,
    render,
    startS: SIM_START_MS / 1000,
    topics: {
      cameras: pp.cameras.topics,
      odometry: pp.odometry.topic,
      vehicleCommand: params.watchdog.topics.vehicle_command,
      clock: CLOCK_TOPIC,
      groundTruth: GROUND_TRUTH_TOPIC,
    },
    watchdogState: () => watchdog.state as WatchdogStateName,
    onCommand: (tS, c) => commands.push({ tS, accel: c.acceleration, source: SOURCES[c.source] ?? String(c.source) }),
    onStateChange: (tS, from, to) =>
      transitions.push({ time_s: Number(tS.toFixed(3)), from, to, reason: watchdog.transitions.at(-1)?.reason ?? '' }),
  });
  const truth = sim.truth;
  sim.start(simRos, scheduler);
  for (const f of sc.faults) {
    if (f.kind === 'planner_crash') {
      scheduler.schedule(() => {
        crashed = true;
        void tracker.track(planner.stop());
      }, f.at_s * 1000);
    }
  }

  const endMs = SIM_START_MS + sc.duration_s * 1000;
  for (let s = 1; s <= Math.ceil(sc.duration_s); s++) {
    await scheduler.advanceTo(Math.min(endMs, SIM_START_MS + s * 1000), idle);
    if (writer) await chain;
    o.onProgress?.(Math.min(1, s / sc.duration_s));
  }
  for (const s of subs.splice(0)) s.unsubscribe();
  sim.stop();
  const stats = planner.stats();
  const finalState = watchdog.state;
  if (!crashed) await planner.stop();
  await watchdog.stop();
  const commandCounts = { ...watchdog.commandCounts };
  await scheduler.advanceTo(scheduler.now(), idle);
  await plannerRos.shutdown();
  await watchdogRos.shutdown();
  await simRos.shutdown();
  await chain;
  if (writeError) throw writeError;
  const written = writer ? await writer.close() : undefined;

  const m = sim.metrics.result();
  const checks = checkThresholds(m, sc.pass, sim.reached, finalState);
  const dropped: Record<string, number> = {};
  for (const k of Object.keys(stats.dropped).sort()) if (stats.dropped[k]! > 0) dropped[k] = stats.dropped[k]!;
  if (stats.waiting > 0) dropped['end_of_run'] = stats.waiting;
  const report: SimReport = {
    ar1_ros_version: o.version,
    scenario: { name: sc.name, file: o.loaded.file, description: sc.description ?? '', duration_s: sc.duration_s },
    bundle: o.engine.contract.bundleId,
    seed: o.seed,
    latency_model: describeLatency(o.latency),
    verdict: checks.every((c) => c.pass) ? 'pass' : 'fail',
    checks,
    metrics: m,
    faults: sc.faults,
    frames: { received: stats.received, planned: stats.planned, dropped },
    plans: { published, errors: stats.errors },
    watchdog: { transitions, final_state: finalState },
    commands: commandCounts,
    reasoning: [...reasoning].map(([text, r]) => ({ text, ...r })).sort((a, b) => a.first_s - b.first_s),
    consistency: consistency.summary(),
  };
  log.debug(`sim ${sc.name}: ${sim.timeS.toFixed(2)} s simulated, ${published} plans`);
  if (!write || !written)
    return { outDir: o.outDir, report, files: undefined, simulatedS: sc.duration_s, series: sim.metrics.series };
  const files = { bag: written.file, report: join(o.outDir, 'report.json'), html: join(o.outDir, 'report.html') };
  await writeFile(files.report, stableJson(report));
  const html = await renderSimHtml({
    report,
    road,
    scene: sim.scene,
    series: sim.metrics.series,
    plans,
    commands,
    truth,
    cameras: cams,
    width,
    height,
    vehicle: sc.vehicle,
    dtS: PHYSICS_DT_S,
    warmupS: sc.ego.warmup_s,
    routeLengthM: sc.route.length_m,
    laneOffsetM: sc.route.lane_offset_m,
  });
  await writeFile(files.html, html);
  return { outDir: o.outDir, report, files, simulatedS: sc.duration_s, series: sim.metrics.series };
}
