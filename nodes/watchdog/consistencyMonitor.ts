/**
 * Reasoning–action consistency, watched: the planner judges every plan's reasoning against its own trajectory and
 * publishes the verdict on /ar1/reasoning; here consecutive inconsistent plans are counted. At
 * consistency.max_consecutive_inconsistent in a row the monitor warns (on_fault: warn, the default: the vehicle keeps
 * driving) or raises reasoning_inconsistent (on_fault: fallback: braking, latched like every fault). A consistent
 * plan ends the run; a not-assessable one (the text names nothing the trajectory settles) neither ends nor extends it.
 */
import { CONSISTENCY, type Reasoning } from '../core/msgs.js';
import { stampToSeconds } from '../core/time.js';
import { DIAG_LEVEL, fmt, type MonitorReport } from './faults.js';
import type { ConsistencyTrack, TickClocks, WatchdogInputs } from './inputs.js';
import type { WatchdogParams } from './params.js';

const KIND_OF: Record<number, keyof ConsistencyTrack['counts']> = {
  [CONSISTENCY.consistent]: 'consistent',
  [CONSISTENCY.inconsistent]: 'inconsistent',
  [CONSISTENCY.not_assessable]: 'not_assessable',
};

/** Counts one verdict. An unknown consistency value counts as not assessable. */
export function noteReasoning(i: WatchdogInputs, m: Reasoning): void {
  const t = (i.reasoning ??= { consecutive: 0, counts: { consistent: 0, inconsistent: 0, not_assessable: 0 } });
  const kind = KIND_OF[m.consistency] ?? 'not_assessable';
  t.counts[kind]++;
  if (kind === 'consistent') t.consecutive = 0;
  if (kind === 'inconsistent') {
    t.consecutive++;
    t.lastInconsistent = { t0S: stampToSeconds(m.header.stamp), detail: m.consistency_detail };
  }
}

export function consistencyMonitor(i: WatchdogInputs, _clocks: TickClocks, p: WatchdogParams): MonitorReport[] {
  const name = 'reasoning consistency';
  const t = i.reasoning;
  if (!t) return [{ name, level: DIAG_LEVEL.ok, message: 'no reasoning received yet', values: [], faults: [] }];
  const { max_consecutive_inconsistent: n, on_fault: onFault } = p.consistency;
  const c = t.counts;
  const judged = c.consistent + c.inconsistent;
  const values = [
    { key: 'consecutive_inconsistent', value: String(t.consecutive) },
    { key: 'consistent', value: String(c.consistent) },
    { key: 'inconsistent', value: String(c.inconsistent) },
    { key: 'not_assessable', value: String(c.not_assessable) },
    { key: 'consistency_rate', value: judged ? fmt(c.consistent / judged, 3) : 'n/a' },
    { key: 'on_fault', value: onFault },
  ];
  const last = t.lastInconsistent;
  const lastText = last ? `last at t0=${fmt(last.t0S, 3)} s: ${last.detail}` : '';
  if (t.consecutive >= n) {
    const message = `${t.consecutive} consecutive plans whose reasoning contradicts their trajectory (consistency.max_consecutive_inconsistent ${n}); ${lastText}`;
    if (onFault === 'fallback')
      return [
        { name, level: DIAG_LEVEL.error, message, values, faults: [{ name: 'reasoning_inconsistent', message }] },
      ];
    return [{ name, level: DIAG_LEVEL.warn, message: `${message} (on_fault warn: still driving)`, values, faults: [] }];
  }
  if (t.consecutive > 0)
    return [
      {
        name,
        level: DIAG_LEVEL.ok,
        message: `${t.consecutive} inconsistent in a row (of ${n}); ${lastText}`,
        values,
        faults: [],
      },
    ];
  return [
    {
      name,
      level: DIAG_LEVEL.ok,
      message: judged ? `consistent (${c.consistent} of ${judged} judged plans)` : 'no plan judged yet',
      values,
      faults: [],
    },
  ];
}
