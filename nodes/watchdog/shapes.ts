/**
 * Shape checks at the subscription boundary: a message missing a field is dropped and counted (the deadline
 * monitors then see the gap), never allowed to throw inside the control tick. Values may still be NaN: those
 * are faults the monitors name ("planner command acceleration is NaN").
 */
export type ShapeKind = 'command' | 'trajectory' | 'timing' | 'reasoning' | 'odometry' | 'stamped' | 'bool';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isNum = (v: unknown): v is number => typeof v === 'number';

function stampProblem(m: unknown): string | undefined {
  if (!isObj(m) || !isObj(m['header']) || !isObj(m['header']['stamp'])) return 'expected header.stamp, got none';
  const s = m['header']['stamp'];
  if (!isNum(s['sec']) || !isNum(s['nanosec']))
    return `expected numeric header.stamp.sec/nanosec, got ${typeof s['sec']}/${typeof s['nanosec']}`;
  return undefined;
}

/** Why a message does not have the shape its type promises, or undefined. */
export function checkShape(kind: ShapeKind, m: unknown): string | undefined {
  if (kind === 'bool') return isObj(m) && typeof m['data'] === 'boolean' ? undefined : 'expected a boolean data field';
  const stamp = stampProblem(m);
  if (stamp) return stamp;
  const o = m as Record<string, unknown>;
  switch (kind) {
    case 'stamped':
      return undefined;
    case 'command':
      for (const k of ['acceleration', 'curvature', 'speed'])
        if (!isNum(o[k])) return `expected number ${k}, got ${typeof o[k]}`;
      return undefined;
    case 'trajectory':
      if (!isNum(o['dt']) || !isNum(o['initial_speed'])) return 'expected number dt and initial_speed';
      if (!Array.isArray(o['points']) || !o['points'].every(isObj)) return 'expected a points array of TrajectoryPoint';
      return undefined;
    case 'timing':
      if (!isNum(o['total_ms']) || !isNum(o['latency_ms'])) return 'expected number total_ms and latency_ms';
      if (typeof o['error'] !== 'string') return 'expected string error';
      return undefined;
    case 'reasoning':
      if (!isNum(o['consistency'])) return `expected number consistency, got ${typeof o['consistency']}`;
      if (typeof o['consistency_detail'] !== 'string') return 'expected string consistency_detail';
      return undefined;
    case 'odometry': {
      const tw =
        isObj(o['twist']) && isObj(o['twist']['twist']) && isObj(o['twist']['twist']['linear'])
          ? o['twist']['twist']['linear']
          : undefined;
      return tw && isNum(tw['x']) ? undefined : 'expected number twist.twist.linear.x';
    }
  }
}
