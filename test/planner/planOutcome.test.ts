import { expect } from 'chai';
import { DEFAULT_CONSISTENCY } from '../../nodes/consistency/index.js';
import { UserError } from '../../nodes/core/errors.js';
import { EngineError, type PlanInput, type PlanResult } from '../../nodes/core/planningEngine.js';
import { NO_OVERRIDES } from '../../nodes/core/params/index.js';
import type { Candidate } from '../../nodes/planner/inputAssembler.js';
import type { PlanEvent } from '../../nodes/planner/operators/planLatest.js';
import { loadPlannerParams } from '../../nodes/planner/params.js';
import { planStep, planVerdict, PlanTimeoutError } from '../../nodes/planner/planOutcome.js';
import { assemblerOptions, frameStoreSlots, plannerCameras } from '../../nodes/planner/plannerSetup.js';
import { CONTRACT, fakeResult } from './harness.js';

const input = (t0S: number): PlanInput => ({
  t0S,
  frames: [],
  history: { x: [], y: [], z: [], yaw: [] } as unknown as PlanInput['history'],
  seed: 0,
  samples: 1,
});
const candidate = (epoch: number, t0S = 101.5): Candidate => ({ epoch, input: input(t0S), records: [], syncMs: 0 });
type Ev = PlanEvent<Candidate, PlanResult>;

describe('planner/planOutcome: what the planner does with each planning-loop event', () => {
  const c = candidate(1);

  it('started: nothing settles', () => {
    expect(planStep({ kind: 'started', input: c }, 1)).to.deep.equal({});
  });

  it('superseded / cancelled: the frames settle with that outcome; nothing is counted or published', () => {
    expect(planStep({ kind: 'superseded', input: c }, 1)).to.deep.equal({ frames: 'superseded' });
    expect(planStep({ kind: 'cancelled', input: c }, 1)).to.deep.equal({ frames: 'cancelled' });
  });

  it('completed with a valid result: frames planned, the result published', () => {
    const r = fakeResult(c.input);
    expect(planStep({ kind: 'completed', input: c, result: r }, 1)).to.deep.equal({ frames: 'completed', result: r });
  });

  it('completed after a time reset (older timeline): frames cancelled, nothing published or counted', () => {
    const r = fakeResult(c.input);
    expect(planStep({ kind: 'completed', input: c, result: r }, 2)).to.deep.equal({ frames: 'cancelled' });
  });

  it('completed with a non-finite value or another t0: refused as invalid_result (an error, logged, on timing)', () => {
    const nan = fakeResult(c.input);
    nan.trajectory.x[3] = Number.NaN;
    expect(planStep({ kind: 'completed', input: c, result: nan }, 1)).to.deep.equal({
      frames: 'failed',
      failure: {
        kind: 'invalid_result',
        error: 'invalid_result: trajectory.x[3]: expected a finite value, got NaN',
        log: 'plan refused at t0=101.500 s: trajectory.x[3]: expected a finite value, got NaN',
        level: 'error',
      },
    });
    const other = { ...fakeResult(c.input), t0S: 101.6 };
    const step = planStep({ kind: 'completed', input: c, result: other }, 1);
    expect(step.frames).to.equal('failed');
    expect(step.failure?.error).to.equal('invalid_result: result t0 101.6 s differs from the input t0 101.5 s');
    expect(step.result).to.equal(undefined);
  });

  it('failed with an EngineError: its kind prefixes the timing error; a warning; older timelines not counted', () => {
    const ev: Ev = { kind: 'failed', input: c, error: new EngineError('runtime', 'boom') };
    expect(planStep(ev, 1)).to.deep.equal({
      frames: 'failed',
      failure: {
        kind: 'runtime',
        error: 'runtime: boom',
        log: 'plan failed at t0=101.500 s (runtime: boom); planning continues',
        level: 'warn',
      },
    });
    expect(planStep(ev, 2)).to.deep.equal({ frames: 'failed' });
  });

  it('failed with anything else: kind unexpected', () => {
    const step = planStep({ kind: 'failed', input: c, error: new TypeError('x is undefined') }, 1);
    expect(step.failure?.error).to.equal('unexpected: x is undefined');
  });

  it('timed out: frames plan_timeout, the worker restarted in any timeline, an error only in the current one', () => {
    const ev: Ev = { kind: 'failed', input: c, error: new PlanTimeoutError(101.5, 5) };
    const error = 'plan_timeout: plan at t0=101.500 s did not finish within plan_timeout_s 5.000 s; abandoned';
    expect(planStep(ev, 1)).to.deep.equal({
      frames: 'timed_out',
      timedOut: true,
      failure: { kind: 'plan_timeout', error, log: `${error}; planning continues with the next input`, level: 'error' },
    });
    expect(planStep(ev, 2)).to.deep.equal({ frames: 'timed_out', timedOut: true });
  });

  it('planVerdict: disabled → not assessable with the reason; a failing check → not assessable, never a throw', () => {
    const r = fakeResult(c.input);
    expect(planVerdict(r, undefined)).to.include({ kind: 'not_assessable', detail: 'consistency.enabled is false' });
    const broken = { ...r, reasoning: { ...r.reasoning, text: null as unknown as string } };
    const v = planVerdict(broken, DEFAULT_CONSISTENCY);
    expect(v.kind).to.equal('not_assessable');
    expect(v.detail).to.match(/^consistency check failed: /);
    expect(['consistent', 'inconsistent', 'not_assessable']).to.include(planVerdict(r, DEFAULT_CONSISTENCY).kind);
  });
});

describe('planner/plannerSetup', () => {
  const params = loadPlannerParams(NO_OVERRIDES);

  it('cameras must be the bundle cameras in order: a one-line UserError naming both lists and the node', () => {
    expect(plannerCameras(params, CONTRACT, 'p').map((c) => c.name)).to.deep.equal([...CONTRACT.cameras]);
    const swapped = { ...CONTRACT, cameras: [...CONTRACT.cameras].reverse() };
    expect(() => plannerCameras(params, swapped, 'p'))
      .to.throw(UserError)
      .with.property('message')
      .that.matches(
        /^cameras\.names: expected the bundle's cameras in its order \[camera_front_tele_30fov, .*\[node=p\]$/,
      );
  });

  it('frame store slots: buffer + 3 inputs of frames + the arriving one; assembler options from params', () => {
    expect(frameStoreSlots(params, CONTRACT)).to.equal(params.cameras.buffer_size + 3 * 4 + 1);
    const o = assemblerOptions(params, CONTRACT);
    expect(o.selection.cameras).to.deep.equal([...CONTRACT.cameras]);
    expect(o.skipPeriodS).to.equal(1 / params.max_plan_rate_hz);
    expect(o.timeResetThresholdS).to.equal(params.time_reset_threshold_s);
    expect(o.history).to.deep.equal({ steps: 16, dtS: 0.1, maxGapS: params.odometry.max_gap_s });
  });
});
