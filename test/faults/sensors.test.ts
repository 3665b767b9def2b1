import { expect } from 'chai';
import type { PlanInput, PlanningEngine, PlanResult } from '../../nodes/core/planningEngine.js';
import type { MemoryLogger } from '../../nodes/core/logger.js';
import {
  balanced,
  firstNonPlannerAfter,
  image,
  makeLoop,
  sourcesAfter,
  VirtualEngine,
  type Loop,
  type LoopOptions,
} from './loop.js';

/** Sensor and clock faults, planner + watchdog together on one bus in virtual time. */

async function engaged(o: LoopOptions = {}): Promise<Loop> {
  const loop = makeLoop({ ...o, watchdog: { auto_engage: true, ...o.watchdog } });
  await loop.runTo(104);
  expect(loop.watchdog.state, 'engaged before the fault').to.equal('nominal');
  return loop;
}
const TICK = 0.02 + 1e-9;
/** After the first non-planner command, the planner never commands the vehicle again (latched until reset). */
function brakedWithin(loop: Loop, faultS: number, deadlineS: number): number {
  const brakeS = firstNonPlannerAfter(loop, faultS);
  expect(brakeS, 'the watchdog braked').to.not.equal(undefined);
  expect(brakeS! - faultS).to.be.at.most(deadlineS + TICK);
  expect(
    sourcesAfter(loop, brakeS!).every((s) => s !== 'planner'),
    'latched: no planner command after braking',
  ).to.equal(true);
  expect(loop.watchdog.transitions.at(-1)!.to).to.be.oneOf(['fallback', 'stopped']);
  return brakeS!;
}
const warnings = (loop: Loop) => (loop.plannerLog as MemoryLogger).records.map((r) => r.message).join('\n');

describe('faults: sensors (planner + watchdog on one bus, virtual time)', () => {
  it('one camera stops → no plan (camera_stale counted), watchdog brakes on camera_stale_s', async () => {
    const loop = await engaged();
    const plans = loop.planner.stats().plans;
    const faultS = loop.nowS();
    loop.world.cameras[2] = false;
    await loop.runTo(faultS + 3);
    const st = loop.planner.stats();
    expect(st.plans).to.be.at.most(plans + 3);
    expect(st.skipped.camera_stale ?? 0).to.be.greaterThan(0);
    expect(st.dropped.camera_stale ?? 0).to.be.greaterThan(0);
    expect(balanced(st)).to.equal(true);
    brakedWithin(loop, faultS, loop.wp.camera_stale_s + 0.1);
    expect(loop.watchdog.transitions.at(-1)!.reason).to.match(
      /camera .*camera_cross_right_120fov.* age .* exceeds camera_stale_s 0\.300 s/,
    );
    await loop.close();
  });

  it('all cameras stop → no new plan, watchdog brakes on plan/camera age; every frame accounted', async () => {
    const loop = await engaged();
    const faultS = loop.nowS();
    const plans = loop.planner.stats().plans;
    loop.world.cameras = loop.world.cameras.map(() => false);
    await loop.runTo(faultS + 3);
    const st = loop.planner.stats();
    expect(st.plans).to.be.at.most(plans + 1);
    expect(balanced(st)).to.equal(true);
    brakedWithin(loop, faultS, loop.wp.camera_stale_s + 0.1);
    await loop.close();
  });

  for (const [what, over, reason] of [
    ['wrong size (16×4 instead of 8×4)', { width: 16, step: 48, data: new Uint8Array(16 * 4 * 3) }, 'bad_size'],
    ['wrong encoding (yuv422)', { encoding: 'yuv422' }, 'bad_encoding'],
  ] as const) {
    it(`a camera sends the ${what} → frames dropped as ${reason}, warned, no plan, watchdog brakes`, async () => {
      const loop = await engaged();
      const faultS = loop.nowS();
      loop.world.frame = (c, t) => image(t, c === 1 ? over : {});
      await loop.runTo(faultS + 3);
      const st = loop.planner.stats();
      expect(st.dropped[reason] ?? 0).to.be.at.least(29);
      expect(balanced(st)).to.equal(true);
      expect(warnings(loop)).to.match(new RegExp(`frame dropped \\(${reason}\\): .*camera_front_wide_120fov`));
      brakedWithin(loop, faultS, loop.wp.max_plan_age_s + 0.1);
      await loop.close();
    });
  }

  it('odometry stops → no plan (odometry_* counted), watchdog brakes on odometry_stale_s', async () => {
    const loop = await engaged();
    const faultS = loop.nowS();
    loop.world.odometry = false;
    await loop.runTo(faultS + 3);
    const st = loop.planner.stats();
    const odomSkips = Object.entries(st.skipped)
      .filter(([k]) => k.startsWith('odometry_'))
      .reduce((a, [, n]) => a + n, 0);
    expect(odomSkips).to.be.greaterThan(0);
    expect(balanced(st)).to.equal(true);
    brakedWithin(loop, faultS, loop.wp.odometry_stale_s + 0.02);
    expect(loop.watchdog.transitions.at(-1)!.reason).to.match(/odometry age .* exceeds odometry_stale_s 0\.100 s/);
    await loop.close();
  });

  it('odometry teleports 500 m → planner clears its history (odometry_jump), no plan mixes the timelines, resumes after 1.5 s; the watchdog brakes', async () => {
    const seen: PlanInput[] = [];
    const loop = makeLoop({ watchdog: { auto_engage: true } });
    const inner = loop.engine.inner as VirtualEngine;
    (loop.engine as { inner: PlanningEngine }).inner = {
      contract: inner.contract,
      provider: inner.provider,
      close: () => inner.close(),
      plan: (i: PlanInput): Promise<PlanResult> => {
        seen.push(i);
        return inner.plan(i);
      },
    };
    await loop.runTo(104);
    expect(loop.watchdog.state, 'engaged before the fault').to.equal('nominal');
    const faultS = loop.nowS();
    loop.world.teleportM = 500;
    // The first teleported odometry sample is the next 20 ms tick after faultS.
    const checks: boolean[] = [];
    for (let t = faultS + 0.02; t <= faultS + 3 + 1e-9; t += 0.02) {
      await loop.runTo(t);
      checks.push(balanced(loop.planner.stats()));
    }
    expect(checks.every(Boolean), 'received = planned + dropped + waiting at every step').to.equal(true);
    const st = loop.planner.stats();
    expect(st.odometryJumps).to.equal(1);
    expect(st.skipped.odometry_jump ?? 0).to.be.greaterThan(10);
    expect(st.dropped.odometry_jump ?? 0).to.be.greaterThan(0);
    expect(warnings(loop)).to.match(
      /odometry jumped \(odometry: position moved 500\.\d+ m in 0\.020 s at \d+\.\d+ s, expected at most [\d.]+ m .*\): odometry history cleared/,
    );
    // No plan input mixes poses from before and after the jump (steps ≤ 10 m/s · 0.1 s, vs 500 m).
    const steps = seen.map((i) =>
      Math.max(...Array.from(i.history.x, (x, k) => (k ? Math.abs(x - i.history.x[k - 1]!) : 0))),
    );
    expect(Math.max(...steps)).to.be.lessThan(1.5);
    // Plans stop: no input whose t0 is within 1.5 s after the jump; planning resumes with 1.5 s of new history.
    const jumpS = faultS + 0.02;
    expect(seen.filter((i) => i.t0S > jumpS - 1e-9 && i.t0S < jumpS + 1.5 - 1e-9)).to.deep.equal([]);
    const resumed = seen.filter((i) => i.t0S >= jumpS + 1.5 - 1e-9);
    expect(resumed.length).to.be.greaterThan(5);
    expect(resumed[0]!.t0S - jumpS).to.be.lessThan(1.5 + 0.1 + 1e-9);
    expect(loop.timing.filter((t) => t.tS > jumpS + 1.5).every((t) => t.msg.error === '')).to.equal(true);
    // The watchdog's own odometry jump check: braking at once, latched.
    brakedWithin(loop, faultS, 0.02 + TICK);
    expect(loop.watchdog.transitions.map((tr) => tr.reason).join('\n')).to.match(/odometry position jumped 500/);
    await loop.close();
  });
});

describe('faults: clock and timestamps (planner + watchdog on one bus, virtual time)', () => {
  it('timestamps go backwards 5 s → planner resets its timeline (time_reset counted, plan cleared), watchdog brakes', async () => {
    const loop = await engaged();
    const faultS = loop.nowS();
    loop.world.stampOffsetS = -5;
    await loop.runTo(faultS + 3);
    const st = loop.planner.stats();
    expect(st.dropped.time_reset ?? 0).to.be.greaterThan(0);
    expect(balanced(st)).to.equal(true);
    expect(warnings(loop)).to.match(
      /time went backwards \(.*stamp .* is .* s before the newest.*\): buffers, history and the active plan cleared/,
    );
    brakedWithin(loop, faultS, loop.wp.odometry_stale_s + 0.02);
    // Plans of the new timeline are 5 s old for the watchdog: it stays braking, never drives them.
    expect(sourcesAfter(loop, faultS + 1).every((s) => s !== 'planner')).to.equal(true);
    await loop.close();
  });

  it('sim clock at zero (no /clock yet) → the watchdog never engages and never passes a planner command', async () => {
    const loop = makeLoop({ watchdog: { auto_engage: true }, watchdogClock: () => 0 });
    loop.engage();
    await loop.runTo(105);
    expect(loop.vehicle.length).to.be.greaterThan(200);
    expect(sourcesAfter(loop, 0).every((s) => s !== 'planner')).to.equal(true);
    expect(loop.watchdog.state).to.not.equal('nominal');
    expect(loop.watchdog.refusals.map((r) => r.reason).join('\n')).to.match(
      /ROS time is 0 s \(sim clock not started: no \/clock yet\)/,
    );
    expect(loop.planner.stats().plans, 'the planner itself is stamp-driven and keeps planning').to.be.greaterThan(10);
    await loop.close();
  });

  it('sensor stamps jump 10 s forward → future stamps are a fault, watchdog brakes; no command from the old plan', async () => {
    const loop = await engaged();
    const faultS = loop.nowS();
    loop.world.stampOffsetS = 10;
    await loop.runTo(faultS + 3);
    brakedWithin(loop, faultS, 0.02);
    expect(loop.watchdog.transitions.at(-1)!.reason).to.match(/odometry.*ahead|future|clock/i);
    expect(balanced(loop.planner.stats())).to.equal(true);
    await loop.close();
  });

  it('the watchdog clock jumps 10 s forward → every plan is 10 s old, braking on the next tick', async () => {
    let jumpS = 0;
    const l = makeLoop({ watchdog: { auto_engage: true }, watchdogClock: () => l.s.now() / 1000 + jumpS });
    await l.runTo(104);
    expect(l.watchdog.state).to.equal('nominal');
    const faultS = l.nowS();
    jumpS = 10;
    await l.runTo(faultS + 1);
    brakedWithin(l, faultS, 0.02);
    expect(l.watchdog.transitions.at(-1)!.reason).to.match(/plan age 10\.\d+ s exceeds max_plan_age_s/);
    await l.close();
  });
});
