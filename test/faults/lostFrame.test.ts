import { expect } from 'chai';
import { balanced, image, makeLoop, sourcesAfter } from './loop.js';

/**
 * One camera frame lost (best-effort sensor topics drop frames), with that camera's stamps 1 ms early, as real stamps
 * jitter: planner + watchdog on one bus in virtual time. The lost frame is a target of the next plans; the frame
 * before it stands in (frame_tolerance_s is one period, stamp_jitter_s counts on both sides), so no cycle is skipped
 * for it and the watchdog does not brake. Before, its 1 ms made it "too old" for 3 cycles in a row, and the plan
 * age reached 0.5 s plus latency: fallback, latched, on every lost frame.
 */
describe('faults: one lost camera frame, stamps jittered', () => {
  it('the previous frame fills its targets: no frame_too_old, plans keep coming, the watchdog stays nominal', async () => {
    const loop = makeLoop({ watchdog: { auto_engage: true } });
    const early = 0.001;
    loop.world.frame = (c, t) => (c === 1 ? image(t - early) : image(t));
    await loop.runTo(104);
    expect(loop.watchdog.state, 'engaged before the fault').to.equal('nominal');
    const faultS = loop.nowS();
    const before = loop.planner.stats();
    // The next camera tick publishes nothing for camera 1.
    loop.world.cameras[1] = false;
    await loop.runTo(faultS + 0.1);
    loop.world.cameras[1] = true;
    const checks: boolean[] = [];
    for (let t = faultS + 0.12; t <= faultS + 3 + 1e-9; t += 0.02) {
      await loop.runTo(t);
      checks.push(balanced(loop.planner.stats()));
    }
    expect(checks.every(Boolean), 'received = planned + dropped + waiting at every step').to.equal(true);
    const st = loop.planner.stats();
    expect(st.skipped['frame_too_old'] ?? 0, 'cycles skipped as frame_too_old').to.equal(
      before.skipped['frame_too_old'] ?? 0,
    );
    expect(st.plans - before.plans).to.be.greaterThan(25);
    expect(loop.watchdog.state).to.equal('nominal');
    expect(sourcesAfter(loop, faultS).every((s) => s === 'planner')).to.equal(true);
    await loop.close();
  });

  it('with stamp_jitter_s 0 the same lost frame is too old for the next cycles (the parameter decides)', async () => {
    const loop = makeLoop({ watchdog: { auto_engage: true }, planner: { cameras: { stamp_jitter_s: 0 } } });
    loop.world.frame = (c, t) => (c === 1 ? image(t - 0.001) : image(t));
    await loop.runTo(104);
    const faultS = loop.nowS();
    const before = loop.planner.stats();
    loop.world.cameras[1] = false;
    await loop.runTo(faultS + 0.1);
    loop.world.cameras[1] = true;
    await loop.runTo(faultS + 1);
    const st = loop.planner.stats();
    expect((st.skipped['frame_too_old'] ?? 0) - (before.skipped['frame_too_old'] ?? 0)).to.be.greaterThan(0);
    await loop.close();
  });
});
