import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReportHtml, type HtmlData } from '../../nodes/replay/reportHtml.js';
import { buildCompute, buildReport, type ReplayOutcome } from '../../nodes/replay/report.js';

const t = Array.from({ length: 64 }, (_, i) => 0.1 * (i + 1));
function data(): HtmlData {
  const outcome: ReplayOutcome = {
    version: 't',
    bag: { path: 'drive<1>.mcap', start_ns: '0', duration_s: 20, messages: 10, problems: ['file cut at 1234 bytes'] },
    bundleId: 'demo@1',
    provider: 'cpu',
    seed: 0,
    samples: 2,
    latency: { kind: 'fixed', ms: 100 },
    frames: { received: 8, planned: 4, dropped: { frame_too_old: 4 }, waiting: 0 },
    plans: { published: 1, errors: 0 },
    scores: [],
    transitions: [
      { time_s: 5, from: 'nominal', to: 'fallback', reason: 'plan age 0.73 s exceeds max_plan_age_s 0.50 s' },
    ],
    finalState: 'fallback',
    commands: { planner: 10, fallback: 5, hold: 0 },
    compute: { total: [10, 20, 30] },
  };
  const report = buildReport(outcome);
  return {
    report,
    compute: buildCompute(outcome),
    computeTotals: [10, 20, 30],
    snapshots: [
      {
        t0S: 3,
        reasoning: 'slow down <script>alert(1)</script> & keep lane',
        v0: 9,
        samples: [
          { x: t.map((s) => 9 * s), y: t.map((s) => 0.1 * s * s) },
          { x: t.map((s) => 9 * s), y: t.map(() => 0) },
        ],
        actual: t.map((s) => (s < 5 ? { x: 9 * s, y: 0 } : null)),
        ade: 0.4,
      },
    ],
    errorByStep: { t, mean: t.map((s) => 0.05 * s * s) },
    timeline: {
      startS: 0,
      endS: 20,
      states: [
        { fromS: 0, toS: 5, state: 'nominal' },
        { fromS: 5, toS: 20, state: 'fallback' },
      ],
      commands: [
        { tS: 1, accel: 0.2, source: 'planner' },
        { tS: 6, accel: -2.5, source: 'fallback' },
      ],
    },
  };
}

describe('replay/reportHtml', () => {
  const html = renderReportHtml(data());

  it('is one self-contained page: no external scripts, styles, images or fonts', () => {
    expect(html).to.match(/^<!doctype html>/);
    expect(html).not.to.match(/<script|<link|src=|url\(|@import/i);
    expect(html.match(/<svg /g)!.length).to.be.at.least(4); // a plan, the error curve, the histogram, the timeline
  });

  it('escapes text from bags and models', () => {
    expect(html).not.to.contain('<script>alert');
    expect(html).to.contain('slow down &#60;script&#62;alert(1)&#60;/script&#62; &#38; keep lane');
    expect(html).to.contain('drive&#60;1&#62;.mcap');
  });

  it('shows the headline figures, the watchdog transitions with reasons, and input problems', () => {
    expect(html).to.contain('plan age 0.73 s exceeds max_plan_age_s 0.50 s');
    expect(html).to.contain('file cut at 1234 bytes');
    expect(html).to.match(/frames received<b>8<\/b>/);
    expect(html).to.contain('frame_too_old 4');
  });

  it('renders in headless Chromium', function () {
    this.timeout(60000);
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
    if (!chromium) {
      console.log('      (skipped: headless Chromium not installed — apt-get install chromium to run this check)');
      this.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), 'ar1-html-'));
    try {
      const file = join(dir, 'report.html');
      writeFileSync(file, html);
      const flags = [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(dir, 'profile')}`,
      ];
      const dom = spawnSync(chromium!, [...flags, '--dump-dom', `file://${file}`], {
        encoding: 'utf8',
        timeout: 45000,
      });
      expect(dom.stdout).to.contain('AR1 replay report');
      expect(dom.stdout).to.contain('<polyline');
      const png = join(dir, 'shot.png');
      spawnSync(chromium!, [...flags, '--window-size=1100,1600', `--screenshot=${png}`, `file://${file}`], {
        timeout: 45000,
      });
      const bytes = readFileSync(png);
      expect(bytes.subarray(1, 4).toString()).to.equal('PNG');
      expect(bytes.length).to.be.greaterThan(20000); // a blank page is ~5 KB
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
