/**
 * Benchmark 5, memory: planner + watchdog on the in-process transport in virtual time (SteppingScheduler), fed
 * 4 cameras at 10 Hz (tiny 8×4 rgb8 frames) and odometry at 50 Hz, planning with the NULL engine (no model: a
 * fixed valid plan at once) for `cycles` plan cycles (0.1 s of virtual time each). Heap and RSS are sampled after
 * a forced GC at `checkpoints` evenly spaced points. Run in a child (`node --expose-gc --import tsx bench/memory.ts
 * <cycles> <checkpoints>`): it prints one JSON line with the figures.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InProcessNode } from '../nodes/adapters/inprocess/inProcessNode.js';
import { SteppingScheduler, WorkTracker } from '../nodes/adapters/inprocess/virtualScheduler.js';
import { loadWatchdogParams } from '../nodes/watchdog/params.js';
import { startWatchdog } from '../nodes/watchdog/watchdogNode.js';
import { NullEngine } from './nullEngine.js';
import { plannerRig } from './rig.js';
import { round } from './stats.js';

export interface MemoryFigures {
  engine: 'null';
  cycles: number;
  plans: number;
  watchdogTicks: number;
  watchdogState: string;
  /** [MB] after forced GC, at each checkpoint (cycle index alongside). */
  samples: Array<{ cycle: number; heapMB: number; rssMB: number }>;
  /** Growth from the end of warm-up (first 20 % of cycles) to the end, as a fraction. */
  heapGrowth: number;
  rssGrowth: number;
  wallS: number;
  /** An error thrown while stopping the nodes after the run ('' when none). */
  stopError: string;
}

const W = 8,
  H = 4;

/** Runs in this process; needs global.gc (--expose-gc). */
export async function runMemory(cycles: number, checkpoints: number): Promise<MemoryFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('memory benchmark: expected global.gc (run node with --expose-gc), got none');
  const start = performance.now();
  const s = new SteppingScheduler(1_000_000);
  const tracker = new WorkTracker();
  const engine = new NullEngine(H, W);
  const frames = Array.from({ length: 4 }, (_, k) => new Uint8Array(W * H * 3).fill(k));
  const rig = plannerRig({ scheduler: s, engine, encoding: 'rgb8', frames, track: (p) => tracker.track(p) });
  const wd = startWatchdog(
    new InProcessNode(rig.bus, { name: 'ar1_watchdog' }),
    loadWatchdogParams({ sources: [{ origin: 'bench', values: { auto_engage: true } }] }),
  );
  const idle = () => tracker.idle();
  const samples: MemoryFigures['samples'] = [];
  const every = Math.max(1, Math.floor(cycles / checkpoints));
  const sample = (cycle: number) => {
    gc();
    gc();
    const m = process.memoryUsage();
    samples.push({ cycle, heapMB: round(m.heapUsed / 1e6), rssMB: round(m.rss / 1e6) });
  };
  for (let c = 0; c < cycles; c++) {
    for (let k = 0; k < 5; k++) {
      const tS = 1000 + c * 0.1 + k * 0.02;
      await s.advanceTo(Math.round(tS * 1000), k === 0 ? idle : undefined);
      rig.odometry(tS);
      if (k === 0) rig.cameras(tS, c);
    }
    if ((c + 1) % every === 0) sample(c + 1);
  }
  const state = wd.state,
    ticks = wd.tickCount; // before the feed stops (then inputs go stale and it brakes)
  await s.advanceBy(100, idle);
  let stopError = '';
  for (const stop of [() => wd.stop(), () => rig.planner.stop()]) {
    try {
      await stop();
    } catch (e) {
      stopError ||= (e as Error).message.replace(/\s+/g, ' ').slice(0, 200);
    }
  }
  const warm = samples.find((x) => x.cycle >= cycles * 0.2) ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  return {
    engine: 'null',
    cycles,
    plans: engine.plans,
    watchdogTicks: ticks,
    watchdogState: state,
    samples,
    heapGrowth: round((last.heapMB - warm.heapMB) / warm.heapMB),
    rssGrowth: round((last.rssMB - warm.rssMB) / warm.rssMB),
    wallS: round((performance.now() - start) / 1000),
    stopError,
  };
}

/** Spawns `node --expose-gc --import tsx bench/memory.ts` and parses its JSON line. */
export function benchMemory(cycles: number, checkpoints = 10): Promise<MemoryFigures> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', script, String(cycles), String(checkpoints)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '',
      err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0)
        return reject(
          new Error(
            `memory benchmark: child exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        );
      try {
        resolve(JSON.parse(line) as MemoryFigures);
      } catch {
        reject(
          new Error(`memory benchmark: expected a JSON line from the child, got ${JSON.stringify(line.slice(0, 200))}`),
        );
      }
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const cycles = Number(process.argv[2] ?? 36000),
    checkpoints = Number(process.argv[3] ?? 10);
  runMemory(cycles, checkpoints).then(
    (f) => console.log(JSON.stringify(f)),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
