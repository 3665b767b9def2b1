import { expect } from 'chai';
import { Road } from '../../nodes/sim/road.js';
import { egoCorners, stepVehicle, type VehicleParams, type VehicleState } from '../../nodes/sim/vehicle.js';

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
const at = (v: number, a = 0, kappa = 0): VehicleState => ({ x: 0, y: 0, yaw: 0, v, a, kappa });
function run(
  st: VehicleState,
  cmd: { acceleration: number; curvature: number },
  seconds: number,
  p = P,
  dt = 0.01,
): VehicleState {
  for (let i = 0; i < Math.round(seconds / dt); i++) st = stepVehicle(st, cmd, dt, p);
  return st;
}

describe('sim/vehicle: unicycle with first-order actuator lag and limits', () => {
  it('reaches 63 % of an acceleration step after one time constant, and the speed integrates it', () => {
    const st = run(at(10), { acceleration: 1, curvature: 0 }, 0.2);
    expect(st.a).to.be.closeTo(1 - Math.exp(-1), 1e-9);
    expect(st.v).to.be.closeTo(10 + (0.2 - 0.2 * (1 - Math.exp(-1))), 0.01); // ∫ (1 − e^{−t/τ}) dt
  });

  it('steering lags with its own time constant and drives a circle of radius 1/κ', () => {
    expect(run(at(10), { acceleration: 0, curvature: 0.02 }, 0.15).kappa).to.be.closeTo(
      0.02 * (1 - Math.exp(-1)),
      1e-9,
    );
    const p0 = { ...P, curvature_lag_s: 0 };
    const st = run(at(10), { acceleration: 0, curvature: 0.02 }, Math.PI / (10 * 0.02), p0, 0.001); // half a circle
    expect(st.x).to.be.closeTo(0, 0.01);
    expect(st.y).to.be.closeTo(100, 0.01);
    expect(st.yaw).to.be.closeTo(Math.PI, 1e-4);
  });

  it("clamps commands to the vehicle's own limits", () => {
    const p0 = { ...P, accel_lag_s: 0, curvature_lag_s: 0 };
    const st = stepVehicle(at(10), { acceleration: 50, curvature: -5 }, 0.01, p0);
    expect(st.a).to.equal(3);
    expect(st.kappa).to.equal(-0.2);
    expect(stepVehicle(at(10), { acceleration: -50, curvature: 0 }, 0.01, p0).a).to.equal(-8);
  });

  it('never reverses: braking stops it and then holds it at standstill', () => {
    const st = run(at(2), { acceleration: -3, curvature: 0 }, 5);
    expect(st.v).to.equal(0);
    expect(st.a).to.equal(0);
    expect(st.x).to.be.greaterThan(0);
    const x = st.x;
    expect(run(st, { acceleration: -3, curvature: 0.1 }, 2).x).to.equal(x);
  });

  it('a non-finite command is not applied: the actuators hold their output', () => {
    const st = stepVehicle(at(10, 1, 0.01), { acceleration: Number.NaN, curvature: Number.POSITIVE_INFINITY }, 0.01, P);
    expect(st.a).to.equal(1);
    expect(st.kappa).to.equal(0.01);
    expect([st.x, st.y, st.yaw, st.v].every(Number.isFinite)).to.equal(true);
  });

  it('the ego box: front 3.8 m ahead of the reference point, 1 m behind, 1.9 m wide', () => {
    const c = egoCorners({ x: 0, y: 0, yaw: Math.PI / 2 }, P);
    const r = (v: number) => Math.round(v * 1e9) / 1e9;
    expect(c.map(([x, y]) => [r(x), r(y)])).to.deep.equal([
      [-0.95, 3.8],
      [0.95, 3.8],
      [0.95, -1],
      [-0.95, -1],
    ]);
  });
});

describe('sim/road: centreline from straight and arc segments', () => {
  const road = new Road(
    [
      { kind: 'straight', length_m: 50 },
      { kind: 'arc', length_m: (Math.PI / 2) * 40, radius_m: 40, direction: 'left' },
      { kind: 'straight', length_m: 30 },
    ],
    3.6,
  );

  it('joins the pieces: a quarter circle to the left ends 40 m across, heading +y', () => {
    expect(road.length).to.be.closeTo(50 + 20 * Math.PI + 30, 1e-9);
    const end = road.poseAt(50 + 20 * Math.PI);
    expect(end.x).to.be.closeTo(90, 1e-6);
    expect(end.y).to.be.closeTo(40, 1e-6);
    expect(end.yaw).to.be.closeTo(Math.PI / 2, 1e-9);
    const last = road.poseAt(road.length);
    expect([last.x, last.y]).to.deep.equal([road.points.at(-1)!.x, road.points.at(-1)!.y]);
    expect(last.y).to.be.closeTo(70, 1e-6);
  });

  it('projects a point to its arc length and signed lateral offset (left positive)', () => {
    const p = road.poseAt(70, 1.5);
    const q = road.project(p.x, p.y);
    expect(q.s).to.be.closeTo(70, 0.01);
    expect(q.lateral).to.be.closeTo(1.5, 0.01);
    const r = road.poseAt(20, -2);
    const full = road.project(r.x, r.y);
    expect(full.lateral).to.be.closeTo(-2, 1e-6);
    expect(road.project(r.x, r.y, full.index + 10), 'a nearby hint gives the same answer').to.deep.equal(full);
  });
});
