/**
 * Benchmark 3, watchdog reaction on the real clock: a fresh watchdog (asyncScheduler, auto_engage) is fed a healthy
 * planner (commands 50 Hz, plans + timing 10 Hz, odometry 100 Hz); once NOMINAL the command stream stops. Reaction
 * = wall time of the first fallback command on /vehicle/unicycle_command − deadline, where deadline = wall time of
 * the last command published + command_gap_s. The command stream starts at a random phase against the watchdog's timer. Repeated `repetitions` times, each with a new bus and watchdog.
 */
import { asyncScheduler, interval, Subscription, timer } from 'rxjs';
import { InProcessBus } from '../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../nodes/adapters/inprocess/inProcessNode.js';
import {
  UNICYCLE_SOURCE,
  type Odometry,
  type PlannerTiming,
  type Trajectory,
  type UnicycleCommand,
} from '../nodes/core/msgs.js';
import { QOS_COMMAND, QOS_SENSOR } from '../nodes/core/qos.js';
import { secondsToStamp } from '../nodes/core/time.js';
import { startWatchdog } from '../nodes/watchdog/watchdogNode.js';
import { loadWatchdogParams } from '../nodes/watchdog/params.js';
import { summarize, type Summary } from './stats.js';

export interface WatchdogOptions {
  repetitions: number;
  /** [s] healthy feed before the stream stops. */ healthyS: number;
}

export interface WatchdogFigures {
  repetitions: number;
  controlPeriodMs: number;
  commandGapS: number;
  /** [ms] first fallback command − deadline. */
  reactionMs: Summary;
  /** Reaction as a fraction of the control period. */
  reactionPeriods: Summary;
}

const header = (s: number) => ({ stamp: secondsToStamp(s), frame_id: 'base_link' });

async function once(healthyS: number): Promise<{ reactionMs: number; periodMs: number; gapS: number }> {
  const bus = new InProcessBus(asyncScheduler);
  const params = loadWatchdogParams({ sources: [{ origin: 'bench', values: { auto_engage: true } }] });
  const wd = startWatchdog(new InProcessNode(bus, { name: 'ar1_watchdog' }), params);
  const sim = new InProcessNode(bus, { name: 'bench_sim' });
  const nowS = () => asyncScheduler.now() / 1000;
  const subs = new Subscription();
  const cmd = sim.createPublisher('ar1_msgs/msg/UnicycleCommand', params.topics.command, QOS_COMMAND);
  const plan = sim.createPublisher('ar1_msgs/msg/Trajectory', params.topics.trajectory, QOS_COMMAND);
  const timing = sim.createPublisher('ar1_msgs/msg/PlannerTiming', params.topics.timing, QOS_COMMAND);
  const odom = sim.createPublisher('nav_msgs/msg/Odometry', params.topics.odometry, QOS_SENSOR);
  let commands = true;
  let lastCommandWallMs = NaN;
  let firstFallbackMs = NaN;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  subs.add(
    bus.messages(params.topics.vehicle_command, 'ar1_msgs/msg/UnicycleCommand').subscribe((m) => {
      const c = m as UnicycleCommand;
      if (!commands && Number.isNaN(firstFallbackMs) && c.source === UNICYCLE_SOURCE.fallback) {
        firstFallbackMs = performance.now();
        resolveDone();
      }
    }),
  );
  // The command stream starts at a random phase against the watchdog's timer, so the deadline falls anywhere in a period.
  subs.add(
    timer(Math.random() * 20, 20, asyncScheduler).subscribe(() => {
      if (!commands) return;
      (cmd.publish as (m: UnicycleCommand) => void)({
        header: header(nowS()),
        acceleration: 0,
        curvature: 0,
        speed: 5,
        source: 0,
      });
      lastCommandWallMs = performance.now();
    }),
  );
  subs.add(
    interval(100, asyncScheduler).subscribe(() => {
      const t0 = nowS() - 0.05;
      (plan.publish as (m: Trajectory) => void)({
        header: header(t0),
        dt: 0.1,
        initial_speed: 5,
        bundle_id: 'bench@1',
        points: Array.from({ length: 64 }, (_, i) => ({
          t: (i + 1) * 0.1,
          x: 0.5 * (i + 1),
          y: 0,
          heading: 0,
          speed: 5,
          acceleration: 0,
          curvature: 0,
        })),
      });
      (timing.publish as (m: PlannerTiming) => void)({
        header: header(t0),
        sync_ms: 0,
        preprocess_ms: 0,
        vision_ms: 0,
        reasoning_ms: 0,
        action_ms: 0,
        total_ms: 50,
        latency_ms: 50,
        execution_provider: 'cpu',
        frames_received: 0,
        frames_planned: 0,
        frames_dropped: 0,
        drop_reasons: [],
        drop_counts: [],
        error: '',
      });
    }),
  );
  subs.add(
    interval(10, asyncScheduler).subscribe(() => {
      (odom.publish as (m: Odometry) => void)({
        header: header(nowS()),
        child_frame_id: 'base_link',
        // Positions agree with the 5 m/s twist (the watchdog cross-checks the two).
        pose: {
          pose: { position: { x: 5 * nowS(), y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
          covariance: [],
        },
        twist: { twist: { linear: { x: 5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
      });
    }),
  );
  await new Promise<void>((r) => setTimeout(r, healthyS * 1000));
  if (wd.state !== 'nominal') {
    subs.unsubscribe();
    await wd.stop();
    throw new Error(
      `watchdog benchmark: expected NOMINAL after ${healthyS} s of healthy input, got ${String(wd.state)} (transitions ${JSON.stringify(wd.transitions)})`,
    );
  }
  commands = false;
  const deadlineMs = lastCommandWallMs + params.command_gap_s * 1000;
  const timeout = setTimeout(() => resolveDone(), 2000);
  await done;
  clearTimeout(timeout);
  subs.unsubscribe();
  await wd.stop();
  if (Number.isNaN(firstFallbackMs))
    throw new Error(
      'watchdog benchmark: expected a fallback command within 2 s of the command stream stopping, got none',
    );
  return {
    reactionMs: firstFallbackMs - deadlineMs,
    periodMs: 1000 / params.control_rate_hz,
    gapS: params.command_gap_s,
  };
}

export async function benchWatchdog(o: WatchdogOptions): Promise<WatchdogFigures> {
  const reaction: number[] = [];
  let periodMs = 20,
    gapS = 0.1;
  for (let i = 0; i < o.repetitions; i++) {
    const r = await once(o.healthyS);
    reaction.push(r.reactionMs);
    periodMs = r.periodMs;
    gapS = r.gapS;
  }
  return {
    repetitions: o.repetitions,
    controlPeriodMs: periodMs,
    commandGapS: gapS,
    reactionMs: summarize(reaction),
    reactionPeriods: summarize(reaction.map((v) => v / periodMs)),
  };
}
