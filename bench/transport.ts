/**
 * Benchmark 8, frames copied once: the planner on the real clock with the onnxruntime engine (as in benchmark 2),
 * frames arriving at 10 Hz per camera. Every received frame is written once into the engine's shared ring; a plan
 * names its 16 frames' slots. Reported per plan: frame bytes plan() copied on the main thread (goal 0), and the
 * time plan() blocked the main thread against the time one frame's copy takes (the copy every frame costs once, on
 * receipt).
 */
import { asyncScheduler, interval, Subscription } from 'rxjs';
import { createOnnxEngine, type OnnxEngine } from '../nodes/adapters/onnxruntime/index.js';
import { plannerRig } from './rig.js';
import { percentile, round } from './stats.js';
import { TimedEngine } from './timedEngine.js';

export interface TransportOptions {
  bundleDir: string;
  bundle: string;
  providers: string[];
  frames: readonly Uint8Array[];
  warmupS: number;
  durationS: number;
}

export interface TransportFigures {
  bundle: string;
  plans: number;
  /** Frame bytes plan() copied on the main thread, per plan (frames outside the ring only). */
  copiedBytesPerPlan: number;
  /** Frames per plan read in place from ring slots. */
  ringFramesPerPlan: number;
  /** Frames and bytes written into the ring on receipt over the window (one copy each). */
  admittedFrames: number;
  admittedBytesPerFrame: number;
  /** Time engine.plan() blocked the caller [ms]. */
  planCallMs: { p50: number; p99: number; max: number };
  /** One frame's memcpy (the receipt copy) [ms], p50 over repetitions on the same bytes. */
  frameCopyMs: number;
  /** planCallMs.p99 / frameCopyMs. */
  planCallToFrameCopyP99: number;
}

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function benchTransport(o: TransportOptions): Promise<TransportFigures> {
  const onnx: OnnxEngine = await createOnnxEngine({ bundleDir: o.bundleDir, executionProviders: o.providers });
  const engine = new TimedEngine(onnx);
  const subs = new Subscription();
  try {
    const rig = plannerRig({
      scheduler: asyncScheduler,
      engine,
      encoding: 'rgb8',
      frames: o.frames,
      perfNow: () => performance.now(),
    });
    const nowS = () => asyncScheduler.now() / 1000;
    let cycle = 0;
    subs.add(interval(20, asyncScheduler).subscribe(() => rig.odometry(nowS())));
    subs.add(interval(100, asyncScheduler).subscribe(() => rig.cameras(nowS(), cycle++)));
    await wait(o.warmupS * 1000);
    const t0 = onnx.transportStats;
    const r0 = onnx.ringStats;
    const plans0 = engine.records.length;
    await wait(o.durationS * 1000);
    const t1 = onnx.transportStats;
    const r1 = onnx.ringStats;
    subs.unsubscribe();
    await rig.planner.stop();
    const recs = engine.records.slice(plans0);
    const plans = Math.max(1, t1.plans - t0.plans);
    const calls = recs.map((r) => r.callMs);
    // The copy every frame costs once: one frame into a SharedArrayBuffer of its size.
    const src = o.frames[0]!;
    const dst = new Uint8Array(new SharedArrayBuffer(src.length));
    const copies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      dst.set(src);
      copies.push(performance.now() - t);
    }
    const frameCopyMs = percentile(copies, 50);
    const p99 = percentile(calls, 99);
    const admitted = r1.admitted - r0.admitted;
    return {
      bundle: o.bundle,
      plans: t1.plans - t0.plans,
      copiedBytesPerPlan: (t1.planCopiedBytes - t0.planCopiedBytes) / plans,
      ringFramesPerPlan: round((t1.ringFrames - t0.ringFrames) / plans),
      admittedFrames: admitted,
      admittedBytesPerFrame: admitted > 0 ? round((r1.admittedBytes - r0.admittedBytes) / admitted) : 0,
      planCallMs: { p50: round(percentile(calls, 50)), p99: round(p99), max: round(Math.max(...calls)) },
      frameCopyMs: round(frameCopyMs),
      planCallToFrameCopyP99: round(p99 / frameCopyMs),
    };
  } finally {
    subs.unsubscribe();
    await engine.close();
  }
}
