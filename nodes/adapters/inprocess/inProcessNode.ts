import { Observable, Subject, type SchedulerLike } from 'rxjs';
import { schedulerClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { MessageOf, MessageTypeName } from '../../core/msgs.js';
import type { QosProfile } from '../../core/qos.js';
import type { Publisher, RosNode } from '../../core/transport.js';
import { NO_OVERRIDES, type ParameterOverrides } from '../../core/params/overrides.js';
import type { InProcessBus } from './bus.js';

export interface InProcessNodeOptions {
  name: string;
  namespace?: string;
  logger?: Logger;
  parameterOverrides?: ParameterOverrides;
  /** Defaults to the bus scheduler. */
  scheduler?: SchedulerLike;
  /**
   * ROS time; defaults to the scheduler's time. Tests inject a clock they can step (backward, forward) independently
   * of the scheduler, whose time then plays the true (steady) time that timers run on.
   */
  clock?: Clock;
  /** The steady clock; defaults to the scheduler's time (virtual time never steps). */
  steadyClock?: Clock;
}

/** The seam over an InProcessBus: same node code as on a vehicle, in virtual time. */
export class InProcessNode implements RosNode {
  readonly name: string;
  readonly namespace: string;
  readonly clock: Clock;
  readonly steadyClock: Clock;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  readonly parameterOverrides: ParameterOverrides;
  readonly #shutdown = new Subject<void>();
  readonly shutdown$: Observable<void> = this.#shutdown.asObservable();
  #down = false;

  constructor(
    readonly bus: InProcessBus,
    options: InProcessNodeOptions,
  ) {
    this.name = options.name;
    this.namespace = options.namespace ?? '/';
    this.scheduler = options.scheduler ?? bus.scheduler;
    this.clock = options.clock ?? schedulerClock(this.scheduler);
    this.steadyClock = options.steadyClock ?? schedulerClock(this.scheduler);
    this.logger = options.logger ?? silentLogger;
    this.parameterOverrides = options.parameterOverrides ?? NO_OVERRIDES;
  }

  subscribe<T extends MessageTypeName>(type: T, topic: string, _qos: QosProfile): Observable<MessageOf<T>> {
    return this.bus.messages(topic, type) as Observable<MessageOf<T>>;
  }

  createPublisher<T extends MessageTypeName>(type: T, topic: string, _qos: QosProfile): Publisher<MessageOf<T>> {
    this.bus.messages(topic, type); // registers and type-checks the topic now
    return {
      topic,
      publish: (message) => {
        if (!this.#down) this.bus.publish(topic, type, message, this.name);
      },
    };
  }

  async shutdown(): Promise<void> {
    if (this.#down) return;
    this.#shutdown.next();
    this.#shutdown.complete();
    this.#down = true;
  }
}
