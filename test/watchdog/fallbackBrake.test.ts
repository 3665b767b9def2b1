import { expect } from 'chai';
import {
  fallbackBrake,
  rampAccel,
  rampTicks,
  standstillHold,
  ticksToFirstNegative,
} from '../../nodes/watchdog/fallbackBrake.js';
import { loadWatchdogParams } from '../../nodes/watchdog/params.js';

const DT = 1 / 50;
const profile = { accel_mps2: -2.5, jerk_mps3: -1.5, release_jerk_mps3: -5 };

describe('watchdog/fallbackBrake', () => {
  it('reaches −2.5 m/s² from 0 after exactly 84 ticks at 50 Hz (−1.5 m/s³: 83 × 0.03 = 2.49 < 2.5)', () => {
    let prev = { accel: 0, curvature: 0.01 };
    const seen: number[] = [];
    for (let i = 1; i <= 90; i++) {
      prev = fallbackBrake(prev, DT, profile);
      seen.push(prev.accel);
      if (i < 84) expect(prev.accel, `tick ${i}`).to.be.greaterThan(-2.5);
    }
    expect(seen[82]).to.be.closeTo(-2.49, 1e-9);
    expect(seen[83]).to.equal(-2.5);
    expect(seen.slice(83).every((a) => a === -2.5)).to.equal(true);
    expect(prev.curvature).to.equal(0.01);
    expect(rampTicks(0, -2.5, -1.5, DT)).to.equal(84);
  });

  it('ramps from the last commanded acceleration, also from a positive one (without a release jerk: 150 ticks from +2)', () => {
    expect(rampAccel(1, -2.5, -1.5, DT)).to.be.closeTo(0.97, 1e-12);
    expect(rampTicks(2, -2.5, -1.5, DT)).to.equal(150);
  });

  it('releases a positive acceleration at release_jerk_mps3 (−5): from +2 the first negative command is the 21st, 0.42 s', () => {
    const defaults = loadWatchdogParams({ sources: [] });
    expect(defaults.fallback.release_jerk_mps3).to.equal(-5);
    expect(rampAccel(2, -2.5, -1.5, DT, -5)).to.be.closeTo(1.9, 1e-12); // 5 m/s³ × 20 ms above zero
    expect(ticksToFirstNegative(2, defaults.fallback, DT)).to.equal(21); // 20 ticks to 0, then −0.03
    expect(ticksToFirstNegative(0.5, defaults.fallback, DT)).to.equal(6);
    // Without the release jerk it took 67 ticks (1.34 s): the behaviour this replaces.
    expect(
      ticksToFirstNegative(2, { ...defaults.fallback, release_jerk_mps3: defaults.fallback.jerk_mps3 }, DT),
    ).to.equal(67);
    // Whole ramp +2 → −2.5: 20 ticks of release + 84 of brake build-up.
    expect(rampTicks(2, -2.5, -1.5, DT, -5)).to.equal(104);
  });

  it('a release step that crosses zero spends the rest of the period at the brake jerk (never more than either jerk)', () => {
    // From +0.05: 0.05 of the 0.1 release step is above zero (half the period), the other half brakes at 1.5 m/s³.
    expect(rampAccel(0.05, -2.5, -1.5, DT, -5)).to.be.closeTo(-0.015, 1e-12);
    for (const a of [0.001, 0.04, 0.0999, 0.1, 0.1001, 1.7]) {
      const next = rampAccel(a, -2.5, -1.5, DT, -5);
      expect(a - next, `from ${a}`).to.be.at.most(5 * DT + 1e-12);
      if (next < 0) expect(-next, `below zero from ${a}`).to.be.at.most(1.5 * DT + 1e-12);
    }
    // Below zero and upward ramps ignore the release jerk.
    expect(rampAccel(-1, -2.5, -1.5, DT, -5)).to.be.closeTo(-1.03, 1e-12);
    expect(rampAccel(-3.5, -2.5, -1.5, DT, -5)).to.be.closeTo(-3.47, 1e-12);
  });

  it('ramps UP to a weaker target with the same |jerk| (never a step)', () => {
    expect(rampAccel(-3.5, -2.5, -1.5, DT)).to.be.closeTo(-3.47, 1e-12);
    expect(standstillHold({ accel: -2.5, curvature: 0 }, DT, -1.5, -1.5).accel).to.be.closeTo(-2.47, 1e-12);
    expect(rampTicks(-2.5, -1.5, -1.5, DT)).to.equal(34);
  });

  it('starts at the target when nothing was commanded before (Autoware)', () => {
    expect(fallbackBrake(undefined, DT, profile)).to.deep.equal({ accel: -2.5, curvature: 0 });
    expect(standstillHold(undefined, DT, -1.5, -1.5)).to.deep.equal({ accel: -1.5, curvature: 0 });
  });

  it('the emergency profile is faster: 0 → −3.5 at −4 m/s³ in 44 ticks', () => {
    expect(rampTicks(0, -3.5, -4, DT)).to.equal(44);
  });
});
