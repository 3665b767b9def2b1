import { expect } from 'chai';
import { CONSISTENCY } from '../../nodes/core/msgs.js';
import type { PlanInput } from '../../nodes/core/planningEngine.js';
import { harness } from './harness.js';

/** The fake engine's plans accelerate at 0.5 m/s² straight ahead; the texts below say various things about that. */
function withTexts(h: ReturnType<typeof harness>, texts: string[]): void {
  const plan = h.engine.plan.bind(h.engine);
  let n = 0;
  h.engine.plan = (i: PlanInput) =>
    plan(i).then((r) => ({ ...r, reasoning: { ...r.reasoning, text: texts[n++ % texts.length]! } }));
}

describe('planner: reasoning–action consistency published with each plan', () => {
  it('each /ar1/reasoning carries the verdict against its own trajectory, and the planner counts them', async () => {
    const h = harness(300);
    withTexts(h, [
      'Accelerate onto the open road',
      'Slow down for the cyclist',
      'Keep lane',
      'Nothing to report',
      'Do not accelerate',
      'Speed up and go straight',
    ]);
    h.feed(100, 103);
    await h.run(110);
    const rs = h.out['reasoning']!.map((m) => m.msg);
    expect(rs.map((r) => r.consistency)).to.deep.equal([
      CONSISTENCY.consistent,
      CONSISTENCY.inconsistent,
      CONSISTENCY.consistent,
      CONSISTENCY.not_assessable,
      CONSISTENCY.inconsistent,
      CONSISTENCY.consistent,
    ]);
    expect(rs[1]!.consistency_detail).to.equal('text says decelerate ("slow down"); trajectory: accelerate, straight');
    expect(rs[1]!.stated_actions).to.deep.equal(['decelerate']);
    expect(rs[1]!.planned_actions).to.deep.equal(['accelerate', 'straight']);
    expect(rs[4]!.stated_actions).to.deep.equal(['not accelerate']);
    expect(rs[3]!.consistency_detail).to.equal('the text names no meta-action');
    expect(h.planner.stats().consistency).to.deep.equal({ consistent: 3, inconsistent: 2, not_assessable: 1 });
  });

  it('thresholds and vocabulary come from the parameters; consistency.enabled false judges nothing', async () => {
    const strict = harness(300, { consistency: { accelerate_min_mps2: 1.0, vocabulary: { decelerate: ['ease up'] } } });
    withTexts(strict, ['Accelerate', 'Ease up a little']);
    strict.feed(100, 102);
    await strict.run(105);
    const rs = strict.out['reasoning']!.map((m) => m.msg);
    // 0.5 m/s² is now between keep_speed and accelerate: the claim cannot be settled; "ease up" is this model's decelerate.
    expect(rs.slice(0, 2).map((r) => r.consistency)).to.deep.equal([
      CONSISTENCY.not_assessable,
      CONSISTENCY.not_assessable,
    ]);
    expect(rs[1]!.stated_actions).to.deep.equal(['decelerate']);

    const off = harness(300, { consistency: { enabled: false } });
    withTexts(off, ['Slow down for the cyclist']);
    off.feed(100, 102);
    await off.run(105);
    const o = off.out['reasoning']!.map((m) => m.msg);
    expect(o.length).to.be.greaterThan(0);
    for (const r of o)
      expect([r.consistency, r.consistency_detail]).to.deep.equal([
        CONSISTENCY.not_assessable,
        'consistency.enabled is false',
      ]);
    expect(off.planner.stats().consistency.not_assessable).to.equal(o.length);
  });
});
