import { expect } from 'chai';
import { SteppingScheduler } from '../../nodes/adapters/inprocess/virtualScheduler.js';
import { DeadlineTimer } from '../../nodes/watchdog/deadlineTimer.js';

/** A DeadlineTimer on virtual time (ms) with a 20 ms period and 1 ms epsilon; records when it fires [ms]. */
function timerRig() {
  const scheduler = new SteppingScheduler(0);
  const steady = { now: () => scheduler.now() / 1000 };
  const fired: number[] = []; // rounded to 1 µs (the delays are float ms)
  const t = new DeadlineTimer(scheduler, steady, 0.02, 0.001, () =>
    fired.push(Math.round(scheduler.now() * 1000) / 1000),
  );
  return { scheduler, steady, fired, t };
}

describe('watchdog/deadlineTimer (virtual time)', () => {
  it('fires epsilon after the earliest deadline; a later deadline does not move a pending earlier firing', async () => {
    const { scheduler, steady, fired, t } = timerRig();
    t.armIn(steady.now(), 0.1);
    t.armIn(steady.now(), 0.3); // later: the 101 ms firing stays
    t.armIn(steady.now(), 0.05); // earlier: replaces it
    t.armIn(steady.now(), Number.POSITIVE_INFINITY); // no deadline: nothing changes
    await scheduler.advanceTo(500);
    expect(fired).to.deep.equal([51]);
  });

  it('soon() fires epsilon from now unless a firing is due sooner, and at most once per period', async () => {
    const { scheduler, steady, fired, t } = timerRig();
    t.soon();
    t.soon(); // already pending at 1 ms
    await scheduler.advanceTo(5);
    t.soon(); // 5 ms after the last soon(): within the period, ignored
    await scheduler.advanceTo(20);
    t.soon(); // a full period after: fires at 21 ms
    await scheduler.advanceTo(30);
    t.armIn(steady.now(), 0); // due at 31 ms
    await scheduler.advanceTo(60);
    expect(fired).to.deep.equal([1, 21, 31]);
  });

  it('cancel() drops the pending firing', async () => {
    const { scheduler, steady, fired, t } = timerRig();
    t.armIn(steady.now(), 0.01);
    t.cancel();
    await scheduler.advanceTo(100);
    expect(fired).to.deep.equal([]);
  });
});
