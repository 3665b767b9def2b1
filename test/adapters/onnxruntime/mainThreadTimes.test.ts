import { expect } from 'chai';
import { MainThreadTimes } from '../../../nodes/adapters/onnxruntime/mainThreadTimes.js';

describe('onnxruntime MainThreadTimes: the main-thread time of each plan', () => {
  it('sums a plan’s stretches until it is answered; a dropped plan, or one never timed, is not counted', () => {
    const t = new MainThreadTimes();
    t.spend(1, 0.25);
    t.spend(2, 1);
    t.spend(1, 0.5);
    t.drop(2);
    t.finish(2, 9); // dropped: not counted
    t.finish(3, 9); // never timed: not counted
    expect(t.has(1)).to.equal(true);
    t.finish(1, 0.25);
    expect(t.has(1)).to.equal(false);
    expect(t.answered).to.deep.equal([1]);
  });

  it('keeps the last 1024 answered plans, newest last', () => {
    const t = new MainThreadTimes();
    for (let id = 0; id < 1030; id++) {
      t.spend(id, id);
      t.finish(id, 0);
    }
    expect(t.answered.length).to.equal(1024);
    expect(t.answered[0]).to.equal(6);
    expect(t.answered.at(-1)).to.equal(1029);
  });
});
