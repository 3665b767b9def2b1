import { expect } from 'chai';
import { EngineError, type PlanResult } from '../../nodes/core/planningEngine.js';
import { NO_OVERRIDES } from '../../nodes/core/params/index.js';
import { rawFrame } from '../../nodes/planner/imageFrames.js';
import { ODOMETRY_WARN_EVERY, type Candidate } from '../../nodes/planner/inputAssembler.js';
import type { PlanEvent } from '../../nodes/planner/operators/planLatest.js';
import { loadPlannerParams } from '../../nodes/planner/params.js';
import { PlannerCore, type PlannerEffect } from '../../nodes/planner/plannerCore.js';
import { PlanTimeoutError } from '../../nodes/planner/planOutcome.js';
import { AR1_CAMERAS, balanced, CONTRACT, fakeResult, H, image, odometry, W } from './harness.js';

/** The core alone: messages and events in, effects out; no transport, no scheduler, no clock. */
const params = loadPlannerParams(NO_OVERRIDES);
const size = { width: W, height: H };
const noClock = () => {
  throw new Error('the clock was read');
};
const kinds = (effects: PlannerEffect[]) => effects.map((e) => (e.kind === 'log' ? `log:${e.level}` : e.kind));
const logs = (effects: PlannerEffect[]) => effects.flatMap((e) => (e.kind === 'log' ? [e.text] : []));

/** Cameras at 10 Hz and odometry at 50 Hz from t0S to t1S, in stamp order; the candidates that came out. */
function feed(core: PlannerCore, t0S: number, t1S: number): Candidate[] {
  const out: Candidate[] = [];
  for (let i = Math.round(t0S * 50); i <= Math.round(t1S * 50); i++) {
    const t = i / 50;
    out.push(...core.ingest({ kind: 'odometry', msg: odometry(t) }).candidates);
    if (i % 5 !== 0) continue;
    AR1_CAMERAS.forEach((name, camera) => {
      out.push(...core.ingest({ kind: 'frame', camera, check: rawFrame(name, image(t), size) }).candidates);
    });
  }
  return out;
}

describe('planner/plannerCore (no I/O, no clock)', () => {
  it('a refused camera message: counted as dropped with its problem, one warning', () => {
    const core = new PlannerCore(params, CONTRACT, 'fake');
    const r = core.ingest({
      kind: 'frame',
      camera: 0,
      check: rawFrame(AR1_CAMERAS[0]!, image(100, { encoding: 'yuv' }), size),
    });
    expect(r.candidates).to.deep.equal([]);
    expect(kinds(r.effects)).to.deep.equal(['log:warn']);
    expect(logs(r.effects)[0]).to.match(/^frame dropped \(bad_encoding\): camera_cross_left_120fov: expected encoding/);
    expect(core.stats()).to.include({ received: 1, planned: 0, waiting: 0 });
    expect(core.stats().dropped).to.deep.equal({ bad_encoding: 1 });
  });

  it('no command before the first plan, and no clock read for it', () => {
    const core = new PlannerCore(params, CONTRACT, 'fake');
    expect(core.command(noClock)).to.equal(undefined);
  });

  it('a completed plan: frames planned, outputs in order, timing latency from the clock, commands from the plan', () => {
    const core = new PlannerCore(params, CONTRACT, 'fake');
    const candidates = feed(core, 100, 101.5);
    expect(candidates.map((c) => c.input.t0S)).to.deep.equal([101.5]);
    const c = candidates[0]!;
    const effects = core.onPlanEvent({ kind: 'completed', input: c, result: fakeResult(c.input) }, () => 101.8);
    expect(kinds(effects)).to.deep.equal(['trajectory', 'path', 'reasoning', 'reasoningText', 'timing']);
    const timing = effects.at(-1)!;
    if (timing.kind !== 'timing') throw new Error('expected timing last');
    expect(timing.msg.latency_ms).to.be.closeTo(300, 1e-6);
    expect(timing.msg.error).to.equal('');
    expect(timing.msg.frames_planned).to.equal(16);
    const st = core.stats();
    expect(st).to.include({ plans: 1, errors: 0, planned: 16 });
    expect(balanced(st)).to.equal(true);
    expect(st.waiting).to.equal(core.recountWaiting());
    const cmd = core.command(() => 101.85);
    expect(cmd?.speed).to.be.closeTo(10 + 0.5 * 0.35, 1e-9);
    expect(cmd?.header.stamp).to.deep.equal({ sec: 101, nanosec: 850_000_000 });
  });

  it('a failed plan: counted, logged, on timing with its kind; a timeout also asks for a worker restart first', () => {
    const core = new PlannerCore(params, CONTRACT, 'fake');
    const [c] = feed(core, 100, 101.5);
    const failed = core.onPlanEvent(
      { kind: 'failed', input: c!, error: new EngineError('runtime', 'boom') },
      () => 102,
    );
    expect(kinds(failed)).to.deep.equal(['log:warn', 'timing']);
    const t = failed[1]!;
    expect(t.kind === 'timing' && t.msg.error).to.equal('runtime: boom');
    const [d] = feed(core, 101.52, 101.6);
    const ev: PlanEvent<Candidate, PlanResult> = { kind: 'failed', input: d!, error: new PlanTimeoutError(101.6, 5) };
    expect(kinds(core.onPlanEvent(ev, () => 106.6))).to.deep.equal(['restartWorker', 'log:error', 'timing']);
    expect(core.stats()).to.include({ errors: 2, timeouts: 1, plans: 0 });
    expect(balanced(core.stats())).to.equal(true);
  });

  it('a plan failed on one frame (input error naming it): that frame drops as bad_image at once, no later input uses it, the others are not charged', () => {
    const core = new PlannerCore(params, CONTRACT, 'fake');
    const [c] = feed(core, 100, 101.5);
    const [d] = feed(core, 101.52, 101.6); // built before c fails: it holds the same frame
    const bad = c!.input.frames[2]![3]!;
    expect(d!.input.frames[2]).to.include(bad);
    expect(core.isCurrent(d!)).to.equal(true);
    const before = core.stats().dropped;
    const failed = core.onPlanEvent(
      {
        kind: 'failed',
        input: c!,
        error: new EngineError('input', 'camera 2 frame 3: bytes do not decode', { camera: 2, index: 3 }),
      },
      () => 102,
    );
    expect(kinds(failed)).to.deep.equal(['log:warn', 'timing']);
    let st = core.stats();
    expect(st.errors).to.equal(1);
    expect({ ...st.dropped, engine_error: 0 }).to.deep.equal({ ...before, engine_error: 0 });
    expect(st.dropped['bad_image'] ?? 0).to.equal(0); // d still holds it: waiting
    expect(balanced(st)).to.equal(true);
    expect(st.waiting).to.equal(core.recountWaiting());
    // An input already holding the bad frame is not planned; it settles as cancelled, and the frame drops.
    expect(core.isCurrent(d!)).to.equal(false);
    core.onPlanEvent({ kind: 'cancelled', input: d! }, noClock);
    expect(core.stats().dropped['bad_image']).to.equal(1);
    expect(balanced(core.stats())).to.equal(true);
    expect(core.stats().waiting).to.equal(core.recountWaiting());
    // The next inputs are built without it and plan; the failed plan's other frames are planned, not engine_error.
    const next = feed(core, 101.62, 101.8);
    expect(next.length).to.be.greaterThan(0);
    for (const e of next) {
      expect(e.input.frames.flat()).to.not.include(bad);
      expect(core.isCurrent(e)).to.equal(true);
      core.onPlanEvent({ kind: 'completed', input: e, result: fakeResult(e.input) }, () => 102);
      st = core.stats();
      expect(balanced(st)).to.equal(true);
      expect(st.waiting).to.equal(core.recountWaiting());
    }
    st = core.stats();
    // Only frames of c that no later input used are charged engine_error; the rest were planned.
    const unplanned = c!.records.filter((r) => r.frame !== bad && !r.planned);
    expect(st.dropped['engine_error'] ?? 0).to.equal(unplanned.length);
    expect(unplanned.length).to.be.lessThan(c!.records.length - 1);
    expect(st.dropped['bad_image']).to.equal(1);
    expect(st.plans).to.equal(next.length);
    const sharedWithC = c!.records.filter((r) => r.frame !== bad && next.some((e) => e.records.includes(r)));
    expect(sharedWithC.length).to.be.greaterThan(0);
    expect(sharedWithC.every((r) => r.planned)).to.equal(true);
  });

  it('a failed plan whose error names no frame charges its frames engine_error (unless used later)', () => {
    const core = new PlannerCore(params, CONTRACT, 'fake');
    const [c] = feed(core, 100, 101.5);
    core.onPlanEvent({ kind: 'failed', input: c!, error: new EngineError('input', 'no frame named') }, () => 102);
    core.shutdown();
    const st = core.stats();
    expect(st.dropped['bad_image'] ?? 0).to.equal(0);
    expect(balanced(st)).to.equal(true);
  });

  it('refused odometry is warned: the first of each reason, then every ODOMETRY_WARN_EVERY-th, with the count', () => {
    const core = new PlannerCore(params, CONTRACT, 'fake');
    const bad = { ...odometry(100), header: { stamp: { sec: 100, nanosec: 4294967295 }, frame_id: 'odom' } };
    const warned: string[][] = [];
    for (let i = 1; i <= 2 * ODOMETRY_WARN_EVERY; i++) {
      const r = core.ingest({ kind: 'odometry', msg: bad });
      expect(r.effects.every((e) => e.kind !== 'log' || e.level === 'warn')).to.equal(true);
      if (r.effects.length > 0) warned.push([String(i), ...logs(r.effects)]);
    }
    expect(warned.map((w) => w[0])).to.deep.equal(['1', String(ODOMETRY_WARN_EVERY), String(2 * ODOMETRY_WARN_EVERY)]);
    expect(warned[0]![1]).to.match(
      /^odometry dropped \(bad_message\): expected a header stamp .* got a malformed nav_msgs\/Odometry \(1 odometry message dropped as bad_message so far\)$/,
    );
    expect(warned[2]![1]).to.match(/\(200 odometry messages dropped as bad_message so far\)$/);
    // Another reason is warned on its own first drop.
    core.ingest({ kind: 'odometry', msg: odometry(100.1) });
    const r = core.ingest({ kind: 'odometry', msg: odometry(100.05) });
    expect(logs(r.effects)).to.deep.equal([
      'odometry dropped (out_of_order): stamp 100.050 s is not newer than the newest (100.100 s) (1 odometry message dropped as out_of_order so far)',
    ]);
    expect(core.stats().odometryDropped).to.deep.equal({ bad_message: 2 * ODOMETRY_WARN_EVERY, out_of_order: 1 });
  });

  it('a time reset: the active plan is dropped (no commands) and a plan of the old timeline is not current', () => {
    const core = new PlannerCore(params, CONTRACT, 'fake');
    const [c] = feed(core, 100, 101.5);
    core.onPlanEvent({ kind: 'completed', input: c!, result: fakeResult(c!.input) }, () => 101.6);
    expect(core.command(() => 101.7)).to.not.equal(undefined);
    const [d] = feed(core, 101.52, 101.6);
    expect(core.isCurrent(d!)).to.equal(true);
    const r = core.ingest({ kind: 'odometry', msg: odometry(100.5) }); // 1.1 s back: beyond the 0.5 s threshold
    expect(logs(r.effects).some((l) => l.startsWith('time went backwards (odometry: stamp 100.500 s'))).to.equal(true);
    expect(core.command(noClock)).to.equal(undefined);
    expect(core.isCurrent(d!)).to.equal(false);
    expect(core.onPlanEvent({ kind: 'completed', input: d!, result: fakeResult(d!.input) }, noClock)).to.deep.equal([]);
    expect(core.stats().plans).to.equal(1);
    core.shutdown();
    const st = core.stats();
    expect(st.waiting).to.equal(0);
    expect(st.dropped['time_reset']).to.be.greaterThan(0);
    expect(balanced(st)).to.equal(true);
  });
});
