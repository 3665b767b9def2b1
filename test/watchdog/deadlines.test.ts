import { expect } from 'chai';
import { UNICYCLE_SOURCE, type Odometry, type UnicycleCommand } from '../../nodes/core/msgs.js';
import { secondsToStamp } from '../../nodes/core/time.js';
import { DEADLINE_EPSILON_S } from '../../nodes/watchdog/watchdogNode.js';
import { limitsAt } from '../../nodes/watchdog/limitsGate.js';
import { emptyInputs } from '../../nodes/watchdog/inputs.js';
import { deadlineStatus, pendingDeadlines } from '../../nodes/watchdog/deadlines.js';
import { makeRig } from './rig.js';

const PERIOD = 0.02;
const QOS = { reliability: 'reliable', durability: 'volatile', depth: 10 } as const;
const odom = (stampS: number, x: number, speed: number): Odometry => ({
  header: { stamp: secondsToStamp(stampS), frame_id: 'map' },
  child_frame_id: 'base_link',
  pose: { pose: { position: { x, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: [] },
  twist: { twist: { linear: { x: speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
});

/** Engaged and driving at ~4.8 m/s at 110 s (see node.test.ts). */
async function drivingRig(overrides: Record<string, unknown> = {}) {
  const rig = makeRig(overrides);
  await rig.runTo(100.5);
  rig.engage();
  await rig.runTo(110);
  expect(rig.handle.state).to.equal('nominal');
  return rig;
}

/** Every pair of consecutive vehicle commands: spacing, and |Δaccel| within the jerk allowed over that spacing. */
function checkSpacingAndJerk(rig: Awaited<ReturnType<typeof drivingRig>>, fromS: number) {
  const cmds = rig.commands.filter((c) => c.tS >= fromS - 1e-9);
  const jerkMax = limitsAt(rig.params.limits, 0).jerkMax; // constant tables
  for (let k = 1; k < cmds.length; k++) {
    const a = cmds[k - 1]!,
      b = cmds[k]!;
    const dt = b.tS - a.tS;
    const da = Math.abs(b.msg.acceleration - a.msg.acceleration);
    expect(da, `|Δa| ${da} over ${dt} s at ${b.tS}`).to.be.at.most(jerkMax * dt + 1e-9);
    if (b.msg.source === UNICYCLE_SOURCE.fallback && a.msg.source === UNICYCLE_SOURCE.fallback) {
      // Releasing a positive acceleration at release_jerk_mps3, building the brake at jerk_mps3.
      const j = a.msg.acceleration > 0 ? rig.params.fallback.release_jerk_mps3 : rig.params.fallback.jerk_mps3;
      expect(da, `fallback ramp |Δa| ${da} over ${dt} s`).to.be.at.most(Math.abs(j) * dt + 1e-9);
    }
  }
  return cmds;
}

describe('watchdog deadline timers (virtual time)', () => {
  it('a command gap off the tick phase: fallback 1 ms after the deadline (not at the next 20 ms tick); spacing ≥ a period after', async () => {
    const rig = await drivingRig();
    rig.world.plannerCommands = false; // the rig's last command at 110.000
    const pub = rig.sim.createPublisher('ar1_msgs/msg/UnicycleCommand', rig.params.topics.command, QOS);
    await rig.runTo(110.007);
    pub.publish({
      header: { stamp: secondsToStamp(rig.nowS()), frame_id: '' },
      acceleration: 0.5,
      curvature: 0.01,
      speed: 5,
      source: 0,
    } as UnicycleCommand);
    await rig.runTo(111);
    const deadline = 110.007 + rig.params.command_gap_s;
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.equal('command gap 0.101 s exceeds command_gap_s 0.100 s'); // enough digits to show the excess
    expect(tr.timeS - deadline).to.be.closeTo(DEADLINE_EPSILON_S, 1e-6);
    const i = rig.commands.findIndex((c) => c.msg.source === UNICYCLE_SOURCE.fallback);
    expect(rig.commands[i]!.tS - deadline).to.be.closeTo(DEADLINE_EPSILON_S, 1e-6); // published at once
    const prev = rig.commands[i - 1]!;
    expect(prev.tS).to.be.closeTo(110.1, 1e-9); // the last periodic tick, 8 ms earlier
    expect(rig.commands[i]!.msg.acceleration).to.be.closeTo(prev.msg.acceleration - 5 * 0.008, 1e-9); // release ramp over 8 ms
    const after = rig.commands.slice(i);
    for (let k = 1; k < after.length; k++) expect(after[k]!.tS - after[k - 1]!.tS).to.be.closeTo(PERIOD, 1e-9);
    checkSpacingAndJerk(rig, 110);
    expect(rig.handle.deadlineTickCount).to.equal(1);
    rig.close();
  });

  it('odometry and camera deadlines off the tick phase are acted on within 1 ms', async () => {
    for (const which of ['odometry', 'camera'] as const) {
      const cams = { cameras: { topics: ['/cam/front'], types: ['compressed'] } };
      const rig = await drivingRig(cams);
      const at = 110.013;
      if (which === 'odometry') {
        rig.world.odometry = false; // last rig odometry at 110.010
        await rig.runTo(at);
        rig.sim
          .createPublisher('nav_msgs/msg/Odometry', rig.params.topics.odometry, QOS)
          .publish(odom(at, rig.world.x, rig.world.speed));
      } else {
        rig.world.cameras['/cam/front'] = false;
        await rig.runTo(at);
        rig.sim
          .createPublisher('sensor_msgs/msg/CompressedImage', '/cam/front', QOS)
          .publish({ header: { stamp: secondsToStamp(at), frame_id: 'cam' }, format: 'jpeg', data: new Uint8Array() });
      }
      await rig.runTo(111);
      const deadline = at + (which === 'odometry' ? rig.params.odometry_stale_s : rig.params.camera_stale_s);
      const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
      expect(tr.reason, which).to.match(which === 'odometry' ? /^odometry age/ : /^camera \/cam\/front age/);
      expect(tr.timeS - deadline, which).to.be.closeTo(DEADLINE_EPSILON_S, 1e-6);
      checkSpacingAndJerk(rig, 110);
      rig.close();
    }
  });

  it('healthy inputs never trigger a deadline tick: exactly one command per period', async () => {
    const rig = await drivingRig({ cameras: { topics: ['/cam/front'], types: ['image'] } });
    await rig.runTo(115);
    expect(rig.handle.deadlineTickCount).to.equal(0);
    const cmds = rig.commands.filter((c) => c.tS > 100);
    for (let k = 1; k < cmds.length; k++) expect(cmds[k]!.tS - cmds[k - 1]!.tS).to.be.closeTo(PERIOD, 1e-9);
    rig.close();
  });

  it('outside NOMINAL a passed deadline runs no extra tick (the periodic tick handles it)', async () => {
    const rig = makeRig(); // disengaged
    await rig.runTo(100.5);
    rig.world.plannerCommands = false;
    await rig.runTo(101.5);
    expect(rig.handle.deadlineTickCount).to.equal(0);
    expect(rig.commands.length).to.equal(75);
    rig.close();
  });

  it('pendingDeadlines lists each input deadline (plan t0, command receipt, odometry and camera stamps)', () => {
    const cams = { topics: ['/c'], types: ['image' as const] };
    const p = { ...makeRig().params, cameras: cams };
    const i = emptyInputs();
    expect(pendingDeadlines(i, p)).to.deep.equal([]);
    i.firstReceiptS.set('odometry', 10);
    i.command = { msg: {} as UnicycleCommand, receivedS: 10 };
    i.odometry = { msg: odom(9.5, 0, 0), receivedS: 10 };
    i.cameras.set('/c', { msg: { header: { stamp: secondsToStamp(9), frame_id: '' } }, receivedS: 10 });
    i.cameras.set('/not-monitored', { msg: { header: { stamp: secondsToStamp(1), frame_id: '' } }, receivedS: 10 });
    const d = pendingDeadlines(i, p);
    expect(d.map((x) => [x.what, x.clock])).to.deep.equal([
      ['command gap', 'steady'],
      ['odometry age', 'ros'],
      ['camera /c age', 'ros'],
      ['odometry receipt', 'steady'],
      ['camera /c receipt', 'steady'],
      ['odometry rate', 'steady'],
    ]);
    expect(d[0]!.atS).to.be.closeTo(10.1, 1e-9); // receipt (steady) + command_gap_s
    expect(d[1]!.atS).to.be.closeTo(9.6, 1e-9); // stamp (ROS) + odometry_stale_s
    expect(d[2]!.atS).to.be.closeTo(9.3, 1e-9);
    expect(d[3]!.atS).to.be.closeTo(10.1, 1e-5); // receipt (steady) + odometry_stale_s (+ 1 µs)
    expect(d[4]!.atS).to.be.closeTo(10.3, 1e-5); // receipt (steady) + camera_stale_s (+ 1 µs)
    expect(d[5]!.atS).to.be.closeTo(11, 1e-9); // first receipt + rate_window_s (fewer than 8 receipts so far)
  });

  it('deadlineStatus (no list built) agrees with pendingDeadlines at every clock reading; camera rates are named', () => {
    const cams = { topics: ['/c', '/d'], types: ['image' as const, 'compressed' as const] };
    const p = { ...makeRig().params, cameras: cams };
    const i = emptyInputs();
    for (const [key, t] of [
      ['command', 10],
      ['trajectory', 9.8],
      ['odometry', 10],
      ['camera /c', 9.9],
      ['camera /d', 9.7],
    ] as const) {
      i.firstReceiptS.set(key, t);
      i.receipts.set(key, [t]);
    }
    i.command = { msg: {} as UnicycleCommand, receivedS: 10 };
    i.odometry = { msg: odom(9.5, 0, 0), receivedS: 10 };
    i.cameras.set('/c', { msg: { header: { stamp: secondsToStamp(9), frame_id: '' } }, receivedS: 10 });
    i.cameras.set('/d', { msg: { header: { stamp: secondsToStamp(9.2), frame_id: '' } }, receivedS: 9.7 });
    const d = pendingDeadlines(i, p);
    expect(d.map((x) => x.what).slice(-5)).to.deep.equal([
      'command rate',
      'plan rate',
      'odometry rate',
      'camera /c rate',
      'camera /d rate',
    ]);
    for (let rosS = 9; rosS <= 11.5; rosS += 0.05) {
      for (const lag of [-0.3, 0, 0.2]) {
        const clocks = { rosS, steadyS: rosS + lag };
        const left = d.map((x) => x.atS - (x.clock === 'ros' ? clocks.rosS : clocks.steadyS));
        expect(deadlineStatus(i, p, clocks)).to.deep.equal({
          passed: left.some((s) => s < 0),
          nextS: Math.min(Infinity, ...left.filter((s) => s >= 0)),
        });
      }
    }
  });
});
