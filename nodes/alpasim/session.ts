/**
 * One AlpaSim rollout: its own planner and watchdog (the vehicle node code, on the in-process transport), its own
 * virtual clock, and the shared engine. Observations are buffered as they arrive (AlpaSim sends a step's images
 * and egomotion concurrently) and fed to the nodes in timestamp order when drive moves the clock, exactly as
 * replay feeds a bag: so the outcome does not depend on the order the RPCs happened to arrive in.
 */
import type { Subscription } from 'rxjs';
import { InProcessBus, type BusMessage } from '../adapters/inprocess/bus.js';
import { InProcessNode } from '../adapters/inprocess/inProcessNode.js';
import { SteppingScheduler, WorkTracker } from '../adapters/inprocess/virtualScheduler.js';
import type { PlanInput, PlanningEngine, PlanResult, PlanTrajectory } from '../core/planningEngine.js';
import type { Logger } from '../core/logger.js';
import type { CompressedImage, Odometry, Reasoning, Trajectory, UnicycleCommand } from '../core/msgs.js';
import { secondsToNanos, stampToNanos } from '../core/time.js';
import type { PlannerParams } from '../planner/params.js';
import { cameraInputs } from '../planner/params.js';
import { startPlanner, type PlannerHandle, type PlannerStats } from '../planner/plannerNode.js';
import { withModelledLatency, type LatencyModel } from '../replay/latencyModel.js';
import type { WatchdogParams } from '../watchdog/params.js';
import { startWatchdog, type WatchdogHandle } from '../watchdog/watchdogNode.js';
import { DriverError, invalid } from './errors.js';
import { compressedImageMessage, odometryMessage, usToMs, type EgoPose, type PreparedImage } from './observations.js';
import type { DriveResponseOut } from './proto.js';
import {
  brakingTrajectory,
  driveResponse,
  planTrajectory,
  samplePoints,
  type PlanRecord,
  type ResponseSource,
} from './response.js';

export const PLANNER_NODE = 'ar1_planner';
export const WATCHDOG_NODE = 'ar1_watchdog';
/** Frame ids of the odometry the driver publishes: AlpaSim's local frame and the rig. */
const LOCAL_FRAME = 'local';
const RIG_FRAME = 'base_link';

/**
 * [ms] observations stamped t are delivered this long before t, so that at the instant t the watchdog's periodic
 * tick already sees them: AlpaSim sends egomotion once per control step (100 ms), which is exactly the default
 * odometry staleness limit, and the tick at t must not judge the previous pose (0.1 s old) against it.
 */
const FEED_LEAD_MS = 0.01;

export interface SessionSettings {
  engine: PlanningEngine;
  planner: PlannerParams;
  watchdog: WatchdogParams;
  latency: LatencyModel;
  /** The watchdog's fallback braking replaces the plan in the response once it has taken over. */
  watchdogBraking: boolean;
  logger: Logger;
  /** Every message published in the session (for --record), and every engine result. */
  onPublished?: (m: BusMessage) => void;
  onResult?: (r: PlanResult, input: PlanInput) => void;
}

/** Why an observation was not given to the planner. */
export type RefusalReason =
  'corrupt_image' | 'camera_not_in_session' | 'duplicate_frame' | 'camera_unused' | 'malformed';

export interface SessionSummary {
  uuid: string;
  /** Images accepted by the driver and handed to the planner. */
  framesReceived: number;
  framesPlanned: number;
  /** Planner drop reasons, plus images still buffered at close (end_of_session). */
  framesDropped: Record<string, number>;
  /** Images the driver refused or did not forward, by reason. */
  refused: Record<string, number>;
  egoPoses: number;
  drives: number;
  responses: Record<ResponseSource, number>;
  plans: number;
  planErrors: number;
  watchdogFinalState: string;
  watchdogTransitions: Array<{ time_s: number; from: string; to: string; reason: string }>;
  /** Commands the watchdog sent to the vehicle, by source. */
  commands: { planner: number; fallback: number; hold: number };
  /** The planner's own drop counts and the frames it still held at close (for a replay-style report). */
  planner: { received: number; planned: number; dropped: Record<string, number>; waiting: number };
  /** Virtual time the session's nodes ran over [ms] (undefined: no drive). */
  span: { startMs: number; endMs: number } | undefined;
  /** Observations given to the nodes. */
  inputMessages: number;
}

/**
 * A stamp back to the µs it was made from: plan stamps pass through float seconds (t0 of the frame set), which at
 * today's epoch keeps only ~0.1 µs, so they are rounded to the nearest µs rather than truncated.
 */
const nanosToUs = (ns: bigint): bigint => (ns + 500n) / 1000n;

type Pending =
  | { kind: 'odometry'; tUs: bigint; seq: number; pose: EgoPose }
  | { kind: 'image'; tUs: bigint; seq: number; camera: number; image: PreparedImage };

interface Graph {
  startMs: number;
  scheduler: SteppingScheduler;
  bus: InProcessBus;
  tracker: WorkTracker;
  planner: PlannerHandle;
  watchdog: WatchdogHandle;
  nodes: InProcessNode[];
  subs: Subscription[];
}

/** Order of kinds at one instant: the pose at t before the images at t (the planner wants odometry up to t0). */
const KIND_ORDER = { odometry: 0, image: 1 } as const;

export class DriverSession {
  readonly #s: SessionSettings;
  readonly #cameraIndex: ReadonlyMap<string, number | undefined>;
  readonly #cameraTopics: string[];
  #pending: Pending[] = [];
  #seq = 0;
  /** Every ego pose received, sorted by time (response building needs the pose at t0 and at now). */
  readonly #poses: EgoPose[] = [];
  readonly #frameEnds: Array<Set<bigint>>;
  readonly #framesPerCamera: Record<string, number>;
  readonly #refused: Record<string, number> = {};
  #graph: Graph | undefined;
  #plan: PlanRecord | undefined;
  readonly #reasoning = new Map<bigint, string>();
  /** Samples of recent plans by t0 [µs], when more than one is drawn. */
  readonly #samples = new Map<bigint, PlanTrajectory[]>();
  #lastCommand: { accel: number; curvature: number } | undefined;
  #lastDriveUs: bigint | undefined;
  #egomotionBatches = 0;
  #drives = 0;
  #fed = 0;
  readonly #responses: Record<ResponseSource, number> = { planner: 0, watchdog_braking: 0, none: 0 };
  /** Drives and close run one at a time, in arrival order. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /**
   * @param cameras logical ids of the session's cameras; each is mapped to the planner camera of that name (or to
   *   none: AlpaSim may render cameras the model does not use).
   */
  constructor(
    readonly uuid: string,
    cameras: readonly string[],
    settings: SessionSettings,
  ) {
    this.#s = settings;
    const names = settings.planner.cameras.names;
    this.#cameraIndex = new Map(cameras.map((id) => [id, names.includes(id) ? names.indexOf(id) : undefined]));
    this.#cameraTopics = cameraInputs(settings.planner).map((c) => c.topic);
    this.#frameEnds = names.map(() => new Set<bigint>());
    this.#framesPerCamera = Object.fromEntries(names.map((n) => [n, 0]));
  }

  get closed(): boolean {
    return this.#closed;
  }

  #refuse(reason: RefusalReason): void {
    this.#refused[reason] = (this.#refused[reason] ?? 0) + 1;
  }

  #open(): void {
    if (this.#closed) throw new DriverError('NOT_FOUND', `session_uuid: session "${this.uuid}" is closed`);
  }

  /** Checks the camera of an image before its bytes are decoded; returns the planner camera index or undefined (unused). */
  cameraFor(logicalId: string): number | undefined {
    this.#open();
    if (!this.#cameraIndex.has(logicalId)) {
      this.#refuse('camera_not_in_session');
      throw invalid(
        `camera_image.logical_id: expected a camera of session "${this.uuid}" (${[...this.#cameraIndex.keys()].join(', ')}), got "${logicalId}"`,
      );
    }
    const index = this.#cameraIndex.get(logicalId);
    if (index === undefined) this.#refuse('camera_unused');
    return index;
  }

  /** An image that failed to decode: counted, and the session goes on. */
  rejectImage(reason: RefusalReason): void {
    this.#refuse(reason);
  }

  submitImage(camera: number, frameEndUs: bigint, image: PreparedImage): void {
    this.#open();
    const seen = this.#frameEnds[camera]!;
    const name = this.#s.planner.cameras.names[camera]!;
    if (seen.has(frameEndUs)) {
      this.#refuse('duplicate_frame');
      throw invalid(`camera_image.frame_end_us: camera ${name} already has a frame ending at ${frameEndUs} µs`);
    }
    seen.add(frameEndUs);
    this.#framesPerCamera[name]! += 1;
    this.#pending.push({ kind: 'image', tUs: frameEndUs, seq: this.#seq++, camera, image });
  }

  /**
   * Ego poses of one egomotion request (strictly increasing, checked by egomotionPoses). A pose at the time of the
   * newest one already received is the same pose sent again and is skipped; an older one refuses the whole request
   * (nothing of it is kept).
   */
  submitEgomotion(poses: readonly EgoPose[]): void {
    this.#open();
    const last = this.#poses[this.#poses.length - 1];
    const fresh = last ? poses.filter((p) => p.tUs > last.tUs) : poses;
    const stale = last ? poses.find((p) => p.tUs < last.tUs) : undefined;
    if (last && stale) {
      throw invalid(
        `trajectory.poses: expected poses at or after the latest one received (${last.tUs} µs), got ${stale.tUs} µs`,
      );
    }
    this.#egomotionBatches++;
    for (const p of fresh) {
      this.#poses.push(p);
      this.#pending.push({ kind: 'odometry', tUs: p.tUs, seq: this.#seq++, pose: p });
    }
  }

  /** True until the first egomotion request (its velocities are local-frame in AlpaSim). */
  get firstEgomotion(): boolean {
    return this.#egomotionBatches === 0;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  drive(nowUs: bigint): Promise<DriveResponseOut> {
    return this.#serial(async () => {
      this.#open();
      if (this.#lastDriveUs !== undefined && nowUs < this.#lastDriveUs) {
        throw invalid(`time_now_us: expected >= the previous drive's ${this.#lastDriveUs} µs, got ${nowUs}`);
      }
      this.#lastDriveUs = nowUs;
      this.#drives++;
      await this.#advanceTo(nowUs);
      return this.#respond(nowUs);
    });
  }

  #build(startMs: number): Graph {
    const s = this.#s;
    const scheduler = new SteppingScheduler(startMs);
    const bus = new InProcessBus(scheduler);
    const tracker = new WorkTracker();
    const engine = withModelledLatency(s.engine, scheduler, tracker, s.latency, (r, input) => {
      // Every sample of the latest plans, for the response's sampled_trajectories (AlpaSim's minADE).
      if (r.samples.length > 1) {
        this.#samples.set(nanosToUs(secondsToNanos(r.t0S)), r.samples);
        if (this.#samples.size > 8) this.#samples.delete(this.#samples.keys().next().value!);
      }
      s.onResult?.(r, input);
    });
    const subs: Subscription[] = [];
    if (s.onPublished) subs.push(bus.published$.subscribe(s.onPublished));
    subs.push(
      bus.messages(s.planner.topics.trajectory, 'ar1_msgs/msg/Trajectory').subscribe((m) => {
        const t = m as Trajectory;
        const t0Us = nanosToUs(stampToNanos(t.header.stamp));
        const samples = this.#samples.get(t0Us);
        this.#plan = {
          t0Us,
          points: t.points,
          reasoning: this.#reasoning.get(t0Us),
          samples: samples?.map(samplePoints) ?? [],
        };
      }),
    );
    subs.push(
      bus.messages(s.planner.topics.reasoning, 'ar1_msgs/msg/Reasoning').subscribe((m) => {
        const r = m as Reasoning;
        const t0Us = nanosToUs(stampToNanos(r.header.stamp));
        this.#reasoning.clear();
        this.#reasoning.set(t0Us, r.text);
        if (this.#plan && this.#plan.t0Us === t0Us) this.#plan = { ...this.#plan, reasoning: r.text };
      }),
    );
    subs.push(
      bus.messages(s.watchdog.topics.vehicle_command, 'ar1_msgs/msg/UnicycleCommand').subscribe((m) => {
        const c = m as UnicycleCommand;
        this.#lastCommand = { accel: c.acceleration, curvature: c.curvature };
      }),
    );
    const log = s.logger;
    const plannerRos = new InProcessNode(bus, { name: PLANNER_NODE, logger: log });
    const watchdogRos = new InProcessNode(bus, { name: WATCHDOG_NODE, logger: log });
    const watchdog = startWatchdog(watchdogRos, s.watchdog);
    const planner = startPlanner(plannerRos, s.planner, engine);
    return { startMs, scheduler, bus, tracker, planner, watchdog, nodes: [plannerRos, watchdogRos], subs };
  }

  /** Feeds every buffered observation up to nowUs in time order, then runs the nodes up to nowUs. */
  async #advanceTo(nowUs: bigint): Promise<void> {
    const due = this.#pending
      .filter((p) => p.tUs <= nowUs)
      .sort((a, b) =>
        a.tUs < b.tUs ? -1 : a.tUs > b.tUs ? 1 : KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.seq - b.seq,
      );
    this.#pending = this.#pending.filter((p) => p.tUs > nowUs);
    const g = (this.#graph ??= this.#build(
      due.reduce((m, p) => Math.min(m, usToMs(p.tUs) - FEED_LEAD_MS), usToMs(nowUs)),
    ));
    const idle = () => g.tracker.idle();
    for (const p of due) {
      const at = usToMs(p.tUs) - FEED_LEAD_MS;
      if (at > g.scheduler.now()) await g.scheduler.advanceTo(at, idle);
      this.#fed++;
      if (p.kind === 'odometry') {
        g.bus.publish(
          this.#s.planner.odometry.topic,
          'nav_msgs/msg/Odometry',
          odometryMessage(p.pose, LOCAL_FRAME, RIG_FRAME) satisfies Odometry,
          'alpasim',
        );
      } else {
        const name = this.#s.planner.cameras.names[p.camera]!;
        g.bus.publish(
          this.#cameraTopics[p.camera]!,
          'sensor_msgs/msg/CompressedImage',
          compressedImageMessage(p.image, p.tUs, name) satisfies CompressedImage,
          'alpasim',
        );
      }
    }
    await g.scheduler.advanceTo(Math.max(g.scheduler.now(), usToMs(nowUs)), idle);
  }

  #respond(nowUs: bigint): DriveResponseOut {
    const g = this.#graph!;
    const state = g.watchdog.state;
    const plan = this.#plan;
    let source: ResponseSource = 'none';
    let poses: DriveResponseOut['trajectory']['poses'] = [];
    let sampled: Array<DriveResponseOut['trajectory']['poses']> = [];
    if (plan) {
      const braking = this.#s.watchdogBraking && (state === 'fallback' || state === 'stopped');
      if (braking) {
        const now = this.#poses.findLast((p) => p.tUs <= nowUs);
        const w = this.#s.watchdog;
        const b = brakingTrajectory(this.#poses, nowUs, {
          // The profile the watchdog brakes with now (it escalates to emergency for the faults listed there).
          speedMps: now?.vx ?? 0,
          lastCommand: this.#lastCommand,
          profile: g.watchdog.lastTick?.core.profile === 'emergency' ? w.emergency : w.fallback,
          stopped: state === 'stopped',
          controlRateHz: w.control_rate_hz,
          steps: w.trajectory_points,
          dtS: w.trajectory_dt_s,
        });
        if (b) {
          poses = b;
          source = 'watchdog_braking';
        }
      } else {
        const p = planTrajectory(plan, this.#poses, nowUs);
        if (p && p.length > 1) {
          poses = p;
          source = 'planner';
          sampled = plan.samples.map((points) => planTrajectory({ ...plan, points }, this.#poses, nowUs) ?? []);
        }
      }
    }
    this.#responses[source]++;
    return driveResponse(poses, sampled, {
      source,
      reasoningText: source === 'none' ? undefined : plan?.reasoning,
      framesPerCamera: { ...this.#framesPerCamera },
      numPoses: this.#poses.length,
      trajectoryPoints: Math.max(0, poses.length - 1),
      planT0Us: plan?.t0Us,
      watchdogState: state,
    });
  }

  /** Stops the nodes (after any drive in progress) and returns the session's accounting. */
  close(): Promise<SessionSummary> {
    return this.#serial(async () => {
      if (this.#closed) throw new DriverError('NOT_FOUND', `session_uuid: session "${this.uuid}" is already closed`);
      this.#closed = true;
      const leftover = this.#pending.filter((p) => p.kind === 'image').length;
      this.#pending = [];
      const g = this.#graph;
      let stats: PlannerStats | undefined;
      let finalState = 'disengaged';
      let transitions: SessionSummary['watchdogTransitions'] = [];
      let commands = { planner: 0, fallback: 0, hold: 0 };
      let span: SessionSummary['span'];
      if (g) {
        stats = g.planner.stats();
        finalState = g.watchdog.state;
        transitions = g.watchdog.transitions.map((t) => ({
          time_s: t.timeS,
          from: t.from,
          to: t.to,
          reason: t.reason,
        }));
        span = { startMs: g.startMs, endMs: g.scheduler.now() };
        await g.planner.stop();
        await g.watchdog.stop();
        // After stop(): its final brake/hold command is in the recording, so it is counted too (as replay does).
        commands = { ...g.watchdog.commandCounts };
        await g.scheduler.advanceTo(g.scheduler.now(), () => g.tracker.idle());
        for (const s of g.subs) s.unsubscribe();
        for (const n of g.nodes) await n.shutdown();
      }
      const dropped: Record<string, number> = { ...(stats?.dropped ?? {}) };
      const waiting = (stats?.waiting ?? 0) + leftover;
      if (waiting) dropped['end_of_session'] = (dropped['end_of_session'] ?? 0) + waiting;
      return {
        uuid: this.uuid,
        framesReceived: (stats?.received ?? 0) + leftover,
        framesPlanned: stats?.planned ?? 0,
        framesDropped: dropped,
        refused: { ...this.#refused },
        egoPoses: this.#poses.length,
        drives: this.#drives,
        responses: { ...this.#responses },
        plans: stats?.plans ?? 0,
        planErrors: stats?.errors ?? 0,
        watchdogFinalState: finalState,
        watchdogTransitions: transitions,
        commands,
        planner: {
          received: stats?.received ?? 0,
          planned: stats?.planned ?? 0,
          dropped: { ...(stats?.dropped ?? {}) },
          waiting: stats?.waiting ?? 0,
        },
        span,
        inputMessages: this.#fed,
      };
    });
  }
}

/** One log line with a closed session's accounting. */
export function describeSummary(s: SessionSummary): string {
  const kv = (r: Record<string, number>) =>
    Object.entries(r)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  return (
    `session ${s.uuid} closed: frames received ${s.framesReceived}, planned ${s.framesPlanned}, dropped ${kv(s.framesDropped)}; ` +
    `refused ${kv(s.refused)}; drives ${s.drives} (planner ${s.responses.planner}, watchdog braking ${s.responses.watchdog_braking}, empty ${s.responses.none}); ` +
    `plans ${s.plans}, plan errors ${s.planErrors}; watchdog final ${s.watchdogFinalState} after ${s.watchdogTransitions.length} transitions`
  );
}
