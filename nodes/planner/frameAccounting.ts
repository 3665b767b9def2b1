import type { CameraFrame } from '../core/planningEngine.js';
import { STAMP_EPS_S } from '../core/time.js';

/**
 * Frame accounting, pure (no I/O, no clock): the one place that decides what happens to a camera frame and, when it
 * is not planned, why. Every frame received is in exactly one state at every moment:
 * received = planned + dropped + waiting. Callers report events (a message refused, a frame arriving, a cycle
 * skipped, a plan settled, a time reset, shutdown); the per-camera buffers and the reasons are private to this module.
 */

/** Why a planning cycle produced no input (frame selection, ego history, skew); its frames inherit the reason. */
const SKIP_REASONS = [
  'camera_missing',
  'camera_stale',
  'frame_missing',
  'frame_too_old',
  'odometry_missing',
  'odometry_late',
  'odometry_gap',
  'odometry_jump',
  'history_short',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Why a camera message was refused before it reached a buffer (its encoding, size or shape). */
export type MessageProblem = 'bad_encoding' | 'bad_size' | 'bad_message';

/**
 * Every reason a frame can be dropped with:
 * - at receipt: bad_encoding, bad_size, bad_message, out_of_order, frame_ring_full (every shared-memory slot of its
 *   camera still held by buffered frames and plans; the engine's FrameStore)
 * - when it leaves the buffer unplanned: unused (never selected), buffer_full, superseded (its input was replaced
 *   by a newer one while a plan ran), engine_error (its plan failed or its result was refused), bad_image (the
 *   engine refused this frame, e.g. bytes that do not decode: it leaves its buffer at once, so that it fails one
 *   plan, not every plan it would be selected for), plan_timeout (its plan ran past plan_timeout_s), or the reason of the last skipped
 *   cycle (SKIP_REASONS)
 * - forced: time_reset (timeline cleared), shutdown (node stopped)
 * - end_of_bag: still waiting when a replay ended (counted by the replay report, see droppedAtEnd)
 */
export const DROP_REASONS = [
  'bad_encoding',
  'bad_size',
  'bad_message',
  'out_of_order',
  'frame_ring_full',
  'unused',
  'buffer_full',
  'superseded',
  'engine_error',
  'bad_image',
  'plan_timeout',
  'time_reset',
  'shutdown',
  'end_of_bag',
  ...SKIP_REASONS,
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * How the plan of an input ended, as the planner wiring reports it:
 * - completed: published; its frames count as planned
 * - failed: the engine failed, or its result was refused (engine_error); when the engine named one frame as the
 *   cause (`bad` of settle), that frame drops as bad_image; the others stay usable by later inputs
 * - timed_out: abandoned after plan_timeout_s (plan_timeout)
 * - superseded: replaced by a newer input before it started (superseded)
 * - cancelled: never planned (the loop stopped, it waited for odometry that never came, or it belongs to a
 *   timeline a reset cleared); its frames keep the reason they already have
 */
export type PlanOutcome = 'completed' | 'failed' | 'timed_out' | 'superseded' | 'cancelled';

/** A frame in the accounting; inputs hold these and hand them back when their plan settles. */
export interface FrameRecord {
  readonly camera: number;
  readonly frame: CameraFrame;
  readonly stampS: number;
  /** Part of an input whose plan completed. */
  planned: boolean;
  /** Inputs (pending or in flight) holding this frame. */
  refs: number;
  /** Still in its camera buffer. */
  live: boolean;
  /** Last reason it was not used (tagged by skipped cycles, superseded or failed inputs). */
  cause?: DropReason;
  /** Overrides every other reason (time_reset, shutdown). */
  forced?: DropReason;
  /** Counted as dropped. */
  counted: boolean;
  /** Called once when the frame can no longer be used (out of its buffer and held by no input): frees its memory. */
  onFree?: (() => void) | undefined;
}

export interface FrameCounts {
  received: number;
  planned: number;
  waiting: number;
  dropped: Record<string, number>;
}

/** Where a well-formed frame's stamp puts it against the newest of its camera. */
export type Arrival = 'in_order' | 'out_of_order' | 'time_reset';

/**
 * A stamp against the newest of its stream: newer (beyond STAMP_EPS_S) is in order; older by more than
 * `resetThresholdS` starts a new timeline; anything else (a small step back, a duplicate) is out of order.
 */
export function stampOrder(newestS: number | undefined, stampS: number, resetThresholdS: number): Arrival {
  if (newestS === undefined || stampS > newestS + STAMP_EPS_S) return 'in_order';
  return newestS - stampS > resetThresholdS ? 'time_reset' : 'out_of_order';
}

/**
 * Frames still waiting when a replay ends count as dropped with reason end_of_bag, so that
 * received = planned + Σ dropped. Reasons sorted, zero counts left out.
 */
export function droppedAtEnd(frames: { dropped: Record<string, number>; waiting: number }): Record<string, number> {
  const dropped: Record<string, number> = {};
  for (const k of Object.keys(frames.dropped).sort()) if (frames.dropped[k]! > 0) dropped[k] = frames.dropped[k]!;
  const endOfBag: DropReason = 'end_of_bag';
  if (frames.waiting > 0) dropped[endOfBag] = (dropped[endOfBag] ?? 0) + frames.waiting;
  return dropped;
}

/** Per-camera bounded frame buffers with exact accounting of every frame received. */
export class FrameAccounting {
  readonly #buffers: FrameRecord[][];
  readonly #held = new Set<FrameRecord>();
  readonly #dropped = new Map<string, number>();
  #received = 0;
  #planned = 0;
  #waiting = 0;

  constructor(
    cameras: number,
    readonly capacity: number,
    /** [s] a frame this far behind its camera's newest starts a new timeline instead of dropping as out_of_order. */
    readonly resetThresholdS: number,
  ) {
    if (!(capacity >= 1)) throw new RangeError(`FrameAccounting: capacity: expected >= 1 frames, got ${capacity}`);
    this.#buffers = Array.from({ length: cameras }, () => []);
  }

  /** The buffered frames per camera, oldest first (read only: for frame selection). */
  get buffers(): ReadonlyArray<ReadonlyArray<FrameRecord>> {
    return this.#buffers;
  }

  newestStamp(camera: number): number | undefined {
    const b = this.#buffers[camera]!;
    return b[b.length - 1]?.stampS;
  }

  /** A camera message failed its check: counted as received and dropped with the problem. */
  messageRefused(problem: MessageProblem): void {
    this.#refuse(problem);
  }

  /**
   * A well-formed frame arrives. 'out_of_order': it is dropped, nothing else to do. 'time_reset': the caller starts
   * a new timeline (timeReset), then admits it. 'in_order': the caller admits it.
   */
  frameArrived(camera: number, stampS: number): Arrival {
    const order = stampOrder(this.newestStamp(camera), stampS, this.resetThresholdS);
    if (order === 'out_of_order') this.#refuse('out_of_order');
    return order;
  }

  /** The engine's frame store had no free slot for the frame: dropped on arrival. */
  storeFull(): void {
    this.#refuse('frame_ring_full');
  }

  /** Buffers a frame (stamps must increase per camera); the oldest beyond capacity leaves as buffer_full. */
  admit(camera: number, frame: CameraFrame, onFree?: () => void): FrameRecord {
    const rec: FrameRecord = {
      camera,
      frame,
      stampS: frame.stampS,
      planned: false,
      refs: 0,
      live: true,
      counted: false,
      onFree,
    };
    this.#received++;
    this.#waiting++;
    const b = this.#buffers[camera]!;
    b.push(rec);
    while (b.length > this.capacity) this.#leave(b.shift()!, 'buffer_full');
    return rec;
  }

  /** The oldest `count` frames of a camera fell behind the selection window: they can never be selected again. */
  passed(camera: number, count: number): void {
    const b = this.#buffers[camera]!;
    for (const rec of b.splice(0, count)) this.#leave(rec, 'unused');
  }

  /** A cycle was skipped: every buffered, unplanned frame takes its reason (kept unless a later event replaces it). */
  cycleSkipped(reason: SkipReason): void {
    for (const b of this.#buffers) for (const rec of b) if (!rec.planned) rec.cause = reason;
  }

  /** An input was built from these frames: they stay waiting until it settles. */
  hold(records: Iterable<FrameRecord>): void {
    for (const rec of records) {
      rec.refs++;
      this.#held.add(rec);
    }
  }

  /**
   * The input holding these frames settled with `outcome`. `bad` (one of `records`, only with 'failed'): the frame
   * the engine refused; it leaves its buffer now and drops as bad_image (no later input may use it, and inputs
   * already holding it are not planned: hasBadFrame); the plan's other frames stay in their buffers for the next
   * inputs, and only those never planned later drop as engine_error.
   */
  settle(records: Iterable<FrameRecord>, outcome: PlanOutcome, bad?: FrameRecord): void {
    if (bad && outcome === 'failed') {
      if (!bad.planned && !bad.counted) bad.forced ??= 'bad_image';
      if (bad.live) {
        const b = this.#buffers[bad.camera]!;
        const i = b.indexOf(bad);
        if (i >= 0) b.splice(i, 1);
        this.#leave(bad, 'bad_image');
      }
    }
    for (const rec of records) {
      if (rec.refs > 0) rec.refs--;
      if (rec.refs === 0) this.#held.delete(rec);
      if (!rec.planned && !rec.counted) {
        if (outcome === 'completed' && rec.forced === undefined) {
          rec.planned = true;
          this.#planned++;
          this.#waiting--;
        } else if (outcome === 'failed' && rec !== bad) rec.cause = 'engine_error';
        else if (outcome === 'timed_out') rec.cause = 'plan_timeout';
        else if (outcome === 'superseded') rec.cause = 'superseded';
      }
      this.#settle(rec);
    }
  }

  /** The engine refused one of these frames (settle's `bad`): an input holding it is not to be planned. */
  hasBadFrame(records: Iterable<FrameRecord>): boolean {
    for (const rec of records) if (rec.forced === 'bad_image') return true;
    return false;
  }

  /** Time went backwards: every buffer is emptied (time_reset); held frames drop as time_reset when they settle. */
  timeReset(): void {
    this.#clear('time_reset');
  }

  /** The node stopped: every frame still waiting, held or not, drops as shutdown now; later settles are no-ops. */
  shutdown(): void {
    this.#clear('shutdown');
    for (const rec of this.#held) {
      rec.refs = 0;
      this.#settle(rec);
    }
    this.#held.clear();
  }

  counts(): FrameCounts {
    return {
      received: this.#received,
      planned: this.#planned,
      waiting: this.#waiting,
      dropped: Object.fromEntries(this.#dropped),
    };
  }

  /** Recounts waiting frames from the buffers and held inputs (tests check it against counts().waiting). */
  recountWaiting(): number {
    const seen = new Set<FrameRecord>();
    for (const b of this.#buffers) for (const rec of b) seen.add(rec);
    for (const rec of this.#held) seen.add(rec);
    let n = 0;
    for (const rec of seen) if (!rec.planned && !rec.counted) n++;
    return n;
  }

  #refuse(reason: DropReason): void {
    this.#received++;
    this.#drop(reason);
  }

  #clear(reason: DropReason): void {
    for (const rec of this.#held) rec.forced = reason;
    for (const b of this.#buffers)
      for (const rec of b.splice(0)) {
        rec.forced = reason;
        this.#leave(rec, reason);
      }
  }

  #leave(rec: FrameRecord, reason: DropReason): void {
    rec.live = false;
    if (rec.cause === undefined || (reason === 'buffer_full' && rec.cause === 'unused')) rec.cause = reason;
    this.#settle(rec);
  }

  #settle(rec: FrameRecord): void {
    if (!rec.live && rec.refs === 0 && rec.onFree) {
      const free = rec.onFree;
      rec.onFree = undefined;
      free();
    }
    if (rec.live || rec.refs > 0 || rec.planned || rec.counted) return;
    rec.counted = true;
    this.#waiting--;
    this.#drop(rec.forced ?? rec.cause ?? 'unused');
  }

  #drop(reason: DropReason): void {
    this.#dropped.set(reason, (this.#dropped.get(reason) ?? 0) + 1);
  }
}
