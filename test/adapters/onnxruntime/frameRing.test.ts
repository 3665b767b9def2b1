import { expect } from 'chai';
import type { CameraFrame } from '../../../nodes/core/planningEngine.js';
import { FrameCopyError, FrameRing } from '../../../nodes/adapters/onnxruntime/frameRing.js';

const frame = (
  camera: string,
  stampS: number,
  bytes: number,
  fill: number,
  encoding: CameraFrame['encoding'] = 'rgb8',
): CameraFrame => ({ camera, stampS, encoding, width: 0, height: 0, step: 0, data: new Uint8Array(bytes).fill(fill) });

/** A resizable ArrayBuffer (ES2024: newer than this project's TypeScript lib). */
type Resizable = ArrayBuffer & { resize(bytes: number): void };
const resizable = (bytes: number, maxByteLength: number): Resizable =>
  new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(bytes, { maxByteLength });

describe('FrameRing: per-camera shared slots, written once, never overwritten while held', () => {
  const ids = () => {
    let n = 1;
    return () => n++;
  };

  it('admit copies the frame once into shared memory and returns a frame viewing it', async () => {
    const ring = new FrameRing(2, 3, ids());
    const src = frame('a', 1, 1000, 7);
    const held = ring.admit(0, src)!;
    await ring.settled();
    expect(held.frame.data.buffer).to.be.instanceOf(SharedArrayBuffer);
    expect(held.frame.data).to.not.equal(src.data);
    expect([...held.frame.data]).to.deep.equal([...src.data]);
    expect({ ...held.frame, data: null }).to.deep.equal({ ...src, data: null });
    src.data.fill(9); // the caller's buffer is free the moment admit returns
    expect(held.frame.data[0]).to.equal(7);
    expect(ring.stats).to.include({ admitted: 1, admittedBytes: 1000, refused: 0, allocations: 1 });
  });

  it('an exhausted camera refuses the frame (counted) instead of overwriting a held slot; other cameras are unaffected', async () => {
    const ring = new FrameRing(2, 2, ids());
    const a = ring.admit(0, frame('a', 1, 100, 1))!;
    const b = ring.admit(0, frame('a', 2, 100, 2))!;
    expect(ring.admit(0, frame('a', 3, 100, 3))).to.equal(undefined);
    await ring.settled();
    expect(ring.stats.refused).to.equal(1);
    expect([...a.frame.data.subarray(0, 3)]).to.deep.equal([1, 1, 1]);
    expect([...b.frame.data.subarray(0, 3)]).to.deep.equal([2, 2, 2]);
    expect(ring.admit(1, frame('b', 1, 100, 4))).to.not.equal(undefined);
    a.release();
    a.release(); // idempotent
    const c = ring.admit(0, frame('a', 3, 100, 3))!;
    expect(c.frame.data.buffer).to.equal(a.frame.data.buffer); // a's slot, reused
    expect(ring.stats.allocations).to.equal(3);
  });

  it('a slot held by a plan outlives its holder: not reused until the plan lets go', () => {
    const ring = new FrameRing(1, 1, ids());
    const a = ring.admit(0, frame('a', 1, 100, 1))!;
    const p = ring.placementOf(a.frame.data)!;
    ring.hold(p.slot); // a plan reads it
    a.release();
    expect(ring.admit(0, frame('a', 2, 100, 2))).to.equal(undefined);
    ring.unhold(p.slot);
    expect(ring.admit(0, frame('a', 2, 100, 2))).to.not.equal(undefined);
  });

  it('placementOf: undefined for memory not from admit, an error for a frame whose slot was released and written again', () => {
    const ring = new FrameRing(1, 1, ids());
    expect(ring.placementOf(new Uint8Array(10))).to.equal(undefined);
    const a = ring.admit(0, frame('a', 1, 100, 1))!;
    const first = ring.placementOf(a.frame.data)!;
    a.release();
    expect(() => ring.placementOf(a.frame.data)).to.throw(/slot \d+ \(camera 0\) was released before this plan/);
    const b = ring.admit(0, frame('a', 2, 100, 2))!;
    const second = ring.placementOf(b.frame.data)!;
    expect(second.slot).to.equal(first.slot);
    expect(second.generation).to.equal(first.generation + 1); // a new cache key for the worker
  });

  it('slots are sized by the frames: raw exactly (64 KiB aligned), compressed with headroom; a free slot too small is replaced', () => {
    const ring = new FrameRing(1, 1, ids());
    const raw = ring.admit(0, frame('a', 1, 200_000, 1))!;
    expect(raw.frame.data.buffer.byteLength).to.equal(Math.ceil(200_000 / 65536) * 65536);
    raw.release();
    const jpeg = ring.admit(0, frame('a', 2, 300_000, 1, 'jpeg'))!;
    expect(jpeg.frame.data.buffer.byteLength).to.equal(Math.ceil(375_000 / 65536) * 65536);
    expect(ring.placementOf(jpeg.frame.data)!.slot.id).to.not.equal(1);
    jpeg.release();
    const smaller = ring.admit(0, frame('a', 3, 310_000, 1, 'jpeg'))!; // fits the headroom: no new slot
    expect(smaller.frame.data.buffer).to.equal(jpeg.frame.data.buffer);
    expect(ring.stats.allocations).to.equal(2);
  });

  it('raw frames are copied in 2 MiB slices between event-loop turns, in arrival order; a placement is pending until copied', async () => {
    const ring = new FrameRing(2, 2, ids());
    const big = 5 * 1024 * 1024 + 10;
    const a = ring.admit(0, frame('a', 1, big, 1))!;
    const b = ring.admit(1, frame('b', 1, big, 2))!;
    const pa = ring.placementOf(a.frame.data)!.pending!;
    const pb = ring.placementOf(b.frame.data)!.pending!;
    expect(pa).to.be.instanceOf(Promise);
    expect(a.frame.data[big - 1]).to.equal(0); // not copied yet: nothing blocked the caller
    let turns = 0;
    const ticker = setInterval(() => {
      turns++;
    }, 0);
    let aDoneFirst = false;
    await Promise.all([
      pa.then(() => {
        aDoneFirst = b.frame.data[big - 1] === 0;
      }),
      pb,
    ]);
    clearInterval(ticker);
    expect(aDoneFirst, 'copies run in arrival order').to.equal(true);
    expect(a.frame.data[big - 1]).to.equal(1);
    expect(b.frame.data[big - 1]).to.equal(2);
    expect(turns, 'timers ran between the slices').to.be.greaterThan(0);
    expect(ring.placementOf(a.frame.data)!.pending).to.equal(undefined);
    // A compressed frame of at most one slice is copied at once.
    const jpeg = ring.admit(0, frame('a', 2, 1000, 9, 'jpeg'))!;
    expect(jpeg.frame.data[999]).to.equal(9);
    // A frame released before its copy finished is not copied further; its slot is free.
    a.release();
    const c = ring.admit(1, frame('b', 2, big, 3))!;
    b.release();
    c.release();
    await ring.settled();
    expect(c.frame.data[big - 1]).to.not.equal(3);
  });

  it('close: admit refuses; slots are forgettable (once each) when no plan holds them, replaced slots too', () => {
    const ring = new FrameRing(1, 2, ids());
    const a = ring.admit(0, frame('a', 1, 100, 1))!;
    const p = ring.placementOf(a.frame.data)!;
    const b = ring.admit(0, frame('a', 2, 100, 2))!;
    b.release();
    const big = ring.admit(0, frame('a', 3, 100_000, 3))!; // b's slot is too small: replaced, the old one retired
    expect(ring.takeForgettable()).to.deep.equal([2]);
    expect(ring.takeForgettable()).to.deep.equal([]);
    ring.hold(p.slot); // a plan reads a's slot
    a.release();
    big.release();
    ring.close();
    expect(ring.admit(0, frame('a', 4, 100, 4))).to.equal(undefined);
    expect(ring.takeForgettable()).to.deep.equal([3]);
    expect(ring.finished).to.equal(false);
    ring.unhold(p.slot);
    expect(ring.takeForgettable()).to.deep.equal([1]);
    expect(ring.finished).to.equal(true);
  });

  it('refuses a frame whose data is not a Uint8Array (TypeError naming the camera and what it got); later copies go on', async () => {
    const ring = new FrameRing(2, 2, ids());
    const bad = { ...frame('a', 1, 10, 1), data: new Array(300).fill(1) as unknown as Uint8Array };
    expect(() => ring.admit(0, bad)).to.throw(TypeError, /camera 0 \(a\): data: expected a Uint8Array, got Array/);
    const none = { ...frame('a', 1, 10, 1), data: undefined as unknown as Uint8Array };
    expect(() => ring.admit(0, none)).to.throw(TypeError, /got undefined/);
    expect(ring.stats).to.include({ admitted: 0, refused: 0 });
    expect(ring.held(0)).to.equal(0);
    const b = ring.admit(1, frame('b', 1, 300, 7))!;
    await ring.settled();
    expect([...b.frame.data.subarray(0, 3)]).to.deep.equal([7, 7, 7]);
  });

  it("the copy's length is fixed at admission: a source that grows after admit is copied as admitted", async () => {
    const ring = new FrameRing(2, 2, ids());
    const rab = resizable(1000, 4 * 2 ** 20);
    const src = new Uint8Array(rab); // length-tracking: grows with its buffer
    src.fill(5);
    const a = ring.admit(0, { ...frame('a', 1, 0, 0), data: src })!;
    rab.resize(3 * 2 ** 20); // the caller changed its buffer before the sliced copy ran
    const b = ring.admit(1, frame('b', 1, 300, 7))!;
    await ring.settled();
    expect(a.frame.data.length).to.equal(1000);
    expect(a.frame.data.every((v) => v === 5)).to.equal(true);
    expect([...b.frame.data.subarray(0, 3)]).to.deep.equal([7, 7, 7]);
    expect(ring.stats).to.include({ admitted: 2, admittedBytes: 1300, copyFailed: 0 });
  });

  it('a copy that fails (its source shrank before it was copied) fails alone: its frame unusable, counted, its waiters rejected; the pump goes on', async () => {
    const ring = new FrameRing(2, 2, ids());
    const big = 5 * 2 ** 20; // three slices: the copy is still running when its source shrinks
    const rab = resizable(big, big);
    const src = new Uint8Array(rab, 0, big);
    src.fill(4);
    const a = ring.admit(0, { ...frame('a', 1, 0, 0), data: src })!;
    const pending = ring.placementOf(a.frame.data)!.pending!;
    const b = ring.admit(1, frame('b', 1, 300, 7))!;
    await new Promise((r) => setImmediate(r)); // one slice of a copied
    rab.resize(1000);
    const failure = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).to.be.instanceOf(FrameCopyError);
    expect((failure as Error).message).to.match(
      /a frame at 1 s \(slot 1, camera 0\): copying its 5242880 admitted bytes failed at byte 2097152/,
    );
    await ring.settled();
    expect(() => ring.placementOf(a.frame.data)).to.throw(FrameCopyError, /its frame is unusable/);
    expect(ring.stats.copyFailed).to.equal(1);
    expect([...b.frame.data.subarray(0, 3)]).to.deep.equal([7, 7, 7]);
    expect(ring.placementOf(b.frame.data)!.pending).to.equal(undefined);
    // The failed frame's slot is its holder's until released, then written again as usual.
    a.release();
    const c = ring.admit(0, frame('a', 2, 300, 9))!;
    await ring.settled();
    expect(c.frame.data.buffer).to.equal(a.frame.data.buffer);
    expect(ring.placementOf(c.frame.data)!.pending).to.equal(undefined);
    expect([...c.frame.data.subarray(0, 3)]).to.deep.equal([9, 9, 9]);
  });

  it('refuses a bad size or camera index', () => {
    expect(() => new FrameRing(1, 0, ids())).to.throw(/slotsPerCamera: expected an integer >= 1, got 0/);
    expect(() => new FrameRing(1, 2, ids()).admit(3, frame('a', 1, 1, 1))).to.throw(/camera 3: expected 0\.\.0/);
  });
});
