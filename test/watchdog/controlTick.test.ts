import { expect } from 'chai';
import { UNICYCLE_SOURCE } from '../../nodes/core/msgs.js';
import { fallbackBrake } from '../../nodes/watchdog/fallbackBrake.js';
import { emptyInputs, type WatchdogInputs } from '../../nodes/watchdog/inputs.js';
import { curvatureBound, limitsAt, limitsGate } from '../../nodes/watchdog/limitsGate.js';
import { loadWatchdogParams, type WatchdogParams } from '../../nodes/watchdog/params.js';
import {
  controlTick,
  deadlineTickDue,
  elapsedDtS,
  initialCore,
  noteReceiptRosTime,
  type CoreState,
} from '../../nodes/watchdog/watchdogCore.js';
import { makeRig } from './rig.js';

const P = loadWatchdogParams({ sources: [] });
const PERIOD = 1 / P.control_rate_hz;

/** Inputs whose planning timings cannot be read: any tick over them throws (a stand-in for a bug in the tick). */
function throwingInputs(): WatchdogInputs {
  const i = emptyInputs();
  Object.defineProperty(i, 'timings', {
    get() {
      throw new Error('timings exploded');
    },
  });
  return i;
}

/** Every key of CoreState set (Required: a key added to CoreState must be added here, and the key-set test below then
 * checks that noteReceiptRosTime copies it). */
const driving: Required<CoreState> = {
  ...initialCore(),
  state: 'nominal',
  engagedOnce: true,
  reason: 'operator engage: all monitors healthy',
  last: { accel: 1, curvature: 0.1 },
  lastSpeed: 9.5,
  lastMeasuredSpeed: 10,
  lastRosS: 100,
  lastSteadyS: 50,
};

describe('watchdog/controlTick (pure: the tick the node runs)', () => {
  it('a tick that throws brakes from the last published command with the fallback ramp through the gate, and latches fallback', () => {
    const inputs = throwingInputs();
    const { result: r, error } = controlTick(
      driving,
      inputs,
      { reset: false },
      { rosS: 100.02, steadyS: 50.02 },
      P,
      PERIOD,
    );
    expect(error).to.equal('internal error in tick: timings exploded');
    expect(r.transition).to.deep.equal({
      timeS: 100.02,
      from: 'nominal',
      to: 'fallback',
      event: 'fault_moving',
      reason: 'internal error in tick: timings exploded',
    });
    expect(r.core).to.include({ state: 'fallback', reason: 'internal error in tick: timings exploded' });
    // The same command the fallback state makes: the fallback ramp (release jerk −5 m/s³ above zero), curvature held,
    // then the limits gate at the last gate speed (10 m/s: |κ| ≤ 3 / 10² = 0.03).
    const expected = limitsGate(fallbackBrake(driving.last, PERIOD, P.fallback), driving.last, 10, PERIOD, P.limits);
    expect(r.command).to.deep.equal({ ...expected.command, speed: 9.5, source: 'fallback' });
    expect(r.fired).to.deep.equal(expected.fired);
    expect(r.command.accel).to.be.closeTo(1 - 5 * PERIOD, 1e-12);
    expect(Math.abs(r.command.curvature)).to.be.at.most(curvatureBound(limitsAt(P.limits, 10), 10) + 1e-12);
    expect(r.core.last).to.deep.equal(expected.command);
    expect(r.core.lastMeasuredSpeed).to.equal(10);
    expect(r).to.include({ planAgeS: -1, lastLatencyMs: -1 });
    expect([r.reports, r.faults, r.refusals]).to.deep.equal([[], [], []]);
  });

  it('a tick that throws while the emergency profile is in use brakes with the emergency ramp, not the gentler one', () => {
    const core: CoreState = { ...driving, state: 'fallback', profile: 'emergency', reason: 'odometry jump' };
    const { result: r } = controlTick(
      core,
      throwingInputs(),
      { reset: false },
      { rosS: 100.02, steadyS: 50.02 },
      P,
      PERIOD,
    );
    const expected = limitsGate(fallbackBrake(core.last, PERIOD, P.emergency), core.last, 10, PERIOD, P.limits);
    expect(r.command).to.deep.equal({ ...expected.command, speed: 9.5, source: 'fallback' });
    expect(P.emergency).to.not.deep.equal(P.fallback);
    expect(r.command).to.not.deep.equal(
      limitsGate(fallbackBrake(core.last, PERIOD, P.fallback), core.last, 10, PERIOD, P.limits).command,
    );
  });

  it('in fallback already, a throwing tick keeps braking down the ramp without a new transition or reason', () => {
    let core: CoreState = { ...driving, state: 'fallback', reason: 'plan age 0.6 s exceeds max_plan_age_s 0.5 s' };
    const accels: number[] = [];
    for (let k = 0; k < 150; k++) {
      const { result: r, error } = controlTick(
        core,
        throwingInputs(),
        { reset: true },
        { rosS: 101, steadyS: 51 },
        P,
        PERIOD,
      );
      expect(error).to.match(/^internal error in tick/);
      expect(r.transition).to.equal(undefined);
      expect(r.core).to.include({ state: 'fallback', reason: core.reason });
      expect([r.command.accel, r.command.curvature, r.command.speed].every(Number.isFinite)).to.equal(true);
      accels.push(r.command.accel);
      core = r.core;
    }
    expect(accels.at(-1)).to.equal(P.fallback.accel_mps2); // −2.5 reached and held
    for (let k = 1; k < accels.length; k++) expect(accels[k]!).to.be.at.most(accels[k - 1]!);
  });

  it('a tick that throws still clears a reported ROS time step back, and keeps a held odometry jump', () => {
    const inputs = throwingInputs();
    const fault = { name: 'clock_backward' as const, message: 'ROS time stepped back' };
    const jump = { name: 'odometry_jump' as const, message: 'odometry position jumped' };
    inputs.clockStepBack = fault;
    inputs.odometryJump = jump;
    controlTick(driving, inputs, { reset: false }, { rosS: 100.02, steadyS: 50.02 }, P, PERIOD);
    expect(inputs.clockStepBack).to.equal(undefined);
    expect(inputs.odometryJump).to.equal(jump);
  });

  it('elapsedDtS: steady time since the previous tick clamped to [1 µs, period]; a full period before the first', () => {
    expect(elapsedDtS(Number.NaN, 10, P)).to.equal(PERIOD);
    expect(elapsedDtS(10, 10.005, P)).to.be.closeTo(0.005, 1e-12);
    expect(elapsedDtS(10, 10, P)).to.equal(1e-6);
    expect(elapsedDtS(10, 9, P)).to.equal(1e-6);
    expect(elapsedDtS(10, 11, P)).to.equal(PERIOD);
  });

  it('noteReceiptRosTime keeps the latest ROS time; a step back is held in the inputs until a tick reports it', () => {
    const inputs = emptyInputs();
    const a = noteReceiptRosTime(driving, inputs, 100.5);
    expect(a).to.deep.equal({ core: { ...driving, lastRosS: 100.5 }, steppedBack: false });
    const b = noteReceiptRosTime(a.core, inputs, 95.5);
    expect(b.steppedBack).to.equal(true);
    expect(b.core.lastRosS).to.equal(100.5);
    expect(inputs.clockStepBack?.name).to.equal('clock_backward');
    expect(noteReceiptRosTime(a.core, inputs, Number.NaN)).to.deep.equal({ core: a.core, steppedBack: false });
  });

  it('noteReceiptRosTime: the new core has exactly the keys of { ...core, lastRosS }, for every optional key present or not', () => {
    const optional = ['last', 'lastMeasuredSpeed', 'lastRosS', 'lastSteadyS'] as const;
    // The optional keys listed are exactly CoreState's optional keys (driving has every key set).
    const required = Object.keys(initialCore());
    expect(
      Object.keys(driving)
        .filter((k) => !required.includes(k))
        .sort(),
    ).to.deep.equal([...optional].sort());
    for (let mask = 0; mask < 1 << optional.length; mask++) {
      const c = Object.fromEntries(
        Object.entries(driving).filter(([k]) => !optional.some((o, b) => o === k && !(mask & (1 << b)))),
      ) as unknown as CoreState;
      const next = noteReceiptRosTime(c, emptyInputs(), 200).core;
      expect(next).to.deep.equal({ ...c, lastRosS: 200 });
      expect(Object.keys(next).sort()).to.deep.equal(Object.keys({ ...c, lastRosS: 200 }).sort());
      expect(noteReceiptRosTime(next, emptyInputs(), 200).core).to.equal(next); // same instant: the same core
    }
  });

  it('deadlineTickDue: only in nominal, when a deadline has passed or ROS time stepped back', () => {
    const inputs = emptyInputs();
    inputs.command = {
      msg: {
        header: { stamp: { sec: 100, nanosec: 0 }, frame_id: '' },
        acceleration: 0,
        curvature: 0,
        speed: 0,
        source: 0,
      },
      receivedS: 50,
    };
    const at = (steadyS: number, rosS = 100.05) => ({ rosS, steadyS });
    expect(deadlineTickDue(driving, inputs, P, at(50 + P.command_gap_s))).to.equal(false); // at the deadline: not late
    expect(deadlineTickDue(driving, inputs, P, at(50.101))).to.equal(true);
    expect(deadlineTickDue({ ...driving, state: 'fallback' }, inputs, P, at(50.101))).to.equal(false);
    expect(deadlineTickDue(driving, inputs, P, at(50.05, 99))).to.equal(true); // ROS time below the last seen
  });
});

describe('watchdog/watchdogNode: a tick that throws (a bug)', () => {
  it('publishes the fallback brake, latches fallback and logs the error; once the bug is gone it stops and resets', async () => {
    let explode = false;
    /** Parameters whose auto_engage (read by every tick) cannot be read while explode is set: every tickCore then throws. */
    const exploding = (loaded: WatchdogParams): WatchdogParams =>
      Object.defineProperty({ ...loaded }, 'auto_engage', {
        get() {
          if (explode) throw new Error('auto_engage exploded');
          return loaded.auto_engage;
        },
      });
    const rig = makeRig({}, { watchdogParams: exploding });
    await rig.runTo(100.5);
    rig.engage();
    await rig.runTo(103);
    expect(rig.handle.state).to.equal('nominal');
    const before = rig.commands.length;
    explode = true;
    await rig.runFor(PERIOD);
    expect(rig.handle.state).to.equal('fallback');
    expect(rig.handle.transitions.at(-1)).to.include({
      from: 'nominal',
      to: 'fallback',
      reason: 'internal error in tick: auto_engage exploded',
    });
    expect(
      rig.logger.records.some(
        (l) =>
          l.level === 'error' && /^internal error in tick: auto_engage exploded \[node=ar1_watchdog t=/.test(l.message),
      ),
    ).to.equal(true);
    await rig.runFor(3);
    const braking = rig.commands.slice(before);
    expect(braking.length).to.be.at.least(150);
    for (const [k, c] of braking.entries()) {
      expect(c.msg.source, `command ${k}`).to.equal(UNICYCLE_SOURCE.fallback);
      expect([c.msg.acceleration, c.msg.curvature, c.msg.speed].every(Number.isFinite)).to.equal(true);
      if (k > 0) {
        const da = Math.abs(c.msg.acceleration - braking[k - 1]!.msg.acceleration);
        expect(da, `command ${k}`).to.be.at.most(5 * PERIOD + 1e-9); // release jerk above 0, brake jerk below
      }
    }
    expect(braking.at(-1)!.msg.acceleration).to.equal(P.fallback.accel_mps2);
    expect(rig.world.speed).to.equal(0);
    expect(rig.handle.state).to.equal('fallback'); // latched: the throwing tick never leaves fallback
    explode = false;
    await rig.runFor(0.1);
    expect(rig.handle.state).to.equal('stopped');
    rig.reset();
    await rig.runFor(0.1);
    expect(rig.handle.state).to.equal('nominal');
    rig.close();
  });
});
