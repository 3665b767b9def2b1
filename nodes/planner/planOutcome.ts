import { consistencyVerdict, trajectoryOfPlan, type ConsistencyParams, type Verdict } from '../consistency/index.js';
import { errorMessage } from '../core/errors.js';
import { EngineError, type EngineErrorKind, type FrameIndex, type PlanResult } from '../core/planningEngine.js';
import type { PlanOutcome } from './frameAccounting.js';
import type { Candidate } from './inputAssembler.js';
import { checkTrajectory } from './messages.js';
import type { PlanEvent } from './operators/planLatest.js';

/**
 * What the planner does with each event of its planning loop, pure: how the input's frames settle, whether a
 * failure is counted and reported, and which result is published. The node only carries it out.
 */

/** A plan that ran past plan_timeout_s. */
export class PlanTimeoutError extends Error {
  constructor(
    readonly t0S: number,
    readonly timeoutS: number,
  ) {
    super(`plan at t0=${t0S.toFixed(3)} s did not finish within plan_timeout_s ${timeoutS.toFixed(3)} s; abandoned`);
    this.name = 'PlanTimeoutError';
  }
}

/**
 * Why a plan produced nothing to drive, the prefix of PlannerTiming.error ("<kind>: <message>"): an EngineError's
 * kind, `unexpected` (the engine failed with anything else), `invalid_result` (the result was refused: non-finite
 * values, unequal lengths or another t0) or `plan_timeout` (abandoned after plan_timeout_s).
 */
type PlanFailureKind = EngineErrorKind | 'unexpected' | 'invalid_result' | 'plan_timeout';

interface PlanFailure {
  kind: PlanFailureKind;
  /** PlannerTiming.error: "<kind>: <message>". */
  error: string;
  /** The log line (without the node context) and its level. */
  log: string;
  level: 'warn' | 'error';
}

export interface PlanStep {
  /** How the input's frames settle; absent while its plan still runs. */
  frames?: PlanOutcome;
  /** With frames 'failed': the one frame the engine refused (an 'input' EngineError naming it); it drops as bad_image. */
  badFrame?: FrameIndex;
  /** The plan was abandoned after plan_timeout_s: counted, and the engine's worker restarted (any timeline). */
  timedOut?: true;
  /** A failure of the current timeline: counted as an error, logged and published on /ar1/timing. */
  failure?: PlanFailure;
  /** A result to publish and drive. */
  result?: PlanResult;
}

/** Why a result cannot be driven (non-finite values, unequal lengths, another t0), or undefined. */
function resultProblem(result: PlanResult, inputT0S: number): string | undefined {
  return (
    checkTrajectory(result.trajectory, result.v0) ??
    (Math.abs(result.t0S - inputT0S) > 1e-9
      ? `result t0 ${result.t0S} s differs from the input t0 ${inputT0S} s`
      : undefined)
  );
}

const failure = (kind: PlanFailureKind, message: string, log: (error: string) => string, level: 'warn' | 'error') => {
  const error = `${kind}: ${message}`;
  return { kind, error, log: log(error), level };
};

/** One planning-loop event → what to do; `epoch` is the current timeline (a time reset makes older inputs stale). */
export function planStep(ev: PlanEvent<Candidate, PlanResult>, epoch: number): PlanStep {
  const c = ev.input;
  const current = c.epoch === epoch;
  const at = `t0=${c.input.t0S.toFixed(3)} s`;
  switch (ev.kind) {
    case 'started':
      return {};
    case 'superseded':
    case 'cancelled':
      return { frames: ev.kind };
    case 'failed': {
      if (ev.error instanceof PlanTimeoutError) {
        const f = failure(
          'plan_timeout',
          ev.error.message,
          (e) => `${e}; planning continues with the next input`,
          'error',
        );
        return { frames: 'timed_out', timedOut: true, ...(current ? { failure: f } : {}) };
      }
      const kind = ev.error instanceof EngineError ? ev.error.kind : 'unexpected';
      const f = failure(kind, errorMessage(ev.error), (e) => `plan failed at ${at} (${e}); planning continues`, 'warn');
      const badFrame = ev.error instanceof EngineError && ev.error.kind === 'input' ? ev.error.frame : undefined;
      return { frames: 'failed', ...(badFrame ? { badFrame } : {}), ...(current ? { failure: f } : {}) };
    }
    case 'completed': {
      if (!current) return { frames: 'cancelled' };
      const bad = resultProblem(ev.result, c.input.t0S);
      if (bad)
        return {
          frames: 'failed',
          failure: failure('invalid_result', bad, () => `plan refused at ${at}: ${bad}`, 'error'),
        };
      return { frames: 'completed', result: ev.result };
    }
  }
}

const DISABLED: Verdict = {
  kind: 'not_assessable',
  detail: 'consistency.enabled is false',
  stated: [],
  planned: [],
  differs: [],
};

/**
 * The reasoning–action verdict of a published plan; `params` undefined: the check is disabled. Never throws: a
 * failing check is published as not assessable, with the reason, so no plan is lost to it.
 */
export function planVerdict(r: PlanResult, params: ConsistencyParams | undefined): Verdict {
  if (!params) return DISABLED;
  try {
    return consistencyVerdict(r.reasoning.text, trajectoryOfPlan(r.trajectory, r.v0), params);
  } catch (e) {
    return { ...DISABLED, detail: `consistency check failed: ${errorMessage(e)}` };
  }
}
