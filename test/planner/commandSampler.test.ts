import { expect } from 'chai';
import type { PlanTrajectory } from '../../nodes/core/planningEngine.js';
import { sampleCommand, type ActivePlan } from '../../nodes/planner/commandSampler.js';

/** A 64-step plan with accel[k] = k·0.1 and curvature[k] = 0.01 (rolled out with constant-accel speeds). */
export function rampPlan(
  t0S: number,
  v0 = 5,
  n = 64,
  dt = 0.1,
  accel = (k: number) => k * 0.1,
  curv = () => 0.01,
): ActivePlan {
  const tr: PlanTrajectory = {
    dt,
    t: new Float64Array(n),
    x: new Float64Array(n),
    y: new Float64Array(n),
    heading: new Float64Array(n),
    speed: new Float64Array(n),
    acceleration: new Float64Array(n),
    curvature: new Float64Array(n),
  };
  let v = v0;
  for (let k = 0; k < n; k++) {
    tr.t[k] = (k + 1) * dt;
    tr.acceleration[k] = accel(k);
    tr.curvature[k] = curv();
    v += accel(k) * dt;
    tr.speed[k] = v;
    tr.x[k] = k;
  }
  return { t0S, v0, trajectory: tr };
}

describe('planner/commandSampler', () => {
  const plan = rampPlan(10);

  it('is time-indexed: a plan sampled 300 ms after t0 gives the controls of step 3 (midpoint 3.5 steps = 350 ms)', () => {
    const c = sampleCommand(plan, 10.35)!;
    expect(c.acceleration).to.be.closeTo(0.3, 1e-12);
    expect(c.curvature).to.be.closeTo(0.01, 1e-12);
    expect(sampleCommand(plan, 10.3)!.acceleration).to.be.closeTo(0.25, 1e-12); // between steps 2 and 3
  });

  it('holds the first and last half step; nothing once the horizon (6.4 s) has run out', () => {
    expect(sampleCommand(plan, 10.0)!.acceleration).to.equal(0);
    expect(sampleCommand(plan, 10.04)!.acceleration).to.equal(0);
    expect(sampleCommand(plan, 16.39)!.acceleration).to.be.closeTo(6.3, 1e-12);
    expect(sampleCommand(plan, 16.4)).to.equal(undefined);
    expect(sampleCommand(plan, 20)).to.equal(undefined);
  });

  it('speed is linear from v0 through the waypoint speeds', () => {
    expect(sampleCommand(plan, 10)!.speed).to.equal(5);
    expect(sampleCommand(plan, 10.1)!.speed).to.be.closeTo(5, 1e-12); // step 0 accel 0
    expect(sampleCommand(plan, 10.25)!.speed).to.be.closeTo(5 + 0.01 + 0.02 / 2, 1e-12);
  });

  it('slight clock skew before t0 uses the first step; more than one step before t0 gives nothing', () => {
    expect(sampleCommand(plan, 9.95)!.speed).to.equal(5);
    expect(sampleCommand(plan, 9.85)).to.equal(undefined);
  });

  it('the mean over a step equals the step control for a linear ramp (50 Hz sampling)', () => {
    let sum = 0;
    for (let i = 0; i < 5; i++) sum += sampleCommand(plan, 11.0 + i * 0.02 + 0.01)!.acceleration;
    expect(sum / 5).to.be.closeTo(1.0, 1e-9);
  });

  it('across plan boundaries: a new plan is sampled from its own t0', () => {
    const next = rampPlan(
      10.5,
      6,
      64,
      0.1,
      () => -1,
      () => -0.02,
    );
    // at 10.8 s the old plan would give step 8 (0.75); the new one is 300 ms in
    expect(sampleCommand(plan, 10.8)!.acceleration).to.be.closeTo(0.75, 1e-12);
    const c = sampleCommand(next, 10.8)!;
    expect([c.acceleration, c.curvature]).to.deep.equal([-1, -0.02]);
    expect(c.speed).to.be.closeTo(6 - 0.3, 1e-12);
  });
});
