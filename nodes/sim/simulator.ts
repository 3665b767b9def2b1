/**
 * The simulator on any transport: a physics step every 10 ms on the scheduler it is given; the vehicle obeys the
 * latest /vehicle/unicycle_command (zero-order hold) after the warm-up; it publishes /clock every step, odometry and
 * the ground truth at 50 Hz and the cameras, re-rendered from the simulated pose, at 10 Hz; sensor faults (camera
 * dropout, stale odometry, the clock jumping back) are applied as it publishes. `ar1 sim` runs it in process, in
 * virtual time; `ar1 node sim` on rclnodejs, paced by the steady clock.
 */
import { interval, Subscription, type SchedulerLike } from 'rxjs';
import type { UnicycleCommand } from '../core/msgs.js';
import { QOS_COMMAND, QOS_SENSOR } from '../core/qos.js';
import type { RosNode } from '../core/transport.js';
import type { CameraSpec } from '../replay/sample/scene.js';
import type { LoadedScenario, FaultSpec, WatchdogStateName } from './scenario.js';
import { RunMetrics } from './metrics.js';
import { stepVehicle, type VehicleState } from './vehicle.js';
import { cameraImage, clockOffsetS, faultActive, odometryOf, sceneOf, warmupState } from './world.js';

/** [s] physics step; odometry every 2nd step (50 Hz), cameras every 10th (10 Hz), /clock every step. */
export const PHYSICS_DT_S = 0.01;
export const CLOCK_TOPIC = '/clock';
export const GROUND_TRUTH_TOPIC = '/sim/ground_truth/odometry';

interface SimTopics {
  /** One per camera, in `cameras` order (raw sensor_msgs/Image). */
  cameras: readonly string[];
  odometry: string;
  vehicleCommand: string;
  clock: string;
  groundTruth: string;
}

export interface SimulatorOptions {
  loaded: LoadedScenario;
  cameras: readonly CameraSpec[];
  topics: SimTopics;
  width: number;
  height: number;
  /** ROS time of the start [s] (before any clock_backward fault). */
  startS: number;
  /** Render camera frames (default true); off, a flat grey frame. */
  render?: boolean;
  /** The watchdog's state now (in process: its handle; on a graph: the last /ar1/safety_state). */
  watchdogState: () => WatchdogStateName;
  /** Each vehicle command as it arrives, with the simulated time [s from the start]. */
  onCommand?: (tS: number, c: UnicycleCommand) => void;
  /** A watchdog state change seen at a physics step [s from the start]. */
  onStateChange?: (tS: number, from: WatchdogStateName, to: WatchdogStateName) => void;
}

export class Simulator {
  readonly metrics: RunMetrics;
  /** The simulated state at every physics step. */
  readonly truth: VehicleState[] = [];
  readonly reached = new Set<WatchdogStateName>();
  readonly scene;
  #state: VehicleState;
  #step = 0;
  #command = { acceleration: 0, curvature: 0 };
  #lastWd: WatchdogStateName;
  readonly #subs = new Subscription();
  readonly #o: SimulatorOptions;

  constructor(o: SimulatorOptions) {
    const { scenario: sc, road } = o.loaded;
    this.#o = o;
    this.scene = sceneOf(sc, road);
    this.metrics = new RunMetrics(road, sc.route.length_m, sc.obstacles, sc.vehicle);
    this.#state = warmupState(sc, road, 0);
    this.#lastWd = o.watchdogState();
  }

  /** Seconds simulated since the start. */
  get timeS(): number {
    return this.#step * PHYSICS_DT_S;
  }
  get state(): VehicleState {
    return this.#state;
  }
  /** ROS time now: the start plus the simulated time, minus any clock_backward jumps that happened. */
  rosTimeS(): number {
    return this.#o.startS + this.timeS + clockOffsetS(this.#o.loaded.scenario.faults, this.timeS);
  }
  active(kind: FaultSpec['kind'], pred: (f: FaultSpec) => boolean = () => true): boolean {
    return this.#o.loaded.scenario.faults.some((f) => f.kind === kind && pred(f) && faultActive(f, this.timeS));
  }

  /** Subscribes the vehicle command, publishes the first instant, then steps every 10 ms on `scheduler`. */
  start(ros: RosNode, scheduler: SchedulerLike, periodMs = PHYSICS_DT_S * 1000): void {
    const o = this.#o;
    const t = o.topics;
    this.#subs.add(
      ros.subscribe('ar1_msgs/msg/UnicycleCommand', t.vehicleCommand, QOS_COMMAND).subscribe((c) => {
        this.#command = { acceleration: c.acceleration, curvature: c.curvature };
        o.onCommand?.(this.timeS, c);
      }),
    );
    const camPubs = t.cameras.map((topic) => ros.createPublisher('sensor_msgs/msg/Image', topic, QOS_SENSOR));
    const odomPub = ros.createPublisher('nav_msgs/msg/Odometry', t.odometry, QOS_SENSOR);
    const clockPub = ros.createPublisher('rosgraph_msgs/msg/Clock', t.clock, QOS_COMMAND);
    const truthPub = ros.createPublisher('nav_msgs/msg/Odometry', t.groundTruth, QOS_COMMAND);
    const sc = o.loaded.scenario;
    const render = o.render ?? true;
    const publish = () => {
      const tS = this.timeS;
      const ros = this.rosTimeS();
      const sec = Math.floor(ros);
      clockPub.publish({ clock: { sec, nanosec: Math.min(999_999_999, Math.round((ros - sec) * 1e9)) } });
      if (this.#step % 2 === 0) {
        truthPub.publish(odometryOf(this.#state, o.startS + tS, 'world'));
        if (!this.active('stale_odometry')) odomPub.publish(odometryOf(this.#state, ros));
      }
      if (this.#step % 10 === 0) {
        o.cameras.forEach((cam, i) => {
          if (
            this.active(
              'camera_dropout',
              (f) => f.kind === 'camera_dropout' && (f.camera === 'all' || f.camera === cam.name),
            )
          )
            return;
          camPubs[i]!.publish(cameraImage(this.scene, this.#state, cam, o.width, o.height, tS, ros, render));
        });
      }
    };
    this.#observe(0);
    publish();
    this.#subs.add(
      interval(periodMs, scheduler).subscribe(() => {
        this.#step++;
        const tS = this.timeS;
        this.#state =
          tS <= sc.ego.warmup_s + 1e-9
            ? warmupState(sc, o.loaded.road, tS)
            : stepVehicle(this.#state, this.#command, PHYSICS_DT_S, sc.vehicle);
        this.#observe(PHYSICS_DT_S);
        publish();
      }),
    );
  }

  #observe(dt: number): void {
    const wd = this.#o.watchdogState();
    if (wd !== this.#lastWd) {
      this.#o.onStateChange?.(this.timeS, this.#lastWd, wd);
      this.#lastWd = wd;
    }
    this.reached.add(wd);
    this.truth.push(this.#state);
    this.metrics.add(this.timeS, this.#state, dt, wd);
  }

  stop(): void {
    this.#subs.unsubscribe();
  }
}
