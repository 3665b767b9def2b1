/**
 * report.html of one closed-loop run: the verdict and its checks, a bird's-eye view of the executed path on the road
 * against the plans, metrics over time, camera frames at key moments and the watchdog timeline. Self-contained.
 */
import sharp from 'sharp';
import { esc, f, SOURCE_COLOURS, STATE_COLOURS, timelineSvg } from '../replay/reportHtml.js';
import { renderCamera, type CameraSpec, type Scene } from '../replay/sample/scene.js';
import type { SeriesPoint } from './metrics.js';
import type { Road } from './road.js';
import type { SimReport } from './simReport.js';
import { consistencyHtml } from '../replay/consistencyReport.js';
import { egoCorners, type VehicleParams, type VehicleState } from './vehicle.js';

export interface PlanDrawing {
  t0S: number;
  points: Array<[number, number]>;
}

export interface SimHtmlData {
  report: SimReport;
  road: Road;
  scene: Scene;
  series: SeriesPoint[];
  plans: PlanDrawing[];
  commands: Array<{ tS: number; accel: number; source: string }>;
  /** The simulated state at every physics step. */
  truth: VehicleState[];
  cameras: CameraSpec[];
  width: number;
  height: number;
  vehicle: VehicleParams;
  dtS: number;
  warmupS: number;
  routeLengthM: number;
  laneOffsetM: number;
}

/** World view: x east to the right, y north up, fitted to the route and what was driven. */
function birdsEye(d: SimHtmlData, size = 640): string {
  const half = d.road.halfWidth;
  const edge = (off: number) => {
    const pts: Array<[number, number]> = [];
    for (let s = 0; s <= d.road.length; s += 2) {
      const p = d.road.poseAt(s, off);
      pts.push([p.x, p.y]);
    }
    return pts;
  };
  const left = edge(half);
  const right = edge(-half);
  const route: Array<[number, number]> = [];
  for (let s = 0; s <= d.routeLengthM; s += 2) {
    const p = d.road.poseAt(s, d.laneOffsetM);
    route.push([p.x, p.y]);
  }
  const driven = d.series.map((p) => [p.x, p.y] as [number, number]);
  const all = [...route, ...driven];
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const span = Math.max(20, Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) * 1.1 + 2 * half;
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2;
  const cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  const k = size / span;
  const px = (x: number) => size / 2 + (x - cx) * k;
  const py = (y: number) => size / 2 - (y - cy) * k;
  const pl = (pts: Array<[number, number]>) => pts.map(([x, y]) => `${f(px(x), 1)},${f(py(y), 1)}`).join(' ');
  const roadPoly = `${pl(left)} ${pl([...right].reverse())}`;
  // The executed path, coloured by the watchdog state.
  const runs: string[] = [];
  for (let i = 1; i < d.series.length; i++) {
    const a = d.series[i - 1]!;
    const b = d.series[i]!;
    runs.push(
      `<line x1="${f(px(a.x), 1)}" y1="${f(py(a.y), 1)}" x2="${f(px(b.x), 1)}" y2="${f(py(b.y), 1)}" stroke="${STATE_COLOURS[b.state] ?? '#000'}" stroke-width="3"/>`,
    );
  }
  const plans = d.plans
    .map(
      (p) =>
        `<polyline points="${pl(p.points)}" fill="none" stroke="#1c7ed6" stroke-opacity="0.55" stroke-width="1.2"><title>plan at ${f(p.t0S, 1)} s</title></polyline>`,
    )
    .join('');
  const b = d.scene.barrier;
  const barrier = b
    ? (() => {
        const nx = -Math.sin(b.yaw),
          ny = Math.cos(b.yaw);
        return `<line x1="${f(px(b.x + nx * b.halfWidth), 1)}" y1="${f(py(b.y + ny * b.halfWidth), 1)}" x2="${f(px(b.x - nx * b.halfWidth), 1)}" y2="${f(py(b.y - ny * b.halfWidth), 1)}" stroke="#c92a2a" stroke-width="4"><title>barrier${Number.isFinite(b.untilS) ? `, lifts at ${f(b.untilS, 1)} s` : ''}</title></line>`;
      })()
    : '';
  const last = d.truth[d.truth.length - 1];
  const car = last ? `<polygon points="${pl(egoCorners(last, d.vehicle))}" fill="#212529"/>` : '';
  const grid = Math.pow(10, Math.floor(Math.log10(span / 2)));
  return `<svg viewBox="0 0 ${size} ${size}" width="${size}" height="${size}" role="img" aria-label="bird's-eye view of the run">
<rect width="${size}" height="${size}" fill="#e9f2e4"/>
<polygon points="${roadPoly}" fill="#d9d9d3" stroke="#adb5bd"/>
<polyline points="${pl(route)}" fill="none" stroke="#868e96" stroke-dasharray="6 5" stroke-width="1"/>
${plans}
${runs.join('')}
${barrier}${car}
<text x="6" y="${size - 6}" font-size="11" fill="#495057">grid ${grid} m · road ${f(2 * half, 1)} m wide</text>
</svg>`;
}

/** Several signed series against time, one colour each. */
function chart(
  t: number[],
  series: Array<{ label: string; colour: string; ys: Array<number | null> }>,
  yLabel: string,
  w = 1040,
  h = 200,
): string {
  const m = { l: 50, r: 10, t: 10, b: 30 };
  const vals = series.flatMap((s) => s.ys).filter((v): v is number => v !== null && Number.isFinite(v));
  let lo = Math.min(0, ...vals);
  let hi = Math.max(0, ...vals);
  if (hi - lo < 1e-6) {
    lo -= 1;
    hi += 1;
  }
  const tMax = Math.max(1e-6, ...t);
  const px = (x: number) => m.l + (x / tMax) * (w - m.l - m.r);
  const py = (y: number) => m.t + ((hi - y) / (hi - lo)) * (h - m.t - m.b);
  const lines = series
    .map((s) => {
      const pts = t
        .map((x, i) => (s.ys[i] === null || !Number.isFinite(s.ys[i]!) ? null : `${f(px(x), 1)},${f(py(s.ys[i]!), 1)}`))
        .filter(Boolean)
        .join(' ');
      return `<polyline points="${pts}" fill="none" stroke="${s.colour}" stroke-width="1.6"/>`;
    })
    .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((u) => {
      const y = lo + u * (hi - lo);
      return `<line x1="${m.l}" x2="${w - m.r}" y1="${f(py(y), 1)}" y2="${f(py(y), 1)}" stroke="#eee"/><text x="${m.l - 4}" y="${f(py(y) + 3, 1)}" font-size="10" text-anchor="end">${f(y, 1)}</text>`;
    })
    .join('');
  const xt = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (u) =>
        `<text x="${f(px(u * tMax), 1)}" y="${h - m.b + 14}" font-size="10" text-anchor="middle">${f(u * tMax, 1)} s</text>`,
    )
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<text x="${m.l + 8 + i * 150}" y="${m.t + 12}" font-size="11" fill="${s.colour}">${esc(s.label)}</text>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${w} ${h}" width="100%" preserveAspectRatio="none">${ticks}${xt}<line x1="${m.l}" x2="${w - m.r}" y1="${f(py(0), 1)}" y2="${f(py(0), 1)}" stroke="#adb5bd"/>${lines}${legend}
<text x="12" y="${(h - m.b) / 2}" font-size="11" transform="rotate(-90 12 ${(h - m.b) / 2})" text-anchor="middle">${esc(yLabel)}</text></svg>`;
}

/** Key moments for the camera strip: the hand-over, each watchdog change, each fault, the closest approach, the end. */
function keyMoments(d: SimHtmlData): Array<{ tS: number; label: string }> {
  const r = d.report;
  const out: Array<{ tS: number; label: string }> = [{ tS: d.warmupS, label: 'hand-over to the watchdog' }];
  for (const fl of r.faults) out.push({ tS: fl.at_s, label: `fault: ${fl.kind}` });
  for (const tr of r.watchdog.transitions) out.push({ tS: tr.time_s, label: `${tr.from} → ${tr.to}` });
  const withD = d.series.filter((p) => p.distance !== null);
  if (withD.length) {
    const closest = withD.reduce((a, b) => (b.distance! < a.distance! ? b : a));
    out.push({ tS: closest.t, label: `closest to the barrier (${f(closest.distance!, 1)} m)` });
  }
  out.push({ tS: r.scenario.duration_s, label: 'end' });
  const seen = new Set<number>();
  return out
    .filter((m) => {
      const k = Math.round(m.tS * 10);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.tS - b.tS)
    .slice(0, 10);
}

async function cameraStrip(d: SimHtmlData): Promise<string> {
  const cam = d.cameras.find((c) => c.name === 'camera_front_wide_120fov') ?? d.cameras[0];
  if (!cam) return '';
  const figs: string[] = [];
  for (const m of keyMoments(d)) {
    const st = d.truth[Math.max(0, Math.min(d.truth.length - 1, Math.round(m.tS / d.dtS)))]!;
    const rgb = renderCamera(d.scene, st, cam, d.width, d.height, m.tS);
    const png = await sharp(rgb, { raw: { width: d.width, height: d.height, channels: 3 } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    figs.push(
      `<figure class="cam"><img alt="${esc(cam.name)} at ${f(m.tS, 1)} s" width="${d.width}" height="${d.height}" src="data:image/png;base64,${png.toString('base64')}"><figcaption><b>${f(m.tS, 1)} s</b> · ${esc(m.label)} · ${f(st.v, 1)} m/s</figcaption></figure>`,
    );
  }
  return `<div class="strip">${figs.join('')}</div><div class="muted">${esc(cam.name)}, re-rendered from the simulated pose</div>`;
}

export async function renderSimHtml(d: SimHtmlData): Promise<string> {
  const r = d.report;
  const m = r.metrics;
  const t = d.series.map((p) => p.t);
  const checks =
    r.checks
      .map(
        (c) =>
          `<tr><td>${esc(c.name)}</td><td>${esc(String(c.threshold))}</td><td>${esc(String(c.value))}</td><td style="color:${c.pass ? '#2f9e44' : '#c92a2a'}">${c.pass ? 'pass' : 'FAIL'}</td></tr>`,
      )
      .join('') || '<tr><td colspan="4" class="muted">no thresholds</td></tr>';
  const metricRows = Object.entries(m)
    .filter(([k]) => k !== 'time_in_state_s')
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(String(v))}</td></tr>`)
    .join('');
  const states: Array<{ fromS: number; toS: number; state: string }> = [];
  let st = 'disengaged';
  let from = 0;
  for (const tr of r.watchdog.transitions) {
    states.push({ fromS: from, toS: tr.time_s, state: st });
    st = tr.to;
    from = tr.time_s;
  }
  states.push({ fromS: from, toS: r.scenario.duration_s, state: st });
  const stride = Math.max(1, Math.ceil(d.commands.length / 2500));
  const transitions =
    r.watchdog.transitions
      .map(
        (x) =>
          `<tr><td>${f(x.time_s, 2)}</td><td>${esc(x.from)}</td><td>${esc(x.to)}</td><td>${esc(x.reason)}</td></tr>`,
      )
      .join('') || '<tr><td colspan="4" class="muted">no transitions</td></tr>';
  const reasoning =
    r.reasoning
      .map((x) => `<tr><td>${f(x.first_s, 1)}</td><td>${x.count}</td><td><q>${esc(x.text)}</q></td></tr>`)
      .join('') || '<tr><td colspan="3" class="muted">no plans</td></tr>';
  const faults = r.faults.map((x) => `<li>${esc(JSON.stringify(x))}</li>`).join('') || '<li class="muted">none</li>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ar1 sim — ${esc(r.scenario.name)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#212529;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dee2e6;padding-bottom:4px}
.muted{color:#868e96}.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #dee2e6;border-radius:8px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}table{border-collapse:collapse;margin:6px 0}td,th{border-bottom:1px solid #eee;padding:3px 10px;text-align:left}
.strip{display:flex;flex-wrap:wrap;gap:10px}.cam{margin:0;width:${d.width}px}.cam img{display:block;border-radius:4px}.cam figcaption{font-size:12px}q{color:#364fc7}
.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:18px;height:4px;vertical-align:middle;margin-right:4px}
</style></head><body>
<h1>AR1 closed-loop simulation: ${esc(r.scenario.name)}</h1>
<div class="muted">${esc(r.scenario.file)} · ${f(r.scenario.duration_s, 1)} s · bundle ${esc(r.bundle)} · seed ${r.seed} · latency ${r.latency_model.mode === 'fixed' ? `${r.latency_model.ms} ms fixed` : 'measured'} · ar1-ros ${esc(r.ar1_ros_version)}</div>
${r.scenario.description ? `<p>${esc(r.scenario.description)}</p>` : ''}
<div class="cards" style="margin-top:12px">
<div class="card">verdict<b style="color:${r.verdict === 'pass' ? '#2f9e44' : '#c92a2a'}">${r.verdict.toUpperCase()}</b></div>
<div class="card">progress<b>${f(m.progress_m, 1)} m</b><span>${f(100 * m.progress_fraction, 0)} % of the route</span></div>
<div class="card">off-road<b>${f(m.offroad_m, 2)} m</b><span>${f(m.offroad_s, 2)} s</span></div>
<div class="card">collision<b>${m.collision ? 'yes' : 'no'}</b>${m.min_distance_m !== null ? `<span>closest ${f(m.min_distance_m, 2)} m</span>` : ''}</div>
<div class="card">plans published<b>${r.plans.published}</b>${r.plans.errors ? `<span>${r.plans.errors} errors</span>` : ''}</div>
<div class="card">watchdog final<b style="color:${STATE_COLOURS[r.watchdog.final_state] ?? '#000'}">${esc(r.watchdog.final_state)}</b></div>
</div>
<h2>Checks</h2>
<table><tr><th>threshold</th><th>limit</th><th>value</th><th></th></tr>${checks}</table>
<h2>Bird's-eye view</h2>
<div class="legend muted">executed path by watchdog state: ${Object.entries(STATE_COLOURS)
    .map(([k, c]) => `<span><i class="sw" style="background:${c}"></i>${k}</span>`)
    .join(
      '',
    )}<span><i class="sw" style="background:#1c7ed6"></i>plans (about one a second)</span><span><i class="sw" style="background:#868e96"></i>route</span><span><i class="sw" style="background:#c92a2a"></i>barrier</span></div>
${birdsEye(d)}
<h2>Metrics over time</h2>
${chart(
  t,
  [
    { label: 'speed [m/s]', colour: '#1c7ed6', ys: d.series.map((p) => p.v) },
    { label: 'progress / 10 [m]', colour: '#868e96', ys: d.series.map((p) => p.progress / 10) },
    { label: 'distance to barrier [m]', colour: '#c92a2a', ys: d.series.map((p) => p.distance) },
  ],
  'm/s, m',
)}
${chart(
  t,
  [
    { label: 'accel [m/s²]', colour: '#2f9e44', ys: d.series.map((p) => p.a) },
    { label: 'lateral accel [m/s²]', colour: '#7950f2', ys: d.series.map((p) => p.lat_accel) },
    { label: 'jerk / 5 [m/s³]', colour: '#e8590c', ys: d.series.map((p) => p.jerk / 5) },
  ],
  'm/s², m/s³',
)}
<table>${metricRows}<tr><td>time_in_state_s</td><td>${esc(
    Object.entries(m.time_in_state_s)
      .map(([k, v]) => `${k} ${v}`)
      .join(' · '),
  )}</td></tr></table>
<h2>Cameras at key moments</h2>
${await cameraStrip(d)}
<h2>Watchdog timeline</h2>
<div class="legend muted">${Object.entries(STATE_COLOURS)
    .map(([k, c]) => `<span><i class="sw" style="background:${c};height:10px"></i>${k}</span>`)
    .join('')} · dots: acceleration sent to the vehicle, ${Object.entries(SOURCE_COLOURS)
    .map(([k, c]) => `<span style="color:${c}">${k}</span>`)
    .join(', ')}</div>
${timelineSvg({ startS: 0, endS: r.scenario.duration_s, states, commands: d.commands.filter((_, i) => i % stride === 0) })}
<table><tr><th>t [s]</th><th>from</th><th>to</th><th>reason</th></tr>${transitions}</table>
<h2>Faults injected</h2><ul>${faults}</ul>
<h2>Reasoning</h2>
<table><tr><th>first [s]</th><th>plans</th><th>text</th></tr>${reasoning}</table>
${consistencyHtml(r.consistency)}
<h2>Accounting</h2>
<table><tr><th>commands to the vehicle</th><td>planner ${r.commands.planner} · fallback ${r.commands.fallback} · hold ${r.commands.hold}</td></tr>
<tr><th>frames</th><td>received ${r.frames.received} · planned ${r.frames.planned} · dropped ${
    Object.entries(r.frames.dropped)
      .map(([k, v]) => `${esc(k)} ${v}`)
      .join(' · ') || 'none'
  }</td></tr></table>
</body></html>
`;
}
