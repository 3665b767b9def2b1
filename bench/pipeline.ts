/**
 * Benchmark 1, pipeline overhead: the full planner path (in-process transport, virtual time that waits for the real
 * engine) on 16 frames per plan. Per plan: plan time = planner sync (frame selection + history) + engine.plan() wall
 * time on the main thread; model time = time inside session.run (measured in the worker); overhead = plan − model.
 * Side by side in the same loop: the copy floor = one plain copy of the same 16 frames' bytes into preallocated
 * buffers.
 */
import { SteppingScheduler, WorkTracker } from '../nodes/adapters/inprocess/virtualScheduler.js';
import { createOnnxEngine } from '../nodes/adapters/onnxruntime/index.js';
import { plannerRig } from './rig.js';
import { summarize, type Summary } from './stats.js';
import { TimedEngine } from './timedEngine.js';

export interface PipelineOptions {
  bundleDir: string;
  /** Label of the bundle (demo, large). */
  bundle: string;
  providers: string[];
  encoding: 'rgb8' | 'jpeg';
  /** Frames published (raw rgb8 at the bundle's native size, or JPEG of it); cycled over cameras and cycles. */
  frames: readonly Uint8Array[];
  plans: number;
  warmup: number;
}

export interface PipelineFigures {
  bundle: string;
  encoding: 'rgb8' | 'jpeg';
  provider: string;
  framesPerPlan: number;
  frameBytesPerPlan: number;
  plans: number;
  /** [ms] */
  planMs: Summary;
  sessionRunMs: Summary;
  preprocessMs: Summary;
  overheadMs: Summary;
  /** overhead − worker preprocessing (decode/resize): copy, transfer, messaging, pipeline JS, result [ms]. */
  transportOverheadMs: Summary;
  copyFloorMs: Summary;
  /** Per-plan ratios. */
  overheadToModel: Summary;
  overheadToCopyFloor: Summary;
  transportOverheadToCopyFloor: Summary;
}

export async function benchPipeline(o: PipelineOptions): Promise<PipelineFigures> {
  const engine = new TimedEngine(
    await createOnnxEngine({ bundleDir: o.bundleDir, executionProviders: o.providers }),
    true,
  );
  try {
    const s = new SteppingScheduler(1_000_000);
    const tracker = new WorkTracker();
    const rig = plannerRig({
      scheduler: s,
      engine,
      encoding: o.encoding,
      frames: o.frames,
      perfNow: () => performance.now(),
      track: (p) => tracker.track(p),
    });
    const idle = () => tracker.idle();
    const want = o.plans + o.warmup;
    let dst: Buffer[] = [];
    const copyMs: number[] = [];
    let seen = 0;
    const maxSteps = (want + 40) * 5 * 4;
    for (let i = 0; engine.records.length < want; i++) {
      if (i > maxSteps)
        throw new Error(
          `pipeline benchmark: expected ${want} plans, got ${engine.records.length} after ${i * 20} ms of feed (failures ${engine.failures}, stats ${JSON.stringify(rig.planner.stats().skipped)})`,
        );
      const tS = 1000 + i * 0.02;
      await s.advanceTo(Math.round(tS * 1000), idle);
      rig.odometry(tS);
      if (i % 5 === 0) rig.cameras(tS, i / 5);
      while (seen < engine.records.length) {
        const rec = engine.records[seen++]!;
        if (dst.length !== rec.frames.length || dst.some((d, k) => d.length !== rec.frames[k]!.length))
          dst = rec.frames.map((f) => Buffer.allocUnsafe(f.length).fill(0));
        const t = performance.now();
        for (let k = 0; k < rec.frames.length; k++) dst[k]!.set(rec.frames[k]!);
        copyMs.push(performance.now() - t);
        rec.frames = [];
      }
    }
    await s.advanceBy(100, idle);
    await rig.planner.stop();
    const recs = engine.records.slice(o.warmup, want);
    const copies = copyMs.slice(o.warmup, want);
    const sync = rig.syncMs.slice(o.warmup, want);
    const plan = recs.map((r, i) => r.wallMs + (sync[i] ?? 0));
    const session = recs.map((r) => r.timing.sessionRunMs);
    const overhead = plan.map((p, i) => p - session[i]!);
    const transport = overhead.map((v, i) => v - recs[i]!.timing.preprocessMs);
    return {
      bundle: o.bundle,
      encoding: o.encoding,
      provider: engine.provider,
      framesPerPlan: dst.length,
      frameBytesPerPlan: dst.reduce((a, d) => a + d.length, 0),
      plans: recs.length,
      planMs: summarize(plan),
      sessionRunMs: summarize(session),
      preprocessMs: summarize(recs.map((r) => r.timing.preprocessMs)),
      overheadMs: summarize(overhead),
      transportOverheadMs: summarize(transport),
      copyFloorMs: summarize(copies),
      overheadToModel: summarize(overhead.map((v, i) => v / session[i]!)),
      overheadToCopyFloor: summarize(overhead.map((v, i) => v / copies[i]!)),
      transportOverheadToCopyFloor: summarize(transport.map((v, i) => v / copies[i]!)),
    };
  } finally {
    await engine.close();
  }
}
