/**
 * Reasoning–action consistency in the reports of replay, the simulator and the AlpaSim driver: the verdicts the
 * planner published on /ar1/reasoning, paired by t0 with the plans on /ar1/trajectory, summed into a rate, with every
 * inconsistent plan listed with its text and trajectory. Reusable pieces: a collector fed with bus messages, the
 * report.json section, one headline line and one report.html section.
 */
import { CONSISTENCY, type Reasoning, type Trajectory } from '../core/msgs.js';
import { stampToSeconds } from '../core/time.js';
import { round } from './metrics.js';

/** One inconsistent plan, as report.json lists it. */
interface InconsistentPlan {
  t0_s: number;
  text: string;
  detail: string;
  stated: string[];
  planned: string[];
  /** The plan's waypoints (rig frame at t0: x forward, y left) [s, m, m, m/s], rounded to 0.01; empty when not seen. */
  trajectory: { t: number[]; x: number[]; y: number[]; speed: number[]; initial_speed: number | null };
}

/** The report.json section. */
export interface ConsistencySummary {
  /** Plans with a verdict (every published reasoning). */
  plans: number;
  consistent: number;
  inconsistent: number;
  not_assessable: number;
  /** consistent / (consistent + inconsistent), rounded to 0.001; null when no plan could be judged. */
  rate: number | null;
  inconsistent_plans: InconsistentPlan[];
}

const KIND: Record<number, 'consistent' | 'inconsistent' | 'not_assessable'> = {
  [CONSISTENCY.consistent]: 'consistent',
  [CONSISTENCY.inconsistent]: 'inconsistent',
  [CONSISTENCY.not_assessable]: 'not_assessable',
};

const r2 = (v: number) => round(v, 2);

/** Collects verdicts and plans as they are published; summary() pairs them by t0. */
export class ConsistencyCollector {
  readonly #reasoning: Reasoning[] = [];
  readonly #plans = new Map<number, Trajectory>();

  /** A /ar1/reasoning message. */
  reasoning(m: Reasoning): void {
    this.#reasoning.push(m);
  }

  /** A /ar1/trajectory message. */
  trajectory(m: Trajectory): void {
    this.#plans.set(stampToSeconds(m.header.stamp), m);
  }

  summary(): ConsistencySummary {
    const s: ConsistencySummary = {
      plans: 0,
      consistent: 0,
      inconsistent: 0,
      not_assessable: 0,
      rate: null,
      inconsistent_plans: [],
    };
    for (const m of this.#reasoning) {
      const kind = KIND[m.consistency] ?? 'not_assessable';
      s.plans++;
      s[kind]++;
      if (kind !== 'inconsistent') continue;
      const t0S = stampToSeconds(m.header.stamp);
      const plan = this.#plans.get(t0S);
      const pts = plan?.points ?? [];
      s.inconsistent_plans.push({
        t0_s: round(t0S, 3),
        text: m.text,
        detail: m.consistency_detail,
        stated: [...m.stated_actions],
        planned: [...m.planned_actions],
        trajectory: {
          t: pts.map((p) => r2(p.t)),
          x: pts.map((p) => r2(p.x)),
          y: pts.map((p) => r2(p.y)),
          speed: pts.map((p) => r2(p.speed)),
          initial_speed: plan ? r2(plan.initial_speed) : null,
        },
      });
    }
    const judged = s.consistent + s.inconsistent;
    s.rate = judged > 0 ? round(s.consistent / judged, 3) : null;
    return s;
  }
}

/** Adds summaries up (report merge); the list keeps each input's plans in order. */
export function mergeConsistency(parts: readonly ConsistencySummary[]): ConsistencySummary {
  const s: ConsistencySummary = {
    plans: 0,
    consistent: 0,
    inconsistent: 0,
    not_assessable: 0,
    rate: null,
    inconsistent_plans: [],
  };
  for (const p of parts) {
    s.plans += p.plans;
    s.consistent += p.consistent;
    s.inconsistent += p.inconsistent;
    s.not_assessable += p.not_assessable;
    s.inconsistent_plans.push(...p.inconsistent_plans);
  }
  const judged = s.consistent + s.inconsistent;
  s.rate = judged > 0 ? round(s.consistent / judged, 3) : null;
  return s;
}

/** The headline line: "  reasoning  consistent 97.3 % (146 of 150 judged; 4 inconsistent, 35 not assessable)". */
export function consistencyHeadline(s: ConsistencySummary): string {
  const judged = s.consistent + s.inconsistent;
  const rate = s.rate === null ? 'n/a' : `${(s.rate * 100).toFixed(1)} %`;
  return `  reasoning  consistent ${rate} (${s.consistent} of ${judged} judged; ${s.inconsistent} inconsistent, ${s.not_assessable} not assessable)`;
}

const esc = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small bird's-eye path (x forward up, y left left) and speed profile of one plan. */
function planSvg(p: InconsistentPlan, w = 220, h = 120): string {
  const { x, y, speed, t } = p.trajectory;
  if (x.length === 0) return '<svg width="0" height="0"></svg>';
  const reach = Math.max(5, ...x.map(Math.abs), ...y.map(Math.abs));
  const half = w / 4;
  const path = x
    .map(
      (xi, i) =>
        `${(half - (y[i]! / reach) * (half - 4)).toFixed(1)},${(h - 4 - (Math.max(0, xi) / reach) * (h - 8)).toFixed(1)}`,
    )
    .join(' ');
  const vmax = Math.max(1, p.trajectory.initial_speed ?? 0, ...speed);
  const tmax = t[t.length - 1] || 1;
  const sp = speed
    .map(
      (v, i) =>
        `${(w / 2 + 6 + (t[i]! / tmax) * (w / 2 - 10)).toFixed(1)},${(h - 14 - (Math.max(0, v) / vmax) * (h - 24)).toFixed(1)}`,
    )
    .join(' ');
  return (
    `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="plan at t0 ${p.t0_s} s">` +
    `<rect x="0" y="0" width="${w / 2}" height="${h}" fill="#f8f9fa"/><polyline points="${path}" fill="none" stroke="#1c7ed6" stroke-width="2"/>` +
    `<polyline points="${sp}" fill="none" stroke="#e8590c" stroke-width="2"/>` +
    `<text x="${w / 2 + 6}" y="${h - 2}" font-size="9">speed 0–${vmax.toFixed(1)} m/s over ${tmax.toFixed(1)} s</text></svg>`
  );
}

/** The report.html section: the rate and a table of the inconsistent plans (at most `limit`, with the count left out). */
export function consistencyHtml(s: ConsistencySummary, limit = 200): string {
  const judged = s.consistent + s.inconsistent;
  const rate = s.rate === null ? 'n/a' : `${(s.rate * 100).toFixed(1)} %`;
  const rows = s.inconsistent_plans
    .slice(0, limit)
    .map(
      (p) =>
        `<tr><td>${p.t0_s.toFixed(3)}</td><td>${esc(p.text)}</td><td>${esc(p.stated.join(', '))}</td><td>${esc(p.planned.join(', '))}</td>` +
        `<td>${esc(p.detail)}</td><td>${planSvg(p)}</td></tr>`,
    )
    .join('\n');
  const more =
    s.inconsistent_plans.length > limit ? `<p>${s.inconsistent_plans.length - limit} more in report.json.</p>` : '';
  return `<section id="consistency"><h2>Reasoning–action consistency</h2>
<p>Each plan's reasoning text held against its own trajectory: <b>${rate}</b> consistent (${s.consistent} of ${judged} judged plans;
${s.inconsistent} inconsistent; ${s.not_assessable} of ${s.plans} not assessable: the text names nothing the trajectory settles).</p>
${
  s.inconsistent_plans.length
    ? `<table class="consistency"><thead><tr><th>t0 [s]</th><th>reasoning</th><th>text says</th><th>trajectory does</th><th>why</th><th>path (blue) / speed (orange)</th></tr></thead>
<tbody>
${rows}
</tbody></table>${more}`
    : '<p>No inconsistent plan.</p>'
}
</section>`;
}
