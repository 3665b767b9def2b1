import { expect } from 'chai';
import fc from 'fast-check';
import type { OdometrySample } from '../../nodes/planner/egoHistory.js';
import { odometrySample } from '../../nodes/planner/egoHistory.js';
import { odometryJump } from '../../nodes/planner/odometryJump.js';
import { odometry } from './harness.js';

const at = (tS: number, x: number, speedMps?: number, y = 0): OdometrySample => ({
  tS,
  x,
  y,
  z: 0,
  yaw: 0,
  ...(speedMps === undefined ? {} : { speedMps }),
});

describe('planner/odometryJump (pure rule: distance > speed·dt + max_jump_m)', () => {
  it('odometrySample keeps |twist.linear| as speedMps; a message without a finite twist has none', () => {
    expect(odometrySample(odometry(100, 10))!.speedMps).to.equal(10);
    const m = odometry(100, 10);
    m.twist.twist.linear = { x: 3, y: 4, z: 0 };
    expect(odometrySample(m)!.speedMps).to.equal(5);
    m.twist.twist.linear = { x: Number.NaN, y: 0, z: 0 };
    expect(odometrySample(m)!.speedMps).to.equal(undefined);
  });

  it('a straight drive at 30 m/s sampled at 10 Hz is plausible (3 m per step explained by the twist)', () => {
    expect(odometryJump(at(0.9, 27, 30), at(1.0, 30, 30), at(1.1, 33, 30), 1)).to.equal(undefined);
  });

  it('500 m in 20 ms at 10 m/s is a jump, with the numbers in the detail', () => {
    const j = odometryJump(at(99.98, 999.8, 10), at(100, 1000, 10), at(100.02, 1500.2, 10), 1)!;
    expect(j.distanceM).to.be.closeTo(500.2, 1e-9);
    expect(j.allowedM).to.be.closeTo(10 * 0.02 + 1, 1e-9);
    expect(j.detail).to.equal(
      'odometry: position moved 500.200 m in 0.020 s at 100.020 s, expected at most 1.200 m (speed 10.00 m/s × dt + max_jump_m 1.00 m)',
    );
  });

  it('exactly at the bound passes, just beyond it fails (2-D distance)', () => {
    // standstill: a 1 m relocalisation step is noise, 1.01 m sideways is a jump
    expect(odometryJump(undefined, at(1, 0, 0), at(1.1, 0.6, 0, 0.8), 1)).to.equal(undefined);
    expect(odometryJump(undefined, at(1, 0, 0), at(1.1, 0, 0, 1.01), 1)).to.not.equal(undefined);
  });

  it('without a twist, the previous pair speed explains the step; without any speed nothing is judged', () => {
    expect(odometryJump(at(0.9, 27), at(1.0, 30), at(1.1, 33), 1), 'previous pair: 30 m/s').to.equal(undefined);
    expect(odometryJump(at(0.9, 27), at(1.0, 30), at(1.1, 40), 1)!.speedMps).to.be.closeTo(30, 1e-9);
    expect(odometryJump(undefined, at(1.0, 30), at(1.1, 500), 1), 'second sample ever, no twist').to.equal(undefined);
  });

  it('a twist of 0 while the poses move (a source that leaves twist empty) falls back on the implied speed', () => {
    expect(odometryJump(at(0.9, 27, 0), at(1.0, 30, 0), at(1.1, 33, 0), 1)).to.equal(undefined);
  });

  it('a non-increasing stamp is not judged here (out_of_order / time reset handle it)', () => {
    expect(odometryJump(undefined, at(1, 0, 10), at(1, 100, 10), 1)).to.equal(undefined);
  });

  it('property: any step within speed·dt + margin passes, any step beyond it is reported', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 60, noNaN: true }),
        fc.double({ min: 0.001, max: 0.5, noNaN: true }),
        fc.double({ min: 0.1, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
        (v, dt, margin, f, dir) => {
          const d = f * (v * dt + margin);
          const j = odometryJump(undefined, at(10, 0, v), at(10 + dt, d * Math.cos(dir), v, d * Math.sin(dir)), margin);
          if (f <= 0.999) expect(j).to.equal(undefined);
          if (f >= 1.001) expect(j).to.not.equal(undefined);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
