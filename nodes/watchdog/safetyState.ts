import type { SafetyStateName } from '../core/msgs.js';

/**
 * The watchdog's state machine as a table (openpilot state.py style): pure, no clock, no I/O. The node reduces
 * each tick's conditions to ONE event by a fixed priority (eventOf), then NEXT[state][event] is the next state.
 */
export type WatchdogState = SafetyStateName; // 'disengaged' | 'nominal' | 'fallback' | 'stopped'
export const STATES: readonly WatchdogState[] = ['disengaged', 'nominal', 'fallback', 'stopped'];

export type SafetyEvent =
  | 'disengage' // operator engage=false
  | 'fault_moving' // some monitor faulted, vehicle not known to be stopped
  | 'fault_stopped' // some monitor faulted, vehicle stopped
  | 'reset_moving' // operator reset, all healthy, vehicle moving or speed unknown (refused)
  | 'reset_stopped' // operator reset (or auto_recover), all healthy, vehicle stopped
  | 'engage' // operator engage=true (or auto_engage), all healthy
  | 'moving' // healthy, nothing requested, vehicle moving or speed unknown
  | 'standstill'; // healthy, nothing requested, vehicle stopped
export const EVENTS: readonly SafetyEvent[] = [
  'disengage',
  'fault_moving',
  'fault_stopped',
  'reset_moving',
  'reset_stopped',
  'engage',
  'moving',
  'standstill',
];

/** The conditions of one tick. */
export interface TickConditions {
  disengageRequested: boolean;
  engageRequested: boolean;
  resetRequested: boolean;
  faulted: boolean;
  /** True only when fresh odometry says |v| <= standstill_speed_mps. */
  standstill: boolean;
}

/** Priority: an operator disengage first (openpilot's USER_DISABLE), then faults (they refuse reset and engage). */
export function eventOf(c: TickConditions): SafetyEvent {
  if (c.disengageRequested) return 'disengage';
  if (c.faulted) return c.standstill ? 'fault_stopped' : 'fault_moving';
  if (c.resetRequested) return c.standstill ? 'reset_stopped' : 'reset_moving';
  if (c.engageRequested) return 'engage';
  return c.standstill ? 'standstill' : 'moving';
}

const D = 'disengaged',
  N = 'nominal',
  F = 'fallback',
  S = 'stopped';
/**
 * - disengaged: only a healthy engage leaves it (moving or not: replay and drive-off engagement).
 * - nominal: any fault brakes; disengage hands back (and still brakes to a stop if moving, see node output).
 * - fallback: LATCHED. Disengage is refused (the stop completes first); only a healthy reset at standstill, or
 *   standstill itself (→ stopped), leaves it.
 * - stopped: holds; moving again (rolling) brakes again; a healthy reset at standstill resumes nominal.
 */
const NEXT: Readonly<Record<WatchdogState, Readonly<Record<SafetyEvent, WatchdogState>>>> = {
  //            disengage    fault_moving   fault_stopped  reset_moving   reset_stopped  engage     moving    standstill
  disengaged: {
    disengage: D,
    fault_moving: D,
    fault_stopped: D,
    reset_moving: D,
    reset_stopped: D,
    engage: N,
    moving: D,
    standstill: D,
  },
  nominal: {
    disengage: D,
    fault_moving: F,
    fault_stopped: F,
    reset_moving: N,
    reset_stopped: N,
    engage: N,
    moving: N,
    standstill: N,
  },
  fallback: {
    disengage: F,
    fault_moving: F,
    fault_stopped: S,
    reset_moving: F,
    reset_stopped: N,
    engage: F,
    moving: F,
    standstill: S,
  },
  stopped: {
    disengage: D,
    fault_moving: F,
    fault_stopped: S,
    reset_moving: F,
    reset_stopped: N,
    engage: S,
    moving: F,
    standstill: S,
  },
};

export function step(state: WatchdogState, event: SafetyEvent): WatchdogState {
  return NEXT[state][event];
}
