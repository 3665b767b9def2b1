/**
 * SIGINT and SIGTERM on a real ROS 2 graph. A node exits 0 only when its shutdown finished within its own 2 s
 * budget (it exits 1 past it), so the exit code is the check; the time is printed for the record.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slowDemoBundle } from '../bundle/slowBundle.js';
import { suite } from './hooks.js';
import { NodeProcess, SLACK, SOURCE, World, sleep, startDrive, type Drive } from './graph.js';

/** CPU seconds a process has used so far (utime + stime from /proc, at the usual 100 ticks per second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

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

  it('SIGINT while a plan is inside a long graph run: the planner leaves the graph and ends itself at its 2 s deadline with SIGKILL, naming the run (a plain exit would wait for the run, then abort)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ar1-slow-'));
    let world: World | undefined;
    let planner: NodeProcess | undefined;
    try {
      // A vision run of about a minute; plan_timeout_s above it, so the plan stays in the run until the signal.
      slowDemoBundle(join(dir, 'slow'), 2400, { imageHeight: 1080, imageWidth: 1920 });
      world = await World.start({ speedMps: 5, obeyCommands: false });
      planner = NodeProcess.planner(join(dir, 'slow'), ['-p', 'plan_timeout_s:=120.0']);
      const p = planner;
      await p.waitForOutput(/ar1_planner running/, 60);
      // In the run: the matrix chain keeps at least one core busy (receiving frames alone uses a few percent).
      let busy = 0;
      for (const end = performance.now() + 60_000 * SLACK; busy < 0.8;) {
        if (performance.now() > end || !p.running)
          throw new Error(
            `the planner never entered its vision run (CPU ${busy.toFixed(2)} s/s)\n${p.log.slice(-3000)}`,
          );
        const c0 = cpuSeconds(p.child.pid!);
        await sleep(1000);
        busy = cpuSeconds(p.child.pid!) - c0;
      }
      const t0 = performance.now();
      p.child.kill('SIGINT');
      const { code, signal } = await p.exit;
      const ms = performance.now() - t0;
      console.log(`        planner SIGINT in a graph run → ${signal ?? `exit ${code}`} in ${ms.toFixed(0)} ms`);
      expect({ code, signal }, p.log.slice(-3000)).to.deep.equal({ code: null, signal: 'SIGKILL' });
      expect(ms, 'at the 2 s deadline, not at the end of the run').to.be.below(2000 + 2000 * SLACK);
      expect(p.output.join('')).to.include(
        'shutdown did not finish within 2000 ms: the inference worker is running 1 plan; a plain exit would wait for that native work, then abort: ending the process with SIGKILL',
      );
      expect(p.output.join(''), 'no abort').to.not.match(/terminate called|Aborted/);
    } finally {
      await planner?.stop();
      await world?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a planner that cannot start (a bundle that does not exist) exits 2 with one line naming it, no stack trace', async () => {
    const n = NodeProcess.planner('/nonexistent/ar1-bundle');
    const { code } = await n.exit;
    const out = n.output.join('');
    expect(code, out).to.equal(2);
    expect(out).to.include('/nonexistent/ar1-bundle');
    expect(out, 'no stack trace').to.not.match(/\n\s+at /);
  });
});
