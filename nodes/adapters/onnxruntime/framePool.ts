/**
 * Preallocated frame buffers: plan() copies the frames of one plan into a pooled ArrayBuffer which is transferred
 * (not cloned) to the worker and comes back after preprocessing. Buffers are only allocated when the pool is empty or
 * too small, so a steady plan rate allocates nothing frame-sized per cycle.
 */
export class FramePool {
  readonly #free: ArrayBuffer[] = [];
  #allocations = 0;
  #allocatedBytes = 0;

  constructor(initialBytes: number, count: number) {
    for (let i = 0; i < count; i++) this.#free.push(this.#alloc(initialBytes));
  }

  /** A buffer of at least `bytes`; the smallest free one that fits, else a new one. */
  acquire(bytes: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const b = this.#free[i]!;
      if (b.byteLength >= bytes && (best < 0 || b.byteLength < this.#free[best]!.byteLength)) best = i;
    }
    if (best >= 0) return this.#free.splice(best, 1)[0]!;
    if (this.#free.length > 0) this.#free.shift(); // too small: replaced by a bigger one
    return this.#alloc(bytes);
  }

  release(buffer: ArrayBuffer): void {
    if (buffer.byteLength > 0) this.#free.push(buffer);
  }

  /** Buffers allocated so far and their total size (a steady state shows no growth). */
  get stats(): { allocations: number; allocatedBytes: number; free: number } {
    return { allocations: this.#allocations, allocatedBytes: this.#allocatedBytes, free: this.#free.length };
  }

  #alloc(bytes: number): ArrayBuffer {
    this.#allocations++;
    this.#allocatedBytes += bytes;
    return new ArrayBuffer(bytes);
  }
}
