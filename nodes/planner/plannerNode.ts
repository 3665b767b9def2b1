import { defer, EMPTY, interval, merge, Subscription, throwError, type Observable } from 'rxjs';
import { concatMap, map, timeout } from 'rxjs/operators';
import type { PlanningEngine, PlanResult } from '../core/planningEngine.js';
import { errorMessage } from '../core/errors.js';
import { QOS_COMMAND, QOS_LATCHED, QOS_SENSOR } from '../core/qos.js';
import type { RosNode } from '../core/transport.js';
import { compressedFrame, rawFrame } from './imageFrames.js';
import type { Candidate } from './inputAssembler.js';
import { planLatest } from './operators/planLatest.js';
import type { PlannerParams } from './params.js';
import { PlanTimeoutError } from './planOutcome.js';
import { PlannerCore, type PlannerEffect, type PlannerInput, type PlannerStats } from './plannerCore.js';
import { frameStoreSlots, plannerCameras } from './plannerSetup.js';

export type { PlannerStats } from './plannerCore.js';

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

/**
 * Subscribes cameras and odometry, plans with `engine`, publishes the plan outputs and the command stream. Wiring
 * only: every decision is PlannerCore's; this runs the engine (with the plan timeout) and carries out its effects.
 */
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
  // Received frames go straight into the engine's shared memory when it has a store.
  const frameStore = engine.createFrameStore?.({ slotsPerCamera: frameStoreSlots(params, contract) });
  const core = new PlannerCore(params, contract, engine.provider, {
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

  const restartWorker = () => {
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

  const perform = (effects: readonly PlannerEffect[]) => {
    for (const e of effects) {
      switch (e.kind) {
        case 'log':
          log[e.level](`${e.text} ${ctx}`);
          break;
        case 'restartWorker':
          restartWorker();
          break;
        case 'trajectory':
          pub.trajectory.publish(e.msg);
          break;
        case 'path':
          pub.path.publish(e.msg);
          break;
        case 'reasoning':
          pub.reasoning.publish(e.msg);
          break;
        case 'reasoningText':
          pub.reasoningText.publish(e.msg);
          break;
        case 'timing':
          pub.timing.publish(e.msg);
          break;
      }
    }
  };

  const size = { width: contract.imageWidth, height: contract.imageHeight };
  const frames$: Observable<PlannerInput> = merge(
    ...cameras.map((cam, i) =>
      (cam.transport === 'compressed'
        ? ros
            .subscribe('sensor_msgs/msg/CompressedImage', cam.topic, QOS_SENSOR)
            .pipe(map((m) => compressedFrame(cam.name, m, size)))
        : ros.subscribe('sensor_msgs/msg/Image', cam.topic, QOS_SENSOR).pipe(map((m) => rawFrame(cam.name, m, size)))
      ).pipe(map((check): PlannerInput => ({ kind: 'frame', camera: i, check }))),
    ),
  );
  const odometry$: Observable<PlannerInput> = ros
    .subscribe('nav_msgs/msg/Odometry', params.odometry.topic, QOS_SENSOR)
    .pipe(map((msg): PlannerInput => ({ kind: 'odometry', msg })));

  const ingest = (input: PlannerInput): Candidate[] => {
    const { candidates, effects } = core.ingest(input);
    perform(effects);
    return candidates;
  };

  const timeoutMs = params.plan_timeout_s * 1000;
  const runPlan = (c: Candidate): Observable<PlanResult> =>
    !core.isCurrent(c)
      ? EMPTY
      : defer(() => track(engine.plan(c.input))).pipe(
          timeout({
            first: timeoutMs,
            scheduler: ros.scheduler,
            with: () => throwError(() => new PlanTimeoutError(c.input.t0S, params.plan_timeout_s)),
          }),
        );

  const now = () => ros.clock.now();
  const sub = new Subscription();
  sub.add(
    merge(frames$, odometry$)
      .pipe(concatMap(ingest), planLatest(runPlan, 1000 / params.max_plan_rate_hz, ros.scheduler))
      .subscribe({
        next: (ev) => {
          try {
            perform(core.onPlanEvent(ev, now));
          } catch (e) {
            log.error(`publishing a plan failed: ${errorMessage(e)} ${ctx}`);
          }
        },
        error: (e: unknown) => log.error(`planning loop stopped: ${errorMessage(e)} ${ctx}`),
      }),
  );
  sub.add(
    interval(1000 / params.control_rate_hz, ros.scheduler).subscribe(() => {
      const cmd = core.command(now);
      if (cmd) pub.command.publish(cmd); // none past the horizon: silence, the watchdog takes over
    }),
  );

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    sub.unsubscribe();
    core.shutdown();
    frameStore?.close();
  };
  sub.add(
    ros.shutdown$.subscribe({
      complete: () => {
        void stop();
      },
    }),
  );

  return { stop, stats: () => core.stats() };
}
