import { expect } from 'chai';
import { CONSISTENCY, type Reasoning, type Trajectory } from '../../nodes/core/msgs.js';
import { secondsToStamp } from '../../nodes/core/time.js';
import {
  consistencyHeadline,
  consistencyHtml,
  ConsistencyCollector,
  mergeConsistency,
} from '../../nodes/replay/consistencyReport.js';
import { mergeReports } from '../../nodes/replay/merge.js';
import { buildReport, type ReplayOutcome } from '../../nodes/replay/report.js';
import { renderReportHtml } from '../../nodes/replay/reportHtml.js';
import { reportProblem } from '../../nodes/cli/reportCommand.js';

const header = (t0S: number) => ({ stamp: secondsToStamp(t0S), frame_id: 'base_link' });
const reasoning = (t0S: number, kind: keyof typeof CONSISTENCY, text: string): Reasoning => ({
  header: header(t0S),
  text,
  bundle_id: 'demo@1',
  generation_ms: 1,
  token_count: 3,
  consistency: CONSISTENCY[kind],
  consistency_detail:
    kind === 'inconsistent' ? 'text says accelerate ("speed up"); trajectory: decelerate, straight' : '',
  stated_actions: kind === 'not_assessable' ? [] : ['accelerate'],
  planned_actions: ['decelerate', 'straight'],
});
const plan = (t0S: number): Trajectory => ({
  header: header(t0S),
  dt: 0.1,
  initial_speed: 10.004,
  bundle_id: 'demo@1',
  points: Array.from({ length: 64 }, (_, i) => ({
    t: 0.1 * (i + 1),
    x: 1.0049 * (i + 1),
    y: 0,
    heading: 0,
    speed: 10 - 0.1 * i,
    acceleration: -1,
    curvature: 0,
  })),
});

function collected() {
  const c = new ConsistencyCollector();
  c.trajectory(plan(1));
  c.reasoning(reasoning(1, 'consistent', 'Slow down'));
  c.trajectory(plan(1.5));
  c.reasoning(reasoning(1.5, 'inconsistent', 'Speed up <now> & go'));
  c.trajectory(plan(2));
  c.reasoning(reasoning(2, 'not_assessable', 'Nothing to say'));
  c.trajectory(plan(2.5));
  c.reasoning(reasoning(2.5, 'consistent', 'Slow down'));
  return c.summary();
}

describe('replay/consistencyReport', () => {
  it('counts verdicts, rates consistent over judged plans, lists each inconsistent plan with its text and trajectory', () => {
    const s = collected();
    expect([s.plans, s.consistent, s.inconsistent, s.not_assessable, s.rate]).to.deep.equal([4, 2, 1, 1, 0.667]);
    expect(s.inconsistent_plans).to.have.length(1);
    const p = s.inconsistent_plans[0]!;
    expect([p.t0_s, p.text, p.stated, p.planned]).to.deep.equal([
      1.5,
      'Speed up <now> & go',
      ['accelerate'],
      ['decelerate', 'straight'],
    ]);
    expect(p.detail).to.match(/^text says accelerate/);
    expect(p.trajectory.x.slice(0, 2)).to.deep.equal([1, 2.01]);
    expect(p.trajectory.speed).to.have.length(64);
    expect(p.trajectory.initial_speed).to.equal(10);
    expect(new ConsistencyCollector().summary().rate).to.equal(null);
  });

  it('a headline line, merged summaries, and an escaped report.html section', () => {
    const s = collected();
    expect(consistencyHeadline(s)).to.equal(
      '  reasoning  consistent 66.7 % (2 of 3 judged; 1 inconsistent, 1 not assessable)',
    );
    const m = mergeConsistency([s, s]);
    expect([m.plans, m.consistent, m.inconsistent, m.rate, m.inconsistent_plans.length]).to.deep.equal([
      8, 4, 2, 0.667, 2,
    ]);
    const html = consistencyHtml(s);
    expect(html).to.contain('Speed up &#60;now&#62; &#38; go');
    expect(html).not.to.contain('<now>');
    expect(html).to.contain('<b>66.7 %</b> consistent');
    expect(consistencyHtml({ ...s, inconsistent: 0, inconsistent_plans: [] })).to.contain('No inconsistent plan.');
  });

  it('report.json carries it after plans; report merge adds it up and validates it; report.html shows it', () => {
    const outcome: ReplayOutcome = {
      version: 't',
      bag: { path: 'a.mcap', start_ns: '0', duration_s: 3, messages: 10, problems: [] },
      bundleId: 'demo@1',
      provider: 'cpu',
      seed: 0,
      samples: 1,
      latency: { kind: 'fixed', ms: 100 },
      frames: { received: 8, planned: 8, dropped: {}, waiting: 0 },
      plans: { published: 4, errors: 0 },
      consistency: collected(),
      scores: [],
      transitions: [],
      finalState: 'nominal',
      commands: { planner: 1, fallback: 0, hold: 0 },
      compute: { total: [1] },
    };
    const report = buildReport(outcome);
    expect(Object.keys(report).indexOf('consistency')).to.equal(Object.keys(report).indexOf('plans') + 1);
    expect(reportProblem(JSON.parse(JSON.stringify(report)))).to.equal(undefined);
    expect(reportProblem({ ...JSON.parse(JSON.stringify(report)), consistency: { plans: -1 } })).to.equal(
      'consistency.plans: expected a count, got -1',
    );
    const { consistency: _c, ...old } = report;
    expect(mergeReports([report, { ...old, bag: { ...old.bag, path: 'b.mcap' } }]).consistency!.plans).to.equal(4);
    expect(mergeReports([old]).consistency).to.equal(undefined);
    const html = renderReportHtml({
      report,
      compute: { note: '', provider: 'cpu', stages_ms: {} },
      computeTotals: [1],
      snapshots: [],
      errorByStep: { t: [], mean: [] },
      timeline: { startS: 0, endS: 3, states: [{ fromS: 0, toS: 3, state: 'nominal' }], commands: [] },
    });
    expect(html).to.contain('<section id="consistency">');
    expect(html).to.match(/reasoning consistent<b>66\.7 %<\/b>/);
  });
});
