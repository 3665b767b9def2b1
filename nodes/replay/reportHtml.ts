import { consistencyHtml } from './consistencyReport.js';
import type { ComputeJson, ReportJson } from './report.js';

export interface Snapshot {
  t0S: number;
  reasoning: string;
  v0: number;
  /** Samples in the rig frame at t0, the driven plan first. */
  samples: Array<{ x: ArrayLike<number>; y: ArrayLike<number> }>;
  actual: Array<{ x: number; y: number } | null>;
  ade: number | undefined;
}

export interface HtmlData {
  report: ReportJson;
  compute: ComputeJson;
  /** Measured total compute per plan [ms]. */
  computeTotals: number[];
  snapshots: Snapshot[];
  errorByStep: { t: number[]; mean: Array<number | null> };
  timeline: {
    startS: number;
    endS: number;
    states: Array<{ fromS: number; toS: number; state: string }>;
    commands: Array<{ tS: number; accel: number; source: string }>;
  };
}

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '–');
export const STATE_COLOURS: Record<string, string> = {
  disengaged: '#9aa5b1',
  nominal: '#2f9e44',
  fallback: '#e8590c',
  stopped: '#c92a2a',
};
export const SOURCE_COLOURS: Record<string, string> = { planner: '#1c7ed6', fallback: '#e8590c', hold: '#c92a2a' };

/** Bird's-eye view: x forward is up, y left is left, like looking down from above the car. */
function birdsEye(s: Snapshot, size = 260): string {
  const pts: Array<[number, number]> = [];
  for (const smp of s.samples) for (let i = 0; i < smp.x.length; i++) pts.push([smp.x[i]!, smp.y[i]!]);
  for (const a of s.actual) if (a) pts.push([a.x, a.y]);
  pts.push([0, 0]);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const span = Math.max(10, Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) * 1.15;
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2;
  const cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  const k = size / span;
  const sx = (y: number) => size / 2 - (y - cy) * k;
  const sy = (x: number) => size / 2 - (x - cx) * k;
  const line = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    const p: string[] = [`${f(sx(0), 1)},${f(sy(0), 1)}`];
    for (let i = 0; i < x.length; i++) p.push(`${f(sx(y[i]!), 1)},${f(sy(x[i]!), 1)}`);
    return p.join(' ');
  };
  const actual: string[] = [];
  let run: string[] = [`${f(sx(0), 1)},${f(sy(0), 1)}`];
  for (const a of s.actual) {
    if (!a) {
      if (run.length > 1) actual.push(run.join(' '));
      run = [];
      continue;
    }
    run.push(`${f(sx(a.y), 1)},${f(sy(a.x), 1)}`);
  }
  if (run.length > 1) actual.push(run.join(' '));
  const grid = Math.pow(10, Math.floor(Math.log10(span / 2)));
  const gridLines: string[] = [];
  for (let g = Math.ceil((cx - span / 2) / grid) * grid; g <= cx + span / 2; g += grid)
    gridLines.push(`<line x1="0" x2="${size}" y1="${f(sy(g), 1)}" y2="${f(sy(g), 1)}"/>`);
  for (let g = Math.ceil((cy - span / 2) / grid) * grid; g <= cy + span / 2; g += grid)
    gridLines.push(`<line y1="0" y2="${size}" x1="${f(sx(g), 1)}" x2="${f(sx(g), 1)}"/>`);
  return `<svg viewBox="0 0 ${size} ${size}" width="${size}" height="${size}" role="img" aria-label="plan at t0 ${f(s.t0S, 1)} s">
<rect width="${size}" height="${size}" fill="#fbfbfd"/>
<g stroke="#e6e8eb" stroke-width="1">${gridLines.join('')}</g>
${s.samples
  .slice(1)
  .map((m) => `<polyline points="${line(m.x, m.y)}" fill="none" stroke="#a5d8ff" stroke-width="1.5"/>`)
  .join('\n')}
${actual.map((p) => `<polyline points="${p}" fill="none" stroke="#495057" stroke-width="3" stroke-dasharray="6 4"/>`).join('\n')}
${s.samples[0] ? `<polyline points="${line(s.samples[0].x, s.samples[0].y)}" fill="none" stroke="#1c7ed6" stroke-width="2.5"/>` : ''}
<polygon points="${f(sx(0), 1)},${f(sy(0) - 8, 1)} ${f(sx(0) - 5, 1)},${f(sy(0) + 6, 1)} ${f(sx(0) + 5, 1)},${f(sy(0) + 6, 1)}" fill="#212529"/>
<text x="6" y="${size - 6}" font-size="10" fill="#868e96">grid ${grid} m</text>
</svg>`;
}

function lineChart(
  xs: number[],
  ys: Array<number | null>,
  opts: { w?: number; h?: number; xLabel: string; yLabel: string; colour?: string },
): string {
  const w = opts.w ?? 520;
  const h = opts.h ?? 200;
  const m = { l: 46, r: 10, t: 10, b: 34 };
  const valid = ys.filter((v): v is number => v !== null && Number.isFinite(v));
  const yMax = Math.max(1e-6, ...valid) * 1.1;
  const xMax = Math.max(1e-6, ...xs);
  const px = (x: number) => m.l + (x / xMax) * (w - m.l - m.r);
  const py = (y: number) => h - m.b - (y / yMax) * (h - m.t - m.b);
  const pts = xs
    .map((x, i) => (ys[i] === null || !Number.isFinite(ys[i]!) ? null : `${f(px(x), 1)},${f(py(ys[i]!), 1)}`))
    .filter(Boolean)
    .join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (u) =>
        `<text x="${m.l - 4}" y="${f(py(u * yMax) + 3, 1)}" text-anchor="end" font-size="10">${f(u * yMax, 2)}</text><line x1="${m.l}" x2="${w - m.r}" y1="${f(py(u * yMax), 1)}" y2="${f(py(u * yMax), 1)}" stroke="#eee"/>`,
    )
    .join('');
  const xt = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (u) =>
        `<text x="${f(px(u * xMax), 1)}" y="${h - m.b + 14}" text-anchor="middle" font-size="10">${f(u * xMax, 1)}</text>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">${ticks}${xt}
<polyline points="${pts}" fill="none" stroke="${opts.colour ?? '#1c7ed6'}" stroke-width="2"/>
<text x="${(w + m.l) / 2}" y="${h - 4}" text-anchor="middle" font-size="11">${esc(opts.xLabel)}</text>
<text x="12" y="${(h - m.b) / 2}" font-size="11" transform="rotate(-90 12 ${(h - m.b) / 2})" text-anchor="middle">${esc(opts.yLabel)}</text></svg>`;
}

function histogram(values: number[], opts: { w?: number; h?: number; bins?: number; xLabel: string }): string {
  const w = opts.w ?? 520;
  const h = opts.h ?? 200;
  if (values.length === 0) return '<p class="muted">no plans</p>';
  const bins = opts.bins ?? 30;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const width = (hi - lo) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
  const cMax = Math.max(...counts);
  const m = { l: 40, r: 10, t: 10, b: 34 };
  const bw = (w - m.l - m.r) / bins;
  const bars = counts
    .map((c, i) => {
      const bh = (c / cMax) * (h - m.t - m.b);
      return `<rect x="${f(m.l + i * bw, 1)}" y="${f(h - m.b - bh, 1)}" width="${f(bw - 1, 1)}" height="${f(bh, 1)}" fill="#7950f2"><title>${f(lo + i * width, 1)}–${f(lo + (i + 1) * width, 1)} ms: ${c}</title></rect>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">${bars}
<text x="${m.l}" y="${h - m.b + 14}" font-size="10">${f(lo, 1)}</text><text x="${w - m.r}" y="${h - m.b + 14}" font-size="10" text-anchor="end">${f(hi, 1)}</text>
<text x="${m.l - 4}" y="${m.t + 8}" font-size="10" text-anchor="end">${cMax}</text>
<text x="${(w + m.l) / 2}" y="${h - 4}" text-anchor="middle" font-size="11">${esc(opts.xLabel)}</text></svg>`;
}

export function timelineSvg(t: HtmlData['timeline'], w = 1040, h = 170): string {
  const span = Math.max(1e-3, t.endS - t.startS);
  const m = { l: 46, r: 10 };
  const px = (s: number) => m.l + ((s - t.startS) / span) * (w - m.l - m.r);
  const bands = t.states
    .map(
      (s) =>
        `<rect x="${f(px(s.fromS), 1)}" y="4" width="${f(Math.max(1, px(s.toS) - px(s.fromS)), 1)}" height="22" fill="${STATE_COLOURS[s.state] ?? '#ced4da'}"><title>${esc(s.state)} ${f(s.fromS - t.startS, 2)}–${f(s.toS - t.startS, 2)} s</title></rect>`,
    )
    .join('');
  const aMin = -4;
  const aMax = 3;
  const py = (a: number) => 40 + ((aMax - Math.max(aMin, Math.min(aMax, a))) / (aMax - aMin)) * (h - 70);
  const dots = t.commands
    .map(
      (c) =>
        `<circle cx="${f(px(c.tS), 1)}" cy="${f(py(c.accel), 1)}" r="1.6" fill="${SOURCE_COLOURS[c.source] ?? '#000'}"/>`,
    )
    .join('');
  const axis = [-4, -2, 0, 2]
    .map(
      (a) =>
        `<line x1="${m.l}" x2="${w - m.r}" y1="${f(py(a), 1)}" y2="${f(py(a), 1)}" stroke="#eee"/><text x="${m.l - 4}" y="${f(py(a) + 3, 1)}" font-size="10" text-anchor="end">${a}</text>`,
    )
    .join('');
  const xt = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (u) =>
        `<text x="${f(m.l + u * (w - m.l - m.r), 1)}" y="${h - 6}" font-size="10" text-anchor="middle">${f(u * span, 1)} s</text>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${w} ${h}" width="100%" preserveAspectRatio="none">${axis}${bands}${dots}${xt}
<text x="4" y="20" font-size="10">state</text><text x="4" y="${f(py(0) - 6, 1)}" font-size="10">m/s²</text></svg>`;
}

/** A self-contained page (no external assets): headline figures, plans, errors, latency, watchdog timeline. */
export function renderReportHtml(d: HtmlData): string {
  const r = d.report;
  const mt = r.metrics;
  const dropped = Object.entries(r.frames.dropped);
  const metricRows = Object.keys(mt.plans_scored)
    .map(
      (h) =>
        `<tr><td>${esc(h)} s</td><td>${f(mt.ade[h] ?? NaN, 3)}</td><td>${f(mt.fde[h] ?? NaN, 3)}</td><td>${f(mt.min_ade[h] ?? NaN, 3)}</td><td>${f(mt.min_fde[h] ?? NaN, 3)}</td><td>${mt.plans_scored[h]}</td></tr>`,
    )
    .join('');
  const stages = Object.entries(d.compute.stages_ms)
    .map(
      ([k, p]) =>
        `<tr><td>${esc(k)}</td><td>${f(p.p50, 1)}</td><td>${f(p.p99, 1)}</td><td>${f(p.max, 1)}</td><td>${p.count}</td></tr>`,
    )
    .join('');
  const transitions =
    r.watchdog.transitions
      .map(
        (t) =>
          `<tr><td>${f(t.time_s - d.timeline.startS, 2)}</td><td>${esc(t.from)}</td><td>${esc(t.to)}</td><td>${esc(t.reason)}</td></tr>`,
      )
      .join('') || '<tr><td colspan="4" class="muted">no transitions</td></tr>';
  const snaps = d.snapshots
    .map(
      (s) =>
        `<figure class="plan">${birdsEye(s)}<figcaption><b>t0 = ${f(s.t0S - d.timeline.startS, 1)} s</b> · v0 ${f(s.v0, 1)} m/s${s.ade !== undefined ? ` · ADE@6.4 ${f(s.ade, 2)} m` : ''}<br><q>${esc(s.reasoning)}</q></figcaption></figure>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ar1 replay — ${esc(r.bag.path)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#212529;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dee2e6;padding-bottom:4px}
.muted{color:#868e96}.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #dee2e6;border-radius:8px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}table{border-collapse:collapse;margin:6px 0}td,th{border-bottom:1px solid #eee;padding:3px 10px;text-align:left}
.plans{display:flex;flex-wrap:wrap;gap:14px}.plan{margin:0;width:270px}.plan figcaption{font-size:12px}q{color:#364fc7}
.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:18px;height:4px;vertical-align:middle;margin-right:4px}
</style></head><body>
<h1>AR1 replay report</h1>
<div class="muted">${esc(r.bag.path)} · ${f(r.bag.duration_s, 1)} s · bundle ${esc(r.bundle)} on ${esc(d.compute.provider)} · seed ${r.seed} · ${r.samples} sample(s) · latency ${r.latency_model.mode === 'fixed' ? `${r.latency_model.ms} ms fixed` : 'measured'} · ar1-ros ${esc(r.ar1_ros_version)}</div>
<div class="cards" style="margin-top:12px">
<div class="card">frames received<b>${r.frames.received}</b></div>
<div class="card">frames planned<b>${r.frames.planned}</b></div>
<div class="card">plans published<b>${r.plans.published}</b>${r.plans.errors ? `<span>${r.plans.errors} errors</span>` : ''}</div>
<div class="card">ADE @6.4 s<b>${f(mt.ade['6.4'] ?? NaN, 2)} m</b></div>
<div class="card">minADE${r.samples} @6.4 s<b>${f(mt.min_ade['6.4'] ?? NaN, 2)} m</b></div>
${r.consistency ? `<div class="card">reasoning consistent<b>${r.consistency.rate === null ? 'n/a' : `${f(r.consistency.rate * 100, 1)} %`}</b><span>${r.consistency.inconsistent} inconsistent</span></div>\n` : ''}<div class="card">watchdog final<b style="color:${STATE_COLOURS[r.watchdog.final_state] ?? '#000'}">${esc(r.watchdog.final_state)}</b></div>
</div>
${r.bag.problems.length ? `<p style="color:#c92a2a">Input problems: ${r.bag.problems.map(esc).join('; ')}</p>` : ''}
<h2>Predicted vs actual paths</h2>
<div class="legend muted"><span><i class="sw" style="background:#1c7ed6"></i>driven plan</span><span><i class="sw" style="background:#a5d8ff"></i>other samples</span><span><i class="sw" style="background:#495057"></i>actual path (odometry)</span> · x forward is up, bird's-eye, rig frame at t0</div>
<div class="plans">${snaps || '<p class="muted">no plans</p>'}</div>
<h2>Error over the horizon</h2>
<table><tr><th>horizon</th><th>ADE [m]</th><th>FDE [m]</th><th>minADE [m]</th><th>minFDE [m]</th><th>plans</th></tr>${metricRows}</table>
${lineChart(d.errorByStep.t, d.errorByStep.mean, { xLabel: 'time after t0 [s]', yLabel: 'mean L2 error [m]' })}
<h2>Compute latency (measured on this machine)</h2>
${histogram(d.computeTotals, { xLabel: 'total plan compute [ms]' })}
<table><tr><th>stage</th><th>p50 [ms]</th><th>p99 [ms]</th><th>max [ms]</th><th>plans</th></tr>${stages}</table>
<h2>Watchdog timeline</h2>
<div class="legend muted">${Object.entries(STATE_COLOURS)
    .map(([k, c]) => `<span><i class="sw" style="background:${c};height:10px"></i>${k}</span>`)
    .join('')} · dots: acceleration sent to the vehicle, ${Object.entries(SOURCE_COLOURS)
    .map(([k, c]) => `<span style="color:${c}">${k}</span>`)
    .join(', ')}</div>
${timelineSvg(d.timeline)}
<table><tr><th>t [s]</th><th>from</th><th>to</th><th>reason</th></tr>${transitions}</table>
${r.consistency ? consistencyHtml(r.consistency) : ''}
<h2>Accounting</h2>
<table><tr><th>commands to the vehicle</th><td>planner ${r.commands.planner} · fallback ${r.commands.fallback} · hold ${r.commands.hold}</td></tr>
<tr><th>frames dropped</th><td>${dropped.length ? dropped.map(([k, v]) => `${esc(k)} ${v}`).join(' · ') : 'none'}</td></tr></table>
</body></html>
`;
}
