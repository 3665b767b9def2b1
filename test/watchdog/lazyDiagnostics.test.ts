import { expect } from 'chai';
import type { DiagnosticStatus } from '../../nodes/core/msgs.js';
import { QOS_COMMAND } from '../../nodes/core/qos.js';
import { secondsToStamp } from '../../nodes/core/time.js';
import { noteReasoning } from '../../nodes/watchdog/consistencyMonitor.js';
import { badReport, DIAG_LEVEL, okReport, type MonitorReport } from '../../nodes/watchdog/faults.js';
import { emptyInputs, type WatchdogInputs } from '../../nodes/watchdog/inputs.js';
import { runMonitors } from '../../nodes/watchdog/monitors.js';
import { loadWatchdogParams } from '../../nodes/watchdog/params.js';
import { receive } from '../../nodes/watchdog/receive.js';
import type { WatchdogState } from '../../nodes/watchdog/safetyState.js';
import { diagnosticsOf } from '../../nodes/watchdog/tickMessages.js';
import type { TickResult } from '../../nodes/watchdog/watchdogCore.js';
import { makeRig, plan, reasoning } from './rig.js';

/**
 * The monitors' status text (message and values) is formatted when /diagnostics reads it, not at every tick. These
 * tests pin down that this changes nothing: the text read at any later time is the text of the tick that made it.
 */

/** Each report as plain data, its text read now. */
const snapshot = (reports: readonly MonitorReport[]) =>
  reports.map((r) => ({ name: r.name, level: r.level, message: r.message, values: [...r.values], faults: r.faults }));

const OVERRIDES = {
  consistency: { max_consecutive_inconsistent: 2 },
  cameras: { topics: ['/cam/front', '/cam/left'], types: ['compressed', 'image'] },
};
const P = loadWatchdogParams({ sources: [{ origin: 'test', values: OVERRIDES }] });
const odometry = (tS: number, x: number, v: number) => ({
  header: { stamp: secondsToStamp(tS), frame_id: 'odom' },
  child_frame_id: 'base_link',
  pose: { pose: { position: { x, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: [] },
  twist: { twist: { linear: { x: v, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
});
const command = (tS: number) => ({
  header: { stamp: secondsToStamp(tS), frame_id: '' },
  acceleration: 0.5,
  curvature: 0.01,
  speed: 5,
  source: 0,
});

/** Inputs at t = 100 s, one situation per row; each row is then moved on by `later` before its text is read. */
const SITUATIONS: Array<{ what: string; inputs: () => WatchdogInputs }> = [
  { what: 'nothing received', inputs: () => emptyInputs() },
  {
    what: 'every input fresh, reasoning consistent',
    inputs: () => {
      const i = emptyInputs();
      for (let k = 0; k < 30; k++) {
        const t = 99 + k * 0.033;
        receive(i, { kind: 'odometry', msg: odometry(t, 5 * t, 5) }, t, P);
        receive(i, { kind: 'command', msg: command(t) }, t, P);
        for (const topic of P.cameras.topics) receive(i, { kind: 'camera', topic, msg: odometry(t, 0, 0) }, t, P);
      }
      receive(i, { kind: 'trajectory', msg: plan(99.9) }, 99.95, P);
      noteReasoning(i, reasoning(99.9, 'consistent'));
      return i;
    },
  },
  {
    what: 'stale plan and command, slow odometry, two inconsistent plans in a row',
    inputs: () => {
      const i = emptyInputs();
      receive(i, { kind: 'odometry', msg: odometry(98, 0, 0) }, 98, P);
      receive(i, { kind: 'odometry', msg: odometry(99.99, 0, 0) }, 99.99, P);
      receive(i, { kind: 'command', msg: command(98) }, 98, P);
      receive(i, { kind: 'trajectory', msg: plan(98) }, 98, P);
      noteReasoning(i, reasoning(98.9, 'inconsistent'));
      noteReasoning(i, reasoning(99, 'inconsistent'));
      return i;
    },
  },
  {
    what: 'a plan with a NaN point, odometry speed NaN',
    inputs: () => {
      const i = emptyInputs();
      receive(i, { kind: 'trajectory', msg: plan(99.95, 64, true) }, 99.95, P);
      receive(i, { kind: 'odometry', msg: odometry(99.99, 0, Number.NaN) }, 99.99, P);
      return i;
    },
  },
];

/** What happens after the tick: more receipts, more verdicts, a fault cleared. */
function later(i: WatchdogInputs): void {
  for (let k = 1; k <= 20; k++) {
    const t = 100 + k * 0.01;
    receive(i, { kind: 'odometry', msg: odometry(t, 7 * t, 7) }, t, P);
    receive(i, { kind: 'command', msg: command(t) }, t, P);
    for (const topic of P.cameras.topics) receive(i, { kind: 'camera', topic, msg: odometry(t, 0, 0) }, t, P);
  }
  receive(i, { kind: 'trajectory', msg: plan(100.1) }, 100.1, P);
  for (const kind of ['inconsistent', 'consistent', 'not_assessable'] as const)
    noteReasoning(i, reasoning(100.1, kind));
  delete i.odometryJump;
  delete i.clockStepBack;
}

describe('watchdog: diagnostics text formatted when read', () => {
  for (const { what, inputs } of SITUATIONS) {
    it(`${what}: the text read after the inputs moved on is the text read at the tick`, () => {
      const clocks = { rosS: 100, steadyS: 100, prevRosS: 99.98, prevSteadyS: 99.98 };
      const atTick = snapshot(runMonitors(inputs(), clocks, P));
      const i = inputs();
      const reports = runMonitors(i, clocks, P);
      later(i);
      expect(snapshot(reports)).to.deep.equal(atTick);
      expect(JSON.parse(JSON.stringify(reports))).to.deep.equal(JSON.parse(JSON.stringify(atTick)));
      expect(snapshot(reports)).to.deep.equal(atTick); // read twice: the same text
    });
  }

  it('a report copied by spread, structuredClone or JSON keeps its message and values', () => {
    let n = 1;
    const fault = { name: 'plan_stale', message: 'plan 0.600 s old > 0.500 s' } as MonitorReport['faults'][number];
    for (const r of [
      okReport(
        'rate',
        () => `${n} Hz`,
        () => [{ key: 'hz', value: String(n) }],
      ),
      badReport('plan', DIAG_LEVEL.error, [fault], () => [{ key: 'age_s', value: '0.600' }]),
    ]) {
      const plain = { name: r.name, level: r.level, faults: r.faults, message: r.message, values: r.values };
      expect({ ...r }).to.deep.equal(plain);
      expect(structuredClone(r)).to.deep.equal(plain);
      expect(JSON.parse(JSON.stringify(r))).to.deep.equal(JSON.parse(JSON.stringify(plain)));
      expect(r).to.deep.equal(plain);
    }
    n = 2; // read again, a report formats again
    expect(okReport('rate', () => `${n} Hz`).message).to.equal('2 Hz');
  });

  it('the situations cover OK, WARN, ERROR and STALE statuses, with and without values', () => {
    const levels = new Set<number>();
    let withValues = 0;
    for (const { inputs } of SITUATIONS) {
      for (const r of runMonitors(inputs(), { rosS: 100, steadyS: 100, prevSteadyS: 99.98 }, P)) {
        levels.add(r.level);
        if (r.values.length) withValues++;
      }
    }
    expect([...levels].sort()).to.deep.equal([DIAG_LEVEL.ok, DIAG_LEVEL.warn, DIAG_LEVEL.error, DIAG_LEVEL.stale]);
    expect(withValues).to.be.greaterThan(10);
  });

  it('a drive through every safety state, /diagnostics on every tick: each published array equals the one made from its tick at the end', async () => {
    // diagnostics_rate_hz = control_rate_hz: every tick publishes, so every tick's text is checked.
    const rig = makeRig({ ...OVERRIDES, diagnostics_rate_hz: 50 });
    const ticks: TickResult[] = [];
    const sub = rig.handle.ticks$.subscribe((r) => ticks.push(r));
    const reasoningPub = rig.sim.createPublisher('ar1_msgs/msg/Reasoning', rig.params.topics.reasoning, QOS_COMMAND);
    const states = new Set<WatchdogState>();
    const run = async (toS: number) => {
      while (rig.trueS() < toS - 1e-9) {
        await rig.runFor(0.02);
        states.add(rig.handle.state);
      }
    };
    await run(100.5); // disengaged, inputs arriving
    rig.engage();
    await run(101.5); // nominal
    for (let k = 0; k < 3; k++) {
      reasoningPub.publish(reasoning(rig.nowS() - 0.2, 'inconsistent')); // WARN, still driving
      await run(rig.trueS() + 0.1);
    }
    rig.world.cameras[rig.params.cameras.topics[0]!] = false; // camera stale → fallback
    await run(103);
    rig.world.cameras[rig.params.cameras.topics[0]!] = true;
    rig.world.plannerAccel = 0;
    await run(112); // braked to a standstill → stopped
    rig.reset();
    await run(113); // nominal again
    rig.engage(false);
    await run(115); // disengaged, braking to a stop
    sub.unsubscribe();
    rig.close();

    expect([...states].sort()).to.deep.equal(['disengaged', 'fallback', 'nominal', 'stopped']);
    expect(rig.diagnostics).to.have.length(ticks.length);
    const published = rig.diagnostics.map((d) => d.msg.status);
    const remade: DiagnosticStatus[][] = ticks.map((r) => diagnosticsOf(r, 1, 'ar1_watchdog').status);
    expect(remade).to.deep.equal(published);
    const levels = new Set(published.flat().map((s) => s.level));
    expect([...levels].sort()).to.deep.equal([DIAG_LEVEL.ok, DIAG_LEVEL.warn, DIAG_LEVEL.error, DIAG_LEVEL.stale]);
  });
});
