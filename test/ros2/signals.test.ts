/**
 * SIGINT and SIGTERM on a real ROS 2 graph. A node exits 0 only when its shutdown finished within its own 2 s
 * budget (it exits 1 past it), so the exit code is the check; the time is printed for the record.
 */
import { expect } from 'chai';
import { suite } from './hooks.js';
import { NodeProcess, SOURCE, sleep, startDrive, type Drive } from './graph.js';

async function signalAndTime(n: NodeProcess, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const t0 = performance.now();
  n.child.kill(signal);
  const { code } = await n.exit;
  const ms = performance.now() - t0;
  console.log(`        ${n.label} ${signal} → exit ${code} in ${ms.toFixed(0)} ms`);
  return { code, ms };
}

describe('ROS 2 graph: SIGINT and SIGTERM', function () {
  this.timeout(120_000);
  let d: Drive | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} while engaged and moving: the watchdog's last command starts the braking ramp, both nodes exit 0 within their budget`, async () => {
      d = await startDrive({ bundle: suite.bundle });
      await sleep(500);
      expect(d.world.speedMps, 'moving').to.be.above(1);
      const wd = await signalAndTime(d.watchdog, signal);
      expect(wd.code, d.logs()).to.equal(0);
      const [forwarded, last] = d.vehicle.messages.slice(-2).map((m) => m.msg);
      expect(last!.source, 'the final vehicle command').to.equal(SOURCE.fallback);
      expect(forwarded!.source, 'the command before it').to.equal(SOURCE.planner);
      expect(last!.acceleration, 'a ramp step: never more acceleration').to.be.at.most(forwarded!.acceleration + 1e-9);
      const pl = await signalAndTime(d.planner, signal);
      expect(pl.code, d.logs()).to.equal(0);
    });
  }

  it('a planner that cannot start (a bundle that does not exist) exits 2 with one line naming it, no stack trace', async () => {
    const n = NodeProcess.planner('/nonexistent/ar1-bundle');
    const { code } = await n.exit;
    const out = n.output.join('');
    expect(code, out).to.equal(2);
    expect(out).to.include('/nonexistent/ar1-bundle');
    expect(out, 'no stack trace').to.not.match(/\n\s+at /);
  });
});
