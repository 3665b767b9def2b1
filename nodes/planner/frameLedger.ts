import type { CameraFrame } from '../core/planningEngine.js';

/**
 * Why a camera frame was not planned. A frame counts once: received = planned + dropped + waiting, always.
 * - at receipt: bad_encoding, bad_size, bad_message, out_of_order, frame_ring_full (every shared-memory slot of its
 *   camera still held by buffered frames and plans; the engine's FrameStore)
 * - when it leaves the buffer unplanned: unused (never selected), buffer_full, superseded (its input was replaced
 *   by a newer one while a plan ran), engine_error (its plan failed), plan_timeout (its plan ran past plan_timeout_s),
 *   or the reason of the last skipped cycle (camera_missing, camera_stale, frame_missing, frame_too_old, odometry_*
 *   including odometry_jump, history_short)
 * - forced: time_reset (timeline cleared), shutdown (node stopped)
 */
export type DropReason =
  | 'bad_encoding'
  | 'bad_size'
  | 'bad_message'
  | 'out_of_order'
  | 'frame_ring_full'
  | 'unused'
  | 'buffer_full'
  | 'superseded'
  | 'engine_error'
  | 'plan_timeout'
  | 'time_reset'
  | 'shutdown'
  | SkipReason;

/** Why a planning cycle produced no input. */
export type SkipReason =
  | 'camera_missing'
  | 'camera_stale'
  | 'frame_missing'
  | 'frame_too_old'
  | 'odometry_missing'
  | 'odometry_late'
  | 'odometry_gap'
  | 'odometry_jump'
  | 'history_short';

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

export type ReleaseOutcome = 'completed' | 'failed' | 'timed_out' | 'superseded' | 'cancelled';

export interface LedgerCounts {
  received: number;
  planned: number;
  waiting: number;
  dropped: Record<string, number>;
}

/** Per-camera bounded frame buffers with exact accounting of every frame received. No I/O, no clock. */
export class FrameLedger {
  readonly #buffers: FrameRecord[][];
  readonly #held = new Set<FrameRecord>();
  readonly #dropped = new Map<string, number>();
  #received = 0;
  #planned = 0;
  #waiting = 0;

  constructor(
    cameras: number,
    readonly capacity: number,
  ) {
    if (!(capacity >= 1)) throw new RangeError(`FrameLedger: capacity: expected >= 1 frames, got ${capacity}`);
    this.#buffers = Array.from({ length: cameras }, () => []);
  }

  get buffers(): ReadonlyArray<ReadonlyArray<FrameRecord>> {
    return this.#buffers;
  }

  newestStamp(camera: number): number | undefined {
    const b = this.#buffers[camera]!;
    return b[b.length - 1]?.stampS;
  }

  /** A frame refused at receipt. */
  reject(reason: DropReason): void {
    this.#received++;
    this.#drop(reason);
  }

  /** Appends a frame (stamps must increase per camera); evicts the oldest beyond capacity. */
  add(camera: number, frame: CameraFrame, onFree?: () => void): FrameRecord {
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

  /** Removes the oldest `count` frames of a camera (they can never be selected again). */
  retire(camera: number, count: number): void {
    const b = this.#buffers[camera]!;
    for (const rec of b.splice(0, count)) this.#leave(rec, 'unused');
  }

  acquire(records: Iterable<FrameRecord>): void {
    for (const rec of records) {
      rec.refs++;
      this.#held.add(rec);
    }
  }

  release(records: Iterable<FrameRecord>, outcome: ReleaseOutcome): void {
    for (const rec of records) {
      if (rec.refs > 0) rec.refs--;
      if (rec.refs === 0) this.#held.delete(rec);
      if (!rec.planned && !rec.counted) {
        if (outcome === 'completed' && rec.forced === undefined) {
          rec.planned = true;
          this.#planned++;
          this.#waiting--;
        } else if (outcome === 'failed') rec.cause = 'engine_error';
        else if (outcome === 'timed_out') rec.cause = 'plan_timeout';
        else if (outcome === 'superseded') rec.cause = 'superseded';
      }
      this.#settle(rec);
    }
  }

  /** Tags every buffered, unplanned frame with the reason a cycle was skipped. */
  tag(reason: DropReason): void {
    for (const b of this.#buffers) for (const rec of b) if (!rec.planned) rec.cause = reason;
  }

  /**
   * Empties every buffer with a forced reason. Frames held by inputs settle when released; with
   * `releaseHeld` (shutdown) they are settled now and later releases are no-ops.
   */
  clear(reason: DropReason, releaseHeld = false): void {
    for (const rec of this.#held) rec.forced = reason;
    for (const b of this.#buffers)
      for (const rec of b.splice(0)) {
        rec.forced = reason;
        this.#leave(rec, reason);
      }
    if (releaseHeld) {
      for (const rec of this.#held) {
        rec.refs = 0;
        this.#settle(rec);
      }
      this.#held.clear();
    }
  }

  counts(): LedgerCounts {
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
