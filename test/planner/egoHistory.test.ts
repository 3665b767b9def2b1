import { expect } from 'chai';
import { secondsToStamp } from '../../nodes/core/time.js';
import {
  buildEgoHistory,
  interpolatePose,
  odometrySample,
  wrapAngle,
  yawFromQuaternion,
  type OdometrySample,
} from '../../nodes/planner/egoHistory.js';

const H = { steps: 16, dtS: 0.1, maxGapS: 0.2 };
const close = (a: ArrayLike<number>, b: number[], tol = 1e-9) =>
  b.forEach((v, i) => expect(a[i], `index ${i}`).to.be.closeTo(v, tol));

/** Odometry along a path given as a function of time, sampled every dtS from t0S to t1S. */
function drive(f: (t: number) => Omit<OdometrySample, 'tS'>, t0S: number, t1S: number, dtS: number): OdometrySample[] {
  const out: OdometrySample[] = [];
  for (let t = t0S; t <= t1S + 1e-9; t += dtS) out.push({ tS: t, ...f(t) });
  return out;
}

describe('planner/egoHistory', () => {
  it('yaw from quaternion and wrapping', () => {
    const q = (yaw: number) => ({ x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) });
    for (const yaw of [0, 0.5, -2, 3.1]) expect(yawFromQuaternion(q(yaw))).to.be.closeTo(yaw, 1e-12);
    expect(wrapAngle((3 * Math.PI) / 2)).to.be.closeTo(-Math.PI / 2, 1e-12);
    expect(wrapAngle(-Math.PI)).to.equal(Math.PI);
  });

  it('interpolates yaw along the shortest angle across ±π', () => {
    const a = { tS: 0, x: 0, y: 0, z: 0, yaw: 3.0 };
    const b = { tS: 1, x: 2, y: 0, z: 0, yaw: -3.0 };
    const m = interpolatePose(a, b, 0.5);
    expect(m.x).to.equal(1);
    expect(Math.abs(m.yaw)).to.be.closeTo(Math.PI, 1e-12);
  });

  it('straight line at 10 m/s heading 30°: x = −10·(1.5 … 0), y = 0, last pose identity', () => {
    const h = Math.PI / 6;
    const odo = drive(
      (t) => ({ x: 100 + 10 * t * Math.cos(h), y: -50 + 10 * t * Math.sin(h), z: 2, yaw: h }),
      0,
      3,
      0.01,
    );
    const r = buildEgoHistory(odo, 2.5, H);
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    close(
      r.history.x,
      Array.from({ length: 16 }, (_, k) => -10 * (1.5 - 0.1 * k)),
      1e-9,
    );
    close(r.history.y, new Array(16).fill(0), 1e-9);
    close(r.history.z, new Array(16).fill(0), 1e-12);
    close(r.history.yaw, new Array(16).fill(0), 1e-12);
    expect(r.history.dt).to.equal(0.1);
  });

  it('circle of radius 20 m turning left: poses lie on the circle in the rig frame at t0', () => {
    const R = 20;
    const w = 0.5; // rad/s
    // centre (0, 0), counter-clockwise, heading = angle + π/2
    const odo = drive(
      (t) => ({ x: R * Math.cos(w * t), y: R * Math.sin(w * t), z: 0, yaw: wrapAngle(w * t + Math.PI / 2) }),
      0,
      4,
      0.05,
    );
    const r = buildEgoHistory(odo, 3.0, H);
    if (!r.ok) throw new Error(r.detail);
    for (let k = 0; k < 16; k++) {
      const dt = -(1.5 - 0.1 * k);
      const phi = w * dt; // angle travelled relative to t0 (negative = before)
      // In the rig frame at t0 the centre is at (0, R): a pose at angle phi is (R sin phi, R (1 − cos phi)).
      // Linear interpolation between 50 ms samples cuts the chord: error ≤ R·(wΔt)²/8 ≈ 1.6 mm.
      expect(r.history.x[k]).to.be.closeTo(R * Math.sin(phi), 2e-3);
      expect(r.history.y[k]).to.be.closeTo(R * (1 - Math.cos(phi)), 2e-3);
      expect(r.history.yaw[k]).to.be.closeTo(phi, 1e-9);
    }
    expect(r.history.y[0]).to.be.greaterThan(0); // came from the left side behind: turning left
    close([r.history.x[15]!, r.history.y[15]!, r.history.yaw[15]!], [0, 0, 0], 0);
  });

  it('interpolates between samples that straddle the targets (odometry at 30 Hz with jitter)', () => {
    const odo = [0, 0.031, 0.07, 0.099, 0.133, 0.168].map((t) => ({ tS: t, x: 5 * t, y: 0, z: 0, yaw: 0 }));
    const more = Array.from({ length: 60 }, (_, i) => 0.2 + i / 30).map((t) => ({
      tS: t,
      x: 5 * t,
      y: 0,
      z: 0,
      yaw: 0,
    }));
    const r = buildEgoHistory([...odo, ...more], 1.55, H);
    if (!r.ok) throw new Error(r.detail);
    close(
      r.history.x,
      Array.from({ length: 16 }, (_, k) => -5 * (1.5 - 0.1 * k)),
      1e-9,
    );
  });

  it('refuses: no odometry, odometry not yet at t0, history shorter than 1.5 s, a gap in the window', () => {
    const odo = drive(() => ({ x: 0, y: 0, z: 0, yaw: 0 }), 1, 3, 0.1);
    const fail = (samples: OdometrySample[], t0: number) => {
      const r = buildEgoHistory(samples, t0, H);
      return r.ok ? 'ok' : `${r.reason}: ${r.detail}`;
    };
    expect(fail([], 2)).to.match(/^odometry_missing: odometry: expected poses up to t0=2\.000 s, got none$/);
    expect(fail(odo, 3.05)).to.match(/^odometry_late: .*newest is 3\.000 s/);
    expect(fail(odo, 2.4)).to.match(
      /^history_short: odometry: expected poses from 0\.900 s \(1\.5 s before t0\), oldest is 1\.000 s$/,
    );
    expect(fail(odo, 2.5)).to.equal('ok');
    const gap = odo.filter((s) => s.tS < 1.95 || s.tS > 2.25);
    expect(fail(gap, 2.9)).to.match(
      /^odometry_gap: odometry: expected gaps <= 0\.200 s in the history, got 0\.400 s after 1\.900 s$/,
    );
    expect(fail(gap, 3.0 + 1.5 + 0.1)).to.match(/^odometry_late/);
  });

  it('reads a nav_msgs/Odometry and refuses non-finite poses', () => {
    const msg = {
      header: { stamp: { sec: 12, nanosec: 500_000_000 }, frame_id: 'map' },
      child_frame_id: 'base_link',
      pose: {
        pose: { position: { x: 1, y: 2, z: 3 }, orientation: { x: 0, y: 0, z: Math.sin(0.25), w: Math.cos(0.25) } },
        covariance: [],
      },
      twist: { twist: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
    };
    const s = odometrySample(msg)!;
    expect(s.tS).to.equal(12.5);
    expect(s.yaw).to.be.closeTo(0.5, 1e-12);
    expect(
      odometrySample({ ...msg, pose: { ...msg.pose, pose: { ...msg.pose.pose, position: { x: NaN, y: 0, z: 0 } } } }),
    ).to.equal(undefined);
  });

  it('refuses a malformed stamp: nanosec >= 1e9 (read as seconds in the future), negative or fractional nanosec, or zero', () => {
    const at = (stamp: { sec: number; nanosec: number }) =>
      odometrySample({
        header: { stamp, frame_id: 'map' },
        child_frame_id: 'base_link',
        pose: { pose: { position: { x: 1, y: 2, z: 3 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: [] },
        twist: { twist: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
      });
    for (const stamp of [
      { sec: 12, nanosec: 4294967295 },
      { sec: 12, nanosec: 1e9 },
      { sec: 12, nanosec: -1 },
      { sec: 12, nanosec: 0.5 },
      { sec: 12.5, nanosec: 0 },
      { sec: 0, nanosec: 0 },
    ])
      expect(at(stamp), JSON.stringify(stamp)).to.equal(undefined);
    expect(at({ sec: 12, nanosec: 999_999_999 })!.tS).to.be.closeTo(13, 1e-8);
    expect(at({ sec: 0, nanosec: 1 })!.tS).to.equal(1e-9);
  });

  describe('full 3D rig frame at t0 from the odometry orientation (as upstream)', () => {
    /** Quaternion of yaw ψ then pitch θ (nose up positive about −y in a z-up frame: q = qz(ψ)·qy(−θ)). */
    const q = (yaw: number, pitch: number, roll = 0) => {
      const cz = Math.cos(yaw / 2),
        sz = Math.sin(yaw / 2),
        cy = Math.cos(-pitch / 2),
        sy = Math.sin(-pitch / 2),
        cx = Math.cos(roll / 2),
        sx = Math.sin(roll / 2);
      return {
        w: cz * cy * cx + sz * sy * sx,
        x: cz * cy * sx - sz * sy * cx,
        y: cz * sy * cx + sz * cy * sx,
        z: sz * cy * cx - cz * sy * sx,
      };
    };
    const T0 = 100;
    const odoMsg = (t: number, p: { x: number; y: number; z: number }, o: ReturnType<typeof q>) =>
      odometrySample({
        // Stamped from T0 (a zero stamp is malformed), normalised (nanosec < 1e9).
        header: { stamp: secondsToStamp(T0 + t), frame_id: 'map' },
        child_frame_id: 'base_link',
        pose: { pose: { position: p, orientation: o }, covariance: [] },
        twist: { twist: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
      })!;

    it('a 3 % grade at 20 m/s: the history lies along the road (z = 0, x = distance along it); a yaw-only frame would put the oldest pose 0.9 m low', () => {
      const grade = Math.atan(0.03),
        yaw = 0.7,
        v = 20;
      const odo: OdometrySample[] = [];
      for (let t = 0; t <= 3 + 1e-9; t += 0.02) {
        const s = v * t;
        odo.push(
          odoMsg(
            t,
            { x: s * Math.cos(grade) * Math.cos(yaw), y: s * Math.cos(grade) * Math.sin(yaw), z: s * Math.sin(grade) },
            q(yaw, grade),
          ),
        );
      }
      const r = buildEgoHistory(odo, T0 + 2.5, H);
      if (!r.ok) throw new Error(r.detail);
      close(
        r.history.x,
        Array.from({ length: 16 }, (_, k) => -v * (1.5 - 0.1 * k)),
        1e-6,
      );
      close(r.history.y, new Array(16).fill(0), 1e-6);
      close(r.history.z, new Array(16).fill(0), 1e-6);
      close(r.history.yaw, new Array(16).fill(0), 1e-9);
      // Without orientations (yaw only), the oldest pose sits 30 m · sin(grade) ≈ 0.9 m below the origin.
      const flat = buildEgoHistory(
        odo.map(({ q: _q, ...rest }) => rest),
        T0 + 2.5,
        H,
      );
      if (!flat.ok) throw new Error(flat.detail);
      expect(flat.history.z[0]).to.be.closeTo(-v * 1.5 * Math.sin(grade), 1e-6);
      expect(Math.abs(flat.history.z[0]!)).to.be.greaterThan(0.89);
    });

    it('roll and a turning slope: p_local = R_t0ᵀ(p − p_t0), yaw of R_t0ᵀ R; flat ground gives the yaw-only result', () => {
      const roll = 0.05,
        yawRate = 0.2;
      const odo: OdometrySample[] = [];
      for (let t = 0; t <= 3 + 1e-9; t += 0.02)
        odo.push(odoMsg(t, { x: 10 * t, y: 0.5 * t * t, z: 0.1 * t }, q(yawRate * t, 0, roll)));
      const r = buildEgoHistory(odo, T0 + 2.5, H);
      if (!r.ok) throw new Error(r.detail);
      expect(r.history.yaw[15]).to.be.closeTo(0, 1e-15);
      expect([r.history.x[15], r.history.y[15], r.history.z[15]]).to.deep.equal([0, 0, 0]);
      // The oldest pose's yaw relative to t0 under a constant roll is still about −1.5 s × yaw rate.
      expect(r.history.yaw[0]).to.be.closeTo(-1.5 * yawRate, 0.01);
      const flatOdo: OdometrySample[] = [];
      for (let t = 0; t <= 3 + 1e-9; t += 0.02)
        flatOdo.push(odoMsg(t, { x: 10 * t, y: 0.5 * t * t, z: 0 }, q(yawRate * t, 0)));
      const full = buildEgoHistory(flatOdo, T0 + 2.5, H),
        yawOnly = buildEgoHistory(
          flatOdo.map(({ q: _q, ...rest }) => rest),
          T0 + 2.5,
          H,
        );
      if (!full.ok || !yawOnly.ok) throw new Error('history');
      for (const k of ['x', 'y', 'z', 'yaw'] as const) close(full.history[k], Array.from(yawOnly.history[k]), 1e-6);
    });
  });
});
