import { expect } from 'chai';
import { UserError } from '../../nodes/core/errors.js';
import { stampToSeconds } from '../../nodes/core/time.js';
import { InProcessBus } from '../../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../../nodes/adapters/inprocess/inProcessNode.js';
import { SteppingScheduler } from '../../nodes/adapters/inprocess/virtualScheduler.js';
import { startPlanner } from '../../nodes/planner/plannerNode.js';
import { NO_OVERRIDES } from '../../nodes/core/params/index.js';
import { loadPlannerParams } from '../../nodes/planner/params.js';
import { AR1_CAMERAS, balanced, FakeEngine, harness, image } from './harness.js';

const stamp = (m: { msg: { header: { stamp: { sec: number; nanosec: number } } } }) =>
  stampToSeconds(m.msg.header.stamp);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

describe('planner/plannerNode (in-process transport, virtual time, fake engine)', () => {
  it('end to end: cameras + odometry in; trajectory, path, reasoning, timing, commands out, stamped with t0', async () => {
    const h = harness(300);
    h.feed(100, 103);
    const seen: boolean[] = [];
    for (let t = 100; t <= 110; t += 0.05) {
      await h.run(t);
      seen.push(balanced(h.planner.stats()));
    }
    expect(seen.every(Boolean), 'received = planned + dropped + waiting at every step').to.equal(true);

    const st = h.planner.stats();
    const traj = h.out['trajectory']!;
    // The first t0 with 1.5 s of odometry behind it is 101.5 s; then plans every 300 ms (latest wins).
    expect(traj.map((m) => r3(stamp(m)))).to.deep.equal([101.5, 101.8, 102.1, 102.4, 102.7, 103]);
    expect(st.plans).to.equal(6);
    expect(st.errors).to.equal(0);
    expect(st.skipped['frame_missing']).to.equal(3); // t0 = 100.0 … 100.2: no frame at t0 − 0.3 yet
    expect(st.skipped['history_short']).to.equal(12); // t0 = 100.3 … 101.4: odometry started at 100.0
    traj.forEach((m) => expect(m.atS - stamp(m)).to.be.closeTo(0.3, 1e-9)); // published 300 ms after t0
    expect(traj[0]!.msg.points).to.have.length(64);
    expect(traj[0]!.msg.initial_speed).to.equal(10);
    expect(traj[0]!.msg.header.frame_id).to.equal('base_link');
    // every completed input's frames: 4 per camera at t0 − 0.3 … t0, ego history straight ahead at 10 m/s
    const first = h.engine.inputs[0]!;
    expect(first.t0S).to.be.closeTo(101.5, 1e-9);
    expect(first.frames.map((fs) => fs.map((f) => r3(f.stampS)))).to.deep.equal(
      AR1_CAMERAS.map(() => [101.2, 101.3, 101.4, 101.5]),
    );
    expect(first.frames.map((fs) => fs[0]!.camera)).to.deep.equal(AR1_CAMERAS);
    expect(first.history.x[0]).to.be.closeTo(-15, 1e-9);
    expect(first.history.x[15]).to.equal(0);
    const path = h.out['path']!;
    expect(path).to.have.length(6);
    expect(path[0]!.msg.poses).to.have.length(65);
    expect(stamp(path[0]!)).to.equal(stamp(traj[0]!));
    expect(h.out['reasoning']!.map((m) => m.msg.text)).to.deep.equal(traj.map((m) => `plan at ${stamp(m).toFixed(1)}`));
    expect(h.out['reasoning_text']!.map((m) => m.msg.data)).to.deep.equal(h.out['reasoning']!.map((m) => m.msg.text));
    const timing = h.out['timing']!.at(-1)!.msg;
    expect(timing.latency_ms).to.be.closeTo(300, 1e-6);
    expect(timing.total_ms).to.equal(10);
    expect(timing.sync_ms).to.equal(0);
    expect(timing.error).to.equal('');
    expect(timing.frames_received).to.be.at.most(st.received);

    // Commands: none before the first plan, then 50 Hz from the latest plan until its 6.4 s horizon runs out.
    const cmds = h.out['command']!;
    expect(cmds[0]!.atS).to.be.at.least(101.8);
    expect(cmds[0]!.atS - 101.8).to.be.lessThan(0.02 + 1e-9);
    const last = cmds.at(-1)!;
    expect(last.atS).to.be.lessThan(103 + 6.4);
    expect(last.atS).to.be.at.least(103 + 6.4 - 0.02 - 1e-9);
    for (let i = 1; i < cmds.length; i++) expect(cmds[i]!.atS - cmds[i - 1]!.atS).to.be.closeTo(0.02, 1e-9);
    for (const c of cmds) {
      expect(stamp(c)).to.be.closeTo(c.atS, 1e-9);
      expect([c.msg.acceleration, c.msg.curvature, c.msg.source]).to.deep.equal([0.5, 0.01, 0]);
    }
    // speed is time-indexed into the latest plan: v0 + 0.5·(now − t0)
    const c = cmds.find((m) => Math.abs(m.atS - 102.5) < 1e-6)!;
    expect(c.msg.speed).to.be.closeTo(10 + 0.5 * (102.5 - 102.1), 1e-9);

    // Frame accounting: 31 frames × 4 cameras; everything used or dropped with a reason.
    expect(st.received).to.equal(124);
    expect(balanced(st)).to.equal(true);
    expect(['frame_missing', 'history_short', 'superseded']).to.include.members(Object.keys(st.dropped));
    await h.planner.stop();
    const end = h.planner.stats();
    expect(end.waiting).to.equal(0);
    expect(balanced(end)).to.equal(true);
  });

  it('latest wins: inputs replaced while a plan runs are counted, their unused frames dropped as superseded', async () => {
    const h = harness(1000);
    h.feed(100, 104);
    await h.run(106);
    const st = h.planner.stats();
    // 101.5 runs 101.5–102.5; 101.6 … 102.4 each replace the waiting input; 102.5 starts when 101.5 completes
    expect(h.out['trajectory']!.map((m) => r3(stamp(m)))).to.deep.equal([101.5, 102.5, 103.5, 104]);
    expect(st.dropped['superseded']).to.be.greaterThan(0);
    expect(balanced(st)).to.equal(true);
  });

  it('refuses wrong encodings and sizes (counted, never a crash) and keeps planning', async () => {
    const h = harness(100);
    h.feed(100, 102, {
      frame: (c, t) =>
        c === 1 && Math.abs(t - 100.5) < 1e-9
          ? image(t, { encoding: 'yuv422' })
          : c === 2 && Math.abs(t - 100.6) < 1e-9
            ? image(t, { width: 16, step: 48, data: new Uint8Array(16 * 4 * 3) })
            : c === 3 && Math.abs(t - 100.7) < 1e-9
              ? image(t, { data: new Uint8Array(10) })
              : image(t),
    });
    await h.run(103);
    const st = h.planner.stats();
    expect(st.dropped['bad_encoding']).to.equal(1);
    expect(st.dropped['bad_size']).to.equal(2);
    expect(
      h.logger.records.some((r) =>
        /camera_front_wide_120fov: expected encoding rgb8\|bgr8\|rgba8\|bgra8\|mono8, got "yuv422"/.test(r.message),
      ),
    ).to.equal(true);
    expect(st.plans).to.be.greaterThan(0);
    expect(balanced(st)).to.equal(true);
  });

  it('an engine error is counted and reported on /ar1/timing; the next input is planned', async () => {
    const h = harness(200);
    h.engine.failWhen = (_i, n) => n === 1;
    h.feed(100, 102.2);
    await h.run(103);
    const st = h.planner.stats();
    expect(st.errors).to.equal(1);
    const timing = h.out['timing']!;
    expect(timing[0]!.msg.error).to.equal('runtime: boom 1');
    expect(stamp(timing[0]!)).to.be.closeTo(101.5, 1e-9);
    expect(h.out['trajectory']![0]!.msg.header.stamp).to.deep.equal({ sec: 101, nanosec: 700_000_000 });
    expect(h.out['command']![0]!.atS).to.be.at.least(101.9);
    expect(st.plans).to.be.greaterThan(1);
    expect(balanced(st)).to.equal(true);
  });

  it("a missing camera: no plan, cycles counted camera_missing, its peers' frames dropped with that reason", async () => {
    const h = harness(100);
    h.feed(100, 104, { skipCamera: 2 });
    await h.run(105);
    const st = h.planner.stats();
    expect(st.plans).to.equal(0);
    expect(h.out['command']).to.have.length(0);
    expect(st.skipped['camera_missing']).to.equal(41); // once per plan period of camera time
    expect(st.dropped['camera_missing']).to.equal(3 * 41 - 3 * 16); // all but the 16 still buffered per camera
    expect(balanced(st)).to.equal(true);
  });

  it('a camera that falls behind by more than max_skew_s stops planning (camera_stale)', async () => {
    const h = harness(100);
    h.feed(100, 102);
    h.feed(102.1, 103, { skipCamera: 0 });
    await h.run(104);
    const st = h.planner.stats();
    expect(st.skipped['camera_stale']).to.be.greaterThan(0);
    expect(r3(stamp(h.out['trajectory']!.at(-1)!))).to.equal(102);
    expect(balanced(st)).to.equal(true);
  });

  it('an odometry gap longer than max_gap_s means no plan while the gap is inside the 1.5 s history', async () => {
    const h = harness(100);
    h.feed(100, 105, { odomGap: [102, 102.5] });
    await h.run(106);
    const st = h.planner.stats();
    const t0s = h.out['trajectory']!.map((m) => r3(stamp(m)));
    expect(st.skipped['odometry_gap']).to.be.greaterThan(0);
    // t0 inside the gap waits for odometry (late) and is superseded; t0 whose history spans the gap is refused
    expect(t0s.filter((t) => t > 102 && t < 104)).to.deep.equal([]);
    expect(t0s).to.include(104); // history 102.5 … 104.0 starts at the first pose after the gap
    expect(t0s).to.include(102);
    expect(st.skipped['odometry_late']).to.be.greaterThan(0);
    expect(balanced(st)).to.equal(true);
  });

  it('time going backwards clears buffers and history (time_reset) and never mixes timelines', async () => {
    const h = harness(300);
    h.feed(100, 102);
    await h.run(102.05);
    // the bag loops: stamps restart at 100 s while the node clock keeps going (replay of a loop, or a sim reset)
    h.feed(100, 102.5, { offsetS: 2.15 });
    await h.run(112);
    const st = h.planner.stats();
    expect(st.dropped['time_reset']).to.be.greaterThan(0);
    const t0s = h.out['trajectory']!.map((m) => r3(stamp(m)));
    // first timeline: 101.5, 101.8; the plan in flight at the reset (t0 102.0, old timeline) is discarded
    expect(t0s.slice(0, 2)).to.deep.equal([101.5, 101.8]);
    expect(t0s.slice(2)[0]).to.equal(101.5);
    for (const inp of h.engine.inputs) {
      const stamps = inp.frames.flat().map((f) => f.stampS);
      expect(Math.max(...stamps) - Math.min(...stamps)).to.be.closeTo(0.3, 1e-9);
    }
    expect(h.logger.records.some((r) => r.level === 'warn' && /time went backwards/.test(r.message))).to.equal(true);
    expect(balanced(st)).to.equal(true);
  });

  it('refuses cameras that differ from the bundle contract at start', () => {
    const s = new SteppingScheduler(0);
    const node = new InProcessNode(new InProcessBus(s), { name: 'ar1_planner' });
    const params = loadPlannerParams(NO_OVERRIDES);
    params.cameras.names = [AR1_CAMERAS[1]!, AR1_CAMERAS[0]!, AR1_CAMERAS[2]!, AR1_CAMERAS[3]!];
    expect(() => startPlanner(node, params, new FakeEngine(s, 10))).to.throw(
      UserError,
      /^cameras\.names: expected the bundle's cameras in its order \[camera_cross_left_120fov, .*\] \(bundle fake@1\), got \[camera_front_wide_120fov, /,
    );
  });
});
