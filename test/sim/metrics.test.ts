import { expect } from 'chai';
import { checkThresholds, RunMetrics } from '../../nodes/sim/metrics.js';
import { Road } from '../../nodes/sim/road.js';
import type { BarrierSpec } from '../../nodes/sim/scenario.js';
import type { VehicleParams, VehicleState } from '../../nodes/sim/vehicle.js';

const P: VehicleParams = {
  accel_lag_s: 0.2,
  curvature_lag_s: 0.15,
  accel_min_mps2: -8,
  accel_max_mps2: 3,
  curvature_max_1pm: 0.2,
  length_m: 4.8,
  width_m: 1.9,
  rear_overhang_m: 1,
};
const road = new Road([{ kind: 'straight', length_m: 200 }], 3.6);
const barrier: BarrierSpec = { kind: 'barrier', at_m: 50, lifts_at_s: null, height_m: 1.6 };

/** Feeds a straight drive at y with speed v(t) (and a(t) its derivative) in 10 ms steps. */
function drive(
  m: RunMetrics,
  seconds: number,
  f: (t: number) => { x: number; y?: number; v: number; a?: number; kappa?: number },
  state: 'nominal' | 'fallback' = 'nominal',
) {
  for (let i = 0; i <= Math.round(seconds / 0.01); i++) {
    const t = i * 0.01;
    const s = f(t);
    const st: VehicleState = { x: s.x, y: s.y ?? 0, yaw: 0, v: s.v, a: s.a ?? 0, kappa: s.kappa ?? 0 };
    m.add(t, st, i === 0 ? 0 : 0.01, state);
  }
}

describe('sim/metrics: progress, off-road, collision, comfort, watchdog time', () => {
  it('progress along the route, time per watchdog state, no obstacle → null obstacle metrics', () => {
    const m = new RunMetrics(road, 100, [], P);
    drive(m, 5, (t) => ({ x: 10 * t, v: 10 }));
    const r = m.result();
    expect(r.progress_m).to.be.closeTo(50, 1e-6);
    expect(r.progress_fraction).to.be.closeTo(0.5, 1e-6);
    expect(r.time_in_state_s.nominal).to.be.closeTo(5, 1e-9);
    expect(r.min_distance_m).to.equal(null);
    expect(r.stopped_before_obstacle).to.equal(null);
    expect(r.offroad_s).to.equal(0);
  });

  it('off-road: the box edge 0.3 m past the road edge counts in metres and seconds', () => {
    const m = new RunMetrics(road, 100, [], P);
    drive(m, 2, (t) => ({ x: 10 * t, y: t < 1 ? 0 : 3.6 - 0.95 + 0.3, v: 10 }));
    const r = m.result();
    expect(r.offroad_m).to.be.closeTo(0.3, 1e-6);
    expect(r.offroad_s).to.be.closeTo(1, 0.011);
  });

  it('stopping 2 m before a standing barrier: no collision, min distance 2 m, stopped before it, TTC finite', () => {
    const m = new RunMetrics(road, 100, [barrier], P);
    const stopX = 50 - 0.1 - 3.8 - 2; // front of the box 2 m before the barrier's face
    // Constant deceleration from 10 m/s to a stop at stopX over 5 s (a = −2 m/s²).
    drive(m, 8, (t) => (t < 5 ? { x: stopX - 25 + 10 * t - t * t, v: 10 - 2 * t, a: -2 } : { x: stopX, v: 0 }));
    const r = m.result();
    expect(r.collision).to.equal(false);
    expect(r.min_distance_m).to.be.closeTo(2, 1e-3);
    expect(r.stopped_before_obstacle).to.equal(true);
    expect(r.min_ttc_s).to.be.greaterThan(0.9).and.lessThan(10);
  });

  it('driving through a standing barrier is a collision; through a lifted one is not', () => {
    const hit = new RunMetrics(road, 100, [barrier], P);
    drive(hit, 8, (t) => ({ x: 10 * t, v: 10 }));
    expect(hit.result().collision).to.equal(true);
    expect(hit.result().min_distance_m).to.equal(0);
    const lifted = new RunMetrics(road, 100, [{ ...barrier, lifts_at_s: 3 }], P);
    drive(lifted, 8, (t) => ({ x: 10 * t, v: 10 }));
    expect(lifted.result().collision).to.equal(false);
  });

  it('comfort: jerk and lateral jerk of the executed motion while moving', () => {
    const m = new RunMetrics(road, 100, [], P);
    drive(m, 2, (t) => ({ x: 10 * t, v: 10, a: t < 1 ? 0 : 0.5 * (t - 1), kappa: t < 1 ? 0 : 0.01 * (t - 1) }));
    const r = m.result();
    expect(r.max_abs_jerk_mps3).to.be.closeTo(0.5, 1e-6);
    expect(r.max_abs_lat_accel_mps2).to.be.closeTo(100 * 0.01, 1e-6);
    expect(r.max_abs_lat_jerk_mps3).to.be.closeTo(1, 1e-6);
  });

  it('checks each threshold given, and only those', () => {
    const m = new RunMetrics(road, 100, [barrier], P);
    drive(m, 8, (t) => ({ x: 10 * t, v: 10 }), 'fallback');
    const checks = checkThresholds(
      m.result(),
      { no_collision: true, min_progress_m: 90, reaches_state: 'fallback', final_state: 'stopped', max_fallback_s: 10 },
      new Set(['fallback']),
      'fallback',
    );
    expect(checks.map((c) => [c.name, c.pass])).to.deep.equal([
      ['min_progress_m', false],
      ['no_collision', false],
      ['reaches_state', true],
      ['final_state', false],
      ['max_fallback_s', true],
    ]);
    expect(checkThresholds(m.result(), {}, new Set(), 'nominal')).to.deep.equal([]);
  });
});
