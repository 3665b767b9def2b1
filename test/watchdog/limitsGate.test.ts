import { expect } from 'chai';
import { NO_OVERRIDES } from '../../nodes/core/params/index.js';
import { curvatureBound, interpolate, limitsAt, limitsGate, type Actuation } from '../../nodes/watchdog/limitsGate.js';
import { loadWatchdogParams, type LimitTables } from '../../nodes/watchdog/params.js';

const defaults = loadWatchdogParams(NO_OVERRIDES).limits;
const DT = 0.02;
const close = (a: number, b: number) => expect(a).to.be.closeTo(b, 1e-12);
// Non-default tables prove the parameters are honoured (Autoware test_vehicle_cmd_filter style).
const custom: LimitTables = {
  reference_speed_mps: [0, 10, 20],
  accel_max_mps2: [2, 1.5, 1],
  accel_min_mps2: [-4, -3.5, -3],
  jerk_max_mps3: [10, 5, 4],
  curvature_max_pm: [0.3, 0.2, 0.1],
  lat_accel_mps2: [3, 2.5, 2],
  lat_jerk_mps3: [6, 5, 4],
};

describe('watchdog/limitsGate', () => {
  it('interpolates linearly and holds end values outside', () => {
    expect(interpolate([1, 10, 30], [0, 9, 29], 5.5)).to.equal(4.5);
    expect(interpolate([1, 10, 30], [0, 9, 29], 0)).to.equal(0);
    expect(interpolate([1, 10, 30], [0, 9, 29], 100)).to.equal(29);
    expect(interpolate([5], [7], 100)).to.equal(7);
    close(limitsAt(custom, 15).accelMax, 1.25);
    close(limitsAt(custom, -15).accelMin, -3.25);
    expect(() => interpolate([1, 2], [1], 1)).to.throw(RangeError, /expected equal non-empty arrays, got 2 and 1/);
  });

  it('passes a command inside every limit untouched', () => {
    const r = limitsGate({ accel: 0.5, curvature: 0.01 }, { accel: 0.45, curvature: 0.01 }, 10, DT, defaults);
    expect(r).to.deep.equal({ command: { accel: 0.5, curvature: 0.01 }, fired: [] });
  });

  describe('longitudinal sweep: accel from min−1 to max+1 in 0.05 steps, at 2, 5, 10, 15, 50 m/s', () => {
    for (const v of [2, 5, 10, 15, 50]) {
      it(`at ${v} m/s`, () => {
        const l = limitsAt(custom, v);
        for (let a = l.accelMin - 1; a <= l.accelMax + 1; a += 0.05) {
          const r = limitsGate({ accel: a, curvature: 0 }, undefined, v, DT, custom);
          const inside = a >= l.accelMin && a <= l.accelMax;
          expect(r.command.accel).to.equal(inside ? a : a > l.accelMax ? l.accelMax : l.accelMin);
          expect(r.fired).to.deep.equal(inside ? [] : [a > l.accelMax ? 'accel_max' : 'accel_min']);
        }
      });
    }
  });

  it('limits longitudinal jerk against the previous command', () => {
    const prev: Actuation = { accel: 0, curvature: 0 };
    const up = limitsGate({ accel: 2, curvature: 0 }, prev, 10, DT, defaults);
    close(up.command.accel, 5 * DT);
    expect(up.fired).to.deep.equal(['jerk']);
    const down = limitsGate({ accel: -3, curvature: 0 }, prev, 0, DT, custom); // 10 m/s^3 at 0 m/s
    close(down.command.accel, -10 * DT);
  });

  describe('lateral sweep: |κ|·v² at the limit passes, one step over is clamped (2, 5, 10, 15, 50 m/s)', () => {
    for (const v of [2, 5, 10, 15, 50]) {
      it(`at ${v} m/s`, () => {
        const bound = curvatureBound(limitsAt(defaults, v), v);
        expect(bound).to.equal(Math.min(0.2, 3 / (v * v)));
        const at = limitsGate({ accel: 0, curvature: bound }, undefined, v, DT, defaults);
        expect(at.fired).to.deep.equal([]);
        const over = limitsGate({ accel: 0, curvature: -(bound + 1e-3) }, undefined, v, DT, defaults);
        expect(over.command.curvature).to.equal(-bound);
        expect(over.fired).to.deep.equal([v * v * 0.2 > 3 ? 'lat_accel' : 'curvature']);
        expect(Math.abs(over.command.curvature) * v * v).to.be.at.most(3 + 1e-9);
      });
    }
  });

  it('uses v = max(v_ego, 1 m/s): at standstill the curvature limit is 0.2 1/m (not infinite)', () => {
    const r = limitsGate({ accel: 0, curvature: 5 }, undefined, 0, DT, defaults);
    expect(r.command.curvature).to.equal(0.2);
    expect(r.fired).to.deep.equal(['curvature']);
  });

  describe('lateral jerk |Δκ|·v²/dt at 2, 5, 10, 15 m/s', () => {
    for (const v of [2, 5, 10, 15]) {
      it(`at ${v} m/s`, () => {
        const dk = (5 * DT) / (v * v);
        const prev = { accel: 0, curvature: 0 };
        const at = limitsGate({ accel: 0, curvature: dk }, prev, v, DT, defaults);
        expect(at.fired).to.deep.equal([]);
        const over = limitsGate({ accel: 0, curvature: dk * 1.5 }, prev, v, DT, defaults);
        close(over.command.curvature, dk);
        expect(over.fired).to.deep.equal(['lat_jerk']);
      });
    }
  });

  it('absolute limits win over the rate limits when they disagree', () => {
    // previous curvature legal at 1 m/s, now at 20 m/s the bound is 3/400 = 0.0075
    const r = limitsGate({ accel: 0, curvature: 0.2 }, { accel: 0, curvature: 0.2 }, 20, DT, defaults);
    expect(r.command.curvature).to.equal(3 / 400);
    expect(r.fired).to.deep.equal(['lat_accel']);
  });

  it('replaces non-finite values by the previous command (or 0) and says so', () => {
    const r = limitsGate(
      { accel: Number.NaN, curvature: Number.POSITIVE_INFINITY },
      { accel: -1, curvature: 0.01 },
      5,
      DT,
      defaults,
    );
    expect(r.command).to.deep.equal({ accel: -1, curvature: 0.01 });
    expect(r.fired).to.deep.equal(['non_finite']);
    const first = limitsGate({ accel: Number.NaN, curvature: Number.NaN }, undefined, 5, DT, defaults);
    expect(first.command).to.deep.equal({ accel: 0, curvature: 0 });
  });

  it('refuses a bad period when called', () => {
    expect(() => limitsGate({ accel: 0, curvature: 0 }, undefined, 5, 0, defaults)).to.throw(
      RangeError,
      /dtS: expected a finite period > 0 s, got 0/,
    );
  });
});
