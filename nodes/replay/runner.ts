import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { openBag, createBagWriter, BagError, type BagReader, type TopicInfo } from '../adapters/mcap/index.js';
import { InProcessBus, type BusMessage } from '../adapters/inprocess/bus.js';
import { InProcessNode } from '../adapters/inprocess/inProcessNode.js';
import { SteppingScheduler, WorkTracker } from '../adapters/inprocess/virtualScheduler.js';
import type { PlanningEngine, PlanResult } from '../core/planningEngine.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { MessageTypeName, Odometry, Reasoning, Trajectory, UnicycleCommand } from '../core/msgs.js';
import { QOS_COMMAND } from '../core/qos.js';
import { nanosToSeconds, stampToSeconds } from '../core/time.js';
import { readParamsFile, type ParameterOverrides, type ParameterSource } from '../core/params/index.js';
import { loadPlannerParams, type PlannerParams } from '../planner/params.js';
import { startPlanner } from '../planner/plannerNode.js';
import { loadWatchdogParams, type WatchdogParams } from '../watchdog/params.js';
import { startWatchdog } from '../watchdog/watchdogNode.js';
import { ConsistencyCollector } from './consistencyReport.js';
import { GroundTruthPath } from './groundTruth.js';
import { yawFromQuaternion } from '../planner/egoHistory.js';
import type { PlanScore } from './metrics.js';
import { StreamingScorer } from './scoring.js';
import {
  buildCompute,
  buildReport,
  stableJson,
  type ComputeJson,
  type ReplayOutcome,
  type ReportJson,
} from './report.js';
import { renderReportHtml, type HtmlData, type Snapshot } from './reportHtml.js';
import { withModelledLatency, type LatencyModel } from './latencyModel.js';

/** [s] input messages further apart than this are refused: replay would run every idle second of it (watchdog ticks). */
export const MAX_INPUT_GAP_S = 3600;
/** [s] an input span longer than this (a day) is refused. */
const MAX_REPLAY_SPAN_S = 24 * 3600;
/** Queued output messages that make replay wait for the bag writer before moving virtual time on. */
const MAX_QUEUED_WRITES = 2048;

export const PLANNER_NODE = 'ar1_planner';
export const WATCHDOG_NODE = 'ar1_watchdog';

export interface ReplayOptions {
  bagPath: string;
  /** Shared across bags: loading a bundle once is what a scale-out job does too. */
  engine: PlanningEngine;
  /** ROS 2 parameter files, the same as on the vehicle (sections for ar1_planner and ar1_watchdog, or /**). */
  paramsFiles: readonly string[];
  outDir: string;
  seed: number;
  samples: number;
  latency: LatencyModel;
  version: string;
  logger?: Logger;
  /** Called with the fraction of the bag's time replayed (0…1). */
  onProgress?: (fraction: number) => void;
}

export interface ReplayResult {
  outDir: string;
  report: ReportJson;
  compute: ComputeJson;
  files: { bag: string; report: string; compute: string; html: string };
}

/** The parameter sources each node gets in replay: the files, then what replay itself sets. */
function replayOverrides(files: readonly string[], node: string, extra: Record<string, unknown>): ParameterOverrides {
  const sources: ParameterSource[] = files.map((f) => readParamsFile(f, node));
  sources.push({ origin: 'ar1 replay', values: extra });
  return { sources };
}

export function loadReplayParams(
  files: readonly string[],
  seed: number,
  samples: number,
): { planner: PlannerParams; watchdog: WatchdogParams } {
  return {
    planner: loadPlannerParams(replayOverrides(files, PLANNER_NODE, { seed, samples }), PLANNER_NODE),
    // In replay the watchdog engages by itself once the first healthy plan arrives (on a vehicle: an operator action).
    watchdog: loadWatchdogParams(replayOverrides(files, WATCHDOG_NODE, { auto_engage: true }), WATCHDOG_NODE),
  };
}

interface InputTopic {
  topic: string;
  type: MessageTypeName;
}

/**
 * As image_transport users expect: a camera whose raw topic the bag lacks, while its `/compressed` one is there, is
 * replayed from the compressed topic (cameras.transports set to compressed for it), and said so. Returns the planner
 * parameters to run with and one note per camera switched.
 */
function compressedFallback(
  p: PlannerParams,
  topics: readonly TopicInfo[],
): { params: PlannerParams; notes: string[] } {
  const have = new Set(topics.map((t) => t.topic));
  const notes: string[] = [];
  const transports = p.cameras.transports.map((tr, i) => {
    const base = p.cameras.topics[i]!;
    if (tr === 'raw' && !have.has(base) && have.has(`${base}/compressed`)) {
      notes.push(
        `camera ${p.cameras.names[i]}: ${base} is not in the bag, ${base}/compressed is: replaying it (cameras.transports: compressed)`,
      );
      return 'compressed' as const;
    }
    return tr;
  });
  return notes.length ? { params: { ...p, cameras: { ...p.cameras, transports } }, notes } : { params: p, notes };
}

/** The input topics the planner subscribes to, checked against what the bag holds. */
function requiredInputs(p: PlannerParams, topics: readonly TopicInfo[], bagPath: string): InputTopic[] {
  const wanted: InputTopic[] = p.cameras.names.map((_, i) => {
    const compressed = p.cameras.transports[i] === 'compressed';
    return {
      topic: compressed ? `${p.cameras.topics[i]}/compressed` : p.cameras.topics[i]!,
      type: compressed ? 'sensor_msgs/msg/CompressedImage' : 'sensor_msgs/msg/Image',
    };
  });
  wanted.push({ topic: p.odometry.topic, type: 'nav_msgs/msg/Odometry' });
  const have = new Map(topics.map((t) => [t.topic, t.type]));
  const missing = wanted.filter((w) => !have.has(w.topic));
  if (missing.length) {
    const hints = missing.flatMap((m) => {
      const alt = have.has(`${m.topic}/compressed`)
        ? `${m.topic}/compressed`
        : have.has(m.topic.replace(/\/compressed$/, ''))
          ? m.topic.replace(/\/compressed$/, '')
          : undefined;
      return alt
        ? [`${alt} is there: set cameras.transports for it to ${alt.endsWith('/compressed') ? 'compressed' : 'raw'}`]
        : [];
    });
    throw new BagError(
      `${bagPath}: missing input topics ${missing.map((m) => m.topic).join(', ')}; the bag has ` +
        `${[...have.keys()].sort().join(', ') || 'no topics'}${hints.length ? ` (${hints.join('; ')})` : ''}`,
    );
  }
  for (const w of wanted) {
    const got = have.get(w.topic)!;
    if (got !== w.type) throw new BagError(`${bagPath}: topic ${w.topic}: expected type ${w.type}, got ${got}`);
  }
  return wanted;
}

/**
 * Replays one bag through the planner and watchdog node code on the in-process transport, in virtual time
 * driven by the bag's log times, and writes the output bag, report.json, compute.json and report.html.
 */
export async function replayBag(o: ReplayOptions): Promise<ReplayResult> {
  const log = o.logger ?? silentLogger;
  const params = loadReplayParams(o.paramsFiles, o.seed, o.samples);
  const reader = await openBag(o.bagPath);
  try {
    return await runReplay(o, reader, params, log);
  } finally {
    await reader.close();
  }
}

async function runReplay(
  o: ReplayOptions,
  reader: BagReader,
  params: { planner: PlannerParams; watchdog: WatchdogParams },
  log: Logger,
): Promise<ReplayResult> {
  const info = await reader.info();
  const fallback = compressedFallback(params.planner, info.topics);
  for (const note of fallback.notes) log.warn(`${o.bagPath}: ${note}`);
  params = { ...params, planner: fallback.params };
  const inputs = requiredInputs(params.planner, info.topics, o.bagPath);
  if (info.startNs === undefined || info.endNs === undefined)
    throw new BagError(`${o.bagPath}: the bag holds no messages`);
  const startNs = info.startNs;
  const endNs = info.endNs;
  const cameraTopics = new Set(inputs.filter((i) => i.type !== 'nav_msgs/msg/Odometry').map((i) => i.topic));

  // Virtual time spans the input topics' log times only: a message on a topic replay does not use (one at log time
  // 1 ns) must not make it run decades of idle time. Gaps and spans past the limits are refused (checked below).
  const iterator = reader.messages({ topics: inputs.map((i) => i.topic), decode: true })[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done)
    throw new BagError(`${o.bagPath}: no messages on the input topics ${inputs.map((i) => i.topic).join(', ')}`);
  const replayStartNs = first.value.logTimeNs;
  let lastNs = replayStartNs;
  const scheduler = new SteppingScheduler(Number(replayStartNs) / 1e6);
  const bus = new InProcessBus(scheduler);
  const tracker = new WorkTracker();
  // Output writes are drained whenever too many are queued, also while virtual time runs through idle stretches
  // (draining only every 256 input messages let an idle hour queue ~540 MB of watchdog output).
  let unwritten = 0;
  let writeChain: Promise<void> = Promise.resolve();
  const idle = async () => {
    await tracker.idle();
    if (unwritten > MAX_QUEUED_WRITES) await writeChain;
  };

  // Every sample of the plans the planner published is scored as soon as odometry covers its horizon; memory stays
  // bounded (results were all kept to the end: 608 MB for 200 s with 16 samples per plan).
  const scorer = new StreamingScorer(6.4);
  const compute: Record<string, number[]> = {
    preprocess: [],
    vision: [],
    reasoning: [],
    action: [],
    session_run: [],
    total: [],
  };
  const engine = withModelledLatency(o.engine, scheduler, tracker, o.latency, (r) => {
    scorer.addResult(r);
    compute['preprocess']!.push(r.timing.preprocessMs);
    compute['vision']!.push(r.timing.visionMs);
    compute['reasoning']!.push(r.timing.reasoningMs);
    compute['action']!.push(r.timing.actionMs);
    compute['session_run']!.push(r.timing.sessionRunMs);
    compute['total']!.push(r.timing.totalMs);
  });

  // Output bag: every topic published in replay except the camera images (kept small; they are in the input bag).
  await mkdir(o.outDir, { recursive: true });
  const writer = await createBagWriter(join(o.outDir, 'bag'));
  const declared = new Set<string>();
  let writeError: unknown;
  let queued = 0;
  const record = (m: BusMessage) => {
    if (cameraTopics.has(m.topic)) return;
    queued++;
    unwritten++;
    writeChain = writeChain.then(async () => {
      unwritten--;
      if (writeError) return;
      try {
        if (!declared.has(m.topic)) {
          declared.add(m.topic);
          await writer.addTopic(m.topic, m.type, QOS_COMMAND);
        }
        await writer.write(m.topic, BigInt(Math.round(m.timeMs * 1e6)), m.message);
      } catch (e) {
        writeError = e;
      }
    });
  };
  const subs: Subscription[] = [bus.published$.subscribe(record)];

  // What the report needs from the published topics (reasoning texts: the snapshots' and the latest ones only).
  let publishedCount = 0;
  const reasoningByT0 = new Map<number, string>();
  const consistency = new ConsistencyCollector();
  // The commands timeline for report.html, thinned by half whenever it reaches 10 000 (the page shows 2 500).
  let vehicleCommands: Array<{ tS: number; accel: number; source: string }> = [];
  let commandStride = 1;
  let commandIndex = 0;
  const SOURCES = ['planner', 'fallback', 'hold'];
  subs.push(
    bus.messages(params.planner.topics.trajectory, 'ar1_msgs/msg/Trajectory').subscribe((m) => {
      publishedCount++;
      scorer.published(stampToSeconds((m as Trajectory).header.stamp));
      consistency.trajectory(m as Trajectory);
    }),
  );
  subs.push(
    bus.messages(params.planner.topics.reasoning, 'ar1_msgs/msg/Reasoning').subscribe((m) => {
      const r = m as { header: Trajectory['header']; text: string };
      const t0S = stampToSeconds(r.header.stamp);
      reasoningByT0.set(t0S, r.text);
      if (reasoningByT0.size > 512) {
        const keep = new Set(scorer.snapshots().map((x) => x.result.t0S));
        for (const t of [...reasoningByT0.keys()]) if (t < t0S - 60 && !keep.has(t)) reasoningByT0.delete(t);
      }
      consistency.reasoning(m as Reasoning);
    }),
  );
  subs.push(
    bus.messages(params.watchdog.topics.vehicle_command, 'ar1_msgs/msg/UnicycleCommand').subscribe((m) => {
      const c = m as UnicycleCommand;
      if (commandIndex++ % commandStride !== 0) return;
      vehicleCommands.push({
        tS: scheduler.now() / 1000,
        accel: c.acceleration,
        source: SOURCES[c.source] ?? String(c.source),
      });
      if (vehicleCommands.length >= 10_000) {
        vehicleCommands = vehicleCommands.filter((_, i) => i % 2 === 0);
        commandStride *= 2;
      }
    }),
  );

  const plannerRos = new InProcessNode(bus, { name: PLANNER_NODE, logger: log });
  const watchdogRos = new InProcessNode(bus, { name: WATCHDOG_NODE, logger: log });
  const watchdog = startWatchdog(watchdogRos, params.watchdog);
  // No `track` option: withModelledLatency tracks only the real computation; the modelled latency runs in virtual time.
  const planner = startPlanner(plannerRos, params.planner, engine);

  const spanNs = Number(endNs - replayStartNs) || 1;
  let n = 0;
  let lastReport = -1;
  const types = new Map(inputs.map((i) => [i.topic, i.type]));
  const gapLimitNs = BigInt(MAX_INPUT_GAP_S) * 1_000_000_000n;
  const spanLimitNs = BigInt(MAX_REPLAY_SPAN_S) * 1_000_000_000n;
  for (let next: IteratorResult<(typeof first)['value']> = first; !next.done; next = await iterator.next()) {
    const m = next.value;
    if (m.logTimeNs - lastNs > gapLimitNs) {
      throw new BagError(
        `${o.bagPath}: ${m.topic}: log time jumps ${nanosToSeconds(m.logTimeNs - lastNs).toFixed(0)} s forward (at ${m.logTimeNs} ns); ` +
          `replay refuses gaps over ${MAX_INPUT_GAP_S} s in its input topics (it would run through every idle second)`,
      );
    }
    if (m.logTimeNs - replayStartNs > spanLimitNs) {
      throw new BagError(
        `${o.bagPath}: the input topics span more than ${MAX_REPLAY_SPAN_S / 3600} h (from ${replayStartNs} ns to ${m.logTimeNs} ns); replay refuses it`,
      );
    }
    if (m.logTimeNs > lastNs) lastNs = m.logTimeNs;
    await scheduler.advanceTo(Number(m.logTimeNs) / 1e6, idle);
    const type = types.get(m.topic)!;
    if (type === 'nav_msgs/msg/Odometry') {
      const odo = m.message as Odometry;
      const p = odo.pose.pose;
      scorer.addPose({
        tS: stampToSeconds(odo.header.stamp),
        x: p.position.x,
        y: p.position.y,
        yaw: yawFromQuaternion(p.orientation),
      });
    }
    bus.publish(m.topic, type, m.message, 'bag');
    if (++n % 256 === 0) {
      await writeChain; // bounds memory held by queued output messages
      const f = Math.min(Math.max(Math.floor((Number(m.logTimeNs - replayStartNs) / spanNs) * 100), 0), 100);
      if (f !== lastReport) {
        lastReport = f;
        o.onProgress?.(f / 100);
      }
    }
  }
  await scheduler.advanceTo(Number(lastNs) / 1e6, idle);
  o.onProgress?.(1);

  const stats = planner.stats();
  const finalState = watchdog.state;
  const transitions = watchdog.transitions.map((t) => ({ time_s: t.timeS, from: t.from, to: t.to, reason: t.reason }));
  await planner.stop();
  await watchdog.stop();
  // After stop(): the final brake/hold command is in the output bag, so it is counted too.
  const commands = { ...watchdog.commandCounts };
  await scheduler.advanceTo(scheduler.now(), idle);
  for (const s of subs) s.unsubscribe();
  await plannerRos.shutdown();
  await watchdogRos.shutdown();
  await writeChain;
  if (writeError) throw writeError;
  const written = await writer.close();
  log.debug(`replay: ${n} input messages, ${queued} published messages recorded`);

  // Score the plans odometry did not cover yet (partial horizons at the end of the bag).
  scorer.finish();
  const scores: PlanScore[] = scorer.scores;
  const scored = scorer.snapshots();

  const outcome: ReplayOutcome = {
    version: o.version,
    bag: {
      path: o.bagPath,
      start_ns: startNs.toString(),
      duration_s: nanosToSeconds(endNs - startNs),
      messages: info.messageCount,
      problems: info.problems,
    },
    bundleId: o.engine.contract.bundleId,
    provider: o.engine.provider,
    seed: o.seed,
    samples: o.samples,
    latency: o.latency,
    frames: { received: stats.received, planned: stats.planned, dropped: stats.dropped, waiting: stats.waiting },
    plans: { published: publishedCount, errors: stats.errors },
    consistency: consistency.summary(),
    scores,
    transitions,
    finalState,
    commands,
    compute,
  };
  const report = buildReport(outcome);
  const computeJson = buildCompute(outcome);
  const html = renderReportHtml({
    ...htmlData(
      report,
      computeJson,
      compute['total']!,
      scored,
      reasoningByT0,
      new GroundTruthPath([]),
      transitions,
      vehicleCommands,
      replayStartNs,
      lastNs,
    ),
    errorByStep: scorer.errorByStep(),
  });
  const files = {
    bag: written.file,
    report: join(o.outDir, 'report.json'),
    compute: join(o.outDir, 'compute.json'),
    html: join(o.outDir, 'report.html'),
  };
  await writeFile(files.report, stableJson(report));
  await writeFile(files.compute, stableJson(computeJson));
  await writeFile(files.html, html);
  return { outDir: o.outDir, report, compute: computeJson, files };
}

export function htmlData(
  report: ReportJson,
  compute: ComputeJson,
  totals: number[],
  scored: ReadonlyArray<{ score: PlanScore; result: PlanResult; actual?: Array<{ x: number; y: number } | null> }>,
  reasoning: Map<number, string>,
  truth: GroundTruthPath,
  transitions: Array<{ time_s: number; to: string }>,
  commands: Array<{ tS: number; accel: number; source: string }>,
  startNs: bigint,
  endNs: bigint,
): HtmlData {
  const startS = nanosToSeconds(startNs);
  const endS = nanosToSeconds(endNs);
  const picks = pickEvenly(scored, 8);
  const snapshots: Snapshot[] = picks.map(({ score, result, actual }) => ({
    t0S: result.t0S,
    reasoning: reasoning.get(result.t0S) ?? result.reasoning.text,
    v0: result.v0,
    samples: (result.samples.length ? result.samples : [result.trajectory]).map((s) => ({ x: s.x, y: s.y })),
    actual: actual ?? truth.futureInRigFrame(result.t0S, result.trajectory.t) ?? [],
    ade: score.ade['6.4'],
  }));
  const steps = scored[0]?.result.trajectory.t.length ?? 0;
  const t: number[] = [];
  const mean: Array<number | null> = [];
  for (let i = 0; i < steps; i++) {
    t.push(scored[0]!.result.trajectory.t[i]!);
    let s = 0;
    let c = 0;
    for (const { score } of scored) {
      const e = score.errorByStep[i]!;
      if (Number.isFinite(e)) {
        s += e;
        c++;
      }
    }
    mean.push(c ? s / c : null);
  }
  const states: HtmlData['timeline']['states'] = [];
  let state = 'disengaged';
  let from = startS;
  for (const tr of transitions) {
    states.push({ fromS: from, toS: tr.time_s, state });
    state = tr.to;
    from = tr.time_s;
  }
  states.push({ fromS: from, toS: endS, state });
  const stride = Math.max(1, Math.ceil(commands.length / 2500));
  return {
    report,
    compute,
    computeTotals: totals,
    snapshots,
    errorByStep: { t, mean },
    timeline: { startS, endS, states, commands: commands.filter((_, i) => i % stride === 0) },
  };
}

function pickEvenly<T>(items: readonly T[], k: number): T[] {
  if (items.length <= k) return [...items];
  return Array.from({ length: k }, (_, i) => items[Math.round((i * (items.length - 1)) / (k - 1))]!);
}
