import { expect } from 'chai';
import fc from 'fast-check';
import { denormalizeActions, AR1_ACTION_NORMALIZATION } from '../../nodes/ar1/actionSpace.js';
import { flowMatchEuler } from '../../nodes/ar1/flowMatching.js';
import { historyTokens, roundHalfEven } from '../../nodes/ar1/historyTokens.js';
import { estimateInitialSpeed, estimateSpeeds } from '../../nodes/ar1/initialSpeed.js';
import { rolloutUnicycle } from '../../nodes/ar1/unicycle.js';

/** 16 poses at 10 Hz ending at the origin with yaw 0, driving along a circle of curvature k (0 = straight) at speed v. */
function arcHistory(v: number, k: number, n = 16, dt = 0.1) {
  const x: number[] = [],
    y: number[] = [],
    yaw: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = (i - (n - 1)) * v * dt; // arc length, ≤ 0
    if (k === 0) {
      x.push(s);
      y.push(0);
      yaw.push(0);
      continue;
    }
    x.push(Math.sin(k * s) / k);
    y.push((1 - Math.cos(k * s)) / k);
    yaw.push(k * s);
  }
  return { x, y, yaw };
}

describe('estimateInitialSpeed (AR1 regularised least squares)', () => {
  it('a clean 30 m/s straight history gives ≈ 29.9982 (ridge bias)', () => {
    const v0 = estimateInitialSpeed(arcHistory(30, 0));
    expect(v0).to.be.closeTo(29.9982, 5e-5);
    expect(v0).to.be.below(30);
  });
  it('is accurate on circles of any curvature and heading-invariant', () => {
    for (const [v, k] of [
      [10, 0.05],
      [5, -0.1],
      [25, 0.01],
    ] as const) {
      expect(estimateInitialSpeed(arcHistory(v, k))).to.be.closeTo(v, v * 5e-4); // trapezoid vs chord: O((κ·ds)²)
    }
  });
  it('sees constant acceleration: v0 is the speed at t0, not the mean', () => {
    const x: number[] = [];
    for (let i = 0; i < 16; i++) {
      const t = (i - 15) * 0.1;
      x.push(20 * t + 0.5 * 2 * t * t);
    } // v(t0) = 20, a = 2
    const speeds = estimateSpeeds({ x, y: new Array(16).fill(0), yaw: new Array(16).fill(0) });
    expect(speeds[15]).to.be.closeTo(20, 0.01);
    expect(speeds[0]).to.be.closeTo(17, 0.01);
  });
  it('standstill gives ≈ 0 and can go slightly negative with noise (no clamp, as upstream)', () => {
    expect(estimateInitialSpeed(arcHistory(0, 0))).to.equal(0);
    const h = arcHistory(0, 0);
    h.x[15] = -0.01; // jitter: last pose 1 cm behind the previous one
    expect(estimateInitialSpeed(h)).to.be.below(0);
  });
  it('refuses NaN and too-short histories with a RangeError naming the pose', () => {
    const h = arcHistory(10, 0);
    h.y[3] = NaN;
    expect(() => estimateInitialSpeed(h)).to.throw(RangeError, /pose 3 is not finite/);
    expect(() => estimateInitialSpeed({ x: [0, 1, 2], y: [0, 0, 0], yaw: [0, 0, 0] })).to.throw(
      RangeError,
      /at least 4 poses, got 3/,
    );
  });
});

describe('rolloutUnicycle (AR1 trapezoid integration, float64)', () => {
  it('matches hand-computed values for a straight accelerating plan', () => {
    const r = rolloutUnicycle(10, [1, 1], [0, 0]);
    expect([...r.speed]).to.deep.equal([10.1, 10.2]);
    expect(r.x[0]).to.be.closeTo(0.05 * (10 + 10.1), 1e-12);
    expect(r.x[1]).to.be.closeTo(1.005 + 0.05 * (10.1 + 10.2), 1e-12);
    expect([...r.y]).to.deep.equal([0, 0]);
  });
  it('matches hand-computed values with curvature (heading includes κ·a·dt²/2)', () => {
    const r = rolloutUnicycle(2, [0.5], [0.1]);
    const th1 = 0.1 * 2 * 0.1 + (0.1 * 0.5 * 0.01) / 2;
    expect(r.heading[0]).to.be.closeTo(th1, 1e-15);
    expect(r.x[0]).to.be.closeTo(0.05 * (2 + 2.05 * Math.cos(th1)), 1e-15);
    expect(r.y[0]).to.be.closeTo(0.05 * (2.05 * Math.sin(th1)), 1e-15);
  });
  it('constant speed and curvature stays on the circle; heading accumulates unwrapped', () => {
    const k = 0.05,
      v = 10,
      n = 64;
    const r = rolloutUnicycle(v, new Float64Array(n), new Float64Array(n).fill(k));
    expect(r.heading[n - 1]).to.be.closeTo(k * v * 6.4, 1e-9); // 3.2 rad > π, not wrapped
    for (let i = 0; i < n; i++) expect(Math.hypot(r.x[i]!, r.y[i]! - 1 / k)).to.be.closeTo(1 / k, 0.02);
  });
  it('does not clip: speed goes negative when braking through zero', () => {
    const r = rolloutUnicycle(0.1, [-2, -2], [0, 0]);
    expect(r.speed[1]).to.be.closeTo(-0.3, 1e-12);
  });
  it('property: waypoints 1..N, equal lengths, speed = v0 + Σa·dt', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 40, noNaN: true }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 64 }),
        (v0, a) => {
          const r = rolloutUnicycle(
            v0,
            a,
            a.map(() => 0.01),
          );
          expect(r.x.length).to.equal(a.length);
          expect(r.speed[a.length - 1]).to.be.closeTo(v0 + a.reduce((s, x) => s + x * 0.1, 0), 1e-9);
        },
      ),
    );
  });
});

describe('denormalizeActions', () => {
  it('applies the AR1 release constants per channel', () => {
    const { accel, curvature } = denormalizeActions([1, -1, 0, 0], AR1_ACTION_NORMALIZATION);
    expect(accel[0]).to.equal(0.6810426736454882 + 0.02902694707164455);
    expect(curvature[0]).to.equal(-0.026148280660833106 + 0.0002692167976330542);
    expect(accel[1]).to.equal(0.02902694707164455);
  });
});

describe('historyTokens (AR1 delta tokenizer)', () => {
  it('rounds half to even like PyTorch', () => {
    expect([0.5, 1.5, 2.5, -1.5, 2.4, 2.6].map(roundHalfEven)).to.deep.equal([0, 2, 2, -2, 2, 3]);
  });
  it('bins consecutive deltas, the first against the origin (saturating above ≈2.7 m/s)', () => {
    const h = arcHistory(10, 0);
    const t = historyTokens(
      { ...h, z: new Array(16).fill(0) },
      [
        [-4, 4],
        [-4, 4],
        [-10, 10],
      ],
      1000,
    );
    expect(Number(t[0])).to.equal(0); // x0 = −15 m → clamped
    expect(Number(t[3])).to.equal(roundHalfEven((5 / 8) * 999)); // 1 m step
    expect(Number(t[4])).to.equal(roundHalfEven(0.5 * 999)); // y delta 0 → 499.5 → 500
    expect(t.length).to.equal(48);
  });
});

describe('flowMatchEuler', () => {
  it('integrates with ts = linspace(0,1,steps+1) and leaves the noise untouched', async () => {
    const noise = Float32Array.of(1, -1);
    const seen: number[] = [];
    const x = await flowMatchEuler(noise, 4, async (_x, t) => {
      seen.push(t);
      return [t, 1];
    });
    expect(seen).to.deep.equal([0, 0.25, 0.5, 0.75]);
    expect(x[0]).to.be.closeTo(1 + 0.25 * (0 + 0.25 + 0.5 + 0.75), 1e-6);
    expect(x[1]).to.be.closeTo(0, 1e-6);
    expect([...noise]).to.deep.equal([1, -1]);
  });
  it('refuses a wrong-sized velocity', async () => {
    let err: unknown;
    try {
      await flowMatchEuler(new Float32Array(4), 2, async () => [1]);
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/returned 1 values, expected 4/);
  });
});
