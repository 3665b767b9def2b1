import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import {
  openBag,
  createBagWriter,
  BagError,
  type BagMessage,
  type BagReader,
  type TopicInfo,
} from '../adapters/mcap/index.js';
import { InProcessBus } from '../adapters/inprocess/bus.js';
import { InProcessNode } from '../adapters/inprocess/inProcessNode.js';
import { SteppingScheduler, WorkTracker } from '../adapters/inprocess/virtualScheduler.js';
import type { PlanningEngine } from '../core/planningEngine.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { MessageTypeName, Odometry } from '../core/msgs.js';
import { nanosToSeconds } from '../core/time.js';
import { readParamsFile, type ParameterOverrides, type ParameterSource } from '../core/params/index.js';
import { loadPlannerParams, type PlannerParams } from '../planner/params.js';
import { startPlanner } from '../planner/plannerNode.js';
import { loadWatchdogParams, type WatchdogParams } from '../watchdog/params.js';
import { startWatchdog } from '../watchdog/watchdogNode.js';
import { OutputRecorder } from './outputRecorder.js';
import type { ComputeJson, ReplayOutcome, ReportJson } from './report.js';
import { REPORT_FILE_NAMES, writeReplayReports } from './reportFiles.js';
import { ReplayEvaluation } from './replayEvaluation.js';
import { withModelledLatency, type LatencyModel } from './latencyModel.js';

/** [s] input messages further apart than this are refused: replay would run every idle second of it (watchdog ticks). */
export const MAX_INPUT_GAP_S = 3600;
/** [s] an input span longer than this (a day) is refused. */
const MAX_REPLAY_SPAN_S = 24 * 3600;
const GAP_LIMIT_NS = BigInt(MAX_INPUT_GAP_S) * 1_000_000_000n;
const SPAN_LIMIT_NS = BigInt(MAX_REPLAY_SPAN_S) * 1_000_000_000n;
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
  /**
   * Write the output bag (default true). Without it replay publishes and scores exactly the same and writes the same
   * reports, and encodes nothing: about a third less CPU for a dataset sweep that reads only the reports.
   */
  writeBag?: boolean;
  /**
   * Errors that node callbacks raised in this replay and RxJS reported on a timer instead of throwing (the CLI's
   * containUnhandled): asked once, one timer turn after the last message, before any report is written. An error it
   * gives fails the replay as any other would.
   */
  unhandledError?: () => unknown;
}

/** A node callback threw while the bag was replayed (RxJS reported it instead of rethrowing it). */
class CallbackError extends Error {
  constructor(bagPath: string, cause: unknown) {
    super(`${bagPath}: a message could not be handled: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'CallbackError';
  }
}

export interface ReplayResult {
  outDir: string;
  report: ReportJson;
  compute: ComputeJson;
  /** bag: the output bag, absent when it was not written (writeBag false). */
  files: { bag?: string; report: string; compute: string; html: string };
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
  try {
    const reader = await openBag(o.bagPath);
    try {
      return await runReplay(o, reader, params, log);
    } finally {
      await reader.close();
    }
  } catch (e) {
    // A failed replay leaves no reports and no output bag in its folder, not even an earlier run's: a report there
    // would describe a replay that did not happen this time (and `ar1 report merge` would count it).
    await removeReplayOutputs(o.outDir, o.bagPath).catch(() => undefined);
    throw e;
  }
}

/** The files a replay writes into its output folder (reports and output bag), removed; never the input bag. */
export async function removeReplayOutputs(outDir: string, bagPath: string): Promise<void> {
  for (const f of Object.values(REPORT_FILE_NAMES)) await rm(join(outDir, f), { force: true });
  await removeStaleOutputBag(outDir, bagPath);
}

/**
 * Refuses an input message whose log time jumps more than MAX_INPUT_GAP_S past the latest one so far, or lies more
 * than MAX_REPLAY_SPAN_S after the first input message (replay would run through every idle second of it).
 */
function checkInputTime(m: BagMessage, startNs: bigint, lastNs: bigint, bagPath: string): void {
  if (m.logTimeNs - lastNs > GAP_LIMIT_NS) {
    throw new BagError(
      `${bagPath}: ${m.topic}: log time jumps ${nanosToSeconds(m.logTimeNs - lastNs).toFixed(0)} s forward (at ${m.logTimeNs} ns); ` +
        `replay refuses gaps over ${MAX_INPUT_GAP_S} s in its input topics (it would run through every idle second)`,
    );
  }
  if (m.logTimeNs - startNs > SPAN_LIMIT_NS) {
    throw new BagError(
      `${bagPath}: the input topics span more than ${MAX_REPLAY_SPAN_S / 3600} h (from ${startNs} ns to ${m.logTimeNs} ns); replay refuses it`,
    );
  }
}

/**
 * A replay without an output bag into a folder an earlier replay wrote: that replay's bag goes (the files a replay
 * writing one would overwrite), so the folder holds no bag its new reports do not describe. Never the input bag.
 */
async function removeStaleOutputBag(outDir: string, bagPath: string): Promise<void> {
  const dir = resolve(outDir, 'bag');
  const input = resolve(bagPath);
  if (input === dir || input.startsWith(dir + sep)) return;
  for (const f of ['bag_0.mcap', 'metadata.yaml']) await rm(join(dir, f), { force: true });
  await rmdir(dir).catch(() => undefined); // only when nothing else is left in it (or it was never there)
}

/**
 * One bag through the planner and watchdog: the bag's input messages are published on the in-process bus at their
 * log times (virtual time), the recorder writes what the nodes publish, the evaluation scores it, and the reports
 * are written at the end.
 */
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
  const { startNs, endNs } = info;
  const cameraTopics = new Set(inputs.filter((i) => i.type !== 'nav_msgs/msg/Odometry').map((i) => i.topic));

  // Virtual time spans the input topics' log times only: a message on a topic replay does not use (one at log time
  // 1 ns) must not make it run decades of idle time. Gaps and spans past the limits are refused (checkInputTime).
  const iterator = reader.messages({ topics: inputs.map((i) => i.topic), decode: true })[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done)
    throw new BagError(`${o.bagPath}: no messages on the input topics ${inputs.map((i) => i.topic).join(', ')}`);
  const replayStartNs = first.value.logTimeNs;
  let lastNs = replayStartNs;
  const scheduler = new SteppingScheduler(Number(replayStartNs) / 1e6);
  const bus = new InProcessBus(scheduler);
  const tracker = new WorkTracker();

  // Output bag: every topic published in replay except the camera images (kept small; they are in the input bag).
  await mkdir(o.outDir, { recursive: true });
  if (o.writeBag === false) await removeStaleOutputBag(o.outDir, o.bagPath);
  const recorder =
    o.writeBag === false
      ? undefined
      : new OutputRecorder(bus, await createBagWriter(join(o.outDir, 'bag')), cameraTopics);
  // Output writes are drained whenever too many are queued, also while virtual time runs through idle stretches
  // (draining only every 256 input messages let an idle hour queue ~540 MB of watchdog output).
  const idle = async () => {
    await tracker.idle();
    if (recorder && recorder.backlog > MAX_QUEUED_WRITES) await recorder.drain();
  };
  const evaluation = new ReplayEvaluation(
    bus,
    {
      trajectory: params.planner.topics.trajectory,
      reasoning: params.planner.topics.reasoning,
      vehicleCommand: params.watchdog.topics.vehicle_command,
    },
    () => scheduler.now(),
  );
  const engine = withModelledLatency(o.engine, scheduler, tracker, o.latency, (r) => {
    evaluation.addResult(r);
  });

  const plannerRos = new InProcessNode(bus, { name: PLANNER_NODE, logger: log });
  const watchdogRos = new InProcessNode(bus, { name: WATCHDOG_NODE, logger: log });
  const watchdog = startWatchdog(watchdogRos, params.watchdog);
  // No `track` option: withModelledLatency tracks only the real computation; the modelled latency runs in virtual time.
  const planner = startPlanner(plannerRos, params.planner, engine);

  // On any failure the nodes stop and the output bag is closed (replayBag then removes what was written): with
  // --batch the engine, and the frame store each planner made in it, outlive this bag.
  let recorderClosed = false;
  const abandon = async () => {
    await planner.stop();
    await watchdog.stop();
    recorder?.stop();
    evaluation.stop();
    await plannerRos.shutdown();
    await watchdogRos.shutdown();
    if (recorder && !recorderClosed) await recorder.close().catch(() => undefined);
  };
  try {
    const spanNs = Number(endNs - replayStartNs) || 1;
    let n = 0;
    let lastReport = -1;
    const types = new Map(inputs.map((i) => [i.topic, i.type]));
    for (let next: IteratorResult<BagMessage> = first; !next.done; next = await iterator.next()) {
      const m = next.value;
      checkInputTime(m, replayStartNs, lastNs, o.bagPath);
      if (m.logTimeNs > lastNs) lastNs = m.logTimeNs;
      await scheduler.advanceTo(Number(m.logTimeNs) / 1e6, idle);
      const type = types.get(m.topic)!;
      if (type === 'nav_msgs/msg/Odometry') evaluation.addOdometry(m.message as Odometry);
      bus.publish(m.topic, type, m.message, 'bag');
      if (++n % 256 === 0) {
        await recorder?.drain(); // bounds memory held by queued output messages
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
    const transitions = watchdog.transitions.map((t) => ({
      time_s: t.timeS,
      from: t.from,
      to: t.to,
      reason: t.reason,
    }));
    await planner.stop();
    await watchdog.stop();
    // After stop(): the final brake/hold command is in the output bag, so it is counted too.
    const commands = { ...watchdog.commandCounts };
    await scheduler.advanceTo(scheduler.now(), idle);
    recorder?.stop();
    evaluation.stop();
    await plannerRos.shutdown();
    await watchdogRos.shutdown();
    recorderClosed = true;
    const written = await recorder?.close();
    log.debug(
      `replay: ${n} input messages, ${recorder ? `${recorder.recorded} published messages recorded` : 'no output bag'}`,
    );
    evaluation.finish();

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
      plans: { published: evaluation.published, errors: stats.errors },
      consistency: evaluation.consistency.summary(),
      scores: evaluation.scorer.scores,
      transitions,
      finalState,
      commands,
      compute: evaluation.compute,
    };
    if (o.unhandledError) {
      await new Promise<void>((turn) => setTimeout(turn, 0)); // RxJS reports callback errors on a timer
      const thrown = o.unhandledError();
      if (thrown !== undefined) throw new CallbackError(o.bagPath, thrown);
    }
    const reports = await writeReplayReports(o.outDir, outcome, evaluation, { startNs: replayStartNs, endNs: lastNs });
    return {
      outDir: o.outDir,
      report: reports.report,
      compute: reports.compute,
      files: { ...(written ? { bag: written.file } : {}), ...reports.files },
    };
  } catch (e) {
    await abandon().catch(() => undefined);
    throw e;
  }
}
