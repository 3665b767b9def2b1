import { expect } from 'chai';
import { UNICYCLE_SOURCE, type Odometry, type UnicycleCommand } from '../../nodes/core/msgs.js';
import { secondsToStamp } from '../../nodes/core/time.js';
import { DEADLINE_EPSILON_S } from '../../nodes/watchdog/watchdogNode.js';
import { limitsAt } from '../../nodes/watchdog/limitsGate.js';
import { limitSpeed, poseSpeedOf, trackOdometry } from '../../nodes/watchdog/egoSpeed.js';
import { emptyInputs } from '../../nodes/watchdog/inputs.js';
import { makeRig, type World } from './rig.js';

/**
 * The watchdog's two clocks in virtual time: ROS time (stamps) is stepped, frozen or jumped by the test on its own,
 * while true time (the scheduler, the watchdog's steady clock) runs on. Liveness must follow true time.
 */
const QOS = { reliability: 'reliable', durability: 'volatile', depth: 10 } as const;
const src = UNICYCLE_SOURCE;
const odom = (stampS: number, x: number, speed: number): Odometry => ({
  header: { stamp: secondsToStamp(stampS), frame_id: 'map' },
  child_frame_id: 'base_link',
  pose: { pose: { position: { x, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: [] },
  twist: { twist: { linear: { x: speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
});

/** Engaged and driving at 110 s (true time = ROS time until the test steps one of them). */
async function drivingRig(overrides: Record<string, unknown> = {}, world: Partial<World> = {}) {
  const rig = makeRig(overrides, { world });
  await rig.runTo(100.5);
  rig.engage();
  await rig.runTo(110);
  expect(rig.handle.state).to.equal('nominal');
  return rig;
}
type Rig = Awaited<ReturnType<typeof drivingRig>>;

/** True time of the first vehicle command not from the planner at or after fromTrueS, and that none from the planner follows. */
function firstBrake(rig: Rig, fromTrueS: number): number {
  const after = rig.commands.filter((c) => c.trueS >= fromTrueS - 1e-9);
  const i = after.findIndex((c) => c.msg.source !== src.planner);
  expect(i, 'the watchdog braked').to.be.at.least(0);
  expect(
    after.slice(i).every((c) => c.msg.source !== src.planner),
    'latched: no planner command after the brake',
  ).to.equal(true);
  return after[i]!.trueS;
}

describe('watchdog clocks: liveness on the steady clock, ROS time stepped independently (virtual time)', () => {
  it('ROS time steps back 5 s as the planner stops: clock_backward brakes at the next message or tick; no stale planner command is forwarded', async () => {
    const rig = await drivingRig();
    rig.world.plannerCommands = false; // last /ar1/command at true 110.000
    rig.stepRosTime(-5);
    await rig.runTo(111);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(/^ROS time stepped back (4\.99\d|5\.00\d) s \(from 110\.0\d\d s to 105\.0\d\d s\)/);
    const brake = firstBrake(rig, 110);
    expect(brake - 110).to.be.at.most(0.01 + DEADLINE_EPSILON_S + 1e-9); // the next odometry message (10 ms) sees it
    expect(rig.commands.filter((c) => c.trueS > 110 && c.msg.source === src.planner)).to.have.length(0);
    rig.close();
  });

  it('ROS time steps back 0.09 s as the planner stops: the first brake is within command_gap_s + 1 ms of true time', async () => {
    const rig = await drivingRig();
    rig.world.plannerCommands = false;
    rig.stepRosTime(-0.09);
    await rig.runTo(111);
    expect(firstBrake(rig, 110) - 110).to.be.at.most(rig.params.command_gap_s + DEADLINE_EPSILON_S + 1e-9);
    expect(rig.handle.transitions.find((t) => t.to === 'fallback')!.reason).to.match(
      /^ROS time stepped back 0\.0[89]\d s/,
    );
    rig.close();
  });

  it('ROS time frozen (a paused /clock) as the planner stops: stamps look fresh, the steady command gap brakes at command_gap_s + 1 ms', async () => {
    const rig = await drivingRig();
    rig.world.plannerCommands = false;
    rig.world.frozenX = rig.world.x; // a paused simulator: odometry repeats its last position (moving ones would be odometry_invalid)
    rig.freezeRosTime(true); // every stamp and the watchdog's ROS time stay at 110.000
    await rig.runTo(111);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.equal('command gap 0.101 s exceeds command_gap_s 0.100 s');
    expect(firstBrake(rig, 110) - (110 + rig.params.command_gap_s)).to.be.closeTo(DEADLINE_EPSILON_S, 1e-9);
    rig.close();
  });

  it('ROS time frozen as odometry stops: its stamp looks fresh, the receipt gap on the steady clock brakes at odometry_stale_s + 1 ms', async () => {
    const rig = await drivingRig();
    rig.world.odometry = false; // last odometry at true 110.000
    rig.freezeRosTime(true);
    await rig.runTo(111);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.equal('odometry not received for 0.101 s (steady clock), exceeds odometry_stale_s 0.100 s');
    expect(firstBrake(rig, 110) - (110 + rig.params.odometry_stale_s)).to.be.closeTo(DEADLINE_EPSILON_S, 1e-9);
    rig.close();
  });

  it('ROS time frozen and the twist stuck at 0 while moving: positions moving under a still stamp are odometry_invalid, the speed is unknown, never a standstill', async () => {
    const rig = await drivingRig({}, { plannerAccel: 2 });
    rig.freezeRosTime(true); // odometry stamps stand still: no position-derived speed can be computed from them
    rig.world.stuckTwist = 0;
    rig.world.plannerCurvature = 0.2;
    await rig.runTo(112);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(
      /^odometry position moved 0\.\d{3} m while its stamp did not advance \(110\.000 s after 110\.000 s\): speed unknown$/,
    );
    expect(tr.timeS).to.be.closeTo(110, 0.021);
    expect(
      rig.handle.transitions.some((t) => t.to === 'stopped'),
      'no standstill claimed while moving',
    ).to.equal(false);
    // The gate holds the last measured speed while the speed is unknown; the car still accelerates during the
    // release (0.4 s at +2 m/s²), so the true lateral acceleration can be a few % over: 3.1 m/s², not 82.
    for (const c of rig.commands) {
      const v = Math.max(c.speed, 1);
      expect(Math.abs(c.msg.curvature) * v * v, `at ${c.trueS.toFixed(2)} s`).to.be.at.most(3 * 1.05);
    }
    rig.close();
  });

  it('ROS time steps forward 10 s: every plan is 10 s old, acted on within 1 ms of the next message', async () => {
    const rig = await drivingRig();
    await rig.runTo(110.005);
    rig.stepRosTime(10);
    await rig.runTo(111);
    expect(rig.handle.transitions.find((t) => t.to === 'fallback')!.reason).to.match(
      /plan age 10\.\d{3} s exceeds max_plan_age_s 0\.500 s/,
    );
    expect(firstBrake(rig, 110.005) - 110.01).to.be.at.most(DEADLINE_EPSILON_S + 1e-9);
    rig.close();
  });

  it('stale on arrival: an odometry stamp stepping back past odometry_stale_s is acted on 1 ms after it arrives (not at the next deadline)', async () => {
    const rig = await drivingRig();
    rig.world.odometry = false; // last rig odometry at 110.000; its own deadline would be 110.100
    await rig.runTo(110.013);
    rig.sim
      .createPublisher('nav_msgs/msg/Odometry', rig.params.topics.odometry, QOS)
      .publish(odom(110.013 - 0.15, rig.world.x, rig.world.speed));
    await rig.runTo(111);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.equal('odometry age 0.151 s exceeds odometry_stale_s 0.100 s');
    expect(tr.timeS - 110.013).to.be.closeTo(DEADLINE_EPSILON_S, 1e-9);
    expect(firstBrake(rig, 110.013) - 110.013).to.be.closeTo(DEADLINE_EPSILON_S, 1e-9);
    rig.close();
  });

  it('the watchdog loop lagging (its process stalled 0.2 s) is a loop_lag fault', async () => {
    const rig = await drivingRig();
    await rig.runTo(110.005);
    rig.stepSteady(0.2);
    await rig.runTo(111);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(
      /^control loop lagging: 0\.2\d\d s between ticks exceeds 1\/control_rate_hz \+ max_loop_lag_s 0\.120 s/,
    );
    rig.close();
  });
});

describe('watchdog frequency liveness: inputs that arrive, but too slowly (virtual time)', () => {
  it('odometry at 5 Hz (staleness relaxed to 0.5 s) → odometry_slow within rate_window_s', async () => {
    const rig = await drivingRig({ odometry_stale_s: 0.5 });
    rig.world.every.odometry = 20; // 100 Hz → 5 Hz
    await rig.runTo(112);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.equal('odometry rate 7.0 Hz (7 in the last 1.00 s) below min_rate_hz.odometry 8.0 Hz');
    expect(tr.timeS - 110).to.be.within(0.5, rig.params.rate_window_s + DEADLINE_EPSILON_S + 1e-9);
    rig.close();
  });

  it('a camera at 2 Hz (staleness relaxed to 1 s) → camera_slow naming the topic', async () => {
    const rig = await drivingRig({ camera_stale_s: 1, cameras: { topics: ['/cam/front'], types: ['image'] } });
    rig.world.every.camera = 15; // 30 Hz → 2 Hz
    await rig.runTo(112);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(
      /^camera \/cam\/front rate 4\.0 Hz \(4 in the last 1\.00 s\) below min_rate_hz\.cameras 5\.0 Hz$/,
    );
    expect(tr.timeS - 110).to.be.at.most(rig.params.rate_window_s + DEADLINE_EPSILON_S + 1e-9);
    rig.close();
  });

  it('planner commands at 16.7 Hz: every gap (60 ms) is inside command_gap_s, the rate is not → command_slow', async () => {
    const rig = await drivingRig();
    rig.world.every.command = 3;
    await rig.runTo(112);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(
      /^command rate 2\d\.0 Hz \(2\d in the last 1\.00 s\) below min_rate_hz\.command 25\.0 Hz$/,
    );
    expect(rig.handle.transitions.some((t) => /command gap/.test(t.reason))).to.equal(false);
    rig.close();
  });

  it('healthy rates raise nothing over a long drive; the receipt history stays bounded', async () => {
    const rig = await drivingRig({ cameras: { topics: ['/cam/front'], types: ['image'] } });
    await rig.runTo(140);
    expect(rig.handle.state).to.equal('nominal');
    expect(rig.handle.transitions).to.have.length(1);
    rig.close();
  });
});

describe('watchdog speed cross-check: twist against positions (virtual time)', () => {
  it('twist stuck at 0 while moving at ~19 m/s with a 0.2 curvature request: speed_mismatch, and no command ever exceeds the lateral limit at the true speed', async () => {
    const rig = await drivingRig({}, { plannerAccel: 2 });
    await rig.runTo(111);
    expect(rig.world.speed).to.be.greaterThan(18);
    rig.world.stuckTwist = 0;
    rig.world.plannerCurvature = 0.2;
    await rig.runTo(125);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(
      /^odometry twist speed 0\.00 m\/s and position-derived speed 1\d\.\d\d m\/s differ by 1\d\.\d{3} m\/s, more than speed_mismatch_mps 2\.000 m\/s \(limits use the higher\)$/,
    );
    expect(tr.timeS - 111).to.be.at.most(0.02 + 1e-9);
    // Against the true speed: the gate works from measured speed, and positions over pose_speed_window_s lag an
    // accelerating car by up to 0.2 m/s (2 % of v² at 20 m/s). Without the cross-check this was 82 m/s².
    const latAccel = limitsAt(rig.params.limits, 20).latAccel;
    for (const c of rig.commands) {
      const v = Math.max(c.speed, 1);
      expect(Math.abs(c.msg.curvature) * v * v, `at ${c.tS.toFixed(2)} s, ${c.speed.toFixed(2)} m/s`).to.be.at.most(
        latAccel * 1.03,
      );
    }
    rig.close();
  });

  it("the position-derived speed is carried forward by the commanded acceleration over its lag (half the span + the newest sample's age)", () => {
    const p = makeRig().params;
    const i = emptyInputs();
    for (let k = 0; k <= 20; k++) trackOdometry(i, odom(9.8 + k * 0.01, 10 * (9.8 + k * 0.01), 0), p); // 10 m/s by position, twist 0
    i.odometry = { msg: odom(10, 100, 0), receivedS: 10 };
    expect(poseSpeedOf(i.odometryTrack, p)).to.be.closeTo(10, 1e-9);
    expect(limitSpeed(i, 10, p, 10, 0)).to.be.closeTo(10, 1e-9); // braking or coasting: no carry
    expect(limitSpeed(i, 10.05, p, 10.05, 2)).to.be.closeTo(10 + 2 * (0.1 + 0.05), 1e-9); // +2 m/s² over 0.15 s of lag
  });

  it('a twist within speed_mismatch_mps of the positions raises nothing; the gate still uses the higher of the two', async () => {
    const rig = await drivingRig({}, { plannerAccel: 1 });
    rig.world.stuckTwist = rig.world.speed - 1.5; // 1.5 m/s under, within the 2 m/s tolerance
    await rig.runTo(110.5);
    expect(rig.handle.state).to.equal('nominal');
    const gateSpeed = rig.handle.lastTick!.core.lastMeasuredSpeed!;
    expect(gateSpeed).to.be.closeTo(rig.world.speed, 0.2); // from positions (lagging by ~0.1 s at +1 m/s²)
    expect(gateSpeed).to.be.greaterThan(rig.world.stuckTwist! + 1);
    rig.close();
  });
});

describe('watchdog fallback release: time to the first negative acceleration (virtual time)', () => {
  it('accelerating at +2 m/s² when the planner stops: the first negative command 0.40–0.42 s after the fault, −2.5 m/s² 1.67 s later', async () => {
    const rig = await drivingRig({}, { plannerAccel: 2 });
    rig.world.plannerCommands = false;
    await rig.runTo(115);
    const fault = rig.handle.transitions.find((t) => t.to === 'fallback')!.timeS;
    const fb = rig.commands.filter((c) => c.tS >= fault - 1e-9);
    expect(fb[0]!.msg.acceleration).to.be.closeTo(2 - 5 * 0.001, 1e-9); // deadline tick 1 ms after the last command
    const firstNegative = fb.find((c) => c.msg.acceleration < 0)!;
    expect(firstNegative.tS - fault).to.be.within(0.4 - 1e-9, 0.42 + 1e-9);
    const full = fb.find((c) => c.msg.acceleration === -2.5)!;
    expect(full.tS - firstNegative.tS).to.be.closeTo(1.66, 0.021); // 2.5 / 1.5 m/s³
    rig.close();
  });

  it('the release is still jerk-limited: never more than release_jerk_mps3 above zero nor jerk_mps3 below', async () => {
    const rig = await drivingRig({}, { plannerAccel: 2 });
    rig.world.plannerCommands = false;
    await rig.runTo(115);
    const cmds = rig.commands.filter((c) => c.tS >= 110 && c.msg.source === src.fallback);
    for (let k = 1; k < cmds.length; k++) {
      const a = cmds[k - 1]!,
        b = cmds[k]!;
      const dt = b.tS - a.tS;
      expect(a.msg.acceleration - b.msg.acceleration).to.be.at.most(5 * dt + 1e-9);
      if (b.msg.acceleration < 0 && a.msg.acceleration <= 0)
        expect(Math.abs(b.msg.acceleration - a.msg.acceleration)).to.be.at.most(1.5 * dt + 1e-9);
    }
    rig.close();
  });
});

describe('watchdog subscription callbacks contain exceptions', () => {
  it('a message whose handling throws is dropped and counted; the watchdog keeps ticking', async () => {
    const rig = await drivingRig();
    const pub = rig.sim.createPublisher('ar1_msgs/msg/UnicycleCommand', rig.params.topics.command, QOS);
    const hostile = {
      header: { stamp: secondsToStamp(rig.nowS()), frame_id: '' },
      acceleration: 0,
      curvature: 0,
      speed: 0,
      source: 0,
    } as UnicycleCommand;
    Object.defineProperty(hostile, 'acceleration', {
      get() {
        throw new Error('getter exploded');
      },
      enumerable: true,
    });
    const ticks = rig.handle.tickCount;
    pub.publish(hostile);
    await rig.runFor(0.1);
    expect([...rig.handle.dropped.keys()].join('\n')).to.match(/\/ar1\/command: .*getter exploded/);
    expect(rig.handle.tickCount).to.be.greaterThan(ticks);
    rig.close();
  });
});
