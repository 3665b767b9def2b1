/**
 * Reasoning–action consistency, watched: the planner judges every plan's reasoning against its own trajectory and
 * publishes the verdict on /ar1/reasoning; here consecutive inconsistent plans are counted. At
 * consistency.max_consecutive_inconsistent in a row the monitor warns (on_fault: warn, the default: the vehicle keeps
 * driving) or raises reasoning_inconsistent (on_fault: fallback: braking, latched like every fault). A consistent
 * plan ends the run; a not-assessable one (the text names nothing the trajectory settles) neither ends nor extends it.
 */
import { CONSISTENCY, type Reasoning } from '../core/msgs.js';
import { stampToSeconds } from '../core/time.js';
import { badReport, DIAG_LEVEL, fmt, okReport, type MonitorReport } from './faults.js';
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
  if (!t) return [okReport(name, () => 'no reasoning received yet')];
  const { max_consecutive_inconsistent: n, on_fault: onFault } = p.consistency;
  // The counts as they are at this tick (the track keeps counting): the status text is formatted when read.
  const { consecutive } = t;
  const { consistent, inconsistent, not_assessable: notAssessable } = t.counts;
  const judged = consistent + inconsistent;
  const values = () => [
    { key: 'consecutive_inconsistent', value: String(consecutive) },
    { key: 'consistent', value: String(consistent) },
    { key: 'inconsistent', value: String(inconsistent) },
    { key: 'not_assessable', value: String(notAssessable) },
    { key: 'consistency_rate', value: judged ? fmt(consistent / judged, 3) : 'n/a' },
    { key: 'on_fault', value: onFault },
  ];
  const last = t.lastInconsistent;
  const lastText = last ? `last at t0=${fmt(last.t0S, 3)} s: ${last.detail}` : '';
  if (consecutive >= n) {
    const message = `${consecutive} consecutive plans whose reasoning contradicts their trajectory (consistency.max_consecutive_inconsistent ${n}); ${lastText}`;
    if (onFault === 'fallback')
      return [badReport(name, DIAG_LEVEL.error, [{ name: 'reasoning_inconsistent', message }], values)];
    return [okReport(name, () => `${message} (on_fault warn: still driving)`, values, DIAG_LEVEL.warn)];
  }
  if (consecutive > 0)
    return [okReport(name, () => `${consecutive} inconsistent in a row (of ${n}); ${lastText}`, values)];
  return [
    okReport(
      name,
      () => (judged ? `consistent (${consistent} of ${judged} judged plans)` : 'no plan judged yet'),
      values,
    ),
  ];
}
