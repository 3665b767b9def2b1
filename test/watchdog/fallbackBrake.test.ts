import { expect } from 'chai';
import { fallbackBrake, rampAccel, rampTicks, standstillHold } from '../../nodes/watchdog/fallbackBrake.js';

const DT = 1 / 50;
const profile = { accel_mps2: -2.5, jerk_mps3: -1.5 };

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

  it('ramps from the last commanded acceleration, also from a positive one', () => {
    expect(rampAccel(1, -2.5, -1.5, DT)).to.be.closeTo(0.97, 1e-12);
    expect(rampTicks(2, -2.5, -1.5, DT)).to.equal(150);
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
