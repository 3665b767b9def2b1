import { expect } from 'chai';
import { EngineError, type PlanInput, type PlanningEngine, type PlanResult } from '../../nodes/core/planningEngine.js';
import { balanced, image, makeLoop, sourcesAfter, type VirtualEngine } from './loop.js';

/**
 * One camera frame that passes every check on arrival but that the engine cannot use (a JPEG truncated after its
 * header: bytes that do not decode), planner + watchdog on one bus in virtual time. The engine names the frame
 * (EngineError 'input' with frame = { camera, index }); the planner drops it as bad_image so it fails one plan, not
 * the framesPerCamera plans it would be selected for, and the watchdog does not fall back.
 */
describe('faults: one frame the engine cannot decode', () => {
  it('fails one plan (not 4), is dropped as bad_image, no engine_error for the other frames; the watchdog stays nominal', async () => {
    const loop = makeLoop({ watchdog: { auto_engage: true } });
    const inner = loop.engine.inner as VirtualEngine;
    const BAD = 255;
    let failedPlans = 0;
    (loop.engine as { inner: PlanningEngine }).inner = {
      contract: inner.contract,
      provider: inner.provider,
      close: () => inner.close(),
      plan: (i: PlanInput): Promise<PlanResult> => {
        for (let camera = 0; camera < i.frames.length; camera++)
          for (let index = 0; index < i.frames[camera]!.length; index++)
            if (i.frames[camera]![index]!.data[0] === BAD) {
              failedPlans++;
              return Promise.reject(
                new EngineError('input', `camera ${camera} frame ${index}: cannot decode jpeg`, { camera, index }),
              );
            }
        return inner.plan(i);
      },
    };
    await loop.runTo(104);
    expect(loop.watchdog.state, 'engaged before the fault').to.equal('nominal');
    const faultS = loop.nowS();
    const badStampS = Math.ceil(faultS * 10) / 10 + 0.1;
    let injected = 0;
    loop.world.frame = (c, t) => {
      if (c !== 1 || Math.abs(t - badStampS) > 1e-6) return image(t);
      injected++;
      return image(t, { data: new Uint8Array(image(t).data.length).fill(BAD) });
    };
    const before = loop.planner.stats();
    const checks: boolean[] = [];
    for (let t = faultS + 0.02; t <= faultS + 3 + 1e-9; t += 0.02) {
      await loop.runTo(t);
      checks.push(balanced(loop.planner.stats()));
    }
    expect(injected).to.equal(1);
    expect(checks.every(Boolean), 'received = planned + dropped + waiting at every step').to.equal(true);
    const st = loop.planner.stats();
    expect(failedPlans, 'plans that failed on the bad frame').to.equal(1);
    expect(st.errors - before.errors).to.equal(1);
    expect(st.dropped['bad_image']).to.equal(1);
    expect(st.dropped['engine_error'] ?? 0).to.equal(before.dropped['engine_error'] ?? 0);
    expect(st.plans - before.plans).to.be.greaterThan(20);
    expect(loop.watchdog.state).to.equal('nominal');
    expect(sourcesAfter(loop, faultS).every((s) => s === 'planner')).to.equal(true);
    await loop.close();
  });
});
