/**
 * How a plan's frames reach the worker's shared memory, on the main thread: a frame the engine's frame store holds is
 * named in place (its ring slot, held until the worker has read it); any other frame is copied into one pooled slot,
 * in 2 MiB slices with the event loop yielded between them: a plan's 16 full-HD frames are 100 MB, and one
 * synchronous copy blocked the main thread (and the 50 Hz command timer) for 12–68 ms (docs/performance.md).
 */
import type { CameraFrame } from '../../core/planningEngine.js';
import { BYTES_PER_PIXEL } from '../../ar1/planInput.js';
import type { PoolSlot } from './framePool.js';
import { copySpan, FrameCopyError, type FrameRing, type RingSlot } from './frameRing.js';
import { FRAME_FIELDS, writeFrameRow } from './protocol.js';

/** Frame bytes copied per event-loop turn: ~0.1–0.2 ms of memcpy. */
const COPY_SLICE_BYTES = 2 * 1024 * 1024;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What a plan holds until the worker has read its frames: a pool slot (copied frames) and ring slots. */
export interface PlanHold {
  pool?: PoolSlot;
  ring: RingSlot[];
  ringOf: FrameRing[];
}

/** A plan's frames placed: the table's rows of ring frames written, the frames still to copy named. */
export interface PlacedFrames {
  /** The plan's frame table (protocol.ts); the rows of frames to copy are written by copyIntoPool. */
  table: Float64Array;
  hold: PlanHold;
  /** Indexes of the frames outside every ring, the bytes copied of each (fixed when placed) and their sum. */
  copies: number[];
  copyLengths: number[];
  copyBytes: number;
  /** Receipt copies into ring slots still running: the plan goes to the worker once they are done. */
  receipts: Array<Promise<void>>;
}

/** Gives a plan's ring slots back (the pool slot is the engine's to release). */
export function unholdRing(hold: PlanHold): void {
  for (let i = 0; i < hold.ring.length; i++) hold.ringOf[i]!.unhold(hold.ring[i]!);
  hold.ring = [];
  hold.ringOf = [];
}

/**
 * Names and holds the frames that are in one of the rings; throws the ring's RangeError, holding nothing, for a frame
 * whose slot was released and written again.
 */
export function placeFrames(frames: readonly CameraFrame[], rings: readonly FrameRing[]): PlacedFrames {
  const placed: PlacedFrames = {
    table: new Float64Array(frames.length * FRAME_FIELDS),
    hold: { ring: [], ringOf: [] },
    copies: [],
    copyLengths: [],
    copyBytes: 0,
    receipts: [],
  };
  try {
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      let inRing = false;
      for (const ring of rings) {
        const p = ring.placementOf(f.data);
        if (!p) continue;
        ring.hold(p.slot);
        if (p.pending) placed.receipts.push(p.pending);
        placed.hold.ring.push(p.slot);
        placed.hold.ringOf.push(ring);
        writeFrameRow(placed.table, i, p.slot.id, f.data.byteOffset, f, p.generation);
        inRing = true;
        break;
      }
      if (!inRing) {
        const n = copyLength(f);
        placed.copies.push(i);
        placed.copyLengths.push(n);
        placed.copyBytes += n;
      }
    }
  } catch (e) {
    unholdRing(placed.hold);
    throw e;
  }
  return placed;
}

/**
 * A name for the bytes of a frame copied into the pool, by the identity of its data array (the worker's cache of
 * preprocessed frames keys copied frames by it, with the camera and stamp). The same array, handed in again for the
 * next plans, is the same frame: callers keep a frame's bytes unchanged while plans use it. Another array is another
 * frame, whatever its stamp and however alike its bytes: a sim reset that reuses stamps never gets old pixels.
 */
const copiedIds = new WeakMap<Uint8Array, number>();
let nextCopiedId = 0;
function copiedFrameId(data: Uint8Array): number {
  let id = copiedIds.get(data);
  if (id === undefined) {
    id = nextCopiedId++;
    copiedIds.set(data, id);
  }
  return id;
}

/**
 * The bytes of a checked frame (validatePlanInput) that are read: a raw frame's step × height rows (its data may be a
 * longer view: only what the image needs is copied), a compressed frame's data.
 */
function copyLength(f: CameraFrame): number {
  return BYTES_PER_PIXEL[f.encoding] > 0 ? f.step * f.height : f.data.length;
}

/**
 * Copies the frames placeFrames left to copy into `pool`, one after another (the lengths placeFrames fixed), and writes
 * their rows. A frame whose bytes can no longer be read (its buffer shrank or was detached
 * between slices) throws a FrameCopyError naming it.
 */
export async function copyIntoPool(
  pool: PoolSlot,
  frames: readonly CameraFrame[],
  placed: PlacedFrames,
): Promise<void> {
  const bytes = new Uint8Array(pool.buffer);
  let offset = 0;
  let sinceYield = 0;
  for (let c = 0; c < placed.copies.length; c++) {
    const i = placed.copies[c]!;
    const f = frames[i]!;
    const length = placed.copyLengths[c]!;
    const dst = bytes.subarray(offset, offset + length);
    for (let at = 0; at < length; at += COPY_SLICE_BYTES) {
      const end = Math.min(length, at + COPY_SLICE_BYTES);
      try {
        copySpan(dst, f.data, at, end - at);
      } catch (e) {
        throw new FrameCopyError(
          `${f.camera} frame at ${f.stampS} s: copying its ${length} bytes failed at byte ${at}: ${(e as Error)?.message ?? String(e)}`,
        );
      }
      sinceYield += end - at;
      if (sinceYield >= COPY_SLICE_BYTES) {
        sinceYield = 0;
        await nextTurn();
      }
    }
    writeFrameRow(placed.table, i, pool.id, offset, { ...f, data: dst }, -1 - copiedFrameId(f.data));
    offset += length;
  }
}
