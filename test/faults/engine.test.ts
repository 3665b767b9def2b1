import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkTracker } from '../../nodes/adapters/inprocess/virtualScheduler.js';
import { createOnnxEngine, type OnnxEngine } from '../../nodes/adapters/onnxruntime/index.js';
import type { DiagnosticArray } from '../../nodes/core/msgs.js';
import { makeDemoBundle } from '../../nodes/syntheticBundles/demoBundle.js';
import { AR1_CAMERAS } from '../planner/harness.js';
import { balanced, firstNonPlannerAfter, image, makeLoop, sourcesAfter, type EngineMode, type Loop } from './loop.js';

/** Engine faults, planner + watchdog together: no node crash, the error on /ar1/timing and diagnostics, braking in time. */

const AUTO = { auto_engage: true };

async function engagedLoop(): Promise<Loop> {
  const loop = makeLoop({ watchdog: AUTO });
  const diags: DiagnosticArray[] = [];
  loop.bus
    .messages(loop.wp.topics.diagnostics, 'diagnostic_msgs/msg/DiagnosticArray')
    .subscribe((d) => diags.push(d as DiagnosticArray));
  (loop as Loop & { diags: DiagnosticArray[] }).diags = diags;
  await loop.runTo(104);
  expect(loop.watchdog.state, 'engaged before the fault').to.equal('nominal');
  expect(sourcesAfter(loop, 103.5).every((s) => s === 'planner')).to.equal(true);
  return loop;
}
const diagText = (loop: Loop) =>
  (loop as Loop & { diags: DiagnosticArray[] }).diags
    .flatMap((d) => d.status.map((st) => `${st.name}: ${st.message}`))
    .join('\n');

/** Vehicle commands after the first non-planner one never come from the planner (latched) until a reset. */
function latched(loop: Loop, fromS: number): boolean {
  const first = firstNonPlannerAfter(loop, fromS);
  return first !== undefined && sourcesAfter(loop, first).every((s) => s !== 'planner');
}

/** An operator reset while healthy and stopped returns control to the planner; frames stay accounted for. */
async function expectResetHandsBackToPlanner(loop: Loop): Promise<void> {
  loop.reset();
  await loop.runFor(1);
  expect(loop.watchdog.state).to.equal('nominal');
  expect(sourcesAfter(loop, loop.nowS() - 0.5).every((s) => s === 'planner')).to.equal(true);
  expect(balanced(loop.planner.stats())).to.equal(true);
}

describe('faults: engine (planner + watchdog on one bus, virtual time)', () => {
  const cases: Array<{ mode: EngineMode; timingError: RegExp }> = [
    { mode: 'throw', timingError: /^unexpected: injected synchronous throw in plan\(\)/ },
    { mode: 'reject', timingError: /^runtime: injected: session\.run failed/ },
    { mode: 'crash', timingError: /^worker_crashed: injected: inference worker exited with code 1/ },
    { mode: 'nan', timingError: /^invalid_result: trajectory\.acceleration\[5\]: expected a finite value, got NaN/ },
    {
      mode: 'inf',
      timingError: /^invalid_result: trajectory\.acceleration\[5\]: expected a finite value, got Infinity/,
    },
  ];
  for (const { mode, timingError } of cases) {
    it(`engine ${mode}: error on /ar1/timing and /diagnostics, watchdog brakes within max_plan_age_s, planner recovers`, async () => {
      const loop = await engagedLoop();
      const plansBefore = loop.planner.stats().plans;
      const faultS = loop.nowS();
      loop.engine.mode = mode;
      await loop.runTo(faultS + 2);
      // Node survived: the planner keeps running cycles and counting.
      const st = loop.planner.stats();
      expect(st.errors).to.be.greaterThan(10);
      expect(st.plans, 'only the plan in flight at the fault completes').to.be.at.most(plansBefore + 1);
      expect(balanced(st)).to.equal(true);
      expect(st.dropped.engine_error ?? 0, 'frames of failed plans are counted engine_error').to.be.greaterThan(0);
      const errs = loop.timing
        .filter((t) => t.tS > faultS)
        .map((t) => t.msg.error)
        .slice(1); // the first: plan in flight at the fault
      expect(errs.length).to.be.greaterThan(10);
      for (const e of errs) expect(e).to.match(timingError);
      // Watchdog: braking within the plan-age deadline (+ one control tick), latched.
      const brakeS = firstNonPlannerAfter(loop, faultS)!;
      expect(brakeS - faultS).to.be.at.most(loop.wp.max_plan_age_s + 1 / loop.wp.control_rate_hz + 1e-9);
      expect(latched(loop, faultS)).to.equal(true);
      expect(loop.watchdog.transitions.at(-1)!.to).to.equal('fallback');
      expect(diagText(loop)).to.match(/planning: \d of the last \d plans over budget_ms 400 ms .*error "/);
      // Engine recovers: plans again; vehicle stopped by then → operator reset → planner in command again.
      loop.engine.mode = 'ok';
      await loop.runTo(faultS + 12);
      expect(loop.world.speed).to.equal(0);
      expect(loop.watchdog.state).to.equal('stopped');
      expect(loop.planner.stats().plans).to.be.greaterThan(plansBefore + 50);
      expect(loop.timing.at(-1)!.msg.error).to.equal('');
      await expectResetHandsBackToPlanner(loop);
      await loop.close();
    });
  }

  it('engine hangs (plan() never settles): the watchdog brakes on plan age; after plan_timeout_s the planner abandons the plan, restarts the worker and plans again', async () => {
    const loop = await engagedLoop();
    let restarts = 0;
    // A restartable engine (as OnnxEngine): the planner finds restartWorker() structurally.
    (loop.engine as unknown as { restartWorker(): Promise<void> }).restartWorker = async () => {
      restarts++;
    };
    const faultS = loop.nowS();
    loop.engine.mode = 'hang';
    await loop.runTo(faultS + 3);
    expect(loop.engine.hung).to.equal(1);
    const callsAfterHang = loop.engine.calls;
    // No timing for the hung plan yet, no error either: the watchdog sees only the plan getting old.
    expect(loop.timing.filter((t) => t.tS > faultS + 0.2)).to.have.length(0);
    const brakeS = firstNonPlannerAfter(loop, faultS)!;
    expect(brakeS - faultS).to.be.at.most(loop.wp.max_plan_age_s + 1 / loop.wp.control_rate_hz + 1e-9);
    expect(latched(loop, faultS)).to.equal(true);
    expect(loop.watchdog.transitions.at(-1)!.reason).to.match(/plan age 0\.5\d\d s exceeds max_plan_age_s 0\.500 s/);
    expect(diagText(loop)).to.match(/plan: plan age .* exceeds max_plan_age_s/);
    // The engine recovers; the planner is still waiting on the hung plan until plan_timeout_s (default 5 s).
    loop.engine.mode = 'ok';
    expect(loop.pp.plan_timeout_s).to.equal(5);
    await loop.runTo(faultS + 4.9);
    expect(loop.engine.calls).to.equal(callsAfterHang);
    expect(restarts).to.equal(0);
    await loop.runTo(faultS + 6);
    const timeout = loop.timing.find((t) => t.tS > faultS + 0.2)!;
    expect(timeout.msg.error).to.match(
      /^plan_timeout: plan at t0=\d+\.\d{3} s did not finish within plan_timeout_s 5\.000 s; abandoned$/,
    );
    expect(timeout.tS - faultS).to.be.within(5 - 1e-9, 5.1 + 1e-9);
    expect(restarts).to.equal(1);
    const st = loop.planner.stats();
    expect(st.timeouts).to.equal(1);
    expect(st.dropped.plan_timeout ?? 0).to.be.greaterThan(0);
    expect(st.dropped.superseded ?? 0, 'inputs replaced while the plan hung').to.be.greaterThan(100);
    expect(balanced(st)).to.equal(true);
    // Planning resumed right after the timeout: plans published again, no error since.
    expect(loop.engine.calls).to.be.greaterThan(callsAfterHang + 5);
    const after = loop.timing.filter((t) => t.tS > timeout.tS);
    expect(after.length).to.be.greaterThan(5);
    expect(after.every((t) => t.msg.error === '')).to.equal(true);
    // The watchdog stayed latched (vehicle stopped); an operator reset hands control back to the planner.
    expect(loop.watchdog.state).to.equal('stopped');
    await expectResetHandsBackToPlanner(loop);
    await loop.close();
  });

  describe('real demo engine (onnxruntime worker, CPU): worker crash mid-plan', function () {
    this.timeout(60000);
    let dir: string;
    let real: OnnxEngine;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ar1-faults-'));
      makeDemoBundle(join(dir, 'demo'));
      real = await createOnnxEngine({ bundleDir: join(dir, 'demo') });
    });
    after(async () => {
      await real?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('worker terminated during a plan → worker_crashed on /ar1/timing, braking, and a fresh worker plans again', async () => {
      const work = new WorkTracker();
      const c = real.contract;
      const loop = makeLoop({
        engine: real,
        track: (p) => work.track(p),
        idle: () => work.idle(),
        watchdog: AUTO,
        planner: { cameras: { names: [...c.cameras] } },
      });
      expect([...c.cameras]).to.deep.equal(AR1_CAMERAS);
      const px = new Uint8Array(c.imageWidth * c.imageHeight * 3).fill(120);
      loop.world.frame = (_cam, t) =>
        image(t, { width: c.imageWidth, height: c.imageHeight, step: c.imageWidth * 3, data: px });
      await loop.runTo(103);
      expect(loop.watchdog.state).to.equal('nominal');
      const plansBefore = loop.planner.stats().plans;
      expect(plansBefore).to.be.greaterThan(5);
      // Crash the worker while a plan is in flight: restart it from inside the engine call.
      const faultS = loop.nowS();
      let crashed = false;
      const planOrig = real.plan.bind(real);
      loop.engine.mode = 'ok';
      (loop.engine as { inner: unknown }).inner = {
        contract: real.contract,
        provider: real.provider,
        close: () => real.close(),
        plan: (i: Parameters<typeof planOrig>[0]) => {
          const p = planOrig(i);
          if (!crashed) {
            crashed = true;
            void real.restartWorker();
          }
          return p;
        },
      };
      await loop.runTo(faultS + 0.3);
      expect(crashed).to.equal(true);
      const crashTiming = loop.timing.find((t) => t.tS > faultS && t.msg.error !== '');
      // In flight or still being prepared (frames are copied to the worker across event-loop turns) when it died.
      expect(crashTiming?.msg.error).to.match(
        /^worker_crashed: inference worker (terminated by restartWorker\(\)|restarted while the plan was being prepared)/,
      );
      await loop.runTo(faultS + 2);
      const st = loop.planner.stats();
      expect(st.plans, 'a fresh worker plans again').to.be.greaterThan(plansBefore + 5);
      expect(st.errors).to.equal(1);
      expect(balanced(st)).to.equal(true);
      await loop.close();
    });
  });
});
