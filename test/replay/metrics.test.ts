import { expect } from 'chai';
import { GroundTruthPath, type PoseSample } from '../../nodes/replay/groundTruth.js';
import { scorePlan, summarise, HORIZONS_S } from '../../nodes/replay/metrics.js';

const steps = Float64Array.from({ length: 64 }, (_, i) => 0.1 * (i + 1));

/** Ego driving a circle of radius r at speed v, counter-clockwise, sampled at 50 Hz. */
/** Ego driving straight along heading yaw at speed v, 50 Hz. */
function straight(v: number, durationS: number, yaw = 0.7): PoseSample[] {
  const out: PoseSample[] = [];
  for (let t = 0; t <= durationS + 1e-9; t += 0.02)
    out.push({ tS: 100 + t, x: 3 + v * t * Math.cos(yaw), y: 1 + v * t * Math.sin(yaw), yaw });
  return out;
}

function circle(r: number, v: number, durationS: number, yaw0 = 0.3): PoseSample[] {
  const out: PoseSample[] = [];
  for (let t = 0; t <= durationS + 1e-9; t += 0.02) {
    const a = yaw0 + (v / r) * t;
    out.push({ tS: 100 + t, x: 5 + r * Math.sin(a), y: -2 - r * Math.cos(a), yaw: a });
  }
  return out;
}

describe('replay/metrics', () => {
  it('a plan that follows the actual circle exactly scores zero', () => {
    const r = 40;
    const v = 10;
    const truth = new GroundTruthPath(circle(r, v, 20));
    const t0 = 103;
    // In the rig frame at t0 a left circle is x = r sin(vt/r), y = r (1 − cos(vt/r)).
    const x = steps.map((t) => r * Math.sin((v * t) / r));
    const y = steps.map((t) => r * (1 - Math.cos((v * t) / r)));
    const s = scorePlan({ t0S: t0, t: steps, samples: [{ x, y }] }, truth)!;
    for (const h of HORIZONS_S) {
      expect(s.ade[String(h)]).to.be.closeTo(0, 1e-3);
      expect(s.fde[String(h)]).to.be.closeTo(0, 1e-3);
    }
  });

  it('a constant 1 m lateral offset gives ADE = FDE = 1 m; minADE takes the best sample', () => {
    const truth = new GroundTruthPath(straight(10, 20));
    const x = steps.map((t) => 10 * t);
    const off = steps.map(() => 1);
    const half = steps.map(() => 0.5);
    const s = scorePlan(
      {
        t0S: 105,
        t: steps,
        samples: [
          { x, y: off },
          { x, y: half },
        ],
      },
      truth,
    )!;
    expect(s.ade['3']).to.be.closeTo(1, 1e-9);
    expect(s.fde['6.4']).to.be.closeTo(1, 1e-9);
    expect(s.minAde['6.4']).to.be.closeTo(0.5, 1e-9);
  });

  it('skips horizons the odometry does not cover and counts what it scored', () => {
    const truth = new GroundTruthPath(straight(10, 5)); // 100 … 105 s
    const x = steps.map((t) => 10 * t);
    const y = steps.map(() => 0);
    const s = scorePlan({ t0S: 102, t: steps, samples: [{ x, y }] }, truth)!;
    expect(Object.keys(s.ade)).to.deep.equal(['1']);
    const sum = summarise([s], 1);
    expect(sum.plans_scored).to.deep.equal({ '1': 1, '3': 0, '6.4': 0 });
    expect(sum.ade['6.4']).to.equal(null);
    expect(scorePlan({ t0S: 99, t: steps, samples: [{ x, y }] }, truth)).to.equal(undefined);
  });

  it('futureInRigFrame is at() at each time, expressed in the rig frame at t0, exactly: random paths with gaps, times outside the span', () => {
    let x = 7;
    const rnd = () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648;
    };
    for (let run = 0; run < 20; run++) {
      const poses: PoseSample[] = [];
      let t = 100;
      for (let k = 0; k < 400; k++) {
        t += rnd() < 0.02 ? 0.6 + rnd() : 0.005 + 0.03 * rnd(); // now and then a gap over 0.5 s
        poses.push({ tS: t, x: 50 * rnd() - 25, y: 50 * rnd() - 25, yaw: 7 * rnd() - 3.5 });
      }
      const truth = new GroundTruthPath(poses);
      const t0 = 99 + (t - 98) * rnd();
      const times = Float64Array.from({ length: 64 }, (_, i) => 0.1 * (i + 1) + (run % 3 === 0 ? rnd() * 0.01 : 0));
      const origin = truth.at(t0);
      const expected = origin
        ? Array.from(times, (dt) => {
            const q = truth.at(t0 + dt);
            if (!q) return null;
            const c = Math.cos(origin.yaw);
            const s = Math.sin(origin.yaw);
            const dx = q.x - origin.x;
            const dy = q.y - origin.y;
            return { x: c * dx + s * dy, y: -s * dx + c * dy };
          })
        : undefined;
      expect(truth.futureInRigFrame(t0, times), `run ${run}`).to.deep.equal(expected);
    }
  });
});
