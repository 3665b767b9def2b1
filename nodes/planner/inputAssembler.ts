import type { CameraFrame, FrameIndex, FrameStore, PlanInput } from '../core/planningEngine.js';
import {
  FrameAccounting,
  stampOrder,
  type FrameCounts,
  type FrameRecord,
  type PlanOutcome,
  type SkipReason,
} from './frameAccounting.js';
import { STAMP_EPS_S } from '../core/time.js';
import { horizonIndex, planTime, selectFrames, windowS, type SelectionOptions } from './frameSelection.js';
import type { Odometry } from '../core/msgs.js';
import { buildEgoHistory, odometrySample, type HistoryOptions, type OdometrySample } from './egoHistory.js';
import type { FrameCheck } from './imageFrames.js';
import { odometryJump } from './odometryJump.js';

export interface AssemblerOptions {
  selection: SelectionOptions;
  history: HistoryOptions;
  cameraBufferSize: number;
  odometryBufferSize: number;
  /** [s] odometry kept by stamp span (the buffer is sized by time; odometryBufferSize only caps memory). */
  odometryBufferS: number;
  /** [m] odometry jump margin (odometryJump.ts): a larger implausible step clears the history. */
  odometryMaxJumpM: number;
  /** [s] leading camera minus t0 beyond this → camera_stale. */
  maxSkewS: number;
  /** [s] a stamp this far behind its stream's newest → time reset. */
  timeResetThresholdS: number;
  /** [s] camera_missing / camera_stale are counted at most once per this much camera time (the plan period). */
  skipPeriodS: number;
  seed: number;
  samples: number;
  /** Monotonic milliseconds for sync_ms (performance.now on a vehicle); a constant by default. */
  perfNow?: () => number;
  /**
   * The engine's store for received frames (shared memory its worker reads): each accepted frame is written there
   * once and held until it can no longer be planned; a frame the store has no slot for is dropped (frame_ring_full).
   */
  frameStore?: FrameStore;
}

/** A plan input ready for the engine, with the frames it holds in the frame accounting. */
export interface Candidate {
  /** Timeline it belongs to; bumped by every time reset. */
  epoch: number;
  input: PlanInput;
  records: FrameRecord[];
  /** [ms] frame selection + history, by perfNow. */
  syncMs: number;
}

export interface IngestResult {
  candidate?: Candidate;
  /** The camera message failed its check and was dropped; the log line. */
  refused?: string;
  /** Time went backwards: every buffer was cleared before this message was taken. */
  reset?: string;
  /** Odometry jumped (teleport): the odometry history (and a cycle waiting for it) was cleared; the detail. */
  jump?: string;
  /** Once: the count cap dropped odometry younger than odometryBufferS (the rate is too high for the cap). */
  capped?: string;
  /** The frame was dropped on arrival by the frame store (every slot of its camera held); the log line. */
  ringFull?: string;
  /**
   * The odometry message was refused (bad_message, out_of_order): the log line, for the first drop of each reason
   * and every ODOMETRY_WARN_EVERY-th after it (odometry comes at 50–100 Hz), with the count so far.
   */
  odometryRefused?: string;
}

/** A refused odometry message is warned for the first of its reason and then once every this many. */
export const ODOMETRY_WARN_EVERY = 100;

/**
 * Camera frames and odometry in, plan inputs out; no I/O and no clock. A cycle is attempted when t0 (the newest
 * time all cameras have reached) advances; it waits for odometry to reach t0, and every cycle that yields no input
 * is counted with its reason. What happens to each frame is decided by the FrameAccounting it owns: this class
 * reports events to it, and the planner reports how each candidate's plan ended (settle).
 */
export class InputAssembler {
  readonly #frames: FrameAccounting;
  #odometry: OdometrySample[] = [];
  #odometryDropped = new Map<string, number>();
  #skipped = new Map<string, number>();
  /** setMin of the last cycle. */
  #lastT0 = -Infinity;
  #awaiting: { t0S: number; records: FrameRecord[][]; reason: SkipReason; detail: string } | undefined;
  #lastThrottledLead = -Infinity;
  #epoch = 0;
  #lastSkip: { reason: SkipReason; detail: string } | undefined;
  /** Stamp of the first odometry sample after the latest jump: no history may start before it. */
  #jumpS: number | undefined;
  #jumpDetail = '';
  #odometryJumps = 0;

  constructor(readonly options: AssemblerOptions) {
    this.#frames = new FrameAccounting(
      options.selection.cameras.length,
      options.cameraBufferSize,
      options.timeResetThresholdS,
    );
  }

  get epoch(): number {
    return this.#epoch;
  }
  get skipped(): Record<string, number> {
    return Object.fromEntries(this.#skipped);
  }
  get odometryDropped(): Record<string, number> {
    return Object.fromEntries(this.#odometryDropped);
  }
  /** The latest skipped cycle, for logs. */
  get lastSkip(): { reason: SkipReason; detail: string } | undefined {
    return this.#lastSkip;
  }
  /** Odometry jumps (teleports) detected. */
  get odometryJumps(): number {
    return this.#odometryJumps;
  }
  counts(): FrameCounts {
    return this.#frames.counts();
  }

  /** Waiting frames recounted from the buffers and held inputs (tests check it against counts().waiting). */
  recountWaiting(): number {
    return this.#frames.recountWaiting();
  }

  /**
   * The plan of a candidate ended: its frames settle. `badFrame` (a failed plan only): the frame the engine refused,
   * as an index into the input's frames; it drops as bad_image, so that no later input uses it.
   */
  settle(candidate: Candidate, outcome: PlanOutcome, badFrame?: FrameIndex): void {
    const frame = badFrame ? candidate.input.frames[badFrame.camera]?.[badFrame.index] : undefined;
    const bad = frame ? candidate.records.find((r) => r.frame === frame) : undefined;
    this.#frames.settle(candidate.records, outcome, bad);
  }

  /** The candidate holds a frame the engine has since refused (bad_image): it is not to be planned. */
  hasBadFrame(candidate: Candidate): boolean {
    return this.#frames.hasBadFrame(candidate.records);
  }

  /** A camera message, checked by imageFrames: dropped with its problem, or taken. */
  onFrameMessage(camera: number, check: FrameCheck): IngestResult {
    if (check.ok) return this.#onFrame(camera, check.frame);
    this.#frames.messageRefused(check.reason);
    return { refused: `frame dropped (${check.reason}): ${check.detail}` };
  }

  /** An odometry message: refused as bad_message when it has no usable pose and stamp, else taken. */
  onOdometryMessage(msg: Odometry): IngestResult {
    const sample = odometrySample(msg);
    if (!sample) {
      return this.#countOdometryDrop(
        'bad_message',
        'expected a header stamp (integer sec, nanosec in [0, 1e9), not zero), a finite position and a nonzero orientation, got a malformed nav_msgs/Odometry',
      );
    }
    return this.#onOdometry(sample);
  }

  #onFrame(camera: number, frame: CameraFrame): IngestResult {
    const out: IngestResult = {};
    const newest = this.#frames.newestStamp(camera);
    const arrival = this.#frames.frameArrived(camera, frame.stampS);
    if (arrival === 'out_of_order') return out;
    if (arrival === 'time_reset' && newest !== undefined) {
      out.reset = `${frame.camera}: stamp ${frame.stampS.toFixed(3)} s is ${(newest - frame.stampS).toFixed(3)} s before the newest (${newest.toFixed(3)} s)`;
      this.#reset();
    }
    const store = this.options.frameStore;
    if (store) {
      const held = store.admit(camera, frame);
      if (!held) {
        this.#frames.storeFull();
        out.ringFull = `frame dropped (frame_ring_full): ${frame.camera}: frame at ${frame.stampS.toFixed(3)} s: every shared-memory slot of this camera is held by buffered frames and plans in flight`;
        return out;
      }
      this.#frames.admit(camera, held.frame, held.release);
    } else this.#frames.admit(camera, frame);
    const candidate = this.#attempt(true);
    if (candidate) out.candidate = candidate;
    return out;
  }

  #capWarned = false;

  #onOdometry(sample: OdometrySample): IngestResult {
    const out: IngestResult = {};
    const newest = this.#odometry[this.#odometry.length - 1];
    const order = stampOrder(newest?.tS, sample.tS, this.options.timeResetThresholdS);
    if (order === 'out_of_order')
      return this.#countOdometryDrop(
        'out_of_order',
        `stamp ${sample.tS.toFixed(3)} s is not newer than the newest (${newest!.tS.toFixed(3)} s)`,
      );
    if (order === 'time_reset' && newest) {
      out.reset = `odometry: stamp ${sample.tS.toFixed(3)} s is ${(newest.tS - sample.tS).toFixed(3)} s before the newest (${newest.tS.toFixed(3)} s)`;
      this.#reset();
    }
    if (newest) {
      const jump = odometryJump(
        this.#odometry[this.#odometry.length - 2],
        newest,
        sample,
        this.options.odometryMaxJumpM,
      );
      if (jump) {
        // Two timelines: the history restarts at this sample; a cycle waiting for odometry cannot be planned.
        this.#odometryJumps++;
        this.#odometry = [];
        this.#jumpS = sample.tS;
        this.#jumpDetail = jump.detail;
        out.jump = jump.detail;
        if (this.#awaiting) {
          this.#skip(
            'odometry_jump',
            `${jump.detail}; the cycle at t0=${this.#awaiting.t0S.toFixed(3)} s waiting for odometry is dropped`,
          );
          this.#dropAwaiting();
        }
      }
    }
    this.#odometry.push(sample);
    // Sized by time: keep what is within odometryBufferS of the newest stamp (and one sample before, for
    // interpolation); the count cap only bounds memory, and says so once when it cuts into that span.
    const horizon = sample.tS - this.options.odometryBufferS;
    let old = 0;
    while (old + 1 < this.#odometry.length && this.#odometry[old + 1]!.tS <= horizon) old++;
    const over = this.#odometry.length - old - this.options.odometryBufferSize;
    if (over > 0 && !this.#capWarned) {
      this.#capWarned = true;
      const spanS = sample.tS - this.#odometry[old + over]!.tS;
      out.capped = `odometry.buffer_size ${this.options.odometryBufferSize} holds only ${spanS.toFixed(3)} s of odometry at this rate, less than odometry.buffer_s ${this.options.odometryBufferS} s`;
    }
    const drop = Math.max(old, old + over);
    if (drop > 0) this.#odometry.splice(0, drop);
    if (this.#awaiting) {
      const candidate = this.#tryHistory(this.#awaiting.t0S, this.#awaiting.records);
      if (candidate) out.candidate = candidate;
    }
    return out;
  }

  /** Starts a new timeline: buffers, odometry and pending cycles cleared; held frames drop as time_reset. */
  #reset(): void {
    this.#frames.timeReset();
    this.#dropAwaiting();
    this.#odometry = [];
    this.#lastT0 = -Infinity;
    this.#lastThrottledLead = -Infinity;
    this.#jumpS = undefined;
    this.#epoch++;
  }

  /** Node stopped: every frame still waiting is dropped as shutdown. */
  shutdown(): void {
    this.#frames.shutdown();
    this.#dropAwaiting();
    this.#epoch++;
  }

  #attempt(fromFrame: boolean): Candidate | undefined {
    const buffers = this.#frames.buffers;
    const setMin = planTime(buffers);
    let lead = -Infinity;
    for (let c = 0; c < buffers.length; c++) lead = Math.max(lead, this.#frames.newestStamp(c) ?? -Infinity);
    if (setMin === undefined) {
      const c = buffers.findIndex((b) => b.length === 0);
      if (fromFrame)
        this.#throttledSkip('camera_missing', lead, `${this.options.selection.cameras[c]}: no frame received yet`);
      return undefined;
    }
    if (lead - setMin > this.options.maxSkewS + STAMP_EPS_S) {
      const c = buffers.findIndex((b) => b[b.length - 1]!.stampS === setMin);
      this.#throttledSkip(
        'camera_stale',
        lead,
        `${this.options.selection.cameras[c]}: newest frame ${setMin.toFixed(3)} s is ${(lead - setMin).toFixed(3)} s behind the newest camera (max ${this.options.maxSkewS.toFixed(3)} s)`,
      );
      return undefined;
    }
    // A cycle starts when every camera has delivered a new frame SET: cameras are not exposed at the same instant,
    // so the oldest newest-stamp (setMin) creeps forward by a few ms as each camera's next frame arrives. Counting
    // each creep as a cycle would chase stale t0s; a new set has moved setMin by at least half a frame spacing.
    // t0 is then the newest stamp of the set, so every camera's frame of this set is at or before t0 (as AlpaSim
    // anchors t0 at the newest frame); with t0 = setMin the other cameras would fall back a whole frame.
    if (setMin < this.#lastT0 + 0.5 * this.options.selection.spacingS - STAMP_EPS_S) return undefined;
    const t0 = lead;
    if (this.#awaiting) {
      this.#skip(this.#awaiting.reason, this.#awaiting.detail);
      this.#dropAwaiting();
    }
    this.#lastT0 = setMin;
    const win = windowS(this.options.selection);
    for (let c = 0; c < buffers.length; c++) this.#frames.passed(c, horizonIndex(buffers[c]!, t0, win));
    const perf = this.options.perfNow ?? (() => 0);
    const started = perf();
    const sel = selectFrames(this.#frames.buffers, t0, this.options.selection);
    if (!sel.ok) {
      this.#skip(sel.reason, sel.detail);
      return undefined;
    }
    const records = sel.indices.map((idx, c) => idx.map((i) => this.#frames.buffers[c]![i]!));
    this.#frames.hold(records.flat());
    return this.#tryHistory(t0, records, perf() - started);
  }

  /** Releases the frames of a cycle still waiting for odometry (their cause stays the last skip reason). */
  #dropAwaiting(): void {
    if (this.#awaiting) this.#frames.settle(this.#awaiting.records.flat(), 'cancelled');
    this.#awaiting = undefined;
  }

  /** Frames are held (acquired) from selection on: while waiting for odometry and then by the candidate. */
  #tryHistory(t0S: number, records: FrameRecord[][], selectMs = 0): Candidate | undefined {
    const perf = this.options.perfNow ?? (() => 0);
    const startS = t0S - (this.options.history.steps - 1) * this.options.history.dtS;
    if (this.#jumpS !== undefined) {
      if (startS < this.#jumpS - STAMP_EPS_S) {
        // The history window reaches back before the jump: only after 1.5 s of new odometry.
        this.#awaiting = undefined;
        this.#skip(
          'odometry_jump',
          `${this.#jumpDetail}; no plan until the history window starts after the jump ` +
            `(t0 >= ${(this.#jumpS + t0S - startS).toFixed(3)} s), t0=${t0S.toFixed(3)} s`,
        );
        this.#frames.settle(records.flat(), 'cancelled');
        return undefined;
      }
      this.#jumpS = undefined;
    }
    const started = perf();
    const h = buildEgoHistory(this.#odometry, t0S, this.options.history);
    const syncMs = selectMs + (perf() - started);
    if (!h.ok) {
      if (h.reason === 'odometry_missing' || h.reason === 'odometry_late') {
        // Odometry may still reach t0: wait for it until the next cycle.
        this.#awaiting = { t0S, records, reason: h.reason, detail: h.detail };
      } else {
        this.#awaiting = undefined;
        this.#skip(h.reason, h.detail);
        this.#frames.settle(records.flat(), 'cancelled');
      }
      return undefined;
    }
    this.#awaiting = undefined;
    this.#pruneOdometry(t0S);
    return {
      epoch: this.#epoch,
      records: records.flat(),
      syncMs,
      input: {
        t0S,
        frames: records.map((rs) => rs.map((r) => r.frame)),
        history: h.history,
        seed: this.options.seed,
        samples: this.options.samples,
      },
    };
  }

  /** Odometry older than the next history window can go (one sample before it is kept for interpolation). */
  #pruneOdometry(t0S: number): void {
    const start = t0S - (this.options.history.steps - 1) * this.options.history.dtS;
    let i = 0;
    while (i + 1 < this.#odometry.length && this.#odometry[i + 1]!.tS <= start) i++;
    if (i > 0) this.#odometry.splice(0, i);
  }

  #throttledSkip(reason: SkipReason, leadS: number, detail: string): void {
    if (leadS - this.#lastThrottledLead < this.options.skipPeriodS - STAMP_EPS_S) return;
    this.#lastThrottledLead = leadS;
    this.#skip(reason, detail);
  }

  #skip(reason: SkipReason, detail: string): void {
    this.#skipped.set(reason, (this.#skipped.get(reason) ?? 0) + 1);
    this.#lastSkip = { reason, detail };
    this.#frames.cycleSkipped(reason);
  }

  #countOdometryDrop(reason: string, detail: string): IngestResult {
    const n = (this.#odometryDropped.get(reason) ?? 0) + 1;
    this.#odometryDropped.set(reason, n);
    if (n !== 1 && n % ODOMETRY_WARN_EVERY !== 0) return {};
    return {
      odometryRefused: `odometry dropped (${reason}): ${detail} (${n} odometry message${n === 1 ? '' : 's'} dropped as ${reason} so far)`,
    };
  }
}

/**
 * The warnings an ingest result calls for, in order (without the node context): a refused camera message, a refused
 * odometry message (the first per reason, then every ODOMETRY_WARN_EVERY-th), the odometry cap, a full frame ring, an odometry jump, a time reset. `historyS` is the ego history span, for the jump message.
 */
export function ingestWarnings(r: IngestResult, historyS: number): string[] {
  const out: string[] = [];
  if (r.refused) out.push(r.refused);
  if (r.odometryRefused) out.push(r.odometryRefused);
  if (r.capped) out.push(`${r.capped}: raise odometry.buffer_size`);
  if (r.ringFull) out.push(r.ringFull);
  if (r.jump) {
    out.push(
      `odometry jumped (${r.jump}): odometry history cleared, no plan until ${historyS.toFixed(1)} s of history after the jump`,
    );
  }
  if (r.reset) out.push(`time went backwards (${r.reset}): buffers, history and the active plan cleared`);
  return out;
}
