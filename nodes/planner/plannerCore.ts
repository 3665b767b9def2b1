import type { VerdictKind } from '../consistency/index.js';
import { errorMessage } from '../core/errors.js';
import type { LogLevel } from '../core/logger.js';
import type { Odometry, Path, PlannerTiming, Reasoning, StringMsg, Trajectory, UnicycleCommand } from '../core/msgs.js';
import type { EngineContract, FrameStore, PlanResult } from '../core/planningEngine.js';
import { sampleCommand, type ActivePlan } from './commandSampler.js';
import type { FrameCheck } from './imageFrames.js';
import { ingestWarnings, InputAssembler, type Candidate, type IngestResult } from './inputAssembler.js';
import { commandMsg, pathMsg, reasoningMsg, timingMsg, trajectoryMsg } from './messages.js';
import type { PlanEvent } from './operators/planLatest.js';
import { consistencyParamsOf, type PlannerParams } from './params.js';
import { planStep, planVerdict } from './planOutcome.js';
import { assemblerOptions } from './plannerSetup.js';

/**
 * The planner without I/O and without a clock: messages and planning-loop events in, effects out (log lines,
 * messages to publish, a worker restart), in the order the node must carry them out. The node subscribes, runs the
 * engine, and does what this returns; every decision and every counter is here.
 */

export interface PlannerStats {
  /** Camera frames: received = planned + dropped + waiting at every moment. */
  received: number;
  planned: number;
  dropped: Record<string, number>;
  waiting: number;
  /** Plans completed and published. */
  plans: number;
  /** Plans that failed (engine errors, malformed results). */
  errors: number;
  /** Cycles that produced no plan input, by reason. */
  skipped: Record<string, number>;
  /** Odometry messages refused, by reason. */
  odometryDropped: Record<string, number>;
  /** Plans abandoned after plan_timeout_s (also counted in errors). */
  timeouts: number;
  /** Odometry jumps (teleports) that cleared the history. */
  odometryJumps: number;
  /** Published plans by reasoning–action verdict (sums to plans). */
  consistency: Record<VerdictKind, number>;
}

/** A camera message already checked (imageFrames), or an odometry message. */
export type PlannerInput = { kind: 'frame'; camera: number; check: FrameCheck } | { kind: 'odometry'; msg: Odometry };

/** Something the node must do; log text comes without the node context. */
export type PlannerEffect =
  | { kind: 'log'; level: LogLevel; text: string }
  | { kind: 'trajectory'; msg: Trajectory }
  | { kind: 'path'; msg: Path }
  | { kind: 'reasoning'; msg: Reasoning }
  | { kind: 'reasoningText'; msg: StringMsg }
  | { kind: 'timing'; msg: PlannerTiming }
  | { kind: 'restartWorker' };

export interface PlannerCoreOptions {
  /** Monotonic milliseconds for sync_ms (performance.now on a vehicle); default a constant (sync_ms = 0). */
  perfNow?: () => number;
  /** The engine's shared-memory store for received frames, when it has one. */
  frameStore?: FrameStore;
}

export class PlannerCore {
  readonly #params: PlannerParams;
  readonly #provider: string;
  readonly #assembler: InputAssembler;
  readonly #historyS: number;
  readonly #consistencyParams: ReturnType<typeof consistencyParamsOf>;
  #active: ActivePlan | undefined;
  #plans = 0;
  #errors = 0;
  #timeouts = 0;
  readonly #consistency: Record<VerdictKind, number> = { consistent: 0, inconsistent: 0, not_assessable: 0 };
  #lastSkipLogged: string | undefined;

  constructor(params: PlannerParams, contract: EngineContract, provider: string, options: PlannerCoreOptions = {}) {
    this.#params = params;
    this.#provider = provider;
    this.#assembler = new InputAssembler({
      ...assemblerOptions(params, contract),
      ...(options.perfNow ? { perfNow: options.perfNow } : {}),
      ...(options.frameStore ? { frameStore: options.frameStore } : {}),
    });
    this.#historyS = contract.historyDtS * (contract.historySteps - 1);
    this.#consistencyParams = consistencyParamsOf(params.consistency);
  }

  /** A message in: the plan inputs it completes, and what to log. Never throws (a failure is logged). */
  ingest(ev: PlannerInput): { candidates: Candidate[]; effects: PlannerEffect[] } {
    let r: IngestResult;
    try {
      r =
        ev.kind === 'frame'
          ? this.#assembler.onFrameMessage(ev.camera, ev.check)
          : this.#assembler.onOdometryMessage(ev.msg);
    } catch (e) {
      return { candidates: [], effects: [log('error', `input handling failed: ${errorMessage(e)}`)] };
    }
    if (r.reset) this.#active = undefined;
    const effects = ingestWarnings(r, this.#historyS).map((w) => log('warn', w));
    const skip = this.#assembler.lastSkip;
    if (skip && skip.detail !== this.#lastSkipLogged) {
      this.#lastSkipLogged = skip.detail;
      effects.push(log('debug', `no plan (${skip.reason}): ${skip.detail}`));
    }
    return { candidates: r.candidate ? [r.candidate] : [], effects };
  }

  /**
   * False for an input of a timeline a time reset has since cleared, or one holding a frame the engine has since
   * refused (bad_image): it is not planned.
   */
  isCurrent(c: Candidate): boolean {
    return c.epoch === this.#assembler.epoch && !this.#assembler.hasBadFrame(c);
  }

  /**
   * A planning-loop event: counters, the active plan, and what to publish and log. `nowS` reads the ROS time, only
   * when a timing message is built (its latency_ms).
   */
  onPlanEvent(ev: PlanEvent<Candidate, PlanResult>, nowS: () => number): PlannerEffect[] {
    const c = ev.input;
    const step = planStep(ev, this.#assembler.epoch);
    const effects: PlannerEffect[] = [];
    if (step.frames) this.#assembler.settle(c, step.frames, step.badFrame);
    if (step.timedOut) {
      this.#timeouts++;
      effects.push({ kind: 'restartWorker' });
    }
    if (step.failure) {
      this.#errors++;
      effects.push(log(step.failure.level, step.failure.log));
      effects.push({ kind: 'timing', msg: this.#timing(c, undefined, step.failure.error, nowS) });
    }
    const r = step.result;
    if (!r) return effects;
    this.#plans++;
    this.#active = { t0S: c.input.t0S, v0: r.v0, trajectory: r.trajectory };
    const frameId = this.#params.frame_id;
    effects.push({ kind: 'trajectory', msg: trajectoryMsg(r, frameId) });
    effects.push({ kind: 'path', msg: pathMsg(r, frameId) });
    const verdict = planVerdict(r, this.#params.consistency.enabled ? this.#consistencyParams : undefined);
    this.#consistency[verdict.kind]++;
    if (verdict.kind === 'inconsistent')
      effects.push(log('debug', `reasoning inconsistent at t0=${c.input.t0S.toFixed(3)} s: ${verdict.detail}`));
    effects.push({ kind: 'reasoning', msg: reasoningMsg(r, frameId, verdict) });
    effects.push({ kind: 'reasoningText', msg: { data: r.reasoning.text } });
    effects.push({ kind: 'timing', msg: this.#timing(c, r, '', nowS) });
    return effects;
  }

  /**
   * The command now: none before the first plan, after a time reset, or past the plan's horizon. `nowS` reads the
   * ROS time, only when there is a plan to sample (no clock read per control tick while idle).
   */
  command(nowS: () => number): UnicycleCommand | undefined {
    if (!this.#active) return undefined;
    const now = nowS();
    const cmd = sampleCommand(this.#active, now);
    return cmd ? commandMsg(cmd, now, this.#params.frame_id) : undefined;
  }

  /** The node stopped: frames still waiting drop as shutdown, no more commands. */
  shutdown(): void {
    this.#assembler.shutdown();
    this.#active = undefined;
  }

  stats(): PlannerStats {
    const n = this.#assembler.counts();
    return {
      received: n.received,
      planned: n.planned,
      dropped: n.dropped,
      waiting: n.waiting,
      plans: this.#plans,
      errors: this.#errors,
      skipped: this.#assembler.skipped,
      odometryDropped: this.#assembler.odometryDropped,
      timeouts: this.#timeouts,
      odometryJumps: this.#assembler.odometryJumps,
      consistency: { ...this.#consistency },
    };
  }

  /** Waiting frames recounted from the buffers and held inputs (tests check it against stats().waiting). */
  recountWaiting(): number {
    return this.#assembler.recountWaiting();
  }

  #timing(c: Candidate, result: PlanResult | undefined, error: string, nowS: () => number): PlannerTiming {
    const n = this.#assembler.counts();
    return timingMsg({
      t0S: c.input.t0S,
      frameId: this.#params.frame_id,
      syncMs: c.syncMs,
      ...(result ? { timing: result.timing } : {}),
      latencyMs: (nowS() - c.input.t0S) * 1000,
      provider: result?.provider ?? this.#provider,
      received: n.received,
      planned: n.planned,
      dropped: n.dropped,
      error,
    });
  }
}

const log = (level: LogLevel, text: string): PlannerEffect => ({ kind: 'log', level, text });
