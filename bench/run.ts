/**
 * `npm run bench [-- --quick] [-- --providers cuda,cpu] [-- --out FILE]`: runs the benchmarks, prints a
 * row per figure and a final table (benchmark, figure, goal, pass/fail), and writes bench/results.json with the
 * machine. Wall-clock timing is allowed here only (bench/ is not node logic).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOnnxEngine } from '../nodes/adapters/onnxruntime/index.js';
import { makeSampleBag } from '../nodes/replay/sampleBag.js';
import { AR1_CACHE, benchBatch, benchDecodeTransport, benchLargeLoad } from './engineScale.js';
import { benchEventLoop, idleBaseline } from './eventLoop.js';
import { benchBundle, jpegFrames, rawFrames } from './fixtures.js';
import { machineInfo } from './machine.js';
import { benchMemory } from './memory.js';
import { NullEngine } from './nullEngine.js';
import { benchPipeline } from './pipeline.js';
import { benchReplay } from './replay.js';
import { benchSim } from './sim.js';
import { benchTransport } from './transport.js';
import { benchCliStart } from './cliStart.js';
import { benchPlanBatch, benchReplayBatch } from './replayBatch.js';
import { benchRos2Graph } from './ros2Graph.js';
import { round } from './stats.js';
import { benchWatchdog } from './watchdog.js';

export interface Verdict {
  benchmark: string;
  figure: string;
  value: number;
  goal: string;
  pass: boolean | null;
}

function args(argv: string[]): { quick: boolean; providers: string[]; out: string } {
  const a = { quick: false, providers: ['cpu'], out: fileURLToPath(new URL('./results.json', import.meta.url)) };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--quick') a.quick = true;
    else if (k === '--providers') a.providers = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (k === '--out') a.out = path.resolve(argv[++i] ?? a.out);
    else throw new Error(`bench: unknown option ${k}: expected --quick, --providers LIST, --out FILE`);
  }
  if (a.providers.length === 0)
    throw new Error('bench: --providers: expected a comma-separated list such as cuda,cpu, got nothing');
  return a;
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

async function main(): Promise<void> {
  const o = args(process.argv.slice(2));
  const q = o.quick;
  const machine = await machineInfo(o.providers);
  const log = (s: string) => console.log(s);
  log(
    `ar1 bench${q ? ' --quick' : ''}: ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, onnxruntime-node ${machine.onnxruntime}, providers ${o.providers.join(',')}`,
  );
  const verdicts: Verdict[] = [];
  const v = (benchmark: string, figure: string, value: number, goal: string, pass: boolean | null) =>
    verdicts.push({ benchmark, figure, value: round(value), goal, pass });
  const H = 1080,
    W = 1920;
  const bundles = {
    demo: benchBundle({ name: 'demo', height: H, width: W }),
    large: benchBundle({ name: 'large', height: H, width: W }),
  };
  const raw = rawFrames(20, H, W);
  const jpeg = await jpegFrames(raw, H, W);

  // 1. Pipeline overhead
  const pipeline = [];
  for (const bundle of ['demo', 'large'] as const) {
    for (const encoding of ['rgb8', 'jpeg'] as const) {
      const f = await benchPipeline({
        bundleDir: bundles[bundle],
        bundle,
        providers: o.providers,
        encoding,
        frames: encoding === 'jpeg' ? jpeg : raw,
        plans: q ? 10 : bundle === 'large' ? 20 : 40,
        warmup: 2,
      });
      machine.provider = f.provider;
      pipeline.push(f);
      log(
        `[pipeline] ${bundle} ${encoding}: plan p50 ${round(f.planMs.p50)} ms, session.run p50 ${round(f.sessionRunMs.p50)} ms, overhead p50/p99 ${round(f.overheadMs.p50)}/${round(f.overheadMs.p99)} ms ` +
          `(preprocess ${round(f.preprocessMs.p50)}, rest ${round(f.transportOverheadMs.p50)}), copy floor p50 ${round(f.copyFloorMs.p50)} ms; overhead/model p50 ${round(f.overheadToModel.p50)} p99 ${round(f.overheadToModel.p99)}, ` +
          `overhead/copy p50 ${round(f.overheadToCopyFloor.p50)} p99 ${round(f.overheadToCopyFloor.p99)}, (overhead−preprocess)/copy p50 ${round(f.transportOverheadToCopyFloor.p50)} p99 ${round(f.transportOverheadToCopyFloor.p99)}`,
      );
      v(
        '1 pipeline',
        `${bundle} ${encoding}: overhead/model p99`,
        f.overheadToModel.p99,
        '≤ 0.05',
        f.overheadToModel.p99 <= 0.05,
      );
      if (encoding === 'rgb8') {
        v(
          '1 pipeline',
          `${bundle} rgb8: overhead/copy floor p99`,
          f.overheadToCopyFloor.p99,
          '≤ 3',
          f.overheadToCopyFloor.p99 <= 3,
        );
        v(
          '1 pipeline',
          `${bundle} rgb8: (overhead − preprocess)/copy floor p99`,
          f.transportOverheadToCopyFloor.p99,
          '≤ 3 (transport only)',
          f.transportOverheadToCopyFloor.p99 <= 3,
        );
      }
    }
  }

  // 2. Event-loop delay, against the same histogram in this process with nothing running (the machine's floor)
  const idle = await idleBaseline(q ? 4 : 10);
  log(
    `[event loop] idle process (the machine's floor): p50 ${idle.delayP50Ms} ms, p99 ${idle.delayP99Ms} ms, max ${idle.delayMaxMs} ms over ${idle.durationS} s`,
  );
  v('2 event loop', 'idle process: delay p99 [ms] (the floor on this machine)', idle.delayP99Ms, '(info)', null);
  const eventLoop = [];
  for (const bundle of ['demo', 'large'] as const) {
    const f = await benchEventLoop({
      bundleDir: bundles[bundle],
      bundle,
      providers: o.providers,
      frames: raw,
      warmupS: 2,
      durationS: q ? 4 : 10,
    });
    eventLoop.push(f);
    log(
      `[event loop] ${bundle}: delay p50 ${f.delayP50Ms} ms, p99 ${f.delayP99Ms} ms, max ${f.delayMaxMs} ms over ${f.durationS} s; ${f.plansCompleted} plans (session.run p50 ${f.sessionRunP50Ms} ms), ` +
        `${f.commandsPerS} commands/s; plan() blocked the caller p50 ${f.planCallP50Ms} ms, max ${f.planCallMaxMs} ms; ` +
        `start-up before it (rings allocated, first plans) ${f.startupS} s: p99 ${f.startupP99Ms} ms, max ${f.startupMaxMs} ms`,
    );
    v('2 event loop', `${bundle}: delay p99 [ms]`, f.delayP99Ms, '≤ 2 ms', f.delayP99Ms <= 2);
    v('2 event loop', `${bundle}: start-up delay p99 [ms]`, f.startupP99Ms, '(info: before steady planning)', null);
    v(
      '2 event loop',
      `${bundle}: delay p99 − idle process p99 [ms]`,
      f.delayP99Ms - idle.delayP99Ms,
      '(info: what planning adds)',
      null,
    );
  }

  // 3. Watchdog reaction
  const watchdog = await benchWatchdog({ repetitions: q ? 30 : 50, healthyS: 0.4 });
  log(
    `[watchdog] reaction p50 ${round(watchdog.reactionMs.p50)} ms, p99 ${round(watchdog.reactionMs.p99)} ms = ${round(watchdog.reactionPeriods.p50)} / ${round(watchdog.reactionPeriods.p99)} periods of ${watchdog.controlPeriodMs} ms (${watchdog.repetitions} runs)`,
  );
  v('3 watchdog', 'reaction p99 [periods]', watchdog.reactionPeriods.p99, '≤ 1', watchdog.reactionPeriods.p99 <= 1);

  // 4. Replay throughput
  const work = path.join(os.tmpdir(), 'ar1-bench', `replay-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const bag = await makeSampleBag(path.join(work, 'bag'), { durationS: q ? 10 : 20 });
  const demoEngine = await createOnnxEngine({
    bundleDir: benchBundle({ name: 'demo', height: 180, width: 320 }),
    executionProviders: o.providers,
  });
  const replay = [];
  const sim = [];
  try {
    replay.push(
      await benchReplay({
        bagPath: bag.file,
        engine: demoEngine,
        engineLabel: 'demo engine',
        outDir: path.join(work, 'demo'),
        repetitions: q ? 2 : 3,
      }),
    );
    // 10. Closed-loop simulation speed (bench/sim.ts), same demo engine.
    for (const render of [true, false])
      sim.push(await benchSim({ engine: demoEngine, outDir: path.join(work, 'sim'), render }));
  } finally {
    await demoEngine.close();
  }
  for (const writeBag of [true, false])
    replay.push(
      await benchReplay({
        bagPath: bag.file,
        engine: new NullEngine(180, 320),
        engineLabel: writeBag ? 'null engine' : 'null engine, --no-output-bag',
        outDir: path.join(work, writeBag ? 'null' : 'null-no-bag'),
        repetitions: q ? 3 : 5,
        // Past V8's warm-up (the first replays in a process run 3-7x slower), as in a shard of many bags.
        warmups: q ? 6 : 10,
        writeBag,
      }),
    );
  for (const f of replay) {
    log(
      `[replay] ${f.engine}: ${round(f.replayMsgPerS.p50)} msg/s (${round(f.replayMBPerS)} MB/s) vs floor ${round(f.floorMsgPerS.p50)} msg/s (${round(f.floorMBPerS)} MB/s) → ${pct(f.ratioToFloor)} ` +
        `after ${f.warmups} warm-up replay${f.warmups === 1 ? '' : 's'} (the row's first: ${pct(f.coldRatioToFloor)}, after the rows before it); ${f.messages} messages, ${round(f.bagMB)} MB, ${f.plans} plans`,
    );
    v('4 replay', `${f.engine}: throughput / bag-read floor`, f.ratioToFloor, '≥ 0.5', f.ratioToFloor >= 0.5);
    if (f.warmups > 1) v('4 replay', `${f.engine}: the row's first replay / floor`, f.coldRatioToFloor, '(info)', null);
  }

  for (const f of sim) {
    log(
      `[sim] curve, demo model, ${f.render ? 'cameras rendered' : 'flat frames'}: ${f.simulatedS} s simulated in ${f.wallS} s → ${f.realTimeFactor}× real time (${f.verdict}); ` +
        `model ${f.modelS} s (${f.plans} plans), rendering ${f.renderS} s, nodes + bus + outputs ${f.restS} s`,
    );
    v(
      '10 sim',
      `simulated s per wall s, demo model, ${f.render ? 'rendered cameras' : 'no rendering'}`,
      f.realTimeFactor,
      '(info)',
      null,
    );
  }

  // 4b. Bags replayed at once (--batch) vs one at a time, large bundle on the CPU
  const replayBatch = await benchReplayBatch({
    work: path.join(work, 'batch'),
    bundleDir: benchBundle({ name: 'large', height: 180, width: 320 }),
    bags: q ? 4 : 8,
    durationS: q ? 3 : 4,
    batch: q ? 4 : 8,
  });
  log(
    `[replay] --batch ${replayBatch.batch} vs 1 over ${replayBatch.bags} bags (large bundle, CPU): ${replayBatch.batchPlansPerS} vs ${replayBatch.serialPlansPerS} plans/s ` +
      `(${replayBatch.plans} plans, ${replayBatch.batchS} vs ${replayBatch.serialS} s) → ×${replayBatch.speedup}; ` +
      `${replayBatch.plansPerCall} plans per engine call (at most ${replayBatch.largestCall}); outputs ${replayBatch.identical ? 'byte-identical' : 'DIFFER'}`,
  );
  v(
    '4 replay',
    `--batch ${replayBatch.batch} / --batch 1 plans/s (large bundle, CPU)`,
    replayBatch.speedup,
    '(report)',
    null,
  );
  v(
    '4 replay',
    `plans per engine call with --batch ${replayBatch.batch} (batched inference across bags)`,
    replayBatch.plansPerCall,
    '(report)',
    null,
  );
  v(
    '4 replay',
    `--batch ${replayBatch.batch} outputs identical to one bag at a time`,
    replayBatch.identical ? 1 : 0,
    '1',
    replayBatch.identical,
  );

  const planBatch = await benchPlanBatch(8, q ? 2 : 5);
  log(
    `[replay] tiny AR1 split: ${planBatch.plans} plans in one batched pass p50 ${planBatch.batchMs} ms vs one by one ${planBatch.serialMs} ms → ×${planBatch.throughputRatio}; ` +
      `tokens and actions ${planBatch.identical ? 'bit-identical' : 'DIFFER'}`,
  );
  v(
    '4 replay',
    'tiny AR1 split: 8 plans batched / one by one, throughput',
    planBatch.throughputRatio,
    '(report)',
    null,
  );
  v(
    '4 replay',
    'tiny AR1 split: batched plans identical to alone',
    planBatch.identical ? 1 : 0,
    '1',
    planBatch.identical,
  );

  // 5. Memory
  const memory = await benchMemory(q ? 6000 : 36000, 10);
  log(
    `[memory] ${memory.cycles} plan cycles (null engine, ${memory.plans} plans, ${memory.watchdogTicks} watchdog ticks, ${memory.wallS} s): heap ${memory.samples[0]?.heapMB} → ${memory.samples.at(-1)?.heapMB} MB, ` +
      `rss ${memory.samples[0]?.rssMB} → ${memory.samples.at(-1)?.rssMB} MB; growth after warm-up heap ${pct(memory.heapGrowth)}, rss ${pct(memory.rssGrowth)}${memory.stopError ? `; stop: ${memory.stopError}` : ''}`,
  );
  v('5 memory', 'heap growth after warm-up (null engine)', memory.heapGrowth, '≤ 0.05', memory.heapGrowth <= 0.05);
  v('5 memory', 'rss growth after warm-up (null engine)', memory.rssGrowth, '≤ 0.05', memory.rssGrowth <= 0.05);

  // 6. The engine at AR1's real size
  const transport = await benchDecodeTransport(AR1_CACHE, q ? 3 : 5);
  const MB = (b: number) => round(b / 1e6);
  log(
    `[engine] decode step with AR1's cache (${MB(transport.cacheBytes)} MB fp16): split ${round(transport.split.msPerStep.p50)} ms/step, ${MB(transport.split.hostBytesPerStep)} MB across the session per step; ` +
      `fused ${round(transport.fused.msPerStep)} ms/step, ${transport.fused.hostBytesPerStep} B per step (${transport.steps} steps, CPU)`,
  );
  v('6 engine', 'split: host bytes per decode step [MB]', MB(transport.split.hostBytesPerStep), '(info)', null);
  v(
    '6 engine',
    'fused: host bytes per decode step [B]',
    transport.fused.hostBytesPerStep,
    'tokens only',
    transport.fused.hostBytesPerStep <= 64,
  );
  v('6 engine', 'split: ms per decode step (CPU)', transport.split.msPerStep.p50, '(info)', null);
  v('6 engine', 'fused: ms per decode step (CPU)', transport.fused.msPerStep, '(info)', null);
  const large = await benchLargeLoad(2.2e9);
  log(
    `[engine] ${round(large.bundleBytes / 2 ** 30)} GiB bundle: verify + load ${round(large.wallMs / 1e3)} s wall, hash ${large.hashMBps} MB/s, sessions ${round(large.loadMs / 1e3)} s, peak RSS ${MB(large.peakRssBytes)} MB = ${round(large.peakRssRatio)} × bundle`,
  );
  v('6 engine', '> 2 GiB bundle: verify + load wall [s]', large.wallMs / 1e3, '(info)', null);
  v('6 engine', '> 2 GiB bundle: hash [MB/s]', large.hashMBps, '(info)', null);
  v(
    '6 engine',
    '> 2 GiB bundle: peak RSS / bundle size',
    large.peakRssRatio,
    '≤ 1.5 (weights once, never a JS copy)',
    large.peakRssRatio <= 1.5,
  );
  const batch = [];
  for (const form of ['split', 'fused'] as const) {
    const b = await benchBatch(form, 6, q ? 2 : 5);
    batch.push(b);
    log(
      `[engine] tiny AR1 ${form}: K=6 in one batch p50 ${round(b.batchMs.p50)} ms vs 6 serial plans ${round(b.serialMs.p50)} ms → throughput ×${round(b.throughputRatio)}`,
    );
    v('6 engine', `tiny AR1 ${form}: K=6 batch throughput / 6 serial`, b.throughputRatio, '> 1', b.throughputRatio > 1);
  }

  // 8. Frames copied once (the planner's frames in the engine's shared ring)
  const transport8 = await benchTransport({
    bundleDir: bundles.large,
    bundle: 'large',
    providers: o.providers,
    frames: raw,
    warmupS: 2,
    durationS: q ? 4 : 10,
  });
  log(
    `[frames] large rgb8: ${transport8.plans} plans, ${transport8.copiedBytesPerPlan} frame bytes copied by plan() per plan (${transport8.ringFramesPerPlan} frames read in place); ` +
      `${transport8.admittedFrames} frames written once on receipt (${round(transport8.admittedBytesPerFrame / 1e6)} MB each, ${transport8.frameCopyMs} ms per copy); ` +
      `a plan's main-thread time (call, post, replies) p50 ${transport8.planMainThreadMs.p50} ms, p99 ${transport8.planMainThreadMs.p99} ms, max ${transport8.planMainThreadMs.max} ms; ` +
      `plan()'s call alone p50 ${transport8.planCallMs.p50} ms, p99 ${transport8.planCallMs.p99} ms, max ${transport8.planCallMs.max} ms`,
  );
  v(
    '8 frames once',
    'main-thread frame bytes copied per plan',
    transport8.copiedBytesPerPlan,
    '0',
    transport8.copiedBytesPerPlan === 0,
  );
  v(
    '8 frames once',
    "per-plan main-thread time (plan()'s call, its post, its two replies) / one frame copy, p99",
    transport8.planMainThreadToFrameCopyP99,
    '≤ 0.2',
    transport8.planMainThreadToFrameCopyP99 <= 0.2,
  );
  v('8 frames once', "plan()'s call alone / one frame copy, p99", transport8.planCallToFrameCopyP99, '(info)', null);

  // 9. CLI start-up (compiled JavaScript)
  const cli = benchCliStart(q ? 5 : 15);
  log(
    `[cli] ar1 --version p50 ${cli.versionMs} ms vs node -e 0 p50 ${cli.nodeMs} ms → ${cli.ratio}× (${cli.runs} runs each); ar1 --help (loads every subcommand) ${cli.helpMs} ms`,
  );
  v('9 cli', 'ar1 --version wall / node -e 0', cli.ratio, '≤ 3', cli.ratio <= 3);

  // 7. The nodes on a real ROS 2 graph (where ROS 2 is sourced and rclnodejs prepared)
  const ros2 = await benchRos2Graph({ durationS: q ? 15 : 60, log });
  if (typeof ros2 === 'string') log(`[ros2 graph] skipped: ${ros2}`);
  else {
    v(
      '7 ros2 graph',
      `command gaps over command_gap_s in ${Math.round(ros2.durationS)} s (4 × 1080p JPEG cameras)`,
      ros2.gapsOverCommandGap,
      '0',
      ros2.gapsOverCommandGap === 0,
    );
    v(
      '7 ros2 graph',
      '/vehicle/unicycle_command max gap [ms] (stamps)',
      ros2.vehicleCommandMaxGapMs.stamps,
      '≤ 100 ms',
      ros2.vehicleCommandMaxGapMs.stamps <= 100,
    );
    v(
      '7 ros2 graph',
      'kill -9 planner → first fallback command [ms]',
      ros2.killToFallbackMs,
      '≤ 120 ms (gap + 1 period)',
      ros2.killToFallbackMs <= 120,
    );
    v('7 ros2 graph', 't0 → trajectory p99 [ms] (demo bundle, CPU)', ros2.t0ToTrajectoryMs.p99, 'info', null);
  }

  log('');
  const rows = verdicts.map((r) => [
    r.benchmark,
    r.figure,
    String(r.value),
    r.goal,
    r.pass === null ? 'info' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const head = ['benchmark', 'figure', 'value', 'goal', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, widths.map((w) => '-'.repeat(w)), ...rows])
    log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  writeFileSync(
    o.out,
    JSON.stringify(
      {
        machine,
        quick: q,
        verdicts,
        pipeline,
        eventLoop,
        eventLoopIdle: idle,
        watchdog,
        replay,
        sim,
        memory,
        engine: { transport, large, batch },
        framesOnce: transport8,
        cli,
        ros2,
      },
      null,
      2,
    ) + '\n',
  );
  log(`\nwrote ${o.out}`);
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
