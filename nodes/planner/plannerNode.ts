import { defer, EMPTY, interval, merge, Subscription, throwError, type Observable } from 'rxjs';
import { concatMap, map, timeout } from 'rxjs/operators';
import { consistencyVerdict, trajectoryOfPlan, type Verdict, type VerdictKind } from '../consistency/index.js';
import { EngineError, type PlanningEngine, type PlanResult } from '../core/planningEngine.js';
import { UserError, errorMessage } from '../core/errors.js';
import { QOS_COMMAND, QOS_LATCHED, QOS_SENSOR } from '../core/qos.js';
import type { RosNode } from '../core/transport.js';
import { sampleCommand, type ActivePlan } from './commandSampler.js';
import { odometrySample } from './egoHistory.js';
import { compressedFrame, rawFrame, type FrameCheck } from './imageFrames.js';
import { InputAssembler, type Candidate, type IngestResult } from './inputAssembler.js';
import { checkTrajectory, commandMsg, pathMsg, reasoningMsg, timingMsg, trajectoryMsg } from './messages.js';
import { planLatest, type PlanEvent } from './operators/planLatest.js';
import { cameraInputs, consistencyParamsOf, type PlannerParams } from './params.js';

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

const DISABLED: Verdict = {
  kind: 'not_assessable',
  detail: 'consistency.enabled is false',
  stated: [],
  planned: [],
  differs: [],
};

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

/** A plan that ran past plan_timeout_s. */
export class PlanTimeoutError extends Error {
  constructor(
    readonly t0S: number,
    readonly timeoutS: number,
  ) {
    super(`plan at t0=${t0S.toFixed(3)} s did not finish within plan_timeout_s ${timeoutS.toFixed(3)} s; abandoned`);
    this.name = 'PlanTimeoutError';
  }
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
  const cameras = cameraInputs(params);
  const names = cameras.map((c) => c.name);
  if (names.join(',') !== contract.cameras.join(',')) {
    throw new UserError(
      `cameras.names: expected the bundle's cameras in its order [${contract.cameras.join(', ')}] ` +
        `(bundle ${contract.bundleId}), got [${names.join(', ')}] [node=${ros.name}]`,
    );
  }
  const ctx = `[node=${ros.name}]`;
  const log = ros.logger;
  const frameId = params.frame_id;
  // Received frames go straight into the engine's shared memory (when it has a store): one slot per buffered frame,
  // plus the frames of an input pending, one in flight and one abandoned by a timeout while its worker still reads
  // it, plus the frame arriving.
  const frameStore = engine.createFrameStore?.({
    slotsPerCamera: params.cameras.buffer_size + 3 * contract.framesPerCamera + 1,
  });
  const assembler = new InputAssembler({
    selection: {
      cameras: names,
      framesPerCamera: contract.framesPerCamera,
      spacingS: contract.frameSpacingS,
      toleranceS: params.cameras.frame_tolerance_s,
      jitterS: params.cameras.stamp_jitter_s,
    },
    history: { steps: contract.historySteps, dtS: contract.historyDtS, maxGapS: params.odometry.max_gap_s },
    cameraBufferSize: params.cameras.buffer_size,
    odometryBufferSize: params.odometry.buffer_size,
    odometryBufferS: params.odometry.buffer_s,
    odometryMaxJumpM: params.odometry.max_jump_m,
    maxSkewS: params.cameras.max_skew_s,
    timeResetThresholdS: params.time_reset_threshold_s,
    skipPeriodS: 1 / params.max_plan_rate_hz,
    seed: params.seed,
    samples: params.samples,
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
  const judge = (r: PlanResult): Verdict => {
    if (!params.consistency.enabled) return DISABLED;
    try {
      return consistencyVerdict(r.reasoning.text, trajectoryOfPlan(r.trajectory, r.v0), consistencyParams);
    } catch (e) {
      // never lose a plan to the check: it is published as not assessable, with the reason
      return { ...DISABLED, detail: `consistency check failed: ${errorMessage(e)}` };
    }
  };
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

  const ingest = (ev: Ingest): Candidate[] => {
    let r: IngestResult = {};
    try {
      if (ev.kind === 'frame') {
        if (!ev.check.ok) {
          assembler.rejectFrame(ev.check.reason);
          log.warn(`frame dropped (${ev.check.reason}): ${ev.check.detail} ${ctx}`);
        } else r = assembler.onFrame(ev.camera, ev.check.frame);
      } else {
        const sample = odometrySample(ev.msg as Parameters<typeof odometrySample>[0]);
        if (!sample) assembler.rejectOdometry('bad_message');
        else r = assembler.onOdometry(sample);
      }
    } catch (e) {
      log.error(`input handling failed: ${errorMessage(e)} ${ctx}`);
      return [];
    }
    if (r.capped) log.warn(`${r.capped}: raise odometry.buffer_size ${ctx}`);
    if (r.ringFull) log.warn(`frame dropped (frame_ring_full): ${r.ringFull} ${ctx}`);
    if (r.jump) {
      log.warn(
        `odometry jumped (${r.jump}): odometry history cleared, no plan until ${(contract.historyDtS * (contract.historySteps - 1)).toFixed(1)} s of history after the jump ${ctx}`,
      );
    }
    if (r.reset) {
      active = undefined;
      log.warn(`time went backwards (${r.reset}): buffers, history and the active plan cleared ${ctx}`);
    }
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
    const ledger = assembler.ledger;
    switch (ev.kind) {
      case 'started':
        return;
      case 'superseded':
      case 'cancelled':
        ledger.release(c.records, ev.kind);
        return;
      case 'failed': {
        if (ev.error instanceof PlanTimeoutError) {
          ledger.release(c.records, 'timed_out');
          timeouts++;
          restartEngine();
          if (c.epoch !== assembler.epoch) return;
          errors++;
          const msg = `plan_timeout: ${ev.error.message}`;
          log.error(`${msg}; planning continues with the next input ${ctx}`);
          publishTiming(c, undefined, msg);
          return;
        }
        ledger.release(c.records, 'failed');
        if (c.epoch !== assembler.epoch) return;
        errors++;
        const kind = ev.error instanceof EngineError ? ev.error.kind : 'unexpected';
        const msg = `${kind}: ${errorMessage(ev.error)}`;
        log.warn(`plan failed at t0=${c.input.t0S.toFixed(3)} s (${msg}); planning continues ${ctx}`);
        publishTiming(c, undefined, msg);
        return;
      }
      case 'completed': {
        if (c.epoch !== assembler.epoch) {
          ledger.release(c.records, 'cancelled');
          return;
        }
        const r = ev.result;
        const bad =
          checkTrajectory(r.trajectory, r.v0) ??
          (Math.abs(r.t0S - c.input.t0S) > 1e-9
            ? `result t0 ${r.t0S} s differs from the input t0 ${c.input.t0S} s`
            : undefined);
        if (bad) {
          ledger.release(c.records, 'failed');
          errors++;
          log.error(`plan refused at t0=${c.input.t0S.toFixed(3)} s: ${bad} ${ctx}`);
          publishTiming(c, undefined, `invalid_result: ${bad}`);
          return;
        }
        ledger.release(c.records, 'completed');
        plans++;
        active = { t0S: c.input.t0S, v0: r.v0, trajectory: r.trajectory };
        pub.trajectory.publish(trajectoryMsg(r, frameId));
        pub.path.publish(pathMsg(r, frameId));
        const verdict = judge(r);
        consistency[verdict.kind]++;
        if (verdict.kind === 'inconsistent')
          log.debug(`reasoning inconsistent at t0=${c.input.t0S.toFixed(3)} s: ${verdict.detail} ${ctx}`);
        pub.reasoning.publish(reasoningMsg(r, frameId, verdict));
        pub.reasoningText.publish({ data: r.reasoning.text });
        publishTiming(c, r, '');
        return;
      }
    }
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
