import { expect } from 'chai';
import { mergeReports, parseShard, shardOf } from '../../nodes/replay/merge.js';
import { buildReport, type ReplayOutcome, type ReportJson } from '../../nodes/replay/report.js';

function outcome(path: string, ade: number, plans: number, extra: Partial<ReplayOutcome> = {}): ReplayOutcome {
  const scores = Array.from({ length: plans }, (_, i) => ({
    t0S: i,
    ade: { '1': ade, '3': ade, '6.4': ade },
    fde: { '1': ade, '3': ade, '6.4': ade },
    minAde: { '1': ade / 2, '3': ade / 2, '6.4': ade / 2 },
    minFde: { '1': ade, '3': ade, '6.4': ade },
    errorByStep: new Float64Array(64),
  }));
  return {
    version: '0.1.0',
    bag: { path, start_ns: '0', duration_s: 20, messages: 100, problems: [] },
    bundleId: 'demo@1',
    provider: 'cpu',
    seed: 0,
    samples: 6,
    latency: { kind: 'fixed', ms: 100 },
    frames: { received: 40, planned: 32, dropped: { superseded: 4, no_history: 0 }, waiting: 4 },
    plans: { published: plans, errors: 0 },
    scores,
    transitions: [{ time_s: 1.23456, from: 'disengaged', to: 'nominal', reason: 'auto engage' }],
    finalState: 'nominal',
    commands: { planner: 900, fallback: 0, hold: 50 },
    compute: { total: [10, 12, 30] },
    ...extra,
  };
}

describe('replay/report and merge', () => {
  it('counts frames still waiting at the end as dropped, so received = planned + dropped', () => {
    const r = buildReport(outcome('a.mcap', 1, 3));
    expect(r.frames.dropped).to.deep.equal({ superseded: 4, end_of_bag: 4 });
    expect(r.frames.received).to.equal(r.frames.planned + Object.values(r.frames.dropped).reduce((a, b) => a + b, 0));
    expect(r.latency_model).to.deep.equal({ mode: 'fixed', ms: 100 });
    expect(r.metrics.ade['6.4']).to.equal(1);
    expect(r.metrics.min_ade['6.4']).to.equal(0.5);
    expect(r.watchdog.transitions[0]!.time_s).to.equal(1.235);
    expect(JSON.stringify(r)).not.to.match(/compute|total/);
  });

  it('merges shard reports with plan-weighted metrics, in an order-independent way', () => {
    const a: ReportJson = buildReport(outcome('b.mcap', 1, 1));
    const b: ReportJson = buildReport(outcome('a.mcap', 4, 3));
    const m = mergeReports([a, b]);
    expect(m.bags).to.equal(2);
    expect(m.inputs.map((i) => i.bag)).to.deep.equal(['a.mcap', 'b.mcap']);
    expect(m.metrics.ade['6.4']).to.equal((1 * 1 + 4 * 3) / 4);
    expect(m.metrics.plans_scored['6.4']).to.equal(4);
    expect(m.frames.received).to.equal(80);
    expect(m.frames.dropped['end_of_bag']).to.equal(8);
    expect(m.commands.planner).to.equal(1800);
    expect(m.watchdog.transitions).to.have.length(2);
    expect(mergeReports([b, a])).to.deep.equal(m);
  });

  it('splits bags into deterministic shards covering every bag once', () => {
    const bags = ['d', 'a', 'c', 'b', 'e'];
    const shards = [0, 1, 2].map((i) => shardOf(bags, (s) => s, i, 3));
    expect(shards).to.deep.equal([['a', 'd'], ['b', 'e'], ['c']]);
    expect(parseShard('1/3')).to.deep.equal({ index: 1, count: 3 });
    expect(() => parseShard('3/3')).to.throw(/--shard: expected 0 <= i < 3, got i=3/);
    expect(() => parseShard('x')).to.throw(/--shard: expected i\/N/);
  });
});
