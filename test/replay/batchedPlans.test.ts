import { expect } from 'chai';
import { PlanBatcher } from '../../nodes/replay/batchedPlans.js';
import { EngineError } from '../../nodes/core/planningEngine.js';
import type { EngineContract, PlanInput, PlanningEngine, PlanResult } from '../../nodes/core/planningEngine.js';

const contract = { bundleId: 'fake@1' } as EngineContract;
const input = (seed: number): PlanInput => ({ t0S: seed, frames: [], history: {} as PlanInput['history'], seed });
const result = (i: PlanInput) => ({ t0S: i.t0S, v0: i.seed }) as PlanResult;
const turns = async (n = 5) => {
  for (let k = 0; k < n; k++) await new Promise<void>((r) => setImmediate(r));
};

/** A batching engine whose calls are answered by hand. */
function fakeEngine() {
  const calls: Array<{ seeds: number[]; answer: () => void }> = [];
  const engine: PlanningEngine = {
    contract,
    provider: 'cpu',
    plan: () => Promise.reject(new Error('plan() must not be called')),
    close: () => Promise.resolve(),
    planBatch(inputs) {
      const settle: Array<() => void> = [];
      const promises = inputs.map(
        (i) =>
          new Promise<PlanResult>((resolve, reject) =>
            settle.push(() =>
              i.seed < 0 ? reject(new EngineError('non_finite', `plan ${i.seed}`)) : resolve(result(i)),
            ),
          ),
      );
      calls.push({ seeds: inputs.map((i) => i.seed), answer: () => settle.forEach((f) => f()) });
      return promises;
    },
  };
  return { engine, calls };
}

describe('PlanBatcher (plans of bags replayed at once, sent to the engine together)', () => {
  it('holds a plan until every open lane has one waiting, then sends them in one call; each lane gets its own result', async () => {
    const { engine, calls } = fakeEngine();
    const b = new PlanBatcher(engine, 8);
    const [l1, l2, l3] = [b.lane(), b.lane(), b.lane()];
    const p1 = l1.plan(input(1));
    const p3 = l3.plan(input(3));
    await turns();
    expect(calls, 'lane 2 has not asked yet').to.have.length(0);
    const p2 = l2.plan(input(2));
    await turns();
    expect(calls.map((c) => c.seeds)).to.deep.equal([[1, 3, 2]]);
    calls[0]!.answer();
    expect((await p1).v0).to.equal(1);
    expect((await p2).v0).to.equal(2);
    expect((await p3).v0).to.equal(3);
    expect(b.stats).to.deep.equal({ batches: 1, plans: 3, largest: 3 });
    expect(l1.contract).to.equal(contract);
    expect(l1.provider).to.equal('cpu');
  });

  it('a lane that is done no longer holds the others back', async () => {
    const { engine, calls } = fakeEngine();
    const b = new PlanBatcher(engine, 8);
    const [l1, l2] = [b.lane(), b.lane()];
    const p1 = l1.plan(input(1));
    await turns();
    expect(calls).to.have.length(0);
    l2.done();
    await turns();
    expect(calls.map((c) => c.seeds)).to.deep.equal([[1]]);
    calls[0]!.answer();
    expect((await p1).v0).to.equal(1);
    expect(() => l2.done()).not.to.throw();
  });

  it('sends at most maxPlans in one call, and one call at a time: plans asked meanwhile wait for it (maxPlans waiting go at once)', async () => {
    const { engine, calls } = fakeEngine();
    const b = new PlanBatcher(engine, 2);
    const lanes = [b.lane(), b.lane(), b.lane()];
    const ps = lanes.map((l, i) => l.plan(input(i)));
    await turns();
    expect(calls.map((c) => c.seeds)).to.deep.equal([[0, 1]]);
    calls[0]!.answer();
    await Promise.all(ps.slice(0, 2));
    const again = lanes[0]!.plan(input(10));
    await turns();
    expect(calls.map((c) => c.seeds)).to.deep.equal([
      [0, 1],
      [2, 10],
    ]);
    calls[1]!.answer();
    expect((await ps[2]!).v0).to.equal(2);
    expect((await again).v0).to.equal(10);
  });

  it('a plan that fails rejects only its own lane', async () => {
    const { engine, calls } = fakeEngine();
    const b = new PlanBatcher(engine, 4);
    const [l1, l2] = [b.lane(), b.lane()];
    const bad = l1.plan(input(-1)).catch((e: EngineError) => e);
    const good = l2.plan(input(5));
    await turns();
    calls[0]!.answer();
    expect(((await bad) as EngineError).kind).to.equal('non_finite');
    expect((await good).v0).to.equal(5);
  });

  it('an engine without planBatch is called plan by plan', async () => {
    const seen: number[] = [];
    const engine: PlanningEngine = {
      contract,
      provider: 'cpu',
      plan: (i) => {
        seen.push(i.seed);
        return Promise.resolve(result(i));
      },
      close: () => Promise.resolve(),
    };
    const b = new PlanBatcher(engine, 4);
    const [l1, l2] = [b.lane(), b.lane()];
    const rs = await Promise.all([l1.plan(input(7)), l2.plan(input(8))]);
    expect(rs.map((r) => r.v0)).to.deep.equal([7, 8]);
    expect(seen).to.deep.equal([7, 8]);
  });
});
