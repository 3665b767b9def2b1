/**
 * Benchmark 4, replay throughput against the bag-read floor, same bag, same run: messages/s and MB/s of replayBag
 * (planner + watchdog in bag time, output bag (unless writeBag is false) + reports written) vs
 * openBag(...).messages({ decode: true }) over the same file. Both are run once first, unmeasured (warm-up). Repetitions alternate floor and replay so both see the same
 * machine state. The same ratio in CPU time
 * (process.cpuUsage, user + system) is less sensitive to other work on a shared machine than the wall-clock one.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { openBag } from '../nodes/adapters/mcap/index.js';
import type { PlanningEngine } from '../nodes/core/planningEngine.js';
import { replayBag } from '../nodes/replay/runner.js';
import { summarize, type Summary } from './stats.js';

export interface ReplayBenchOptions {
  bagPath: string;
  engine: PlanningEngine;
  /** Label: the engine (demo bundle or null engine) and the replay's options. */
  engineLabel: string;
  outDir: string;
  repetitions: number;
  paramsFiles?: string[];
  /** Write the output bag (default true; false: `ar1 replay --no-output-bag`). */
  writeBag?: boolean;
  /**
   * Replays run before the measured ones (default 1). The first replays in a process run 3-7x slower than later ones
   * while V8 compiles the node code; a dataset shard replays many bags in one process, so its steady state is what the
   * measured repetitions should see. The first one's throughput is reported apart (coldRatioToFloor): the process's
   * first replay only when nothing replayed before it in the process (in `npm run bench` the demo-engine and sim rows
   * run first, so it is warmer than a single-bag `ar1 replay`).
   */
  warmups?: number;
}

export interface ReplayFigures {
  engine: string;
  messages: number;
  bagMB: number;
  repetitions: number;
  floorMsgPerS: Summary;
  replayMsgPerS: Summary;
  floorMBPerS: number;
  replayMBPerS: number;
  /** Median replay throughput / median floor throughput. */
  ratioToFloor: number;
  /** This call's first replay (the first warm-up) / median floor throughput. */
  coldRatioToFloor: number;
  warmups: number;
  /** Median floor CPU time / median replay CPU time [ms / ms], for the same messages. */
  ratioToFloorCpu: number;
  floorCpuMs: number;
  replayCpuMs: number;
  plans: number;
}

/** CPU time of this process so far [ms], user + system. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function readFloor(bagPath: string): Promise<{ ms: number; cpuMs: number; messages: number; bytes: number }> {
  const t = performance.now();
  const c = cpuMs();
  const reader = await openBag(bagPath);
  let messages = 0,
    bytes = 0;
  try {
    for await (const m of reader.messages({ decode: true })) {
      messages++;
      bytes += m.data.length;
      if (m.message === undefined) throw new Error(`${bagPath}: ${m.topic}: expected a decoded message, got none`);
    }
  } finally {
    await reader.close();
  }
  return { ms: performance.now() - t, cpuMs: cpuMs() - c, messages, bytes };
}

function replayOnce(o: ReplayBenchOptions, outDir: string): ReturnType<typeof replayBag> {
  return replayBag({
    bagPath: o.bagPath,
    engine: o.engine,
    paramsFiles: o.paramsFiles ?? ['config/sample_bag.yaml'],
    outDir,
    seed: 0,
    samples: 1,
    latency: { kind: 'fixed', ms: 100 },
    version: 'bench',
    ...(o.writeBag === false ? { writeBag: false } : {}),
  });
}

export async function benchReplay(o: ReplayBenchOptions): Promise<ReplayFigures> {
  const floor: number[] = [],
    replay: number[] = [],
    floorCpu: number[] = [],
    replayCpu: number[] = [];
  let messages = 0,
    bytes = 0,
    plans = 0;
  const fileBytes = statSync(o.bagPath).isDirectory() ? 0 : statSync(o.bagPath).size;
  // Warm-up of both sides, not measured: the file cache, the decoders, and the JIT (the first replay in a process
  // runs 3-5x slower than the fifth; a dataset shard replays many bags in one process).
  await readFloor(o.bagPath);
  const warmups = Math.max(1, o.warmups ?? 1);
  let coldMsgPerS = 0;
  for (let i = 0; i < warmups; i++) {
    const t = performance.now();
    const r = await replayOnce(o, path.join(o.outDir, `warmup${i}`));
    if (i === 0) coldMsgPerS = r.report.bag.messages / ((performance.now() - t) / 1000);
  }
  for (let i = 0; i < o.repetitions; i++) {
    const f = await readFloor(o.bagPath);
    messages = f.messages;
    bytes = f.bytes;
    floor.push(f.messages / (f.ms / 1000));
    floorCpu.push(f.cpuMs);
    const t = performance.now();
    const c = cpuMs();
    const r = await replayOnce(o, path.join(o.outDir, `rep${i}`));
    const ms = performance.now() - t;
    replayCpu.push(cpuMs() - c);
    if (r.report.bag.messages !== messages)
      throw new Error(
        `replay benchmark: expected the replay to read ${messages} messages, got ${r.report.bag.messages}`,
      );
    plans = r.compute.stages_ms['total']?.count ?? 0;
    replay.push(messages / (ms / 1000));
  }
  const fs = summarize(floor),
    rs = summarize(replay);
  const mb = (fileBytes || bytes) / 1e6;
  return {
    engine: o.engineLabel,
    messages,
    bagMB: mb,
    repetitions: o.repetitions,
    floorMsgPerS: fs,
    replayMsgPerS: rs,
    floorMBPerS: (mb * fs.p50) / messages,
    replayMBPerS: (mb * rs.p50) / messages,
    ratioToFloor: rs.p50 / fs.p50,
    coldRatioToFloor: coldMsgPerS / fs.p50,
    warmups,
    ratioToFloorCpu: summarize(floorCpu).p50 / summarize(replayCpu).p50,
    floorCpuMs: summarize(floorCpu).p50,
    replayCpuMs: summarize(replayCpu).p50,
    plans,
  };
}
