/**
 * Scoring, one of replay's three concerns (beside recording, outputRecorder.ts, and reporting, reportFiles.ts):
 * what the report needs, gathered while the replay runs. Each engine result's stage timings; each published plan
 * scored against the odometry as soon as it covers the horizon (StreamingScorer); the reasoning texts the report
 * shows; the reasoning–action consistency of every published plan; a thinned timeline of the vehicle commands.
 */
import type { Subscription } from 'rxjs';
import type { InProcessBus } from '../adapters/inprocess/bus.js';
import type { PlanResult } from '../core/planningEngine.js';
import type { Odometry, Reasoning, Trajectory, UnicycleCommand } from '../core/msgs.js';
import { stampToSeconds } from '../core/time.js';
import { yawFromQuaternion } from '../planner/egoHistory.js';
import { ConsistencyCollector } from './consistencyReport.js';
import { StreamingScorer } from './scoring.js';

/** [s] the longest scored horizon (AR1's 6.4 s). */
const HORIZON_S = 6.4;
/** Reasoning texts held before the old ones (not a snapshot's, over a minute behind) are let go. */
const REASONING_KEEP = 512;
/** The commands timeline is thinned by half whenever it reaches this many (report.html shows 2 500). */
const COMMANDS_KEEP = 10_000;
const SOURCES = ['planner', 'fallback', 'hold'];

export interface EvaluatedTopics {
  trajectory: string;
  reasoning: string;
  vehicleCommand: string;
}

export interface CommandPoint {
  tS: number;
  accel: number;
  source: string;
}

export class ReplayEvaluation {
  readonly scorer = new StreamingScorer(HORIZON_S);
  /** Real compute time per stage and plan [ms]. */
  readonly compute: Record<string, number[]> = {
    preprocess: [],
    vision: [],
    reasoning: [],
    action: [],
    session_run: [],
    total: [],
  };
  readonly consistency = new ConsistencyCollector();
  /** Reasoning texts by plan t0 [s]: the snapshots' and the latest ones. */
  readonly reasoningByT0 = new Map<number, string>();
  #published = 0;
  #commands: CommandPoint[] = [];
  #commandStride = 1;
  #commandIndex = 0;
  readonly #subscriptions: Subscription[] = [];

  /** @param nowMs the bus's clock (virtual time in replay) [ms], stamped on the commands timeline. */
  constructor(bus: InProcessBus, topics: EvaluatedTopics, nowMs: () => number) {
    this.#subscriptions.push(
      bus.messages(topics.trajectory, 'ar1_msgs/msg/Trajectory').subscribe((m) => {
        this.#trajectory(m as Trajectory);
      }),
      bus.messages(topics.reasoning, 'ar1_msgs/msg/Reasoning').subscribe((m) => {
        this.#reasoning(m as Reasoning);
      }),
      bus.messages(topics.vehicleCommand, 'ar1_msgs/msg/UnicycleCommand').subscribe((m) => {
        this.#command(m as UnicycleCommand, nowMs() / 1000);
      }),
    );
  }

  /** Plans published on the trajectory topic. */
  get published(): number {
    return this.#published;
  }

  /** The vehicle commands timeline, thinned evenly. */
  get commands(): CommandPoint[] {
    return this.#commands;
  }

  /** An engine result (before its modelled latency has passed): timings now, scored once published and covered. */
  addResult(r: PlanResult): void {
    this.scorer.addResult(r);
    this.compute['preprocess']!.push(r.timing.preprocessMs);
    this.compute['vision']!.push(r.timing.visionMs);
    this.compute['reasoning']!.push(r.timing.reasoningMs);
    this.compute['action']!.push(r.timing.actionMs);
    this.compute['session_run']!.push(r.timing.sessionRunMs);
    this.compute['total']!.push(r.timing.totalMs);
  }

  /** An input odometry message: the ego path the plans are scored against. */
  addOdometry(odo: Odometry): void {
    const p = odo.pose.pose;
    this.scorer.addPose({
      tS: stampToSeconds(odo.header.stamp),
      x: p.position.x,
      y: p.position.y,
      yaw: yawFromQuaternion(p.orientation),
    });
  }

  /** Stops listening to the bus. */
  stop(): void {
    for (const s of this.#subscriptions) s.unsubscribe();
  }

  /** Scores the plans odometry did not cover yet (partial horizons at the end of the bag). */
  finish(): void {
    this.scorer.finish();
  }

  #trajectory(m: Trajectory): void {
    this.#published++;
    this.scorer.published(stampToSeconds(m.header.stamp));
    this.consistency.trajectory(m);
  }

  #reasoning(m: Reasoning): void {
    const t0S = stampToSeconds(m.header.stamp);
    this.reasoningByT0.set(t0S, m.text);
    if (this.reasoningByT0.size > REASONING_KEEP) {
      const keep = new Set(this.scorer.snapshots().map((x) => x.result.t0S));
      for (const t of [...this.reasoningByT0.keys()]) if (t < t0S - 60 && !keep.has(t)) this.reasoningByT0.delete(t);
    }
    this.consistency.reasoning(m);
  }

  #command(c: UnicycleCommand, tS: number): void {
    if (this.#commandIndex++ % this.#commandStride !== 0) return;
    this.#commands.push({ tS, accel: c.acceleration, source: SOURCES[c.source] ?? String(c.source) });
    if (this.#commands.length >= COMMANDS_KEEP) {
      this.#commands = this.#commands.filter((_, i) => i % 2 === 0);
      this.#commandStride *= 2;
    }
  }
}
