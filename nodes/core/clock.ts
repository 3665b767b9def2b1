import type { SchedulerLike } from 'rxjs';

/**
 * The node's view of ROS time, in seconds. On a vehicle it is the ROS clock (system time, or /clock under
 * use_sim_time); in tests and replay it is the virtual-time scheduler. Logic never reads wall-clock time.
 */
export interface Clock {
  /** Current ROS time [s]. 0 means "not started" under sim time (no /clock yet). */
  now(): number;
}

/** A clock that reads an RxJS scheduler whose time unit is milliseconds (the RxJS convention). */
export function schedulerClock(scheduler: SchedulerLike): Clock {
  return { now: () => scheduler.now() / 1000 };
}
