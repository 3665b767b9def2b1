import { interval, Subscription } from 'rxjs';
import { InProcessBus } from '../../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../../nodes/adapters/inprocess/inProcessNode.js';
import { SteppingScheduler } from '../../nodes/adapters/inprocess/virtualScheduler.js';
import { MemoryLogger } from '../../nodes/core/logger.js';
import {
  CONSISTENCY,
  type DiagnosticArray,
  type Reasoning,
  type SafetyState,
  type Trajectory,
  type UnicycleCommand,
} from '../../nodes/core/msgs.js';
import { QOS_COMMAND, QOS_SENSOR } from '../../nodes/core/qos.js';
import { secondsToStamp } from '../../nodes/core/time.js';
import type { Clock } from '../../nodes/core/clock.js';
import type { RosNode } from '../../nodes/core/transport.js';
import { startWatchdog } from '../../nodes/watchdog/watchdogNode.js';
import { loadWatchdogParams, type WatchdogParams } from '../../nodes/watchdog/params.js';

/** What the simulated planner, localization and cameras do; scenarios flip these fields over virtual time. */
/** A reasoning message's consistency verdict. */
export type ConsistencyKind = keyof typeof CONSISTENCY;
/** A reasoning message at t0S with the given verdict (detail defaults to a contradiction when inconsistent). */
export const reasoning = (
  t0S: number,
  kind: ConsistencyKind,
  detail = kind === 'inconsistent' ? 'text says accelerate ("speed up"); trajectory: decelerate, straight' : '',
): Reasoning => ({
  header: { stamp: secondsToStamp(t0S), frame_id: 'rig' },
  text: 'speed up',
  bundle_id: 'test@1',
  generation_ms: 1,
  token_count: 2,
  consistency: CONSISTENCY[kind],
  consistency_detail: detail,
  stated_actions: [],
  planned_actions: [],
});

export interface World {
  plannerCommands: boolean;
  plannerPlans: boolean;
  planLatencyS: number;
  nanPlan: boolean;
  nanCommand: boolean;
  odometry: boolean;
  cameras: Record<string, boolean>;
  plannerAccel: number;
  plannerCurvature: number;
  /** Vehicle speed [m/s], integrated from the watchdog's commands. */
  speed: number;
  /** Vehicle position [m] along x, integrated from the speed at each odometry sample. */
  x: number;
  /** When set, odometry reports this twist speed whatever the vehicle does (a stuck twist). */
  stuckTwist?: number;
  /** When set, odometry reports this position whatever the vehicle does (a paused simulator). */
  frozenX?: number;
  /** Publish only every n-th planner command (50 Hz base), odometry (100 Hz) and camera frame (30 Hz): slow inputs. */
  every: { command: number; odometry: number; camera: number };
}

export function plan(stampS: number, n = 64, nan = false): Trajectory {
  return {
    header: { stamp: secondsToStamp(stampS), frame_id: 'rig' },
    dt: 0.1,
    initial_speed: 5,
    bundle_id: 'test@1',
    points: Array.from({ length: n }, (_, i) => ({
      t: (i + 1) * 0.1,
      x: i,
      y: 0,
      heading: 0,
      speed: 5,
      acceleration: nan && i === 10 ? Number.NaN : 0,
      curvature: 0,
    })),
  };
}

/**
 * A watchdog on the in-process bus in virtual time, with a closed-loop world: a planner (50 Hz commands, 10 Hz
 * plans + timing), 100 Hz odometry from a point-mass vehicle that integrates the watchdog's commands, cameras.
 */
export function makeRig(
  overrides: Record<string, unknown> = {},
  options: {
    startS?: number;
    zeroClock?: boolean;
    world?: Partial<World>;
    /** What startWatchdog gets instead of the loaded parameters (e.g. a wrapper whose getter throws on demand). */
    watchdogParams?: (loaded: WatchdogParams) => WatchdogParams;
  } = {},
) {
  const startS = options.startS ?? 100;
  const scheduler = new SteppingScheduler(startS * 1000);
  const bus = new InProcessBus(scheduler);
  const params: WatchdogParams = loadWatchdogParams({ sources: [{ origin: 'test', values: overrides }] });
  const logger = new MemoryLogger();
  // ROS time = true (scheduler) time + offset; stepRosTime moves it on its own, the steady clock and timers do not.
  let rosOffsetS = 0;
  let rosFrozenS: number | undefined;
  const rosClock: Clock = { now: () => (options.zeroClock ? 0 : (rosFrozenS ?? scheduler.now() / 1000 + rosOffsetS)) };
  // The watchdog's steady clock = true time + a lag offset (stepSteady: the process stalled, timers fired late).
  let steadyOffsetS = 0;
  const steadyClock: Clock = { now: () => scheduler.now() / 1000 + steadyOffsetS };
  const node = new InProcessNode(bus, { name: 'ar1_watchdog', logger, clock: rosClock, steadyClock });
  const ros: RosNode = node;
  const sim = new InProcessNode(bus, { name: 'sim', clock: rosClock });
  const world: World = {
    plannerCommands: true,
    plannerPlans: true,
    planLatencyS: 0.2,
    nanPlan: false,
    nanCommand: false,
    odometry: true,
    cameras: Object.fromEntries(params.cameras.topics.map((t) => [t, true])),
    plannerAccel: 0.5,
    plannerCurvature: 0.01,
    speed: 0,
    x: 0,
    every: { command: 1, odometry: 1, camera: 1 },
    ...options.world,
  };
  /** ROS time [s] (what the rig's publishers stamp with). */
  const nowS = () => rosClock.now();
  /** True (steady, scheduler) time [s]. */
  const trueS = () => scheduler.now() / 1000;
  /** Vehicle commands with their ROS time tS and true time trueS [s]. */
  const commands: Array<{ tS: number; trueS: number; speed: number; msg: UnicycleCommand }> = [];
  const states: Array<{ tS: number; msg: SafetyState }> = [];
  const diagnostics: Array<{ tS: number; msg: DiagnosticArray }> = [];
  const subs = new Subscription();
  const dt = 1 / params.control_rate_hz;
  subs.add(
    sim.subscribe('ar1_msgs/msg/UnicycleCommand', params.topics.vehicle_command, QOS_COMMAND).subscribe((msg) => {
      commands.push({ tS: nowS(), trueS: trueS(), speed: world.speed, msg });
      world.speed = Math.max(0, world.speed + msg.acceleration * dt);
    }),
  );
  subs.add(
    sim
      .subscribe('ar1_msgs/msg/SafetyState', params.topics.safety_state, QOS_COMMAND)
      .subscribe((msg) => states.push({ tS: nowS(), msg })),
  );
  subs.add(
    sim
      .subscribe('diagnostic_msgs/msg/DiagnosticArray', params.topics.diagnostics, QOS_COMMAND)
      .subscribe((msg) => diagnostics.push({ tS: nowS(), msg })),
  );

  const cmdPub = sim.createPublisher('ar1_msgs/msg/UnicycleCommand', params.topics.command, QOS_COMMAND);
  const planPub = sim.createPublisher('ar1_msgs/msg/Trajectory', params.topics.trajectory, QOS_COMMAND);
  const timingPub = sim.createPublisher('ar1_msgs/msg/PlannerTiming', params.topics.timing, QOS_COMMAND);
  const odomPub = sim.createPublisher('nav_msgs/msg/Odometry', params.topics.odometry, QOS_SENSOR);
  const engagePub = sim.createPublisher('std_msgs/msg/Bool', params.topics.engage, QOS_COMMAND);
  const resetPub = sim.createPublisher('std_msgs/msg/Empty', params.topics.reset, QOS_COMMAND);
  const header = (s: number) => ({ stamp: secondsToStamp(s), frame_id: 'rig' });
  subs.add(
    interval(20, scheduler).subscribe((n) => {
      if (!world.plannerCommands || n % world.every.command !== 0) return;
      const a = world.nanCommand ? Number.NaN : world.plannerAccel;
      cmdPub.publish({
        header: header(nowS()),
        acceleration: a,
        curvature: world.plannerCurvature,
        speed: world.speed,
        source: 0,
      });
    }),
  );
  subs.add(
    interval(100, scheduler).subscribe(() => {
      if (!world.plannerPlans) return;
      const t0 = nowS() - world.planLatencyS;
      planPub.publish(plan(t0, 64, world.nanPlan));
      const ms = world.planLatencyS * 1000;
      timingPub.publish({
        header: header(t0),
        sync_ms: 1,
        preprocess_ms: 1,
        vision_ms: 1,
        reasoning_ms: 1,
        action_ms: 1,
        total_ms: ms,
        latency_ms: ms,
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
    interval(10, scheduler).subscribe((n) => {
      world.x += world.speed * 0.01;
      if (!world.odometry || n % world.every.odometry !== 0) return;
      odomPub.publish({
        header: header(nowS()),
        child_frame_id: 'base_link',
        pose: {
          pose: { position: { x: world.frozenX ?? world.x, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
          covariance: [],
        },
        twist: {
          twist: { linear: { x: world.stuckTwist ?? world.speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
          covariance: [],
        },
      });
    }),
  );
  params.cameras.topics.forEach((topic, i) => {
    const compressed = params.cameras.types[i] === 'compressed';
    const pubC = compressed ? sim.createPublisher('sensor_msgs/msg/CompressedImage', topic, QOS_SENSOR) : undefined;
    const pubI = compressed ? undefined : sim.createPublisher('sensor_msgs/msg/Image', topic, QOS_SENSOR);
    subs.add(
      interval(33, scheduler).subscribe((n) => {
        if (!world.cameras[topic] || n % world.every.camera !== 0) return;
        if (pubC) pubC.publish({ header: header(nowS()), format: 'jpeg', data: new Uint8Array() });
        else
          pubI!.publish({
            header: header(nowS()),
            height: 1,
            width: 1,
            encoding: 'rgb8',
            is_bigendian: 0,
            step: 3,
            data: new Uint8Array(3),
          });
      }),
    );
  });

  const handle = startWatchdog(ros, options.watchdogParams ? options.watchdogParams(params) : params);
  return {
    scheduler,
    bus,
    params,
    logger,
    world,
    commands,
    states,
    diagnostics,
    handle,
    sim,
    nowS,
    trueS,
    /** Steps ROS time by ds [s] (negative: backward) without moving true time. */
    stepRosTime: (ds: number) => {
      rosOffsetS += ds;
    },
    /** Stops ROS time where it is (a paused /clock); false lets it run on from there. */
    freezeRosTime: (on: boolean) => {
      if (on) rosFrozenS = rosClock.now();
      else if (rosFrozenS !== undefined) {
        rosOffsetS = rosFrozenS - scheduler.now() / 1000;
        rosFrozenS = undefined;
      }
    },
    /** Moves the watchdog's steady clock ahead by ds [s] at once, as if its process had stalled that long. */
    stepSteady: (ds: number) => {
      steadyOffsetS += ds;
    },
    /** Advances virtual time to t [s] (true time). */
    runTo: (tS: number) => scheduler.advanceTo(Math.round(tS * 1000)),
    runFor: (s: number) => scheduler.advanceTo(Math.round(scheduler.now() + s * 1000)),
    engage: (on = true) => engagePub.publish({ data: on }),
    reset: () => resetPub.publish({}),
    lastCommand: () => commands[commands.length - 1]!,
    lastState: () => states[states.length - 1]!,
    close: () => subs.unsubscribe(),
  };
}
