import { expect } from 'chai';
import type { Odometry } from '../../nodes/core/msgs.js';
import { secondsToStamp } from '../../nodes/core/time.js';
import { odometryJumpOf } from '../../nodes/watchdog/monitors.js';
import { loadWatchdogParams } from '../../nodes/watchdog/params.js';
import { makeRig } from './rig.js';

const P = loadWatchdogParams({ sources: [] });
const odom = (stampS: number, x: number, speed: number, y = 0): Odometry => ({
  header: { stamp: secondsToStamp(stampS), frame_id: 'map' },
  child_frame_id: 'base_link',
  pose: { pose: { position: { x, y, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: [] },
  twist: { twist: { linear: { x: speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
});

describe('watchdog odometry jump (teleport)', () => {
  it('odometryJumpOf: plausible motion passes; a step beyond speed × Δt + odometry_max_jump_m is a fault with distance and time', () => {
    expect(odometryJumpOf(odom(10, 0, 20), odom(10.01, 0.2, 20), P)).to.equal(undefined);
    expect(odometryJumpOf(odom(10, 0, 20), odom(11, 20.9, 20), P)).to.equal(undefined); // 20 m explained + 0.9 margin
    expect(odometryJumpOf(odom(10, 0, 0), odom(10.01, 0, 0, 0.99), P)).to.equal(undefined); // within the 1 m margin
    const f = odometryJumpOf(odom(10, 0, 5), odom(10.01, 300, 5, 400), P)!;
    expect(f.name).to.equal('odometry_jump');
    expect(f.message).to.equal(
      'odometry position jumped 500.00 m in 0.010 s (speed 5.00 m/s explains 0.05 m, odometry_max_jump_m 1.00 m)',
    );
    expect(odometryJumpOf(odom(10, 0, 0), odom(10.01, 1.01, 0), P)?.name).to.equal('odometry_jump');
  });

  it('odometryJumpOf: a stamp going backwards explains no motion; non-finite positions are not judged', () => {
    expect(odometryJumpOf(odom(10, 0, 30), odom(9, 5, 30), P)?.message).to.match(
      /jumped 5\.00 m in -1\.000 s \(speed 30\.00 m\/s explains 0\.00 m/,
    );
    expect(odometryJumpOf(odom(10, 0, 5), odom(10.01, Number.NaN, 5), P)).to.equal(undefined);
    const small = loadWatchdogParams({ sources: [{ origin: 'test', values: { odometry_max_jump_m: 0.1 } }] });
    expect(odometryJumpOf(odom(10, 0, 0), odom(10.01, 0.5, 0), small)?.name).to.equal('odometry_jump');
  });

  it('a 500 m teleport while driving → FALLBACK within one period, named in /diagnostics, latched until stopped, then reset works', async () => {
    const rig = makeRig();
    await rig.runTo(100.5);
    rig.engage();
    await rig.runTo(110);
    expect(rig.handle.state).to.equal('nominal'); // the rig's odometry (position 0, speed up to ~5 m/s) is never a jump
    rig.world.odometry = false; // last rig odometry at 110.000, position 0
    const pub = rig.sim.createPublisher('nav_msgs/msg/Odometry', rig.params.topics.odometry, {
      reliability: 'best_effort',
      durability: 'volatile',
      depth: 5,
    });
    await rig.runTo(110.005);
    pub.publish(odom(110.005, rig.world.x + 500, rig.world.speed));
    rig.world.odometry = true; // back on the real track from 110.010: a second jump, not reported twice
    await rig.runTo(110.03);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.timeS - 110.005)
      .to.be.greaterThan(0)
      .and.at.most(0.02 + 1e-9);
    expect(tr.reason).to.match(
      /^odometry position jumped 500\.00 m in 0\.005 s \(speed 4\.\d\d m\/s explains 0\.02 m, odometry_max_jump_m 1\.00 m\)$/,
    );
    const diag = rig.diagnostics.at(-1)!.msg.status.find((s) => s.name === 'ar1_watchdog: odometry')!;
    expect(diag.level).to.equal(2);
    expect(diag.message).to.match(/odometry position jumped 500\.00 m/);
    expect(
      rig.logger.records.filter((e) => /^\/localization\/odometry: odometry position jumped/.test(e.message)),
    ).to.have.length(1); // held: the jump back is not reported again
    // Still moving: the fault stays active (a reset is refused with it), the brake continues.
    await rig.runTo(111);
    expect(rig.handle.lastTick!.faults.map((f) => f.name)).to.deep.equal(['odometry_jump']);
    await rig.runTo(116);
    expect(rig.handle.state).to.equal('stopped');
    expect(rig.handle.lastTick!.faults).to.deep.equal([]); // cleared once reported at standstill
    rig.reset();
    await rig.runFor(0.05);
    expect(rig.handle.state).to.equal('nominal');
    rig.close();
  });
});
