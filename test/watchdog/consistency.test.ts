import { expect } from 'chai';
import type { DiagnosticStatus } from '../../nodes/core/msgs.js';
import { QOS_COMMAND } from '../../nodes/core/qos.js';
import { consistencyMonitor, noteReasoning } from '../../nodes/watchdog/consistencyMonitor.js';
import { emptyInputs } from '../../nodes/watchdog/inputs.js';
import { loadWatchdogParams } from '../../nodes/watchdog/params.js';
import { makeRig, reasoning, type ConsistencyKind as Kind } from './rig.js';

describe('watchdog: reasoning consistency monitor', () => {
  const params = (values: Record<string, unknown> = {}) =>
    loadWatchdogParams({ sources: [{ origin: 'test', values }] });
  const run = (kinds: Kind[], values: Record<string, unknown> = {}) => {
    const i = emptyInputs();
    kinds.forEach((k, n) => noteReasoning(i, reasoning(100 + n * 0.1, k)));
    return consistencyMonitor(i, { rosS: 101, steadyS: 101 }, params(values))[0]!;
  };

  it('counts inconsistent plans in a row; a consistent plan ends the run, a not-assessable one does not', () => {
    expect(run([]).message).to.equal('no reasoning received yet');
    expect(run(['inconsistent', 'inconsistent']).values[0]).to.deep.equal({
      key: 'consecutive_inconsistent',
      value: '2',
    });
    expect(run(['inconsistent', 'consistent', 'inconsistent']).values[0]!.value).to.equal('1');
    expect(run(['inconsistent', 'not_assessable', 'inconsistent']).values[0]!.value).to.equal('2');
    const r = run(['consistent', 'consistent', 'inconsistent', 'not_assessable']);
    expect(Object.fromEntries(r.values.map((v) => [v.key, v.value]))).to.deep.include({
      consistent: '2',
      inconsistent: '1',
      not_assessable: '1',
      consistency_rate: '0.667',
    });
  });

  it('N in a row: WARN without a fault by default; with on_fault fallback, ERROR and the fault reasoning_inconsistent', () => {
    const three: Kind[] = ['inconsistent', 'inconsistent', 'inconsistent'];
    expect(run(three.slice(0, 2)).level).to.equal(0);
    const warn = run(three);
    expect(warn.level).to.equal(1);
    expect(warn.faults).to.deep.equal([]);
    expect(warn.message).to.match(
      /^3 consecutive plans whose reasoning contradicts their trajectory \(consistency\.max_consecutive_inconsistent 3\); last at t0=100\.200 s: text says accelerate .* \(on_fault warn: still driving\)$/,
    );
    const fault = run(three, { consistency: { on_fault: 'fallback' } });
    expect(fault.level).to.equal(2);
    expect(fault.faults.map((f) => f.name)).to.deep.equal(['reasoning_inconsistent']);
    expect(
      run(three.slice(0, 2), { consistency: { on_fault: 'fallback', max_consecutive_inconsistent: 2 } }).faults,
    ).to.have.length(1);
  });

  it('refuses an unknown on_fault with the key and the allowed values', () => {
    expect(() => params({ consistency: { on_fault: 'brake' } })).to.throw(
      /test: consistency\.on_fault: expected one of "warn", "fallback"/,
    );
  });

  async function drivingRig(values: Record<string, unknown>) {
    const rig = makeRig(values);
    const pub = rig.sim.createPublisher('ar1_msgs/msg/Reasoning', rig.params.topics.reasoning, QOS_COMMAND);
    await rig.runTo(100.5);
    rig.engage();
    await rig.runTo(110);
    expect(rig.handle.state).to.equal('nominal');
    return { rig, send: (kind: Kind) => pub.publish(reasoning(rig.nowS() - 0.2, kind)) };
  }
  const status = (d: { msg: { status: DiagnosticStatus[] } }) =>
    d.msg.status.find((s) => s.name === 'ar1_watchdog: reasoning consistency')!;

  it("on a running watchdog, warn only (default): /diagnostics WARN, the vehicle keeps the planner's commands", async () => {
    const { rig, send } = await drivingRig({});
    for (let k = 0; k < 4; k++) {
      send('inconsistent');
      await rig.runFor(0.1);
    }
    await rig.runFor(0.2);
    expect(rig.handle.state).to.equal('nominal');
    expect(rig.lastCommand().msg.source).to.equal(0);
    const s = status(rig.diagnostics.at(-1)!);
    expect(s.level).to.equal(1);
    expect(s.message).to.match(/^4 consecutive plans/);
    send('consistent');
    await rig.runFor(0.2);
    expect(status(rig.diagnostics.at(-1)!).level).to.equal(0);
    rig.close();
  });

  it('on_fault fallback: the Nth inconsistent plan in a row brakes (latched), with the reason; a consistent plan then allows reset', async () => {
    const { rig, send } = await drivingRig({ consistency: { on_fault: 'fallback', max_consecutive_inconsistent: 2 } });
    send('inconsistent');
    await rig.runFor(0.1);
    expect(rig.handle.state).to.equal('nominal');
    send('inconsistent');
    await rig.runFor(0.1);
    expect(rig.handle.state).to.equal('fallback');
    const tr = rig.handle.transitions.at(-1)!;
    expect(tr.reason).to.match(/^2 consecutive plans whose reasoning contradicts their trajectory/);
    expect(status(rig.diagnostics.at(-1)!).level).to.equal(2);
    await rig.runFor(10); // brakes to a stop
    expect(rig.handle.state).to.equal('stopped');
    rig.reset();
    await rig.runFor(0.1);
    expect(rig.handle.refusals.at(-1)!.reason).to.match(/reasoning contradicts/); // still faulted
    send('consistent');
    await rig.runFor(0.1);
    rig.reset();
    await rig.runFor(0.1);
    expect(rig.handle.state).to.equal('nominal');
    rig.close();
  });
});
