import { expect } from 'chai';
import type { PlanInput, PlanResult } from '../../nodes/core/planningEngine.js';
import { stampToSeconds } from '../../nodes/core/time.js';
import { AR1_CAMERAS, balanced, fakeResult, harness, image, odometry, type Harness } from './harness.js';

/** Node level, fake engine, virtual time: plan_timeout_s and the odometry jump (teleport) check. */

const stamp = (m: { msg: { header: { stamp: { sec: number; nanosec: number } } } }) =>
  stampToSeconds(m.msg.header.stamp);
const messages = (h: Harness, level?: string) =>
  h.logger.records.filter((r) => !level || r.level === level).map((r) => r.message);

/** Runs to toS in 20 ms steps, checking received = planned + dropped + waiting at every step. */
async function runChecked(h: Harness, fromS: number, toS: number): Promise<void> {
  for (let t = fromS; t <= toS + 1e-9; t += 0.02) {
    await h.run(t);
    expect(balanced(h.planner.stats()), `balanced at ${t.toFixed(2)} s`).to.equal(true);
  }
}

describe('planner/plannerNode: plan_timeout_s (hung engine)', () => {
  it('a plan that never settles is abandoned after plan_timeout_s: counted, on /ar1/timing, restartWorker called, the next input is planned', async () => {
    const h = harness(100, { plan_timeout_s: 1 });
    const plan = h.engine.plan.bind(h.engine);
    const hungAt: number[] = [];
    let hang = true;
    h.engine.plan = (i: PlanInput): Promise<PlanResult> => {
      if (i.t0S >= 102 - 1e-9 && hang) {
        hungAt.push(h.s.now() / 1000);
        h.engine.inputs.push(i);
        return new Promise(() => {});
      }
      return plan(i);
    };
    let restarts = 0;
    (h.engine as unknown as { restartWorker(): Promise<void> }).restartWorker = async () => {
      restarts++;
    };
    h.feed(100, 106);
    await runChecked(h, 100, 102.5);
    expect(hungAt).to.deep.equal([102]);
    const before = h.out['trajectory']!.length;
    // Still hung at 102.5 + 0.45 s: nothing new, no timing yet.
    await runChecked(h, 102.52, 102.98);
    expect(h.out['trajectory']!).to.have.length(before);
    expect(h.out['timing']!.filter((m) => m.atS > 102)).to.have.length(0);
    // The engine recovers meanwhile; at 103.0 (1 s after the start) the hung plan is abandoned and the waiting one runs.
    hang = false;
    await runChecked(h, 103, 104);
    const st = h.planner.stats();
    expect(st.timeouts).to.equal(1);
    expect(st.errors).to.equal(1);
    expect(restarts).to.equal(1);
    expect(st.dropped['plan_timeout'] ?? 0, 'frames of the abandoned input').to.be.greaterThan(0);
    const errs = h.out['timing']!.filter((m) => m.msg.error !== '');
    expect(errs).to.have.length(1);
    expect(errs[0]!.atS).to.be.closeTo(103, 1e-9);
    expect(stamp(errs[0]!)).to.be.closeTo(102, 1e-9);
    expect(errs[0]!.msg.error).to.equal(
      'plan_timeout: plan at t0=102.000 s did not finish within plan_timeout_s 1.000 s; abandoned',
    );
    expect(messages(h, 'error').filter((m) => m.includes('plan_timeout'))).to.have.length(1);
    expect(messages(h, 'info').some((m) => m.startsWith('inference worker restarted after a plan timeout'))).to.equal(
      true,
    );
    // The next input (the latest frames at the timeout) was planned and published.
    const after = h.out['trajectory']!.filter((m) => m.atS > 103 - 1e-9);
    expect(after.length).to.be.greaterThan(5);
    expect(stamp(after[0]!)).to.be.closeTo(102.9, 0.11);
    expect(after[0]!.atS).to.be.closeTo(103.1, 1e-9); // started at 103.0, 100 ms engine
    expect(h.out['timing']!.at(-1)!.msg.error).to.equal('');
    await h.planner.stop();
    expect(balanced(h.planner.stats())).to.equal(true);
  });

  it('repeated hangs time out one after another (each counted, each restart), and a late result of an abandoned plan is never published', async () => {
    const h = harness(100, { plan_timeout_s: 0.5 });
    const plan = h.engine.plan.bind(h.engine);
    let mode: 'ok' | 'hang' | 'late' = 'ok';
    let lateT0: number | undefined;
    h.engine.plan = (i: PlanInput): Promise<PlanResult> => {
      if (mode === 'hang') {
        h.engine.inputs.push(i);
        return new Promise(() => {});
      }
      if (mode === 'late') {
        mode = 'ok';
        lateT0 = i.t0S;
        h.engine.inputs.push(i);
        return new Promise((resolve) => {
          h.s.schedule(() => resolve(fakeResult(i)), 800);
        });
      }
      return plan(i);
    };
    let restarts = 0;
    (h.engine as unknown as { restartWorker(): Promise<void> }).restartWorker = () => {
      restarts++;
      return Promise.reject(new Error('no worker'));
    };
    h.feed(100, 108);
    await runChecked(h, 100, 102);
    mode = 'hang';
    await runChecked(h, 102.02, 103.9); // starts at ~102.0x, 102.5x, 103.0x, 103.5x: 3 timed out by 103.9
    expect(h.planner.stats().timeouts).to.equal(3);
    expect(restarts).to.equal(3);
    expect(
      messages(h, 'error').filter((m) => m.startsWith('restarting the inference worker failed: no worker')),
    ).to.have.length(3);
    mode = 'late';
    await runChecked(h, 103.92, 106);
    const st = h.planner.stats();
    expect(st.timeouts).to.equal(5); // the 4th hang, then the late plan (800 ms > 500 ms)
    expect(lateT0).to.be.a('number');
    expect(
      h.out['trajectory']!.map(stamp).filter((t) => Math.abs(t - lateT0!) < 1e-9),
      'the late result is dropped',
    ).to.deep.equal([]);
    expect(
      h.out['timing']!.filter((m) => m.msg.error.startsWith('plan_timeout: '))
        .map(stamp)
        .some((t) => Math.abs(t - lateT0!) < 1e-9),
    ).to.equal(true);
    // Every published trajectory came from a plan that finished within 0.5 s of its start: latency ≤ 0.1 s + wait.
    for (const m of h.out['trajectory']!) expect(m.atS - stamp(m), `trajectory t0=${stamp(m)}`).to.be.lessThan(0.45);
    expect(h.out['trajectory']!.filter((m) => m.atS > 105).length).to.be.greaterThan(5);
    expect(st.errors).to.equal(5);
    await h.planner.stop();
    expect(balanced(h.planner.stats())).to.equal(true);
  });
});

describe('planner/plannerNode: odometry jump (teleport)', () => {
  /** Cameras 10 Hz, odometry 50 Hz (10 m/s straight, +jumpM from jumpS on), odometry first at each instant. */
  function feedWithJump(h: Harness, t0S: number, t1S: number, jumpS: number, jumpM: number, cameraFirst = false): void {
    for (let i = Math.round(t0S * 50); i <= Math.round(t1S * 50); i++) {
      const t = i / 50;
      const od = odometry(t);
      if (t >= jumpS - 1e-9) od.pose.pose.position.x += jumpM;
      const cams = () => {
        if (i % 5 === 0)
          AR1_CAMERAS.forEach((_, c) => h.at(t, h.params.cameras.topics[c]!, 'sensor_msgs/msg/Image', image(t)));
      };
      if (cameraFirst) cams();
      h.at(t, h.params.odometry.topic, 'nav_msgs/msg/Odometry', od);
      if (!cameraFirst) cams();
    }
  }
  const maxStep = (i: PlanInput) =>
    Math.max(...Array.from(i.history.x, (x, k) => (k ? Math.abs(x - i.history.x[k - 1]!) : 0)));

  for (const cameraFirst of [false, true]) {
    it(`a 500 m jump clears the history: plans stop (odometry_jump), no input mixes the two timelines, planning resumes after 1.5 s${cameraFirst ? ' (cycle waiting for the jumped sample)' : ''}`, async () => {
      const h = harness(100);
      feedWithJump(h, 100, 107, 103, 500, cameraFirst);
      await runChecked(h, 100, 107);
      const st = h.planner.stats();
      expect(st.odometryJumps).to.equal(1);
      expect(st.skipped['odometry_jump'] ?? 0).to.be.greaterThan(10);
      expect(st.dropped['odometry_jump'] ?? 0).to.be.greaterThan(0);
      const warns = messages(h, 'warn').filter((m) => m.startsWith('odometry jumped'));
      expect(warns).to.have.length(1);
      if (cameraFirst) {
        expect(
          messages(h, 'debug').some((m) =>
            /^no plan \(odometry_jump\): .*the cycle at t0=103\.000 s waiting for odometry is dropped/.test(m),
          ),
        ).to.equal(true);
      }
      expect(warns[0]).to.match(
        /^odometry jumped \(odometry: position moved 500\.200 m in 0\.020 s at 103\.000 s, expected at most 1\.200 m .*\): odometry history cleared, no plan until 1\.5 s of history after the jump/,
      );
      // No input mixes poses from before and after the jump: 10 m/s at 0.1 s spacing → 1 m steps everywhere.
      for (const i of h.engine.inputs) expect(maxStep(i), `t0=${i.t0S}`).to.be.closeTo(1, 1e-6);
      // Inputs end before the jump, or their whole 1.5 s window is after it.
      const t0s = h.engine.inputs.map((i) => i.t0S);
      expect(t0s.filter((t) => t > 103 - 1e-9 && t < 104.5 - 1e-9)).to.deep.equal([]);
      expect(t0s.filter((t) => t < 103 - 1e-9).length).to.be.greaterThan(3);
      const resumed = t0s.filter((t) => t >= 104.5 - 1e-9);
      expect(resumed[0]).to.be.closeTo(104.5, 1e-9);
      const traj = h.out['trajectory']!.map(stamp);
      expect(traj.filter((t) => t >= 104.5 - 1e-9).length).to.be.greaterThan(5);
      expect(h.engine.inputs.find((i) => i.t0S >= 104.5 - 1e-9)!.history.x[0]).to.be.closeTo(-15, 1e-6);
      await h.planner.stop();
      expect(balanced(h.planner.stats())).to.equal(true);
    });
  }

  it('normal odometry at 30 m/s with 10 Hz samples and a 0.5 m relocalisation step is not a jump', async () => {
    const h = harness(100);
    for (let i = 10000; i <= 10400; i++) {
      const t = i / 100;
      if (i % 10 === 0) {
        const od = odometry(t, 30);
        if (t >= 102) od.pose.pose.position.y += 0.5;
        h.at(t, h.params.odometry.topic, 'nav_msgs/msg/Odometry', od);
        AR1_CAMERAS.forEach((_, c) => h.at(t, h.params.cameras.topics[c]!, 'sensor_msgs/msg/Image', image(t)));
      }
    }
    await runChecked(h, 100, 104);
    const st = h.planner.stats();
    expect(st.odometryJumps).to.equal(0);
    expect(st.skipped['odometry_jump']).to.equal(undefined);
    expect(st.plans).to.be.greaterThan(10);
    await h.planner.stop();
  });
});
