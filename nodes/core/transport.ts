import type { Observable, SchedulerLike } from 'rxjs';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { MessageOf, MessageTypeName } from './msgs.js';
import type { QosProfile } from './qos.js';
import type { ParameterOverrides } from './params/overrides.js';

export interface Publisher<M> {
  readonly topic: string;
  publish(message: M): void;
}

/**
 * The seam: everything a node does with ROS goes through this interface. Two implementations:
 * adapters/rclnodejs (a vehicle or HIL rig) and adapters/inprocess (tests and offline replay, virtual time).
 * Node code never imports an adapter.
 */
export interface RosNode {
  /** Node name without namespace, e.g. "ar1_planner". */
  readonly name: string;
  /** Namespace, "/" when none. */
  readonly namespace: string;
  /** ROS time of this node: sim time under use_sim_time. */
  readonly clock: Clock;
  /**
   * A steady (monotonic) clock, independent of ROS time: it never steps, whatever the system clock or /clock do.
   * Liveness (receipt gaps and rates) is judged on it. Optional: a transport without one leaves it undefined.
   */
  readonly steadyClock?: Clock;
  /**
   * A scheduler on the steady clock (ms): timers that must keep firing when ROS time stops or steps, such as the
   * watchdog's control loop under a simulator that hangs. Optional: without one, ROS-time timers are used. In
   * virtual time (tests, replay) it is the same scheduler as `scheduler`.
   */
  readonly steadyScheduler?: SchedulerLike;
  /** Scheduler whose now() is the node clock in milliseconds; all timers of node logic run on it. */
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  /** Parameter values given at start-up (params files, -p overrides), before schema validation. */
  readonly parameterOverrides: ParameterOverrides;

  /** A hot Observable of messages on a topic; unsubscribing destroys the subscription. */
  subscribe<T extends MessageTypeName>(type: T, topic: string, qos: QosProfile): Observable<MessageOf<T>>;
  createPublisher<T extends MessageTypeName>(type: T, topic: string, qos: QosProfile): Publisher<MessageOf<T>>;
  /** Completes when the node is shut down (signal, launch, or shutdown()). */
  readonly shutdown$: Observable<void>;
  shutdown(): Promise<void>;
}
