import { expect } from 'chai';
import { brakingTrajectory, egoPoseAt, planTrajectory, type PlanRecord } from '../../nodes/alpasim/response.js';
import type { EgoPose } from '../../nodes/alpasim/observations.js';

const T0 = 1_700_000_000_000_000n;
function pose(tS: number, x: number, y: number, yaw: number, vx = 10): EgoPose {
  return {
    tUs: T0 + BigInt(Math.round(tS * 1e6)),
    x,
    y,
    z: 0.5,
    q: { w: Math.cos(yaw / 2), x: 0, y: 0, z: Math.sin(yaw / 2) },
    yaw,
    vx,
    vy: 0,
    vz: 0,
    yawRate: 0,
  };
}
const at = (tS: number) => T0 + BigInt(Math.round(tS * 1e6));
const FALLBACK = { accel_mps2: -2.5, jerk_mps3: -1.5 } as never;

describe('alpasim/response: plans and braking as AlpaSim trajectories', () => {
  const north = [pose(0, 10, 5, Math.PI / 2), pose(0.1, 10, 6, Math.PI / 2), pose(0.2, 10, 7, Math.PI / 2)];

  it('egoPoseAt: the pose stamped then verbatim, interpolated between two, undefined past the newest', () => {
    expect(egoPoseAt(north, at(0.1))!.q).to.equal(north[1]!.q);
    const mid = egoPoseAt(north, at(0.15))!;
    expect(mid.y).to.be.closeTo(6.5, 1e-9);
    expect(mid.yaw).to.be.closeTo(Math.PI / 2, 1e-12);
    expect(egoPoseAt(north, at(0.25))).to.equal(undefined);
    expect(egoPoseAt(north, at(-0.1))).to.equal(undefined);
  });

  it('planTrajectory: rig-frame waypoints rotated by the t0 yaw and moved to the t0 position; the current pose first', () => {
    const plan: PlanRecord = {
      t0Us: at(0.1),
      reasoning: 'go',
      samples: [],
      points: Array.from({ length: 64 }, (_, i) => ({ t: (i + 1) * 0.1, x: i + 1, y: 0.5, heading: 0.01 * (i + 1) })),
    };
    const p = planTrajectory(plan, north, at(0.1))!;
    expect(p).to.have.length(65);
    expect(p[0]!.timestamp_us).to.equal(at(0.1).toString());
    expect(p[0]!.pose.vec).to.deep.equal({ x: 10, y: 6, z: 0.5 });
    // Forward is +y in the local frame, left is −x.
    expect(p[1]!.pose.vec.x).to.be.closeTo(10 - 0.5, 1e-9);
    expect(p[1]!.pose.vec.y).to.be.closeTo(6 + 1, 1e-9);
    expect(p[64]!.timestamp_us).to.equal(at(6.5).toString());
    const yaw = 2 * Math.atan2(p[64]!.pose.quat.z, p[64]!.pose.quat.w);
    expect(yaw).to.be.closeTo(Math.PI / 2 + 0.64, 1e-9);
    // At a later now, the waypoints at or before now are left out and the first pose is the ego pose then.
    const later = planTrajectory(plan, north, at(0.2))!;
    expect(later).to.have.length(64);
    expect(later[0]!.pose.vec.y).to.equal(7);
    expect(later[1]!.timestamp_us).to.equal(at(0.3).toString());
    expect(planTrajectory(plan, north, at(0.3))).to.equal(undefined); // no ego pose at now
  });

  it('brakingTrajectory: the fallback ramp from the current speed to a stop, curvature held', () => {
    const b = brakingTrajectory(north, at(0.2), {
      speedMps: 10,
      lastCommand: { accel: 0, curvature: 0.01 },
      profile: FALLBACK,
      stopped: false,
      controlRateHz: 50,
      steps: 64,
      dtS: 0.1,
    })!;
    expect(b).to.have.length(65);
    const d = (i: number) =>
      Math.hypot(b[i + 1]!.pose.vec.x - b[i]!.pose.vec.x, b[i + 1]!.pose.vec.y - b[i]!.pose.vec.y);
    for (let i = 0; i < 63; i++) expect(d(i + 1)).to.be.at.most(d(i) + 1e-12);
    expect(d(0)).to.be.within(0.99, 1.0);
    // Ramp at −1.5 m/s³ to −2.5 m/s² (1.67 s), then −2.5 m/s²: 10 m/s is gone after ~4.8 s.
    expect(d(40)).to.be.greaterThan(0);
    expect(d(50)).to.equal(0);
    const yawEnd = 2 * Math.atan2(b[64]!.pose.quat.z, b[64]!.pose.quat.w);
    expect(yawEnd).to.be.greaterThan(Math.PI / 2 + 0.1); // turning left with κ = 0.01
    for (let i = 1; i < 65; i++) expect(BigInt(b[i]!.timestamp_us) - BigInt(b[i - 1]!.timestamp_us)).to.equal(100_000n);
  });

  it('brakingTrajectory: stopped holds the car where it is; a non-finite speed counts as 0', () => {
    for (const input of [
      { speedMps: 10, stopped: true },
      { speedMps: Number.NaN, stopped: false },
    ]) {
      const b = brakingTrajectory(north, at(0.2), {
        ...input,
        lastCommand: undefined,
        profile: FALLBACK,
        controlRateHz: 50,
        steps: 64,
        dtS: 0.1,
      })!;
      for (const p of b) expect(p.pose.vec).to.deep.equal({ x: 10, y: 7, z: 0.5 });
    }
  });
});
