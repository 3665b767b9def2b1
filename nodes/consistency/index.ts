/**
 * Reasoning–action consistency: meta-actions from a plan's trajectory, claims from its reasoning text, and the
 * per-plan verdict. Pure; used by ar1_planner (published on /ar1/reasoning), ar1_watchdog (counts inconsistent plans),
 * and the replay / closed-loop reports.
 */
import type { PlanTrajectory } from '../core/planningEngine.js';
import type { Trajectory } from '../core/msgs.js';
import type { TrajectoryLike } from './metaActions.js';

export * from './metaActions.js';
export * from './textActions.js';
export * from './verdict.js';

/** The rule input of an engine result: its first trajectory and v0. */
export function trajectoryOfPlan(tr: PlanTrajectory, v0: number): TrajectoryLike {
  return { dt: tr.dt, initialSpeed: v0, x: tr.x, y: tr.y, heading: tr.heading, speed: tr.speed };
}

/** The rule input of an ar1_msgs/Trajectory. */
export function trajectoryOfMsg(m: Trajectory): TrajectoryLike {
  return {
    dt: m.dt,
    initialSpeed: m.initial_speed,
    x: m.points.map((p) => p.x),
    y: m.points.map((p) => p.y),
    heading: m.points.map((p) => p.heading),
    speed: m.points.map((p) => p.speed),
  };
}
