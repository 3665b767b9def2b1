/**
 * The FrameStore of the onnxruntime engine: per camera, a ring of SharedArrayBuffer slots that the inference worker
 * reads directly. A received frame is copied once, into a free slot, when it arrives; a plan then names its frames'
 * slots and nothing frame-sized is copied, allocated or transferred per plan. A slot is held by the frame's holder
 * (the planner's buffer, until its frame can no longer be selected) and by every plan using it (until the worker has
 * preprocessed it); only a slot nobody holds is written again. When every slot of a camera is held, admit() refuses
 * the frame and the caller counts it as dropped (frame_ring_full) — a frame is never overwritten in place.
 *
 * The one copy is made in 2 MiB slices between event-loop turns, starting when the frame is admitted (frames are
 * copied in arrival order; a compressed frame of at most one slice is copied at once): four 6 MB raw frames arriving
 * together would otherwise block the main thread for several ms. Until its copy is done a frame's slot is not
 * readable: plan() waits for its placement's `pending`. The admitted frame's source bytes must stay unchanged until
 * then (message buffers are fresh per message). A frame released before its copy finished is not copied further.
 * The copy's length is fixed when the frame is admitted (its data.length then). A copy that fails (its source shrank,
 * was detached or resized before the copy reached it) fails alone: its frame is unusable (placementOf throws, its
 * `pending` rejects with a FrameCopyError naming it; counted in stats.copyFailed) and the other copies go on.
 * admit() throws a TypeError for a frame whose data is not a Uint8Array (a caller's error, like a bad camera index;
 * undefined is kept for a full camera, which callers count as frame_ring_full).
 *
 * Slots are allocated on demand, up to slotsPerCamera per camera, each sized to the frame that first needs it (raw
 * frames all have the bundle's size; compressed ones vary, so their slots get 25 % headroom); a free slot too small
 * for a frame is replaced by a larger one.
 */
import type { CameraFrame, FrameStore, HeldFrame } from '../../core/planningEngine.js';

export interface RingSlot {
  readonly id: number;
  readonly camera: number;
  readonly buffer: SharedArrayBuffer;
  /** Holders: the admitted frame's holder and the plans reading it. */
  refs: number;
  /** Bumped on every write: (id, generation) names the slot's pixels exactly (the worker's preprocessing cache key). */
  generation: number;
}

export interface RingStats {
  /** Frames written into a slot, and their bytes (the one copy of each frame). */
  admitted: number;
  admittedBytes: number;
  /** Frames refused because every slot of their camera was held. */
  refused: number;
  /** Admitted frames whose copy failed (their source changed before it was copied): unusable, their plans fail. */
  copyFailed: number;
  /** Slots allocated so far and their total size (flat at a steady frame rate). */
  allocations: number;
  allocatedBytes: number;
}

/**
 * Where an admitted frame's bytes live (the slot and the write it came from), the frame handed out for them, and its
 * copy's progress: a frame is in up to framesPerCamera consecutive plans, and plan() runs too rarely (10 Hz) for V8 to
 * optimise it, so per-plan work on each of its 16 frames is what its time is made of.
 */
export interface Placement {
  readonly slot: RingSlot;
  readonly generation: number;
  /** The frame admit() handed out, frozen: its fields stay what they were when it was admitted. */
  readonly frame: CameraFrame;
  /** Resolves when the copy into the slot is done (rejects with a FrameCopyError if it failed); undefined once settled. */
  pending: Promise<void> | undefined;
  /** Why the copy failed: the frame is unusable. */
  failed?: FrameCopyError;
}

/** A frame's bytes could not be copied into shared memory (its source changed before the copy reached it). */
export class FrameCopyError extends Error {
  override readonly name = 'FrameCopyError';
}

/**
 * Copies src[at, at + n) into dst at `at`; throws when the source no longer holds those bytes (shrunk, detached, or
 * not bytes at all), so a copy never completes with fewer bytes than it promised.
 */
export function copySpan(dst: Uint8Array, src: Uint8Array, at: number, n: number): void {
  const part = src.subarray(at, at + n);
  if (part.length !== n)
    throw new RangeError(`its source holds ${src.length} bytes now, bytes ${at}..${at + n} were to be copied`);
  dst.set(part, at);
}

/** A copy into a slot still in progress: the placement's write. */
interface CopyJob {
  placement: Placement;
  src: Uint8Array;
  dst: Uint8Array;
  at: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: FrameCopyError) => void;
}

/** Bytes copied per event-loop turn: ~0.2–0.5 ms of memcpy. */
const COPY_SLICE_BYTES = 2 * 1024 * 1024;

const ALIGN = 64 * 1024;
/** Compressed frames vary in size: a new slot gets this much headroom over the frame that needs it. */
const HEADROOM = 1.25;

/** Counts of a ring that has done nothing yet. */
export function emptyRingStats(): RingStats {
  return { admitted: 0, admittedBytes: 0, refused: 0, copyFailed: 0, allocations: 0, allocatedBytes: 0 };
}

export class FrameRing implements FrameStore {
  readonly #cameras: RingSlot[][];
  /** Every view handed out by admit(), to the slot write it shows. */
  readonly #placements = new WeakMap<Uint8Array, Placement>();
  readonly #stats: RingStats = emptyRingStats();
  /** Slots replaced or closed, until no plan holds them (then the worker may drop its reference too). */
  #retired: RingSlot[] = [];
  #closed = false;
  /** Copies not finished yet, in admission order; pumped in slices between event-loop turns. */
  readonly #copies: CopyJob[] = [];
  #pumping = false;

  constructor(
    cameras: number,
    readonly slotsPerCamera: number,
    readonly nextId: () => number,
  ) {
    if (!(Number.isInteger(slotsPerCamera) && slotsPerCamera >= 1)) {
      throw new RangeError(`frame ring: slotsPerCamera: expected an integer >= 1, got ${slotsPerCamera}`);
    }
    this.#cameras = Array.from({ length: cameras }, () => []);
  }

  get stats(): RingStats {
    return { ...this.#stats };
  }

  /** Slots of a camera now held (by a frame holder or a plan). */
  held(camera: number): number {
    return (this.#cameras[camera] ?? []).filter((s) => s.refs > 0).length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  admit(camera: number, frame: CameraFrame): HeldFrame | undefined {
    const slots = this.#cameras[camera];
    if (!slots) throw new RangeError(`frame ring: camera ${camera}: expected 0..${this.#cameras.length - 1}`);
    if (!(frame.data instanceof Uint8Array)) {
      const found = frame.data === null ? 'null' : ((frame.data as object)?.constructor?.name ?? typeof frame.data);
      throw new TypeError(`frame ring: camera ${camera} (${frame.camera}): data: expected a Uint8Array, got ${found}`);
    }
    if (this.#closed) {
      this.#stats.refused++;
      return undefined;
    }
    const length = frame.data.length;
    let slot: RingSlot | undefined;
    let smallFree = -1;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (s.refs > 0) continue;
      if (s.buffer.byteLength >= length) {
        slot = s;
        break;
      }
      if (smallFree < 0) smallFree = i;
    }
    if (!slot) {
      const compressed = frame.encoding === 'jpeg' || frame.encoding === 'png';
      if (slots.length < this.slotsPerCamera) slot = this.#alloc(camera, length, compressed, slots);
      else if (smallFree >= 0) slot = this.#alloc(camera, length, compressed, slots, smallFree);
      else {
        this.#stats.refused++;
        return undefined;
      }
    }
    const view = new Uint8Array(slot.buffer, 0, length);
    slot.generation++;
    slot.refs = 1;
    const admitted: CameraFrame = Object.freeze({ ...frame, data: view });
    const placement: Placement = {
      slot,
      generation: slot.generation,
      frame: admitted,
      pending: undefined,
    };
    if (
      this.#copies.length === 0 &&
      length <= COPY_SLICE_BYTES &&
      (frame.encoding === 'jpeg' || frame.encoding === 'png')
    )
      view.set(frame.data);
    else {
      let resolve!: () => void, reject!: (e: FrameCopyError) => void;
      placement.pending = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const done = placement.pending;
      done.catch(() => {}); // a failed copy with no plan waiting is no unhandled rejection (stats.copyFailed counts it)
      this.#copies.push({ placement, src: frame.data, dst: view, at: 0, done, resolve, reject });
      this.#schedulePump();
    }
    this.#stats.admitted++;
    this.#stats.admittedBytes += length;
    this.#placements.set(view, placement);
    const held = slot;
    let released = false;
    return {
      frame: admitted,
      release: () => {
        if (!released) {
          released = true;
          this.unhold(held);
        }
      },
    };
  }

  /** Resolves when every admitted frame is copied or its copy failed (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#copies.length > 0) await this.#copies[this.#copies.length - 1]!.done.catch(() => {});
  }

  #schedulePump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    setImmediate(() => this.#pump());
  }

  /** Copies up to one slice, then yields to the event loop. A copy that throws fails alone; the pump goes on. */
  #pump(): void {
    let budget = COPY_SLICE_BYTES;
    try {
      while (budget > 0 && this.#copies.length > 0) {
        const j = this.#copies[0]!;
        const { slot, generation } = j.placement;
        if (slot.generation !== generation || slot.refs === 0) {
          // released before it was copied: nobody reads it
          this.#copies.shift();
          j.placement.pending = undefined;
          j.resolve();
          continue;
        }
        const end = Math.min(j.dst.length, j.at + budget);
        try {
          copySpan(j.dst, j.src, j.at, end - j.at);
        } catch (e) {
          this.#copies.shift();
          this.#failCopy(j, e);
          continue;
        }
        budget -= end - j.at;
        j.at = end;
        if (j.at >= j.dst.length) {
          this.#copies.shift();
          j.placement.pending = undefined;
          j.resolve();
        }
      }
    } finally {
      this.#pumping = false;
      if (this.#copies.length > 0) this.#schedulePump();
    }
  }

  #failCopy(j: CopyJob, e: unknown): void {
    const { slot, frame } = j.placement;
    const error = new FrameCopyError(
      `frame ring: ${frame.camera} frame at ${frame.stampS} s (slot ${slot.id}, camera ${slot.camera}): copying its ${j.dst.length} admitted bytes failed at byte ${j.at}: ${(e as Error)?.message ?? String(e)}; its frame is unusable`,
    );
    this.#stats.copyFailed++;
    j.placement.failed = error;
    j.placement.pending = undefined;
    j.reject(error);
  }

  /**
   * The slot an admitted frame's bytes are in, if `data` is a view admit() returned and its slot still holds that
   * write; undefined for other memory. Throws when the slot was written again since (its holder released it too early),
   * and the FrameCopyError of a frame whose copy failed.
   */
  placementOf(data: Uint8Array): Placement | undefined {
    const p = this.#placements.get(data);
    if (!p) return undefined;
    if (p.failed) throw p.failed;
    if (p.slot.generation !== p.generation || p.slot.refs === 0) {
      throw new RangeError(
        `frame ring: slot ${p.slot.id} (camera ${p.slot.camera}) was released before this plan; its frame is gone`,
      );
    }
    return p;
  }

  /** Whether `frame` is a frame admit() handed out (frozen: its fields are still what was admitted). */
  handedOut(frame: CameraFrame): boolean {
    return this.#placements.get(frame.data)?.frame === frame;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slots of this.#cameras) this.#retired.push(...slots.splice(0));
  }

  /** Ids of retired slots no plan holds any more (each returned once): the worker can forget their memory. */
  takeForgettable(): number[] {
    const free = this.#retired.filter((s) => s.refs === 0);
    if (free.length > 0) this.#retired = this.#retired.filter((s) => s.refs > 0);
    return free.map((s) => s.id);
  }

  /** Closed and nothing left to forget. */
  get finished(): boolean {
    return this.#closed && this.#retired.length === 0;
  }

  hold(slot: RingSlot): void {
    slot.refs++;
  }

  unhold(slot: RingSlot): void {
    if (slot.refs > 0) slot.refs--;
  }

  #alloc(camera: number, length: number, compressed: boolean, slots: RingSlot[], replace?: number): RingSlot {
    const bytes = Math.max(ALIGN, Math.ceil((length * (compressed ? HEADROOM : 1)) / ALIGN) * ALIGN);
    const slot: RingSlot = { id: this.nextId(), camera, buffer: new SharedArrayBuffer(bytes), refs: 0, generation: 0 };
    this.#stats.allocations++;
    this.#stats.allocatedBytes += bytes;
    if (replace === undefined) slots.push(slot);
    else {
      this.#retired.push(slots[replace]!);
      slots[replace] = slot;
    }
    return slot;
  }
}
