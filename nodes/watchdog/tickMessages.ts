/**
 * The messages one control tick publishes: the vehicle command, ar1_msgs/SafetyState and, at diagnostics_rate_hz and
 * on every transition, the DiagnosticArray. Each is stamped with the tick's ROS time.
 */
import {
  SAFETY_STATE,
  UNICYCLE_SOURCE,
  type DiagnosticArray,
  type DiagnosticStatus,
  type SafetyState,
  type Time,
  type UnicycleCommand,
} from '../core/msgs.js';
import { secondsToStamp } from '../core/time.js';
import { DIAG_LEVEL } from './faults.js';
import type { TickResult } from './watchdogCore.js';

/** ar1_msgs/UnicycleCommand for the vehicle: the tick's gated command and its source. */
export function vehicleCommandOf(r: TickResult, nowS: number): UnicycleCommand {
  return {
    header: { stamp: headerStampAt(nowS), frame_id: '' },
    acceleration: r.command.accel,
    curvature: r.command.curvature,
    speed: r.command.speed,
    source: UNICYCLE_SOURCE[r.command.source],
  };
}

/** diagnostic_msgs/DiagnosticArray for one tick: one status per monitored input, plus limits and state. */
export function diagnosticsOf(r: TickResult, nowS: number, nodeName: string): DiagnosticArray {
  const status: DiagnosticStatus[] = r.reports.map((m) => ({
    level: m.level,
    name: `${nodeName}: ${m.name}`,
    message: m.message,
    hardware_id: nodeName,
    values: [...m.values],
  }));
  status.push({
    level: r.fired.length ? DIAG_LEVEL.warn : DIAG_LEVEL.ok,
    name: `${nodeName}: limits`,
    message: r.fired.length ? `clamped: ${r.fired.join(', ')}` : 'no limit clamped',
    hardware_id: nodeName,
    values: [
      { key: 'limits_active', value: r.fired.join(',') },
      { key: 'acceleration_mps2', value: String(r.command.accel) },
      { key: 'curvature_pm', value: String(r.command.curvature) },
    ],
  });
  const s = r.core.state;
  status.push({
    level: s === 'fallback' ? DIAG_LEVEL.error : s === 'stopped' ? DIAG_LEVEL.warn : DIAG_LEVEL.ok,
    name: `${nodeName}: state`,
    message: `${s}: ${r.core.reason}`,
    hardware_id: nodeName,
    values: [
      { key: 'state', value: s },
      { key: 'source', value: r.command.source },
      { key: 'profile', value: r.core.profile },
    ],
  });
  return { header: { stamp: headerStampAt(nowS), frame_id: '' }, status };
}

/** ar1_msgs/SafetyState: reasons = the latched reason in fallback/stopped, then every active fault. */
export function safetyStateOf(r: TickResult, nowS: number): SafetyState {
  const s = r.core.state;
  const active = r.faults.map((f) => f.message);
  const reasons =
    (s === 'fallback' || s === 'stopped') && !active.includes(r.core.reason) ? [r.core.reason, ...active] : active;
  return {
    header: { stamp: headerStampAt(nowS), frame_id: '' },
    state: SAFETY_STATE[s],
    state_name: s,
    reasons,
    limits_active: [...r.fired],
    plan_age_s: r.planAgeS,
    last_latency_ms: r.lastLatencyMs,
  };
}

/** The header stamp of a message published at ROS time nowS [s]; a non-finite or negative clock (a fault) stamps 0. */
function headerStampAt(nowS: number): Time {
  return secondsToStamp(Number.isFinite(nowS) && nowS > 0 ? nowS : 0);
}
