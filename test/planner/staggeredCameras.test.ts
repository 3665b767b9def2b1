import { expect } from 'chai';
import { AR1_CAMERAS, balanced, harness, image, odometry } from './harness.js';
import { selectFrames } from '../../nodes/planner/frameSelection.js';

/** Real rigs do not expose all cameras at the same instant: per-camera offsets plus stamp jitter. */
const OFFSET_S = [0, 0.004, 0.009, 0.013];
const jitter = (k: number, c: number) => (((k * 7 + c * 3) % 7) - 3) * 0.001; // −3 … +3 ms, deterministic

describe('planner with staggered, jittered cameras', () => {
  it("plans once per frame set, at t0 = the newest stamp of the set, with every camera's frame of that set", async () => {
    const h = harness(100);
    const stamps: number[][] = AR1_CAMERAS.map(() => []);
    for (let i = Math.round(100 * 50); i <= Math.round(104.2 * 50); i++)
      h.at(i / 50 + 0.001, h.params.odometry.topic, 'nav_msgs/msg/Odometry', odometry(i / 50));
    for (let k = 0; k <= 40; k++) {
      AR1_CAMERAS.forEach((_, c) => {
        const st = 100 + k * 0.1 + OFFSET_S[c]! + jitter(k, c);
        stamps[c]!.push(st);
        h.at(st + 0.01, h.params.cameras.topics[c]!, 'sensor_msgs/msg/Image', image(st)); // 10 ms transport
      });
    }
    await h.run(104.2);
    const st = h.planner.stats();
    expect(balanced(st)).to.equal(true);
    expect(st.dropped['frame_too_old'] ?? 0, 'no frame is too old for its target').to.equal(0);
    const inputs = h.engine.inputs;
    // t0 from 101.5 s (1.5 s of odometry) to 104.0 s: one plan per 100 ms set, none skipped.
    expect(inputs.length).to.equal(26);
    inputs.forEach((input, n) => {
      const k = 15 + n;
      const setNewest = Math.max(...AR1_CAMERAS.map((_, c) => stamps[c]![k]!));
      expect(input.t0S).to.be.closeTo(setNewest, 1e-9);
      // the t0 slot of every camera holds that camera's frame of this set; the older slots its previous sets
      input.frames.forEach((fs, c) => {
        const want = [k - 3, k - 2, k - 1, k].map((j) => stamps[c]![j]!);
        fs.forEach((f, i) => expect(f.stampS).to.be.closeTo(want[i]!, 1e-9));
      });
    });
    // published 100 ms after t0 (the fake engine's latency), not a set later
    h.out['trajectory']!.forEach((m) => {
      const t0 = m.msg.header.stamp.sec + m.msg.header.stamp.nanosec * 1e-9;
      expect(m.atS - t0).to.be.closeTo(0.1, 0.02);
    });
  });

  it('stamp_jitter_s lets a frame stamped just after its target count as at it', () => {
    const buf = [{ stampS: 9.8 }, { stampS: 9.902 }, { stampS: 10.0 }];
    const opts = { cameras: ['a'], framesPerCamera: 2, spacingS: 0.1, toleranceS: 0.1 };
    const strict = selectFrames([buf], 10.0, opts);
    const lenient = selectFrames([buf], 10.0, { ...opts, jitterS: 0.02 });
    expect(strict.ok && strict.indices[0]).to.deep.equal([0, 2]); // 9.902 is after the 9.9 target: 9.8 is taken
    expect(lenient.ok && lenient.indices[0]).to.deep.equal([1, 2]);
  });
});
