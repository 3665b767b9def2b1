import { expect } from 'chai';
import { exitOnSignals } from '../../../nodes/adapters/rclnodejs/signals.js';
import { FakeProcess, FakeTimers, settle } from './fakeRclnodejs.js';

describe('adapters/rclnodejs/signals: giving up on a shutdown', () => {
  it('a beforeKill that throws is logged in one line, and SIGKILL is still sent', async () => {
    const proc = new FakeProcess();
    const timers = new FakeTimers();
    const logged: string[] = [];
    exitOnSignals(
      proc,
      () => new Promise<void>(() => undefined), // never finishes
      (m) => logged.push(m),
      timers,
      2000,
      {
        blockedBy: () => 'the inference worker is running 1 plan',
        beforeKill: () => {
          throw new Error('rcl gone\n    at stack');
        },
      },
    );
    proc.emit('SIGINT');
    await settle();
    timers.fireAll();
    expect(proc.kill.calledOnceWith(4242, 'SIGKILL')).to.equal(true);
    expect(proc.exit.called).to.equal(false);
    expect(logged).to.deep.equal([
      'SIGINT: shutting down',
      'shutdown did not finish within 2000 ms: the inference worker is running 1 plan; a plain exit would wait for that native work, then abort: ending the process with SIGKILL',
      'leaving the ROS graph before SIGKILL failed: rcl gone',
    ]);
  });

  it('a shutdown that fails while native work runs: SIGKILL at once, the failure in one line', async () => {
    const proc = new FakeProcess();
    const timers = new FakeTimers();
    const logged: string[] = [];
    exitOnSignals(
      proc,
      () => Promise.reject(new Error('hook broke\nmore')),
      (m) => logged.push(m),
      timers,
      2000,
      {
        blockedBy: () => '1 retired inference worker has not exited',
      },
    );
    proc.emit('SIGTERM');
    await settle();
    expect(proc.kill.calledOnceWith(4242, 'SIGKILL')).to.equal(true);
    expect(logged[1]).to.equal(
      'shutdown failed: hook broke: 1 retired inference worker has not exited; a plain exit would wait for that native work, then abort: ending the process with SIGKILL',
    );
    expect(timers.pending.size, 'the deadline is cleared').to.equal(0);
  });
});
