import { expect } from 'chai';
import { UNICYCLE_SOURCE } from '../../nodes/core/msgs.js';
import { stampToSeconds } from '../../nodes/core/time.js';
import { TestScheduler } from 'rxjs/testing';
import { InProcessBus } from '../../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../../nodes/adapters/inprocess/inProcessNode.js';
import { NO_OVERRIDES } from '../../nodes/core/params/index.js';
import { startWatchdog } from '../../nodes/watchdog/watchdogNode.js';
import { loadWatchdogParams } from '../../nodes/watchdog/params.js';
import { DEADLINE_EPSILON_S } from '../../nodes/watchdog/watchdogNode.js';
import { makeRig } from './rig.js';

const PERIOD = 0.02;
const src = (name: keyof typeof UNICYCLE_SOURCE) => UNICYCLE_SOURCE[name];

/** Drives 10 s at +0.5 m/s² after engaging at 100.5 s: about 4.8 m/s at 110 s. */
async function drivingRig(overrides: Record<string, unknown> = {}, world = {}) {
  const rig = makeRig(overrides, { world });
  await rig.runTo(100.5);
  rig.engage();
  await rig.runTo(110);
  expect(rig.handle.state).to.equal('nominal');
  return rig;
}

describe('watchdog/watchdogNode (virtual time, in-process transport)', () => {
  it('starts disengaged holding −1.5 m/s² at standstill, engages on request, forwards planner commands through the gate', async () => {
    const rig = makeRig();
    await rig.runTo(100.4);
    expect(rig.handle.state).to.equal('disengaged');
    expect(rig.commands.length).to.equal(20); // own timer: 50 Hz whatever arrives
    expect(rig.commands.every((c) => c.msg.source === src('hold') && c.msg.acceleration === -1.5)).to.equal(true);
    rig.engage();
    await rig.runTo(101);
    expect(rig.handle.state).to.equal('nominal');
    expect(rig.handle.transitions[0]).to.include({
      from: 'disengaged',
      to: 'nominal',
      reason: 'operator engage: all monitors healthy',
    });
    const c = rig.lastCommand().msg;
    expect(c.source).to.equal(src('planner'));
    expect(c.acceleration).to.equal(0.5); // reached through the 5 m/s³ jerk limit from the hold
    expect(rig.lastState().msg.state_name).to.equal('nominal');
    expect(rig.lastState().msg.plan_age_s).to.be.within(0.2, 0.3 + 1e-9);
    expect(rig.lastState().msg.last_latency_ms).to.be.closeTo(200, 1e-6);
    rig.close();
  });

  it('planner stops: fallback within one control period of the 0.1 s command gap, ramp to −2.5, stop, hold −1.5', async () => {
    const rig = await drivingRig();
    rig.world.plannerCommands = false;
    rig.world.plannerPlans = false;
    await rig.runTo(115);
    const lastIn = 110; // last /ar1/command published at 110.00 s
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(/^command gap 0\.1\d\d s exceeds command_gap_s 0\.100 s$/);
    expect(tr.timeS - (lastIn + 0.1)).to.be.closeTo(DEADLINE_EPSILON_S, 1e-9); // deadline timer, not the next tick
    const i = rig.commands.findIndex((c) => c.msg.source === src('fallback'));
    const firstFallback = rig.commands[i]!;
    expect(firstFallback.tS).to.be.closeTo(tr.timeS, 1e-9);
    // 1 ms after the periodic command at 110.10: the ramp moves by |release jerk| × 1 ms, not by a whole period's 0.1.
    expect(firstFallback.tS - rig.commands[i - 1]!.tS).to.be.closeTo(0.001, 1e-9);
    expect(firstFallback.msg.acceleration).to.be.closeTo(0.5 - 5 * 0.001, 1e-9);
    expect(rig.commands[i + 1]!.tS - firstFallback.tS).to.be.closeTo(PERIOD, 1e-9); // periodic phase restarted
    expect(rig.handle.deadlineTickCount).to.equal(1);
    const fallback = rig.commands.filter((c) => c.msg.source === src('fallback'));
    // 0.495 → 0 at 0.1 per tick (release), then → −2.5 at 0.03 per tick: 5 + 84 ticks after the first.
    expect(fallback.findIndex((c) => c.msg.acceleration < 0)).to.equal(5);
    expect(fallback.findIndex((c) => c.msg.acceleration === -2.5)).to.equal(89);
    expect(fallback.every((c) => c.msg.curvature === 0.01)).to.equal(true); // curvature held
    const stop = rig.handle.transitions.find((t) => t.to === 'stopped')!;
    expect(stop.reason).to.match(
      /^vehicle stopped: speed 0\.\d\d m\/s <= standstill_speed_mps 0\.10; active faults: plan age \d\.\d\d\d s exceeds max_plan_age_s 0\.500 s; command gap \d\.\d\d\d s exceeds command_gap_s 0\.100 s; command rate 0\.0 Hz .*; plan rate 0\.0 Hz .*$/,
    );
    expect(rig.handle.state).to.equal('stopped');
    expect(rig.lastCommand().msg).to.include({ source: src('hold'), acceleration: -1.5 });
    expect(rig.lastState().msg.reasons[0]).to.match(/command gap/);
    expect(
      rig.handle.commandCounts.planner + rig.handle.commandCounts.fallback + rig.handle.commandCounts.hold,
    ).to.equal(rig.commands.length);
    rig.close();
  });

  it('planner slows past the deadline: plans stop but commands continue → plan_stale at t0 + 0.5 s, within one period', async () => {
    const rig = await drivingRig();
    rig.world.plannerPlans = false; // last plan at 110.0 s with t0 = 109.8 s
    await rig.runTo(111);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(/^plan age 0\.5\d\d s exceeds max_plan_age_s 0\.500 s$/);
    expect(tr.timeS - (109.8 + 0.5)).to.be.closeTo(DEADLINE_EPSILON_S, 1e-9);
    rig.close();
  });

  it('over-budget planning: 3 of the last 5 plans slower than 400 ms → fallback', async () => {
    const rig = await drivingRig({ max_plan_age_s: 1.0 });
    rig.world.planLatencyS = 0.45;
    await rig.runTo(111);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(/^3 of the last 5 plans over budget_ms 400 ms \(last total 450 ms, latency 450 ms\)$/);
    expect(tr.timeS).to.be.closeTo(110.3, 0.021);
    rig.close();
  });

  it('NaN plan → plan_invalid; NaN command → command_invalid; nothing non-finite is published', async () => {
    const rig = await drivingRig();
    rig.world.nanPlan = true;
    await rig.runTo(110.2);
    expect(rig.handle.transitions.at(-1)!.reason).to.equal('plan point 10 acceleration is NaN');
    const rig2 = await drivingRig();
    rig2.world.nanCommand = true;
    await rig2.runTo(110.1);
    expect(rig2.handle.transitions.at(-1)!.reason).to.equal('planner command acceleration is NaN');
    for (const c of [...rig.commands, ...rig2.commands]) {
      expect([c.msg.acceleration, c.msg.curvature, c.msg.speed].every(Number.isFinite)).to.equal(true);
    }
    rig.close();
    rig2.close();
  });

  it('a trajectory without 64 points is out of contract', async () => {
    const rig = await drivingRig();
    const pub = rig.sim.createPublisher('ar1_msgs/msg/Trajectory', '/ar1/trajectory', {
      reliability: 'reliable',
      durability: 'volatile',
      depth: 10,
    });
    const { plan } = await import('./rig.js');
    rig.world.plannerPlans = false;
    pub.publish(plan(rig.nowS() - 0.1, 63));
    await rig.runFor(0.05);
    expect(rig.handle.transitions.at(-1)!.reason).to.equal('plan has 63 points, expected 64');
    rig.close();
  });

  it('odometry stale → fallback; with no speed it keeps braking and never claims STOPPED', async () => {
    const rig = await drivingRig();
    rig.world.odometry = false; // last odometry at 110.00
    await rig.runTo(116);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(/^odometry age 0\.1\d\d s exceeds odometry_stale_s 0\.100 s$/);
    expect(tr.timeS - 110.1).to.be.closeTo(DEADLINE_EPSILON_S, 1e-9);
    expect(rig.handle.state).to.equal('fallback');
    expect(rig.lastCommand().msg).to.include({ source: src('fallback'), acceleration: -2.5 });
    rig.world.odometry = true;
    await rig.runTo(116.1);
    expect(rig.handle.state).to.equal('stopped'); // fresh odometry shows 0 m/s
    rig.close();
  });

  it('one camera stale → camera_stale names the topic; diagnostics show ERROR for it and OK for the other', async () => {
    const cams = { cameras: { topics: ['/cam/front', '/cam/left'], types: ['compressed', 'image'] } };
    const rig = await drivingRig(cams);
    rig.world.cameras['/cam/left'] = false;
    await rig.runTo(111);
    const tr = rig.handle.transitions.find((t) => t.to === 'fallback')!;
    expect(tr.reason).to.match(/^camera \/cam\/left age 0\.3\d\d s exceeds camera_stale_s 0\.300 s$/);
    const diag = rig.diagnostics.at(-1)!.msg.status;
    expect(diag.find((s) => s.name === 'ar1_watchdog: camera /cam/left')!.level).to.equal(2);
    expect(diag.find((s) => s.name === 'ar1_watchdog: camera /cam/front')!.level).to.equal(0);
    expect(diag.find((s) => s.name === 'ar1_watchdog: state')!.level).to.equal(2);
    rig.close();
  });

  it('clock at zero (sim time not started) → clock_zero fault, engage refused, the vehicle is held', async () => {
    const rig = makeRig({}, { zeroClock: true });
    await rig.runTo(100.3);
    rig.engage();
    await rig.runTo(100.5);
    expect(rig.handle.state).to.equal('disengaged');
    expect(rig.handle.refusals[0]!.reason).to.match(
      /active faults: ROS time is 0 s \(sim clock not started: no \/clock yet\)/,
    );
    expect(rig.lastState().msg.reasons).to.include('ROS time is 0 s (sim clock not started: no /clock yet)');
    expect(rig.diagnostics.at(-1)!.msg.status.find((s) => s.name === 'ar1_watchdog: clock')!.level).to.equal(2);
    expect(rig.commands.length).to.equal(25);
    rig.close();
  });

  it('reset while moving is refused; reset when healthy and stopped is accepted', async () => {
    const rig = await drivingRig();
    rig.world.plannerCommands = false;
    await rig.runTo(110.5);
    expect(rig.handle.state).to.equal('fallback');
    rig.world.plannerCommands = true;
    rig.world.plannerAccel = 0;
    await rig.runTo(110.6);
    rig.reset();
    await rig.runTo(110.7);
    expect(rig.handle.state).to.equal('fallback');
    expect(rig.handle.refusals.at(-1)).to.include({ request: 'reset' });
    expect(rig.handle.refusals.at(-1)!.reason).to.match(
      /^vehicle not stopped: speed \d+\.\d\d m\/s > standstill_speed_mps 0\.10$/,
    );
    await rig.runTo(116);
    expect(rig.handle.state).to.equal('stopped');
    rig.reset();
    await rig.runFor(0.05);
    expect(rig.handle.state).to.equal('nominal');
    expect(rig.handle.transitions.at(-1)!.reason).to.match(
      /^operator reset accepted: all monitors healthy, speed 0\.00 m\/s <= standstill_speed_mps 0\.10$/,
    );
    rig.close();
  });

  it('reset while stopped but still faulted is refused with the faults', async () => {
    const rig = await drivingRig();
    rig.world.plannerCommands = false;
    await rig.runTo(116);
    expect(rig.handle.state).to.equal('stopped');
    rig.reset();
    await rig.runFor(0.05);
    expect(rig.handle.state).to.equal('stopped');
    expect(rig.handle.refusals.at(-1)!.reason).to.match(
      /^active faults: command gap \d+\.\d\d\d s exceeds command_gap_s 0\.100 s; command rate 0\.0 Hz \(0 in the last 1\.00 s\) below min_rate_hz\.command 25\.0 Hz$/,
    );
    rig.close();
  });

  it('auto_recover resumes nominal once stopped and healthy', async () => {
    const rig = await drivingRig({ auto_recover: true });
    rig.world.plannerCommands = false;
    await rig.runTo(111);
    rig.world.plannerCommands = true;
    rig.world.plannerAccel = 0;
    await rig.runTo(116);
    expect(rig.handle.transitions.map((t) => t.to)).to.deep.equal(['nominal', 'fallback', 'stopped', 'nominal']);
    expect(rig.handle.transitions.at(-1)!.reason).to.match(/^auto_recover accepted/);
    rig.close();
  });

  it('disengage while moving brakes to a stop with the fallback ramp, then holds', async () => {
    const rig = await drivingRig();
    rig.engage(false);
    await rig.runTo(110.1);
    expect(rig.handle.state).to.equal('disengaged');
    expect(rig.lastCommand().msg.source).to.equal(src('fallback'));
    await rig.runTo(116);
    expect(rig.lastCommand().msg).to.include({ source: src('hold'), acceleration: -1.5 });
    expect(rig.world.speed).to.equal(0);
    rig.close();
  });

  it('disengage during fallback is refused (latched)', async () => {
    const rig = await drivingRig();
    rig.world.plannerCommands = false;
    await rig.runTo(110.5);
    rig.engage(false);
    await rig.runTo(110.6);
    expect(rig.handle.state).to.equal('fallback');
    expect(rig.handle.refusals.at(-1)).to.deep.include({ request: 'disengage' });
    rig.close();
  });

  it('auto_engage engages once on the first healthy tick', async () => {
    const rig = makeRig({ auto_engage: true });
    await rig.runTo(101);
    expect(rig.handle.transitions[0]).to.include({ to: 'nominal', reason: 'auto_engage: first healthy tick' });
    expect(rig.handle.transitions[0]!.timeS).to.be.lessThan(100.25); // first plan at 100.1, odometry from 100.01
    rig.engage(false);
    await rig.runTo(102);
    expect(rig.handle.state).to.equal('disengaged'); // never re-engages by itself
    rig.close();
  });

  it('the emergency profile is used for the listed faults (−4 m/s³ to −3.5 m/s²)', async () => {
    const rig = await drivingRig({ emergency: { faults: ['command_gap'] } });
    rig.world.plannerCommands = false;
    await rig.runTo(112);
    const fb = rig.commands.filter((c) => c.msg.source === src('fallback'));
    expect(fb[0]!.msg.acceleration).to.be.closeTo(0.5 - 5 * 0.001, 1e-9); // deadline tick 1 ms after the last command, release jerk
    expect(fb.findIndex((c) => c.msg.acceleration < 0)).to.equal(5); // 0.495 released at 0.1 per tick
    expect(fb.findIndex((c) => c.msg.acceleration === -3.5)).to.equal(49); // then 3.5 / 0.08 → 44 more ticks
    rig.close();
  });

  it('clamps the planner in nominal and reports the clamp in safety_state and diagnostics', async () => {
    const rig = await drivingRig({}, { plannerCurvature: 0.5 });
    const c = rig.lastCommand().msg;
    expect(Math.abs(c.curvature) * Math.max(rig.handle.lastTick!.core.lastMeasuredSpeed!, 1) ** 2).to.be.closeTo(
      3,
      1e-9,
    );
    expect(rig.lastState().msg.limits_active).to.deep.equal(['lat_jerk', 'lat_accel']); // the bound shrinks as speed grows
    const limits = rig.diagnostics.at(-1)!.msg.status.find((s) => s.name === 'ar1_watchdog: limits')!;
    expect(limits.level).to.equal(1);
    expect(limits.message).to.equal('clamped: lat_jerk, lat_accel');
    rig.close();
  });

  it('drops and counts malformed messages without disturbing the tick', async () => {
    const rig = await drivingRig();
    const pub = rig.sim.createPublisher('nav_msgs/msg/Odometry', '/localization/odometry', {
      reliability: 'best_effort',
      durability: 'volatile',
      depth: 5,
    });
    pub.publish({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: '' } } as never);
    pub.publish({} as never);
    await rig.runFor(0.05);
    expect([...rig.handle.dropped]).to.deep.equal([
      ['/localization/odometry: expected number twist.twist.linear.x', 1],
      ['/localization/odometry: expected header.stamp, got none', 1],
    ]);
    expect(rig.handle.state).to.equal('nominal');
    rig.close();
  });

  it('stop() publishes a final brake command and then nothing more', async () => {
    const rig = await drivingRig();
    await rig.handle.stop();
    await rig.runFor(0.001);
    const n = rig.commands.length;
    expect(rig.lastCommand().msg.source).to.equal(src('fallback'));
    expect(rig.handle.transitions.at(-1)).to.include({ to: 'disengaged', reason: 'watchdog stopping' });
    await rig.runFor(1);
    expect(rig.commands.length).to.equal(n);
    rig.close();
  });

  it('stamps every output with the node clock and publishes diagnostics at 10 Hz plus on transitions', async () => {
    const rig = makeRig();
    await rig.runTo(101);
    expect(rig.diagnostics.length).to.equal(10);
    rig.engage();
    await rig.runTo(101.03);
    expect(rig.diagnostics.length).to.equal(11);
    for (const c of rig.commands) expect(stampToSeconds(c.msg.header.stamp)).to.be.closeTo(c.tS, 1e-6);
    rig.close();
  });

  it('runs on any RxJS scheduler: a TestScheduler flush gives exactly one command per 20 ms', () => {
    const scheduler = new TestScheduler((a, b) => {
      expect(a).to.deep.equal(b);
    }); // flush() stops at 750 virtual ms
    const bus = new InProcessBus(scheduler);
    const got: number[] = [];
    bus
      .messages('/vehicle/unicycle_command', 'ar1_msgs/msg/UnicycleCommand')
      .subscribe(() => got.push(scheduler.now()));
    const ros = new InProcessNode(bus, { name: 'ar1_watchdog' });
    const handle = startWatchdog(ros, loadWatchdogParams(NO_OVERRIDES));
    scheduler.flush();
    expect(got).to.deep.equal(Array.from({ length: 37 }, (_, i) => 20 * (i + 1)));
    expect(handle.tickCount).to.equal(37);
    expect(handle.commandCounts).to.deep.equal({ planner: 0, fallback: 37, hold: 0 }); // no odometry: speed unknown → brake
  });
});
