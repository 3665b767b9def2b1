/**
 * Benchmark 2, main-thread responsiveness: the planner on the real clock (an InProcessNode over an
 * InProcessBus(asyncScheduler)) plans at up to 10 Hz and publishes /ar1/command at 50 Hz while synthetic frames
 * (4 cameras at 10 Hz) and odometry (50 Hz) arrive; perf_hooks.monitorEventLoopDelay samples the main loop.
 *
 * What the histogram holds: the interval between firings of a repeating 1 ms libuv timer, so an idle loop reads about
 * 1.1 ms at p50 (the resolution plus the timer's own slack), not 0. The same histogram taken with nothing running in
 * the process (idleBaseline) shows what the machine itself adds: on the 2-vCPU VM measured, an idle process reads
 * p99 1.2–1.3 ms when the machine is quiet and 2.7–3 ms while other processes load it, so the planner's figure is
 * read against the idle one from the same run (the excess over idle).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { asyncScheduler, interval, Subscription } from 'rxjs';
import { createOnnxEngine } from '../nodes/adapters/onnxruntime/index.js';
import { plannerRig } from './rig.js';
import { steadyPlanning, wait, type SteadyOptions } from './steadyPlanning.js';
import { percentile, round } from './stats.js';
import { TimedEngine } from './timedEngine.js';

/** warmupS, warmupPlans, maxWarmupS: the start-up waited out before sampling (steadyPlanning). */
export interface EventLoopOptions extends SteadyOptions {
  bundleDir: string;
  bundle: string;
  providers: string[];
  frames: readonly Uint8Array[];
  encoding?: 'rgb8' | 'jpeg';
  durationS: number;
}

export interface EventLoopFigures {
  bundle: string;
  provider: string;
  durationS: number;
  /** Event-loop delay [ms] over the sampling window. */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  samples: number;
  plansCompleted: number;
  /** Median model time (session.run) per plan [ms], to show the delay does not follow it. */
  sessionRunP50Ms: number;
  commandsPerS: number;
  /** How long each engine.plan() call blocked the main thread (synchronous frame copy) [ms]. */
  planCallP50Ms: number;
  planCallMaxMs: number;
  /** The start-up window before sampling (its length [s], and the same histogram over it [ms]). */
  startupS: number;
  startupP99Ms: number;
  startupMaxMs: number;
}

export interface IdleBaseline {
  durationS: number;
  /** The same histogram as benchEventLoop's, over a window where this process runs nothing [ms]. */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  samples: number;
}

/** monitorEventLoopDelay (1 ms) over durationS with nothing else scheduled in this process: the machine's floor. */
export async function idleBaseline(durationS: number): Promise<IdleBaseline> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await wait(durationS * 1000);
  h.disable();
  return {
    durationS,
    delayP50Ms: round(h.percentile(50) / 1e6),
    delayP99Ms: round(h.percentile(99) / 1e6),
    delayMaxMs: round(h.max / 1e6),
    samples: h.count,
  };
}

export async function benchEventLoop(o: EventLoopOptions): Promise<EventLoopFigures> {
  const inner = await createOnnxEngine({ bundleDir: o.bundleDir, executionProviders: o.providers });
  const engine = new TimedEngine(inner);
  const subs = new Subscription();
  try {
    const rig = plannerRig({
      scheduler: asyncScheduler,
      engine,
      encoding: o.encoding ?? 'rgb8',
      frames: o.frames,
      perfNow: () => performance.now(),
    });
    let commands = 0;
    let counting = false;
    subs.add(
      rig.bus.messages(rig.params.topics.command, 'ar1_msgs/msg/UnicycleCommand').subscribe(() => {
        if (counting) commands++;
      }),
    );
    const nowS = () => asyncScheduler.now() / 1000;
    let cycle = 0;
    subs.add(interval(20, asyncScheduler).subscribe(() => rig.odometry(nowS())));
    subs.add(interval(100, asyncScheduler).subscribe(() => rig.cameras(nowS(), cycle++)));
    const startup = monitorEventLoopDelay({ resolution: 1 });
    startup.enable();
    const startupS = round(
      await steadyPlanning(
        o,
        () => engine.records.length,
        () => inner.ringStats.allocations,
      ),
    );
    startup.disable();
    const h = monitorEventLoopDelay({ resolution: 1 });
    const plans0 = engine.records.length;
    counting = true;
    h.enable();
    await wait(o.durationS * 1000);
    h.disable();
    counting = false;
    subs.unsubscribe();
    await rig.planner.stop();
    const recs = engine.records.slice(plans0);
    const sess = recs.map((r) => r.timing.sessionRunMs).sort((a, b) => a - b);
    return {
      bundle: o.bundle,
      provider: engine.provider,
      durationS: o.durationS,
      delayP50Ms: round(h.percentile(50) / 1e6),
      delayP99Ms: round(h.percentile(99) / 1e6),
      delayMaxMs: round(h.max / 1e6),
      samples: h.count,
      plansCompleted: recs.length,
      sessionRunP50Ms: round(sess[Math.floor(sess.length / 2)] ?? NaN),
      commandsPerS: round(commands / o.durationS),
      planCallP50Ms: round(
        percentile(
          recs.map((r) => r.callMs),
          50,
        ),
      ),
      planCallMaxMs: round(Math.max(...recs.map((r) => r.callMs))),
      startupS,
      startupP99Ms: round(startup.percentile(99) / 1e6),
      startupMaxMs: round(startup.max / 1e6),
    };
  } finally {
    subs.unsubscribe();
    await engine.close();
  }
}
