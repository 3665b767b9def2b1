/**
 * Faults on a real ROS 2 graph, each on a fresh engaged drive whose vehicle obeys /vehicle/unicycle_command (its
 * speed follows the commanded acceleration): the planner killed or hung, a camera that stops, and the operator's
 * reset after the stop.
 */
import { expect } from 'chai';
import { suite } from './hooks.js';
import {
  NodeProcess,
  SOURCE,
  STATE,
  maxStampGapS,
  record,
  sleep,
  stampS,
  startDrive,
  waitFor,
  type DiagnosticArrayMsg,
  type Drive,
  type UnicycleCommandMsg,
} from './graph.js';

/** command_gap_s and the control period of config/ar1_watchdog.yaml [s]. */
const COMMAND_GAP_S = 0.1;
const CONTROL_PERIOD_S = 0.02;
/** [s] delivery and scheduling on a loaded 2-core machine, on top of the watchdog's own deadline. */
const SLACK_S = 0.08;

/** The vehicle commands after the last planner-sourced one, and that one. */
function afterLastPlanner(d: Drive): { last: UnicycleCommandMsg; after: UnicycleCommandMsg[] } {
  const all = d.vehicle.messages.map((m) => m.msg);
  const i = all.findLastIndex((c) => c.source === SOURCE.planner);
  expect(i, 'a planner-sourced vehicle command before the fault').to.be.at.least(0);
  return { last: all[i]!, after: all.slice(i + 1) };
}

/** Fallback braking after a silent planner: in time, a ramp that never increases, state fallback naming the gap. */
async function expectBrakingAfterSilence(d: Drive, what: string): Promise<void> {
  const lastPlannerCommand = d.plannerCommands.last!;
  const after = await waitFor(
    `25 fallback commands after ${what}`,
    5,
    () => {
      const a = afterLastPlanner(d).after;
      return a.length >= 25 ? a : undefined;
    },
    d.logs,
  );
  const fallback = after.filter((c) => c.source === SOURCE.fallback);
  expect(fallback.length, 'every command after the last forwarded one is a fallback command').to.equal(after.length);
  const reactionS = stampS(after[0]!.header.stamp) - stampS(lastPlannerCommand.header.stamp);
  console.log(
    `        ${what}: last /ar1/command → first fallback command ${(reactionS * 1000).toFixed(1)} ms (stamps)`,
  );
  expect(reactionS, 'last /ar1/command → first fallback [s]').to.be.at.most(COMMAND_GAP_S + CONTROL_PERIOD_S + SLACK_S);
  for (let i = 1; i < fallback.length; i++) {
    expect(fallback[i]!.acceleration, `fallback command ${i}: acceleration never increases`).to.be.at.most(
      fallback[i - 1]!.acceleration + 1e-9,
    );
  }
  expect(maxStampGapS(after), 'the vehicle command stream keeps its rate while braking [s]').to.be.at.most(
    COMMAND_GAP_S,
  );
  const state = await waitFor(
    'state fallback',
    2,
    () => (d.state.last?.state === STATE.fallback ? d.state.last : undefined),
    d.logs,
  );
  expect(state.reasons.join(' ')).to.match(/command/);
}

/**
 * An operator's reset at standstill, repeated every 0.5 s as an operator would (a reset is refused while any
 * monitor is unhealthy, e.g. until a restarted planner's command rate has a full second of history).
 */
async function resetUntilNominal(d: Drive): Promise<void> {
  let lastMs = 0;
  await waitFor(
    'nominal after an operator reset at standstill',
    15,
    () => {
      if (d.state.last?.state === STATE.nominal) return true;
      if (performance.now() - lastMs > 500) {
        void d.reset();
        lastMs = performance.now();
      }
      return undefined;
    },
    d.logs,
  );
}

describe('ROS 2 graph: faults brake the vehicle', function () {
  this.timeout(120_000);
  let d: Drive | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('killing the planner brakes within command_gap_s; stopped, a reset is refused until the planner is back, then resumes', async () => {
    d = await startDrive({ bundle: suite.bundle });
    await sleep(1000);
    d.planner.child.kill('SIGKILL');
    await d.planner.exit;
    await expectBrakingAfterSilence(d, 'SIGKILL of the planner');
    const drive = d;
    await waitFor('state stopped once the vehicle stands', 20, () => drive.state.last?.state === STATE.stopped, d.logs);
    await waitFor('the vehicle at or below standstill_speed_mps', 2, () => drive.world.speedMps <= 0.1, d.logs);
    await d.reset();
    await sleep(500);
    expect(d.state.last?.state, 'a reset while the planner is silent is refused').to.equal(STATE.stopped);
    d.planner = NodeProcess.planner(suite.bundle);
    const since = performance.now();
    await waitFor(
      'commands from the restarted planner',
      60,
      () => drive.plannerCommands.since(since).length >= 10,
      d.logs,
    );
    expect(d.state.last?.state, 'still stopped until the operator resets').to.equal(STATE.stopped);
    await resetUntilNominal(d);
  });

  it('a hung planner (SIGSTOP) brakes the same way, and the stop stays latched after it resumes (SIGCONT)', async () => {
    d = await startDrive({ bundle: suite.bundle });
    await sleep(1000);
    d.planner.child.kill('SIGSTOP');
    await expectBrakingAfterSilence(d, 'SIGSTOP of the planner');
    d.planner.child.kill('SIGCONT');
    const drive = d;
    const since = performance.now();
    await waitFor(
      'planner commands again after SIGCONT',
      10,
      () => drive.plannerCommands.since(since).length >= 10,
      d.logs,
    );
    await sleep(500);
    const s = d.state.last!.state;
    expect([STATE.fallback, STATE.stopped], 'still latched').to.include(s);
    expect(
      d.vehicle.since(since).some((c) => c.source === SOURCE.planner),
      'no planner command forwarded without a reset',
    ).to.equal(false);
    await waitFor('state stopped', 20, () => drive.state.last?.state === STATE.stopped, d.logs);
    await resetUntilNominal(d);
  });

  it('one lost camera frame, now and then: the frame before stands in, plans keep coming, the watchdog stays nominal', async () => {
    // stamp_jitter_s at its maximum (0.05 s; default 0.02): the world stamps with its wall clock on a 20 ms interval
    // that runs late under load, so two periods can be more than 0.22 s apart on a busy machine. The default passed
    // with 0.221-0.229 s of plan age here on a quiet one. The selection before 2026-12-03 fails this at any setting.
    d = await startDrive({ bundle: suite.bundle, plannerArgs: ['-p', 'cameras.stamp_jitter_s:=0.05'] });
    await sleep(1000);
    const since = performance.now();
    const drive = d;
    // Five frames lost, 1.5 s apart (each one a target of the next 3 plans).
    for (let k = 0; k < 5; k++) {
      d.world.dropFrame('camera_front_wide_120fov');
      await sleep(1500);
    }
    const ages = d.state.since(since).map((m) => m.plan_age_s);
    console.log(`        5 lost frames: max plan age ${Math.max(...ages).toFixed(3)} s`);
    expect(drive.state.last?.state, d.logs()).to.equal(STATE.nominal);
    expect(
      d.vehicle.since(since).filter((c) => c.source !== SOURCE.planner),
      'only planner commands',
    ).to.deep.equal([]);
    expect(Math.max(...ages), 'plan age').to.be.below(0.5);
  });

  it('a camera that stops: the planner stops planning and counts it, the watchdog brakes on the plan age', async () => {
    d = await startDrive({ bundle: suite.bundle });
    await sleep(1000);
    const since = performance.now();
    d.world.stoppedCameras.add('camera_front_wide_120fov');
    const drive = d;
    // No new plan: the plan's age passes max_plan_age_s (0.5 s), and the watchdog brakes (on the plan age, unless
    // another deadline of this loaded machine came first: the latched reason is the first fault).
    await waitFor('plan age over max_plan_age_s', 5, () => (drive.state.last?.plan_age_s ?? 0) > 0.5, d.logs);
    await waitFor('state fallback', 2, () => drive.state.last?.state === STATE.fallback, d.logs);
    const fallback = d.vehicle.since(since).filter((c) => c.source === SOURCE.fallback);
    expect(fallback.length).to.be.greaterThan(0);
    const timing = d.timing.last!;
    expect(timing.frames_dropped, 'frames of the cameras still running are counted as dropped').to.be.greaterThan(0);
  });

  it('a camera the watchdog monitors (cameras.topics) that stops is a camera fault of its own', async () => {
    const topic = '/sensors/camera/camera_front_wide_120fov/image_raw/compressed';
    d = await startDrive({
      bundle: suite.bundle,
      watchdogArgs: ['-p', `cameras.topics:=[${topic}]`, '-p', 'cameras.types:=[compressed]'],
    });
    await sleep(1000);
    const diagnostics = await record<DiagnosticArrayMsg>('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    d.world.stoppedCameras.add('camera_front_wide_120fov');
    const drive = d;
    // The camera's own status goes to ERROR naming its topic (the latched fallback reason is the first fault, which
    // on a loaded machine can be another deadline).
    const status = await waitFor(
      'an ERROR status for the stopped camera on /diagnostics',
      5,
      () =>
        diagnostics.messages
          .flatMap((m) => m.msg.status)
          .find((st) => st.level === 2 && /camera/.test(st.name) && st.message.includes('camera')),
      d.logs,
    );
    expect(`${status.name} ${status.message}`).to.include('camera_front_wide_120fov');
    await waitFor('state fallback', 2, () => drive.state.last?.state === STATE.fallback, d.logs);
    diagnostics.close();
  });
});
