import { expect } from 'chai';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import sinon from 'sinon';
import { Worker } from 'node:worker_threads';
import { createOnnxEngine } from '../../../nodes/adapters/onnxruntime/index.js';
import { FramePool } from '../../../nodes/adapters/onnxruntime/framePool.js';
import type { OnnxEngine } from '../../../nodes/adapters/onnxruntime/index.js';
import { EngineError } from '../../../nodes/core/planningEngine.js';
import type { CameraFrame, PlanInput, PlanResult } from '../../../nodes/core/planningEngine.js';
import { MemoryLogger } from '../../../nodes/core/logger.js';
import { makeDemoBundle } from '../../../nodes/syntheticBundles/demoBundle.js';
import { GraphBuilder } from '../../../nodes/syntheticBundles/graphBuilder.js';
import { replaceFile } from '../../bundle/bundleFixtures.js';

const W = 320,
  H = 180;

/** A resizable ArrayBuffer (ES2024: newer than this project's TypeScript lib). */
type Resizable = ArrayBuffer & { resize(bytes: number): void };
const resizable = (bytes: number, maxByteLength: number): Resizable =>
  new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(bytes, { maxByteLength });

/** A road scene: grey, with the left half brighter by `lean` (the demo steers toward the brighter side). */
function frame(camera: string, k: number, lean: number, level = 110): CameraFrame {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      data.fill(x < W / 2 ? level + lean : level - lean, (y * W + x) * 3, (y * W + x) * 3 + 3);
  return { camera, stampS: 10 + (k - 3) * 0.1, encoding: 'rgb8', width: W, height: H, step: W * 3, data };
}
function history(v: number, yawRate = 0) {
  const x = new Float64Array(16),
    y = new Float64Array(16),
    yaw = new Float64Array(16);
  for (let i = 0; i < 16; i++) {
    const s = (i - 15) * v * 0.1;
    const k = v > 0 ? yawRate / v : 0;
    if (k === 0) x[i] = s;
    else {
      x[i] = Math.sin(k * s) / k;
      y[i] = (1 - Math.cos(k * s)) / k;
      yaw[i] = k * s;
    }
  }
  return { x, y, z: new Float64Array(16), yaw, dt: 0.1 };
}

/** Everything a plan holds but its timing, floats as their bytes (bit-identity, −0 and NaN included). */
function planBits(r: PlanResult) {
  const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  const { timing: _timing, reasoning, samples, trajectory, ...rest } = r;
  const traj = (t: PlanResult['trajectory']) =>
    Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v instanceof Float64Array ? bytes(v) : v]));
  return {
    ...rest,
    text: reasoning.text,
    tokens: reasoning.tokens,
    trajectory: traj(trajectory),
    samples: samples.map(traj),
  };
}

describe('onnxruntime engine on the demo bundle (worker thread, CPU)', function () {
  this.timeout(60000);
  let dir: string;
  let engine: OnnxEngine;
  const logger = new MemoryLogger();
  const input = (over: Partial<PlanInput> & { lean?: number; level?: number } = {}): PlanInput => ({
    t0S: 10,
    frames: engine.contract.cameras.map((c) => [0, 1, 2, 3].map((k) => frame(c, k, over.lean ?? 0, over.level))),
    history: history(15),
    seed: 7,
    ...over,
  });
  const rejection = async (p: Promise<unknown>): Promise<EngineError> => {
    try {
      await p;
    } catch (e) {
      return e as EngineError;
    }
    throw new Error('expected a rejection');
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-engine-'));
    makeDemoBundle(join(dir, 'demo'));
    engine = await createOnnxEngine({ bundleDir: join(dir, 'demo'), executionProviders: ['cuda', 'cpu'], logger });
  });
  after(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('falls back from cuda to cpu on this machine and says so once, as a warning naming cuda and why', () => {
    expect(engine.provider).to.equal('cpu');
    const warns = logger.records.filter((r) => r.level === 'warn' && /execution provider/.test(r.message));
    expect(warns.map((r) => r.message)).to.have.length(1);
    expect(warns[0]!.message).to.match(/^execution provider fallback to cpu: cuda: .*Cuda/);
    expect(
      logger.records.some((r) => r.level === 'info' && /execution provider: cpu \(tried cuda → cpu\)/.test(r.message)),
    ).to.equal(true);
  });

  let straight: PlanResult;
  it('plans: 64 waypoints at 0.1 s, v0 from the history, real text, per-stage timing', async () => {
    straight = await engine.plan(input());
    const tr = straight.trajectory;
    expect(tr.x.length).to.equal(64);
    expect(tr.t[0]).to.be.closeTo(0.1, 1e-12);
    expect(tr.t[63]).to.be.closeTo(6.4, 1e-12);
    expect(straight.v0).to.be.closeTo(15, 0.01);
    expect(straight.reasoning.text).to.match(/^(keep|stay in) lane and maintain speed$/);
    expect(straight.provider).to.equal('cpu');
    expect(straight.bundleId).to.equal('ar1-demo@1.0.0');
    const t = straight.timing;
    for (const k of ['preprocessMs', 'visionMs', 'reasoningMs', 'actionMs', 'totalMs', 'sessionRunMs'] as const)
      expect(t[k], k).to.be.greaterThan(0);
    expect(t.sessionRunMs).to.be.lessThan(t.totalMs);
    // Plausible driving: steady speed, small accelerations and curvatures, straight ahead.
    for (let k = 0; k < 64; k++) {
      expect(Math.abs(tr.acceleration[k]!)).to.be.below(3);
      expect(Math.abs(tr.curvature[k]!)).to.be.below(0.1);
    }
    expect(tr.speed[63]).to.be.within(12, 18);
    expect(Math.abs(tr.y[63]!)).to.be.below(2);
  });

  it('is deterministic: same seed and input → identical plan and text', async () => {
    const again = await engine.plan(input());
    expect(again.reasoning.text).to.equal(straight.reasoning.text);
    expect([...again.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
    expect([...again.trajectory.curvature]).to.deep.equal([...straight.trajectory.curvature]);
  });

  it('different samples differ a little', async () => {
    const r = await engine.plan(input({ samples: 3 }));
    expect(r.samples).to.have.length(3);
    expect([...r.samples[0]!.x]).to.deep.equal([...straight.trajectory.x]);
    const dy =
      Math.abs(r.samples[1]!.y[63]! - r.samples[0]!.y[63]!) + Math.abs(r.samples[1]!.x[63]! - r.samples[0]!.x[63]!);
    expect(dy).to.be.greaterThan(0).and.below(3);
  });

  it('planBatch: several plans in one worker pass, each bit-identical to plan() alone; a bad input or frame fails only its plan', async () => {
    const corrupt = input({ seed: 9 });
    const f = corrupt.frames[1]![2]!;
    corrupt.frames[1]![2] = { ...f, encoding: 'jpeg', step: 0, data: Uint8Array.of(0xff, 0xd8, 1, 2, 3) };
    const inputs = [
      input({ lean: 20, seed: 3 }),
      input({ history: history(8, 0.4), seed: 11, samples: 3 }),
      input({ frames: [] }),
      corrupt,
      input({ lean: -15, level: 90, seed: 5, samples: 2 }),
    ];
    const alone: Array<PlanResult | EngineError> = [];
    for (const i of inputs) alone.push(await engine.plan(i).catch((e: EngineError) => e));
    const batch = await Promise.allSettled(engine.planBatch(inputs));
    expect((alone[2] as EngineError).kind).to.equal('input');
    expect(batch[2]!.status).to.equal('rejected');
    expect(((batch[2] as PromiseRejectedResult).reason as EngineError).message).to.equal(
      (alone[2] as EngineError).message,
    );
    expect((alone[3] as EngineError).message, 'a frame the worker cannot decode').to.equal(
      'camera_front_wide_120fov[2]: cannot decode jpeg: corrupt or unreadable header',
    );
    expect((alone[3] as EngineError).frame, 'the error names the frame').to.deep.equal({ camera: 1, index: 2 });
    expect(((batch[3] as PromiseRejectedResult).reason as EngineError).message).to.equal(
      (alone[3] as EngineError).message,
    );
    expect(((batch[3] as PromiseRejectedResult).reason as EngineError).frame).to.deep.equal({ camera: 1, index: 2 });
    const ok = [0, 1, 4].map((i) => {
      const r = batch[i]!;
      if (r.status === 'rejected') throw r.reason;
      expect(planBits(r.value), `plan ${i}`).to.deep.equal(planBits(alone[i] as PlanResult));
      return r.value;
    });
    expect(new Set(ok.map((r) => r.timing.totalMs)).size, 'one worker pass: one total time').to.equal(1);
    // The bundle batches vision (max_batch 8): the three plans that reached the worker share one vision run (the
    // plan whose frame failed gave its row of the pixel buffer to the next one), so they report one vision time.
    expect(new Set(ok.map((r) => r.timing.visionMs)).size, 'one vision run for the batch').to.equal(1);
  });

  it('pixels change the plan: a brighter left steers left, a brighter right steers right', async () => {
    const left = await engine.plan(input({ lean: 25 }));
    const right = await engine.plan(input({ lean: -25 }));
    expect(left.trajectory.y[63]).to.be.greaterThan(straight.trajectory.y[63]! + 1);
    expect(right.trajectory.y[63]).to.be.lessThan(straight.trajectory.y[63]! - 1);
    expect(left.reasoning.text).to.match(/left/);
    expect(right.reasoning.text).to.match(/right/);
  });

  it('history changes the plan: speed and curvature carry over', async () => {
    const slow = await engine.plan(input({ history: history(5) }));
    expect(slow.v0).to.be.closeTo(5, 0.01);
    expect(slow.trajectory.x[63]).to.be.lessThan(straight.trajectory.x[63]! - 20);
    const turning = await engine.plan(input({ history: history(15, 0.3) })); // 0.02 1/m left turn
    expect(turning.trajectory.curvature[0]).to.be.greaterThan(0.01);
  });

  it('accepts jpeg and png frames (decoded and resized in the worker)', async () => {
    const raw = frame('x', 0, 20);
    const jpeg = await sharp(raw.data, { raw: { width: W, height: H, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const png = await sharp(raw.data, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer();
    const frames = engine.contract.cameras.map((camera, ci) =>
      [0, 1, 2, 3].map((_k): CameraFrame => ({
        camera,
        stampS: 10,
        encoding: ci % 2 ? 'jpeg' : 'png',
        width: 0,
        height: 0,
        step: 0,
        data: new Uint8Array(ci % 2 ? jpeg : png),
      })),
    );
    const r = await engine.plan(input({ frames }));
    expect(r.reasoning.text).to.match(/left/);
  });

  it('refuses bad input with EngineError(input) and stays usable', async () => {
    const wrongSize = input();
    wrongSize.frames[1]![2] = { ...frame('camera_front_wide_120fov', 2, 0), width: 640 };
    expect(await rejection(engine.plan(wrongSize)))
      .to.include({ kind: 'input' })
      .and.to.have.property('message')
      .match(/camera_front_wide_120fov\[2\]: expected 320x180 \(WxH\), got 640x180/);
    const threeCams = input();
    threeCams.frames.pop();
    expect((await rejection(engine.plan(threeCams))).message).to.match(/frames: expected 4 cameras .*got 3/);
    const nanHist = input();
    nanHist.history.y[4] = NaN;
    expect((await rejection(engine.plan(nanHist))).message).to.match(
      /history\.y\[4\]: expected a finite number, got NaN/,
    );
    const short = input({ history: { ...history(10), x: new Float64Array(15) } });
    expect((await rejection(engine.plan(short))).message).to.match(/history\.x: expected 16 poses, got 15/);
    const badJpeg = input();
    badJpeg.frames[0]![0] = {
      camera: 'camera_cross_left_120fov',
      stampS: 10,
      encoding: 'jpeg',
      width: 0,
      height: 0,
      step: 0,
      data: new Uint8Array(
        await sharp({ create: { width: 64, height: 32, channels: 3, background: '#888' } })
          .jpeg()
          .toBuffer(),
      ),
    };
    const e = await rejection(engine.plan(badJpeg));
    expect(e).to.be.instanceOf(EngineError);
    expect(e.kind).to.equal('input');
    expect(e.message).to.match(/camera_cross_left_120fov\[0\]: expected 320x180 \(WxH\) jpeg, decoded 64x32/);
    const ok = await engine.plan(input());
    expect([...ok.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
  });

  it('copies frames in slices between event-loop turns, so the main thread is never blocked for a whole plan', async () => {
    const inp = input();
    let turns = 0;
    const ticker = setInterval(() => {
      turns++;
    }, 0);
    const r = await engine.plan(inp);
    clearInterval(ticker);
    expect([...r.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
    expect(turns, 'timers ran while the plan was copied and computed').to.be.greaterThan(0);
  });

  it('reuses pooled frame buffers: no frame-sized allocation per plan in steady state', async () => {
    await Promise.all([engine.plan(input()), engine.plan(input())]); // the pool grows to two plans in flight (made on demand)
    const before = engine.poolStats.allocations;
    for (let i = 0; i < 5; i++) await engine.plan(input({ seed: i }));
    await Promise.all([engine.plan(input()), engine.plan(input())]);
    expect(engine.poolStats.allocations).to.equal(before);
  });

  it("frames in the engine's frame store (written once on receipt) are read in place: no frame bytes copied per plan, same plan", async () => {
    const store = engine.createFrameStore({ slotsPerCamera: 5 });
    const admitted = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
    const before = engine.transportStats;
    const r = await engine.plan(input({ frames: admitted.map((cam) => cam.map((h) => h.frame)) }));
    const after = engine.transportStats;
    expect(after.plans - before.plans).to.equal(1);
    expect(after.planCopiedBytes - before.planCopiedBytes, 'frame bytes copied by plan()').to.equal(0);
    expect(after.ringFrames - before.ringFrames).to.equal(16);
    expect([...r.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
    expect(r.reasoning.text).to.equal(straight.reasoning.text);
    // Frames outside a store are still copied (and counted).
    await engine.plan(input());
    expect(engine.transportStats.planCopiedBytes - after.planCopiedBytes).to.equal(16 * W * H * 3);
    for (const cam of admitted) for (const h of cam) h.release();
    // A closed store's slots leave the engine (and the worker) with the next plan; its counts stay in ringStats.
    const admittedSoFar = engine.ringStats.admitted;
    store.close();
    expect(store.admit(0, frame('camera_cross_left_120fov', 0, 0))).to.equal(undefined);
    const again = await engine.plan(input());
    expect([...again.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
    expect(engine.ringStats.admitted).to.equal(admittedSoFar);
    expect(store.finished).to.equal(true);
  });

  it("a store's frame is checked against the contract by its first plan only (it is frozen); a changed copy, or the frame in another camera's place, is checked again", async () => {
    const store = engine.createFrameStore({ slotsPerCamera: 5 });
    const held = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
    const frames = held.map((cam) => cam.map((h) => h.frame));
    expect(Object.isFrozen(frames[0]![0]), 'admitted frames are frozen').to.equal(true);
    const checked = () => engine.transportStats.checkedFrames;
    const c0 = checked();
    const first = await engine.plan(input({ frames }));
    expect(checked() - c0, 'the first plan checks all 16').to.equal(16);
    const second = await engine.plan(input({ frames }));
    expect(checked() - c0, 'the second checks none again').to.equal(16);
    expect([...second.trajectory.x]).to.deep.equal([...first.trajectory.x]);
    // Frames not from the store are checked by every plan.
    const c1 = checked();
    await engine.plan(input());
    await engine.plan(input());
    expect(checked() - c1).to.equal(32);
    const [cam0, cam1] = engine.contract.cameras;
    // The same bytes in another frame object with a wrong width: checked, refused.
    const changed = frames.map((cam) => [...cam]);
    changed[0]![1] = { ...frames[0]![1]!, width: W + 1 };
    const wrongSize = await rejection(engine.plan(input({ frames: changed })));
    expect(wrongSize.kind).to.equal('input');
    expect(wrongSize.message).to.include(`${cam0}[1]: expected ${W}x${H} (WxH), got ${W + 1}x${H}`);
    expect(wrongSize.frame, "the main thread's check names the frame too").to.deep.equal({ camera: 0, index: 1 });
    // A checked frame of camera 0 in camera 1's list: refused as any other frame would be.
    const swapped = frames.map((cam) => [...cam]);
    swapped[1]![0] = frames[0]![0]!;
    const wrongCamera = await rejection(engine.plan(input({ frames: swapped })));
    expect(wrongCamera.message).to.include(`${cam1}[0]: expected a frame of ${cam1}, got one of ${cam0}`);
    for (const cam of held) for (const h of cam) h.release();
  });

  it('a plan that cannot be posted to the worker fails alone (EngineError runtime); its slots go back and the next plan works', async () => {
    const store = engine.createFrameStore({ slotsPerCamera: 4 });
    const held = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
    const frames = held.map((cam) => cam.map((h) => h.frame));
    const post = sinon.stub(Worker.prototype, 'postMessage').onFirstCall().throws(new Error('could not clone'));
    post.callThrough();
    try {
      const e = await rejection(engine.plan(input({ frames })));
      expect(e.kind).to.equal('runtime');
      expect(e.message).to.match(/^posting the plan to the inference worker failed: could not clone \[bundle=/);
    } finally {
      post.restore();
    }
    for (const cam of held) for (const h of cam) h.release();
    // Every slot is free again (the failed plan holds none), and the store's memory reaches the worker with the next plan.
    const again = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
    expect(again.flat().every((h) => h !== undefined)).to.equal(true);
    const r = await engine.plan(input({ frames: again.map((cam) => cam.map((h) => h.frame)) }));
    expect([...r.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
    for (const cam of again) for (const h of cam) h.release();
  });

  it('copied frames: new bytes under stamps seen before (a sim reset) are preprocessed again, however alike the bytes', async () => {
    const straightIn = input();
    const before = await engine.plan(straightIn);
    // The same stamps, each frame's left half brighter, except every (n/64)-th byte: sampling bytes cannot tell.
    const stride = Math.floor((W * H * 3) / 64);
    const brighter = straightIn.frames.map((cam) =>
      cam.map((f) => {
        const data = Uint8Array.from(f.data);
        for (let i = 0; i < data.length; i++) if (i % stride !== 0 && (i / 3) % W < W / 2) data[i] = 200;
        return { ...f, data };
      }),
    );
    const after = await engine.plan(input({ frames: brighter }));
    await engine.restartWorker(); // an empty preprocessing cache
    const fresh = await engine.plan(input({ frames: brighter }));
    expect(planBits(fresh), 'the brighter frames plan differently').not.to.deep.equal(planBits(before));
    expect(planBits(after)).to.deep.equal(planBits(fresh));
  });

  it('a worker that cannot be started fails the plan alone (EngineError runtime), gives its slots back, and the next plan starts one', async () => {
    await engine.restartWorker(); // the next plan starts a worker
    const store = engine.createFrameStore({ slotsPerCamera: 4 });
    const held = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
    const post = sinon.stub(Worker.prototype, 'postMessage');
    post.onFirstCall().throws(new Error('no memory for a thread')); // the new worker's init
    post.callThrough();
    try {
      const e = await rejection(engine.plan(input({ frames: held.map((cam) => cam.map((h) => h.frame)) })));
      expect(e.kind).to.equal('runtime');
      expect(e.message).to.match(/^starting the inference worker failed: no memory for a thread \[bundle=/);
    } finally {
      post.restore();
    }
    for (const cam of held) for (const h of cam) h.release();
    expect(engine.contract.cameras.map((_, c) => store.held(c))).to.deep.equal([0, 0, 0, 0]);
    const r = await engine.plan(input());
    expect([...r.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
    store.close();
  });

  it('slots to forget that a failed post did not deliver go with the next message', async () => {
    const store = engine.createFrameStore({ slotsPerCamera: 4 });
    const held = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
    await engine.plan(input({ frames: held.map((cam) => cam.map((h) => h.frame)) })); // the worker knows the 16 slots
    for (const cam of held) for (const h of cam) h.release();
    store.close(); // all 16 are now to be forgotten
    const forgets: number[][] = [];
    const post = sinon.stub(Worker.prototype, 'postMessage');
    post.onFirstCall().throws(new Error('could not clone'));
    post.callsFake(function (this: Worker, m: { type?: string; forget?: number[] }) {
      if (m.type === 'plan') forgets.push([...m.forget!]);
      return post.wrappedMethod.call(this, m);
    });
    try {
      expect((await rejection(engine.plan(input()))).kind).to.equal('runtime');
      await engine.plan(input());
      await engine.plan(input());
    } finally {
      post.restore();
    }
    expect(forgets).to.have.length(2);
    expect(forgets[0], 'the failed post’s ids, sent with the next plan').to.have.length(16);
    expect(forgets[1]).to.deep.equal([]);
  });

  it('compressed frames in the store: the jpeg/png bytes are what is shared, decoded in the worker, same plan as copied', async () => {
    const raw = frame('x', 3, 0);
    const jpeg = new Uint8Array(
      await sharp(raw.data, { raw: { width: W, height: H, channels: 3 } })
        .jpeg({ quality: 95 })
        .toBuffer(),
    );
    const frames = engine.contract.cameras.map((camera) =>
      [0, 1, 2, 3].map((k): CameraFrame => ({
        camera,
        stampS: 10 + (k - 3) * 0.1,
        encoding: 'jpeg',
        width: 0,
        height: 0,
        step: 0,
        data: jpeg,
      })),
    );
    const copied = await engine.plan(input({ frames }));
    const store = engine.createFrameStore({ slotsPerCamera: 4 });
    const held = frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
    const before = engine.transportStats.planCopiedBytes;
    const shared = await engine.plan(input({ frames: held.map((cam) => cam.map((h) => h.frame)) }));
    expect(engine.transportStats.planCopiedBytes).to.equal(before);
    expect([...shared.trajectory.x]).to.deep.equal([...copied.trajectory.x]);
    for (const cam of held) for (const h of cam) h.release();
  });

  it('a slot a plan is reading is not reused, even after its holder let go; the frame is refused until the worker is done', async () => {
    const store = engine.createFrameStore({ slotsPerCamera: 4 });
    const held = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
    const planned = engine.plan(input({ frames: held.map((cam) => cam.map((h) => h.frame)) }));
    for (const cam of held) for (const h of cam) h.release();
    expect(
      store.admit(0, frame('camera_cross_left_120fov', 4, 0)),
      'ring exhausted while the plan holds its slots',
    ).to.equal(undefined);
    expect(store.stats.refused).to.equal(1);
    await planned;
    const next = store.admit(0, frame('camera_cross_left_120fov', 4, 0));
    expect(next).to.not.equal(undefined);
    next!.release();
  });

  it('a frame whose slot was released before plan() is refused with EngineError(input), not read', async () => {
    const store = engine.createFrameStore({ slotsPerCamera: 4 });
    const held = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
    held[1]![2]!.release();
    store.admit(1, frame('camera_front_wide_120fov', 9, 0))!; // writes the released slot again
    const e = await rejection(engine.plan(input({ frames: held.map((cam) => cam.map((h) => h.frame)) })));
    expect(e.kind).to.equal('input');
    expect(e.message).to.match(/was released before this plan; its frame is gone/);
    for (const cam of held) for (const h of cam) h.release();
    // Nothing stays held by the refused plan: all four slots of camera 0 are free again.
    const again = [0, 1, 2, 3].map((k) => store.admit(0, frame('camera_cross_left_120fov', k, 0)));
    expect(again.every((h) => h !== undefined)).to.equal(true);
  });

  it("a plan whose copied frames' shared memory cannot be allocated fails alone (EngineError runtime naming the cameras); its ring slots go back", async () => {
    const store = engine.createFrameStore({ slotsPerCamera: 4 });
    const held = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
    const cam3 = engine.contract.cameras[3]!;
    const frames = held.map((cam, c) => (c === 3 ? input().frames[3]! : cam.map((h) => h.frame)));
    const acquire = sinon.stub(FramePool.prototype, 'acquire').throws(new RangeError('Array buffer allocation failed'));
    let e: EngineError;
    try {
      e = await rejection(engine.plan(input({ frames })));
    } finally {
      acquire.restore();
    }
    expect(e).to.be.instanceOf(EngineError);
    expect(e.kind).to.equal('runtime');
    expect(e.message).to.equal(
      `copying frames of ${cam3}: ${4 * W * H * 3} bytes: Array buffer allocation failed [bundle=${engine.contract.bundleId}]`,
    );
    for (const cam of held) for (const h of cam) h.release();
    expect(
      [0, 1, 2, 3].map((c) => store.held(c)),
      'slots held after the holders let go',
    ).to.deep.equal([0, 0, 0, 0]);
    const r = await engine.plan(input());
    expect([...r.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
    store.close();
  });

  it('a copied raw frame is copied as far as its rows go (step × height), however long the view its data is', async () => {
    const long = new Uint8Array(8 * 2 ** 20);
    long.set(frame('x', 0, 0).data);
    const frames = input().frames.map((cam) => cam.map((f) => ({ ...f, data: long })));
    const before = engine.transportStats.planCopiedBytes;
    const r = await engine.plan(input({ frames }));
    expect(engine.transportStats.planCopiedBytes - before).to.equal(16 * W * H * 3);
    expect([...r.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
  });

  it('a copied frame whose buffer shrinks before its copy fails the plan with EngineError(input) naming it; its slots go back', async () => {
    const store = engine.createFrameStore({ slotsPerCamera: 4 });
    const held = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!)); // their copies run on later turns
    const cam3 = engine.contract.cameras[3]!;
    const rab = resizable(W * H * 3, W * H * 3);
    const src = new Uint8Array(rab, 0, W * H * 3);
    src.set(frame(cam3, 3, 0).data);
    const frames = held.map((cam, c) => cam.map((h, k) => (c === 3 && k === 3 ? { ...h.frame, data: src } : h.frame)));
    const planned = rejection(engine.plan(input({ frames }))); // copies once the store's receipt copies are done
    rab.resize(1000); // the caller broke its promise to keep the bytes
    const e = await planned;
    expect(e.kind).to.equal('input');
    expect(e.message).to.match(
      new RegExp(`^${cam3} frame at 10 s: copying its ${W * H * 3} bytes failed at byte 0: .*\\[bundle=`),
    );
    for (const cam of held) for (const h of cam) h.release();
    expect([0, 1, 2, 3].map((c) => store.held(c))).to.deep.equal([0, 0, 0, 0]);
    store.close();
  });

  it('a store frame whose copy failed (its source shrank before it was copied) fails its plan with EngineError(input), not read; its slots go back', async () => {
    const store = engine.createFrameStore({ slotsPerCamera: 4 });
    const cam0 = engine.contract.cameras[0]!;
    const rab = resizable(W * H * 3, W * H * 3);
    const src = new Uint8Array(rab, 0, W * H * 3);
    const held = input().frames.map((cam, c) =>
      cam.map((f, k) => store.admit(c, c === 0 && k === 0 ? { ...f, data: src } : f)!),
    );
    rab.resize(0);
    const e = await rejection(engine.plan(input({ frames: held.map((cam) => cam.map((h) => h.frame)) })));
    expect(e.kind).to.equal('input');
    expect(e.message).to.match(new RegExp(`^frame ring: ${cam0} frame at 9.7 s .*its frame is unusable \\[bundle=`));
    expect(store.stats.copyFailed).to.equal(1);
    for (const cam of held) for (const h of cam) h.release();
    expect([0, 1, 2, 3].map((c) => store.held(c))).to.deep.equal([0, 0, 0, 0]);
    store.close();
  });

  it('a pool slot replaced by a bigger one is forgotten by the worker with the next message', async () => {
    const other = await createOnnxEngine({ bundleDir: join(dir, 'demo'), executionProviders: ['cpu'] });
    const msgs: Array<{ shared: number[]; forget: number[] }> = [];
    const post = sinon.stub(Worker.prototype, 'postMessage');
    post.callsFake(function (this: Worker, m: { type?: string; buffers?: Array<{ slot: number }>; forget?: number[] }) {
      if (m.type === 'plan') msgs.push({ shared: m.buffers!.map((b) => b.slot), forget: [...m.forget!] });
      return post.wrappedMethod.call(this, m);
    });
    // The same pixels in rows 64 bytes longer: a bigger plan than the pool's one slot holds.
    const step = W * 3 + 64;
    const padded = (f: CameraFrame): CameraFrame => {
      const data = new Uint8Array(step * H);
      for (let y = 0; y < H; y++) data.set(f.data.subarray(y * W * 3, (y + 1) * W * 3), y * step);
      return { ...f, step, data };
    };
    let r: PlanResult;
    try {
      await other.plan(input());
      const wide = input({ frames: input().frames.map((cam) => cam.map(padded)) });
      r = await other.plan(wide);
      await other.plan(wide);
    } finally {
      post.restore();
      await other.close();
    }
    expect([...r.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
    expect(msgs).to.have.length(3);
    const [first, second, third] = msgs as [(typeof msgs)[0], (typeof msgs)[0], (typeof msgs)[0]];
    expect(first).to.deep.include({ forget: [] });
    expect(first.shared).to.have.length(1);
    expect(second.shared).to.have.length(1);
    expect(second.shared[0]).to.not.equal(first.shared[0]);
    expect(second.forget, "the replaced slot's id").to.deep.equal(first.shared);
    expect(third).to.deep.equal({ shared: [], forget: [] });
    expect(other.poolStats).to.include({ allocations: 2, free: 1 });
  });

  it('a restarted (crashed) worker fails the plans in flight and the next plan works', async () => {
    const inflight = rejection(engine.plan(input()));
    await engine.restartWorker();
    const e = await inflight;
    expect(e.kind).to.equal('worker_crashed');
    const r = await engine.plan(input());
    expect([...r.trajectory.x]).to.deep.equal([...straight.trajectory.x]);
    // The fresh worker re-checks every file but hashes none again: all unchanged since the first verification.
    const verified = logger.records.filter((x) => /bundle .* verified: hashed/.test(x.message)).map((x) => x.message);
    expect(verified[0]).to.match(/hashed [1-9]\d* files .*, 0 unchanged since the last verification/);
    expect(verified.at(-1)).to.match(/hashed 0 files .*, [1-9]\d* unchanged since the last verification/);
  });

  it('a graph returning NaN gives EngineError(non_finite); the next plan works', async () => {
    // Vision graph whose embeddings are sqrt(mean brightness − 100): NaN for dark frames.
    const bad = join(dir, 'nan');
    cpSync(join(dir, 'demo'), bad, { recursive: true });
    const g = new GraphBuilder('nan_vision');
    const mean = g.op('ReduceMean', [g.op('Cast', ['pixel_values'], { to: { i: 1 } })], {
      axes: { ints: [1, 2, 3] },
      keepdims: { i: 1 },
    }); // [16,1,1,1]
    const root = g.op('Sqrt', [g.op('Sub', [g.op('Reshape', [mean, g.int64([-1, 1], [2])]), g.scalar(100)])]);
    g.op('MatMul', [root, g.float([0.01, 0, 0, 0], [1, 4])], {}, 'image_embeds');
    replaceFile(
      bad,
      'vision_encoder.onnx',
      g.encode(
        [{ name: 'pixel_values', dtype: 'uint8', shape: ['images', 64, 112, 3] }],
        [{ name: 'image_embeds', dtype: 'float32', shape: ['image_tokens', 4] }],
      ),
    );
    const eng = await createOnnxEngine({ bundleDir: bad });
    try {
      const e = await rejection(eng.plan(input({ level: 40 })));
      expect(e.kind).to.equal('non_finite');
      expect(e.message).to.match(/vision_encoder\.onnx: output image_embeds\[0\] is NaN/);
      const ok = await eng.plan(input({ level: 200 }));
      expect(ok.trajectory.x.length).to.equal(64);
    } finally {
      await eng.close();
    }
  });

  it('a graph that throws at run time gives EngineError(runtime) naming the graph; the next plan works', async () => {
    // Vision graph that gathers from a 4-entry table at index (255 − mean brightness) / 32: out of bounds for dark frames.
    const bad = join(dir, 'throws');
    cpSync(join(dir, 'demo'), bad, { recursive: true });
    const g = new GraphBuilder('throwing_vision');
    const x = g.op('Cast', ['pixel_values'], { to: { i: 1 } });
    const mean = g.op('ReduceMean', [x], { axes: { ints: [0, 1, 2, 3] }, keepdims: { i: 0 } }); // scalar
    const idx = g.op('Cast', [g.op('Div', [g.op('Sub', [g.scalar(255), mean]), g.scalar(32)])], { to: { i: 7 } });
    const bias = g.op('Gather', [g.float([0, 0.001, 0.002, 0.003], [4]), idx]);
    const perImage = g.op('Reshape', [
      g.op('ReduceMean', [x], { axes: { ints: [1, 2, 3] }, keepdims: { i: 1 } }),
      g.int64([-1, 1], [2]),
    ]);
    const embeds = g.op('MatMul', [perImage, g.float([0.001, 0, 0, 0], [1, 4])]);
    g.op('Add', [embeds, bias], {}, 'image_embeds');
    replaceFile(
      bad,
      'vision_encoder.onnx',
      g.encode(
        [{ name: 'pixel_values', dtype: 'uint8', shape: ['images', 64, 112, 3] }],
        [{ name: 'image_embeds', dtype: 'float32', shape: ['image_tokens', 4] }],
      ),
    );
    const eng = await createOnnxEngine({ bundleDir: bad });
    try {
      const e = await rejection(eng.plan(input({ level: 40 })));
      expect(e.kind).to.equal('runtime');
      expect(e.message).to.match(/vision_encoder/);
      const ok = await eng.plan(input({ level: 200 }));
      expect(ok.trajectory.x.length).to.equal(64);
    } finally {
      await eng.close();
    }
  });

  it('refuses a tampered bundle at load with EngineError(bundle)', async () => {
    const bad = join(dir, 'tampered');
    cpSync(join(dir, 'demo'), bad, { recursive: true });
    rmSync(join(bad, 'tokenizer.json'));
    const e = await rejection(createOnnxEngine({ bundleDir: bad }));
    expect(e.kind).to.equal('bundle');
    expect(e.message).to.match(/tokenizer\.json: missing/);
  });

  it('with a clock, the main-thread time each answered plan cost: its call, its post, its two replies; none for a refused plan', async () => {
    let reads = 0;
    const eng = await createOnnxEngine({ bundleDir: join(dir, 'demo'), clock: () => reads++ }); // 1 ms per reading
    try {
      expect(engine.mainThreadMs, 'no clock, nothing measured').to.deep.equal([]);
      const store = eng.createFrameStore({ slotsPerCamera: 5 });
      const held = input().frames.map((cam, c) => cam.map((f) => store.admit(c, f)!));
      await eng.plan(input({ frames: held.map((cam) => cam.map((h) => h.frame)) }));
      expect(eng.mainThreadMs).to.deep.equal([4]); // four timed stretches, two readings each
      await rejection(eng.plan(input({ seed: 0.5 })));
      await Promise.all(eng.planBatch([input({ seed: 1 }), input({ seed: 2 })]));
      // the batch's one post is shared between its two plans
      expect(eng.mainThreadMs).to.deep.equal([4, 3.5, 3.5]);
      for (const cam of held) for (const h of cam) h.release();
    } finally {
      await eng.close();
    }
  });

  it('close() releases the worker; later plans reject with EngineError(closed)', async () => {
    const eng = await createOnnxEngine({ bundleDir: join(dir, 'demo') });
    await eng.close();
    expect((await rejection(eng.plan(input()))).kind).to.equal('closed');
  });
});
