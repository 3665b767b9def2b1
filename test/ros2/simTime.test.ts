/**
 * Sim time on a real ROS 2 graph (`use_sim_time:=true`, /clock from the suite's world process, as a HIL rig's simulator
 * publishes it): the nodes follow /clock, and the two ways a simulator's clock goes wrong brake the vehicle.
 * - /clock stops (the simulator hangs): the planner's timers follow sim time and stop; the watchdog judges
 *   liveness on its steady clock, so it keeps commanding and brakes on the command gap.
 * - /clock jumps backward: a fault of its own in the watchdog; the planner clears its buffers.
 */
import { expect } from 'chai';
import { suite } from './hooks.js';
import { SOURCE, STATE, sleep, stampS, startDrive, waitFor, type Drive } from './graph.js';

describe('ROS 2 graph: sim time from /clock', function () {
  this.timeout(120_000);
  let d: Drive | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  async function simDrive(): Promise<Drive> {
    const sim = ['-p', 'use_sim_time:=true'];
    return startDrive({ bundle: suite.bundle, simClock: { startS: 1000 }, plannerArgs: sim, watchdogArgs: sim });
  }

  it('plans and commands on sim time: every stamp is on the simulated clock', async () => {
    d = await simDrive();
    await sleep(1000);
    const cmds = d.vehicle.messages.slice(-25).map((m) => m.msg);
    expect(cmds.every((c) => c.source === SOURCE.planner)).to.equal(true);
    for (const c of cmds) expect(stampS(c.header.stamp), 'a sim-time stamp').to.be.within(1000, d.world.nowS + 0.1);
    expect(stampS(d.timing.last!.header.stamp)).to.be.within(1000, d.world.nowS + 0.1);
  });

  it('/clock stops: the watchdog keeps commanding and brakes on the command gap', async () => {
    d = await simDrive();
    await sleep(1000);
    d.world.clockRunning = false;
    const since = performance.now();
    await sleep(100); // a status line from the world after the stop
    const frozenS = d.world.nowS;
    const drive = d;
    const braking = await waitFor(
      '25 fallback commands while /clock is stopped',
      5,
      () => {
        const f = drive.vehicle.since(since).filter((c) => c.source === SOURCE.fallback);
        return f.length >= 25 ? f : undefined;
      },
      d.logs,
    );
    const firstAt = drive.vehicle.messages.find((m) => m.atMs >= since && m.msg.source === SOURCE.fallback)!.atMs;
    console.log(
      `        /clock stopped → first fallback command ${(firstAt - since).toFixed(0)} ms later (arrival here)`,
    );
    for (const c of braking)
      expect(stampS(c.header.stamp), 'stamped with the stopped sim time').to.be.at.most(frozenS + 0.05);
    for (let i = 1; i < braking.length; i++)
      expect(braking[i]!.acceleration).to.be.at.most(braking[i - 1]!.acceleration + 1e-9);
    const state = await waitFor(
      'state fallback',
      2,
      () => (drive.state.last?.state === STATE.fallback ? drive.state.last : undefined),
      d.logs,
    );
    expect(state.reasons.join(' ')).to.match(/command/);
  });

  it('/clock jumps 5 s backward: the watchdog brakes with a clock fault', async () => {
    d = await simDrive();
    await sleep(1000);
    d.world.stepClock(-5);
    const stepAt = performance.now();
    const drive = d;
    // The world's odometry, stamped on the stepped-back clock, can reach the watchdog before /clock does: then it
    // first brakes on the odometry stamp (an age of 5 s) and reports the clock fault on the tick that sees /clock.
    // Either way the clock fault must be reported while it brakes.
    const state = await waitFor(
      'state fallback with a clock fault',
      5,
      () => {
        const last = drive.state.last;
        return last?.state === STATE.fallback && /back/.test(last.reasons.join(' ')) ? last : undefined;
      },
      d.logs,
    );
    expect(state.reasons.join(' ')).to.match(/back/);
    const firstAt = drive.vehicle.messages.find((m) => m.atMs >= stepAt && m.msg.source === SOURCE.fallback)?.atMs;
    if (firstAt !== undefined)
      console.log(
        `        /clock 5 s back → first fallback command ${(firstAt - stepAt).toFixed(0)} ms later (arrival here)`,
      );
    const since = performance.now();
    await waitFor(
      'fallback commands after the jump',
      5,
      () => drive.vehicle.since(since).filter((c) => c.source === SOURCE.fallback).length >= 10,
      d.logs,
    );
    expect(
      drive.vehicle.since(since).some((c) => c.source === SOURCE.planner),
      'no planner command forwarded after the jump',
    ).to.equal(false);
  });
});
