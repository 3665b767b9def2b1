import { expect } from 'chai';
import { AR1_CAMERAS, balanced, harness, image, odometry } from './harness.js';

/** Feeds 10 Hz cameras and odometry at rateHz from t0S to t1S. */
function feedAt(h: ReturnType<typeof harness>, rateHz: number, t0S: number, t1S: number): void {
  for (let i = Math.round(t0S * rateHz); i <= Math.round(t1S * rateHz); i++) {
    const t = i / rateHz;
    h.at(t, h.params.odometry.topic, 'nav_msgs/msg/Odometry', odometry(t));
  }
  for (let i = Math.round(t0S * 10); i <= Math.round(t1S * 10); i++) {
    AR1_CAMERAS.forEach((_, c) => h.at(i / 10, h.params.cameras.topics[c]!, 'sensor_msgs/msg/Image', image(i / 10)));
  }
}

describe('planner odometry buffer: sized by time, not by count', () => {
  it('1 kHz odometry still covers the 1.5 s history: plans are made (500 samples held 0.5 s: none were)', async function () {
    this.timeout(60_000);
    const h = harness(50);
    feedAt(h, 1000, 100, 104);
    await h.run(104.5);
    const st = h.planner.stats();
    expect(st.plans).to.be.greaterThan(10);
    expect(st.dropped['odometry_history_short'] ?? 0).to.be.at.most(20);
    expect(balanced(st)).to.equal(true);
    expect(h.logger.records.some((r) => /odometry\.buffer_size/.test(r.message))).to.equal(false);
  });

  it('a count cap too small for the rate says so once, naming both parameters', async function () {
    this.timeout(60_000);
    const h = harness(50, { odometry: { buffer_size: 500 } });
    feedAt(h, 1000, 100, 102);
    await h.run(102.2);
    const warnings = h.logger.records.filter((r) => /odometry\.buffer_size/.test(r.message));
    expect(warnings).to.have.length(1);
    expect(h.planner.stats().plans, 'with 0.5 s of odometry no history can be built').to.equal(0);
    expect(warnings[0]!.message).to.match(
      /^odometry\.buffer_size 500 holds only 0\.49\d s of odometry at this rate, less than odometry\.buffer_s 4 s: raise odometry\.buffer_size/,
    );
  });
});
