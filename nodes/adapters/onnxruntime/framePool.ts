/**
 * Preallocated frame buffers shared with the inference worker, for frames that are not in a ring slot
 * (frameRing.ts; the planner's frames are): plan() copies the frames of one plan into a pooled
 * SharedArrayBuffer slot and hands the worker the slot's id (the buffer itself only the first time that worker sees
 * the slot); the worker gives the slot back after preprocessing. Nothing frame-sized is allocated, copied or
 * transferred per cycle. Transferring a 100 MB ArrayBuffer back and forth every plan (the first design) made V8 count
 * 100 MB of new external memory per plan in both threads, and the resulting "external memory pressure" mark-compacts
 * blocked the main thread for 5–20 ms (measured with --trace-gc; docs/performance.md).
 */
export interface PoolSlot {
  readonly id: number;
  readonly buffer: SharedArrayBuffer;
}

export class FramePool {
  readonly #free: PoolSlot[] = [];
  /** Ids of free slots replaced by bigger ones, until takeDropped(): the worker may drop its reference too. */
  #dropped: number[] = [];
  #allocations = 0;
  #allocatedBytes = 0;
  readonly #nextId: () => number;

  /** `nextId` numbers the slots (the engine shares one numbering between pool and ring slots). */
  constructor(initialBytes: number, count: number, nextId?: () => number) {
    let n = 1;
    this.#nextId = nextId ?? (() => n++);
    for (let i = 0; i < count; i++) this.#free.push(this.#alloc(initialBytes));
  }

  /** A slot of at least `bytes`; the smallest free one that fits, else a new one. */
  acquire(bytes: number): PoolSlot {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const b = this.#free[i]!;
      if (b.buffer.byteLength >= bytes && (best < 0 || b.buffer.byteLength < this.#free[best]!.buffer.byteLength))
        best = i;
    }
    if (best >= 0) return this.#free.splice(best, 1)[0]!;
    const small = this.#free.shift(); // too small: replaced by a bigger one
    if (small) this.#dropped.push(small.id);
    return this.#alloc(bytes);
  }

  /** Ids of the slots dropped since the last call (each returned once): the worker can forget their memory. */
  takeDropped(): number[] {
    const ids = this.#dropped;
    if (ids.length > 0) this.#dropped = [];
    return ids;
  }

  release(slot: PoolSlot): void {
    if (!this.#free.includes(slot)) this.#free.push(slot);
  }

  /** Slots allocated so far and their total size (a steady state shows no growth). */
  get stats(): { allocations: number; allocatedBytes: number; free: number } {
    return { allocations: this.#allocations, allocatedBytes: this.#allocatedBytes, free: this.#free.length };
  }

  #alloc(bytes: number): PoolSlot {
    this.#allocations++;
    this.#allocatedBytes += bytes;
    return { id: this.#nextId(), buffer: new SharedArrayBuffer(bytes) };
  }
}
