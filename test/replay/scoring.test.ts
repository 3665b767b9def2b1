import { expect } from 'chai';
import type { PlanResult, PlanTrajectory } from '../../nodes/core/planningEngine.js';
import { GroundTruthPath, type PoseSample } from '../../nodes/replay/groundTruth.js';
import { scorePlan } from '../../nodes/replay/metrics.js';
import { SNAPSHOT_KEEP, StreamingScorer } from '../../nodes/replay/scoring.js';

const STEPS = 64;
const traj = (speed: number, wobble: number): PlanTrajectory => {
  const t = Float64Array.from({ length: STEPS }, (_, i) => (i + 1) * 0.1);
  const zeros = new Float64Array(STEPS);
  return {
    dt: 0.1,
    t,
    x: t.map((s) => speed * s),
    y: t.map((s) => wobble * s * s),
    heading: zeros,
    speed: zeros,
    acceleration: zeros,
    curvature: zeros,
  };
};
const result = (t0S: number, k: number): PlanResult => ({
  t0S,
  v0: 10,
  reasoning: { text: `plan ${t0S}`, tokens: 1, generationMs: 0 },
  trajectory: traj(10 + (k % 3), 0.01 * (k % 5)),
  samples: [traj(10 + (k % 3), 0.01 * (k % 5)), traj(9.5, 0)],
  timing: {
    preprocessMs: 0,
    visionMs: 0,
    reasoningMs: 0,
    actionMs: 0,
    sessionRunMs: 0,
    totalMs: 0,
  } as PlanResult['timing'],
  provider: 'cpu',
  bundleId: 'test@1',
});
/** A gentle curve at 10 m/s, 50 Hz. */
const pose = (tS: number): PoseSample => ({ tS, x: 10 * tS, y: 0.02 * tS * tS, yaw: Math.atan2(0.04 * tS, 10) });

describe('replay/scoring: plans scored as odometry covers them, memory bounded', () => {
  it('gives the same scores as scoring every plan at the end against all the odometry, and the same mean error by step', () => {
    const scorer = new StreamingScorer(6.4);
    const poses: PoseSample[] = [];
    const plans: PlanResult[] = [];
    for (let i = 0; i <= 60 * 50; i++) {
      const tS = 100 + i / 50;
      poses.push(pose(tS));
      scorer.addPose(pose(tS));
      if (i % 5 === 0 && i >= 100) {
        // a plan every 0.1 s, published 0.1 s after its t0 (and one in 7 never published)
        const k = plans.length;
        const r = result(tS - 0.1, k);
        scorer.addResult(r);
        if (k % 7 !== 3) {
          scorer.published(r.t0S);
          plans.push(r);
        } else plans.push({ ...r, t0S: Number.NaN });
      }
    }
    scorer.finish();
    const truth = new GroundTruthPath(poses);
    const expected = plans
      .filter((r) => Number.isFinite(r.t0S))
      .map((r) => scorePlan({ t0S: r.t0S, t: r.trajectory.t, samples: r.samples }, truth))
      .filter((s) => s !== undefined);
    expect(scorer.scores.map((s) => [s.t0S, s.ade, s.fde, s.minAde, s.minFde])).to.deep.equal(
      expected.map((s) => [s!.t0S, s!.ade, s!.fde, s!.minAde, s!.minFde]),
    );
    const mean = scorer.errorByStep().mean;
    for (const i of [0, 31, 63]) {
      const vals = expected.map((s) => s!.errorByStep[i]!).filter(Number.isFinite);
      expect(mean[i]).to.be.closeTo(vals.reduce((a, b) => a + b, 0) / vals.length, 1e-9);
    }
  });

  it('holds about POSE_RETAIN_S of odometry and fewer than 2 × SNAPSHOT_KEEP snapshots, whatever the duration (20 min here)', function () {
    this.timeout(120_000);
    const scorer = new StreamingScorer(6.4);
    let maxPoses = 0;
    for (let i = 0; i <= 1200 * 50; i++) {
      const tS = 100 + i / 50;
      scorer.addPose(pose(tS));
      if (i % 5 === 0 && i >= 100) {
        const r = result(tS - 0.1, i);
        scorer.addResult(r);
        scorer.published(r.t0S);
      }
      maxPoses = Math.max(maxPoses, scorer.held.poses);
    }
    expect(maxPoses).to.be.below(50 * 30); // 20 s retained + 256 dropped per batch, at 50 Hz
    expect(scorer.held.pending).to.be.below(100);
    expect(scorer.held.snapshots).to.be.below(2 * SNAPSHOT_KEEP);
    expect(scorer.scores.length).to.be.greaterThan(11_000);
    const t0s = scorer.snapshots().map((x) => x.result.t0S);
    expect(t0s[0]).to.be.below(110);
    expect(t0s.at(-1)!).to.be.above(1000); // spread over the whole run
  });
});
