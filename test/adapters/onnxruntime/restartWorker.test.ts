import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOnnxEngine, type OnnxEngine } from '../../../nodes/adapters/onnxruntime/index.js';
import { EngineError, type CameraFrame, type PlanInput } from '../../../nodes/core/planningEngine.js';
import { slowDemoBundle } from '../../bundle/slowBundle.js';

describe('onnxruntime engine: restartWorker while a graph runs (the plan_timeout_s case)', function () {
  this.timeout(120000);
  let dir: string;
  let engine: OnnxEngine;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-restart-'));
    slowDemoBundle(join(dir, 'slow'), 40);
    engine = await createOnnxEngine({ bundleDir: join(dir, 'slow') });
  });
  after(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const input = (seed: number, frames: CameraFrame[][]): PlanInput => {
    const x = new Float64Array(16).map((_, i) => (i - 15) * 1.5);
    const z = new Float64Array(16);
    return { t0S: 10, frames, history: { x, y: z, z, yaw: z, dt: 0.1 }, seed };
  };

  it('the plan in flight fails (worker_crashed), the process lives on, the next plan is answered by a fresh worker', async () => {
    const c = engine.contract;
    const store = engine.createFrameStore({ slotsPerCamera: 5 });
    const px = new Uint8Array(c.imageWidth * c.imageHeight * 3).fill(120);
    const held = c.cameras.map((camera, i) =>
      [0, 1, 2, 3].map((k) => {
        const f: CameraFrame = {
          camera,
          stampS: 9.7 + 0.1 * k,
          encoding: 'rgb8',
          width: c.imageWidth,
          height: c.imageHeight,
          step: c.imageWidth * 3,
          data: px,
        };
        return store.admit(i, f)!;
      }),
    );
    const frames = held.map((cam) => cam.map((h) => h.frame));
    const inFlight = engine.plan(input(1, frames)).then(
      () => undefined,
      (e: unknown) => e,
    );
    for (const cam of held) for (const h of cam) h.release(); // only the plan holds the slots now
    // The worker gives the slots back once it has preprocessed the frames; the vision run starts right after.
    while (c.cameras.some((_, i) => store.held(i) > 0)) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100)); // well inside the vision run (about a second here)
    // What a node's shutdown asks before giving up: a plain exit now would wait for the run, then abort.
    expect(engine.nativeWork()).to.equal('the inference worker is running 1 plan');
    await engine.restartWorker();
    expect(engine.nativeWork()).to.equal(
      '1 retired inference worker has not exited (a graph run or a load it cannot stop)',
    );
    const e = await inFlight;
    expect(e).to.be.instanceOf(EngineError);
    expect((e as EngineError).kind).to.equal('worker_crashed');
    expect((e as EngineError).message).to.match(/^inference worker retired by restartWorker\(\)/);
    const again = c.cameras.map((camera, i) => frames[i]!.map((f) => store.admit(i, { ...f, data: px })!));
    const next = await engine.plan(
      input(
        2,
        again.map((cam) => cam.map((h) => h.frame)),
      ),
    );
    for (const cam of again) for (const h of cam) h.release();
    expect(next.trajectory.x).to.have.length(64);
    expect([...next.trajectory.x].every(Number.isFinite)).to.equal(true);
    // The retired worker exits once its run returns; then nothing is left that an exit would wait for.
    for (let i = 0; i < 600 && engine.nativeWork() !== undefined; i++) await new Promise((r) => setTimeout(r, 50));
    expect(engine.nativeWork()).to.equal(undefined);
  });

  it('close(): nativeWork() names the closing worker (it releases its sessions: native code) until it has exited', async () => {
    const closed = engine.close();
    expect(engine.nativeWork()).to.equal('the inference worker is closing (releasing its sessions)');
    await closed;
    expect(engine.nativeWork()).to.equal(undefined);
  });
});
