import { defer, EMPTY, interval, merge, Subscription, throwError, type Observable } from 'rxjs';
import { concatMap, map, timeout } from 'rxjs/operators';
import type { VerdictKind } from '../consistency/index.js';
import type { PlanningEngine, PlanResult } from '../core/planningEngine.js';
import { errorMessage } from '../core/errors.js';
import { QOS_COMMAND, QOS_LATCHED, QOS_SENSOR } from '../core/qos.js';
import type { Odometry } from '../core/msgs.js';
import type { RosNode } from '../core/transport.js';
import { sampleCommand, type ActivePlan } from './commandSampler.js';
import { compressedFrame, rawFrame, type FrameCheck } from './imageFrames.js';
import { ingestWarnings, InputAssembler, type Candidate, type IngestResult } from './inputAssembler.js';
import { commandMsg, pathMsg, reasoningMsg, timingMsg, trajectoryMsg } from './messages.js';
import { planLatest, type PlanEvent } from './operators/planLatest.js';
import { consistencyParamsOf, type PlannerParams } from './params.js';
import { planStep, planVerdict, PlanTimeoutError } from './planOutcome.js';
import { assemblerOptions, frameStoreSlots, plannerCameras } from './plannerSetup.js';

export interface PlannerStats {
  /** Camera frames: received = planned + dropped + waiting at every moment. */
  received: number;
  planned: number;
  dropped: Record<string, number>;
  waiting: number;
  /** Plans completed and published. */
  plans: number;
  /** Plans that failed (engine errors, malformed results). */
  errors: number;
  /** Cycles that produced no plan input, by reason. */
  skipped: Record<string, number>;
  /** Odometry messages refused, by reason. */
  odometryDropped: Record<string, number>;
  /** Plans abandoned after plan_timeout_s (also counted in errors). */
  timeouts: number;
  /** Odometry jumps (teleports) that cleared the history. */
  odometryJumps: number;
  /** Published plans by reasoning–action verdict (sums to plans). */
  consistency: Record<VerdictKind, number>;
}

export interface PlannerHandle {
  stop(): Promise<void>;
  stats(): PlannerStats;
}

export interface PlannerOptions {
  /** Monotonic milliseconds for sync_ms (performance.now on a vehicle); default a constant (sync_ms = 0). */
  perfNow?: () => number;
  /** Wraps each engine promise (replay: WorkTracker.track, so virtual time waits for real inference). */
  track?: <T>(p: Promise<T>) => Promise<T>;
}

/** An engine that can replace a stuck inference worker (OnnxEngine); detected structurally, the port is unchanged. */
type Restartable = { restartWorker(): Promise<void> };
const isRestartable = (e: unknown): e is Restartable =>
  typeof e === 'object' && e !== null && typeof (e as { restartWorker?: unknown }).restartWorker === 'function';

type Ingest = { kind: 'frame'; camera: number; check: FrameCheck } | { kind: 'odometry'; msg: unknown };

/** Subscribes cameras and odometry, plans with `engine`, publishes the plan outputs and the command stream. */
export function startPlanner(
  ros: RosNode,
  params: PlannerParams,
  engine: PlanningEngine,
  options: PlannerOptions = {},
): PlannerHandle {
  const contract = engine.contract;
  const cameras = plannerCameras(params, contract, ros.name);
  const ctx = `[node=${ros.name}]`;
  const log = ros.logger;
  const frameId = params.frame_id;
  // Received frames go straight into the engine's shared memory when it has a store.
  const frameStore = engine.createFrameStore?.({ slotsPerCamera: frameStoreSlots(params, contract) });
  const assembler = new InputAssembler({
    ...assemblerOptions(params, contract),
    ...(options.perfNow ? { perfNow: options.perfNow } : {}),
    ...(frameStore ? { frameStore } : {}),
  });
  const track = options.track ?? (<T>(p: Promise<T>) => p);

  const pub = {
    trajectory: ros.createPublisher('ar1_msgs/msg/Trajectory', params.topics.trajectory, QOS_COMMAND),
    path: ros.createPublisher('nav_msgs/msg/Path', params.topics.path, QOS_COMMAND),
    reasoning: ros.createPublisher('ar1_msgs/msg/Reasoning', params.topics.reasoning, QOS_COMMAND),
    reasoningText: ros.createPublisher('std_msgs/msg/String', params.topics.reasoning_text, QOS_LATCHED),
    timing: ros.createPublisher('ar1_msgs/msg/PlannerTiming', params.topics.timing, QOS_COMMAND),
    command: ros.createPublisher('ar1_msgs/msg/UnicycleCommand', params.topics.command, QOS_COMMAND),
  };

  let active: ActivePlan | undefined;
  let plans = 0;
  let errors = 0;
  let timeouts = 0;
  const consistency: Record<VerdictKind, number> = { consistent: 0, inconsistent: 0, not_assessable: 0 };
  const consistencyParams = consistencyParamsOf(params.consistency);
  const timeoutMs = params.plan_timeout_s * 1000;
  let lastSkipLogged: string | undefined;
  const size = { width: contract.imageWidth, height: contract.imageHeight };

  const frames$: Observable<Ingest> = merge(
    ...cameras.map((cam, i) =>
      (cam.transport === 'compressed'
        ? ros
            .subscribe('sensor_msgs/msg/CompressedImage', cam.topic, QOS_SENSOR)
            .pipe(map((m) => compressedFrame(cam.name, m)))
        : ros.subscribe('sensor_msgs/msg/Image', cam.topic, QOS_SENSOR).pipe(map((m) => rawFrame(cam.name, m, size)))
      ).pipe(map((check): Ingest => ({ kind: 'frame', camera: i, check }))),
    ),
  );
  const odometry$: Observable<Ingest> = ros
    .subscribe('nav_msgs/msg/Odometry', params.odometry.topic, QOS_SENSOR)
    .pipe(map((msg): Ingest => ({ kind: 'odometry', msg })));

  const historyS = contract.historyDtS * (contract.historySteps - 1);
  const ingest = (ev: Ingest): Candidate[] => {
    let r: IngestResult;
    try {
      r =
        ev.kind === 'frame'
          ? assembler.onFrameMessage(ev.camera, ev.check)
          : assembler.onOdometryMessage(ev.msg as Odometry);
    } catch (e) {
      log.error(`input handling failed: ${errorMessage(e)} ${ctx}`);
      return [];
    }
    if (r.reset) active = undefined;
    for (const w of ingestWarnings(r, historyS)) log.warn(`${w} ${ctx}`);
    const skip = assembler.lastSkip;
    if (skip && skip.detail !== lastSkipLogged) {
      lastSkipLogged = skip.detail;
      log.debug(`no plan (${skip.reason}): ${skip.detail} ${ctx}`);
    }
    return r.candidate ? [r.candidate] : [];
  };

  const runPlan = (c: Candidate): Observable<PlanResult> =>
    c.epoch !== assembler.epoch
      ? EMPTY
      : defer(() => track(engine.plan(c.input))).pipe(
          timeout({
            first: timeoutMs,
            scheduler: ros.scheduler,
            with: () => throwError(() => new PlanTimeoutError(c.input.t0S, params.plan_timeout_s)),
          }),
        );

  const restartEngine = () => {
    if (!isRestartable(engine)) return;
    let p: Promise<void>;
    try {
      p = engine.restartWorker();
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      () => log.info(`inference worker restarted after a plan timeout ${ctx}`),
      (e: unknown) => log.error(`restarting the inference worker failed: ${errorMessage(e)} ${ctx}`),
    );
  };

  const publishTiming = (c: Candidate, result: PlanResult | undefined, error: string) => {
    const n = assembler.counts();
    pub.timing.publish(
      timingMsg({
        t0S: c.input.t0S,
        frameId,
        syncMs: c.syncMs,
        ...(result ? { timing: result.timing } : {}),
        latencyMs: (ros.clock.now() - c.input.t0S) * 1000,
        provider: result?.provider ?? engine.provider,
        received: n.received,
        planned: n.planned,
        dropped: n.dropped,
        error,
      }),
    );
  };

  const onEvent = (ev: PlanEvent<Candidate, PlanResult>) => {
    const c = ev.input;
    const step = planStep(ev, assembler.epoch);
    if (step.frames) assembler.settle(c, step.frames);
    if (step.timedOut) {
      timeouts++;
      restartEngine();
    }
    if (step.failure) {
      errors++;
      log[step.failure.level](`${step.failure.log} ${ctx}`);
      publishTiming(c, undefined, step.failure.error);
    }
    const r = step.result;
    if (!r) return;
    plans++;
    active = { t0S: c.input.t0S, v0: r.v0, trajectory: r.trajectory };
    pub.trajectory.publish(trajectoryMsg(r, frameId));
    pub.path.publish(pathMsg(r, frameId));
    const verdict = planVerdict(r, params.consistency.enabled ? consistencyParams : undefined);
    consistency[verdict.kind]++;
    if (verdict.kind === 'inconsistent')
      log.debug(`reasoning inconsistent at t0=${c.input.t0S.toFixed(3)} s: ${verdict.detail} ${ctx}`);
    pub.reasoning.publish(reasoningMsg(r, frameId, verdict));
    pub.reasoningText.publish({ data: r.reasoning.text });
    publishTiming(c, r, '');
  };

  const sub = new Subscription();
  sub.add(
    merge(frames$, odometry$)
      .pipe(concatMap(ingest), planLatest(runPlan, 1000 / params.max_plan_rate_hz, ros.scheduler))
      .subscribe({
        next: (ev) => {
          try {
            onEvent(ev);
          } catch (e) {
            log.error(`publishing a plan failed: ${errorMessage(e)} ${ctx}`);
          }
        },
        error: (e: unknown) => log.error(`planning loop stopped: ${errorMessage(e)} ${ctx}`),
      }),
  );
  sub.add(
    interval(1000 / params.control_rate_hz, ros.scheduler).subscribe(() => {
      if (!active) return;
      const now = ros.clock.now();
      const cmd = sampleCommand(active, now);
      if (!cmd) return; // horizon ran out: silence, the watchdog takes over
      pub.command.publish(commandMsg(cmd, now, frameId));
    }),
  );

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    sub.unsubscribe();
    assembler.shutdown();
    frameStore?.close();
    active = undefined;
  };
  sub.add(
    ros.shutdown$.subscribe({
      complete: () => {
        void stop();
      },
    }),
  );

  return {
    stop,
    stats: () => {
      const n = assembler.counts();
      return {
        received: n.received,
        planned: n.planned,
        dropped: n.dropped,
        waiting: n.waiting,
        plans,
        errors,
        skipped: assembler.skipped,
        odometryDropped: assembler.odometryDropped,
        timeouts,
        odometryJumps: assembler.odometryJumps,
        consistency: { ...consistency },
      };
    },
  };
}
