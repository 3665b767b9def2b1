/** Smoke tests: each benchmark runs with tiny counts and returns well-formed figures (no wall-clock assertions). */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchBatch, benchDecodeTransport, benchLargeLoad } from '../../bench/engineScale.js';
import { benchEventLoop, idleBaseline } from '../../bench/eventLoop.js';
import { benchBundle, jpegFrames, rawFrames } from '../../bench/fixtures.js';
import { benchMemory } from '../../bench/memory.js';
import { NullEngine } from '../../bench/nullEngine.js';
import { benchPipeline } from '../../bench/pipeline.js';
import { benchTransport } from '../../bench/transport.js';
import { benchReplay } from '../../bench/replay.js';
import { percentile, summarize, type Summary } from '../../bench/stats.js';
import { benchWatchdog } from '../../bench/watchdog.js';
import { makeSampleBag } from '../../nodes/replay/sampleBag.js';

const finiteSummary = (s: Summary, n: number) => {
  expect(s.n).to.equal(n);
  for (const k of ['p50', 'p99', 'min', 'max', 'mean'] as const) expect(Number.isFinite(s[k]), k).to.equal(true);
  expect(s.min).to.be.at.most(s.p50);
  expect(s.p50).to.be.at.most(s.p99);
  expect(s.p99).to.be.at.most(s.max);
};

describe('bench', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ar1-bench-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('percentile is nearest-rank and summarize orders its figures', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).to.equal(3);
    expect(percentile([5, 1, 3, 2, 4], 99)).to.equal(5);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).to.equal(99);
    expect(Number.isNaN(percentile([], 50))).to.equal(true);
    expect(summarize([2, 4])).to.deep.equal({ n: 2, p50: 2, p99: 4, min: 2, max: 4, mean: 3 });
  });

  it('pipeline: raw and JPEG plans through the planner, overhead and copy floor per plan', async () => {
    const H = 64,
      W = 112;
    const bundleDir = benchBundle({ name: 'demo', height: H, width: W }, dir);
    const raw = rawFrames(5, H, W);
    for (const [encoding, frames] of [
      ['rgb8', raw],
      ['jpeg', await jpegFrames(raw, H, W)],
    ] as const) {
      const f = await benchPipeline({
        bundleDir,
        bundle: 'demo',
        providers: ['cpu'],
        encoding,
        frames,
        plans: 3,
        warmup: 1,
      });
      expect(f.plans).to.equal(3);
      expect(f.framesPerPlan).to.equal(16);
      expect(f.provider).to.equal('cpu');
      for (const s of [f.planMs, f.sessionRunMs, f.overheadMs, f.copyFloorMs, f.overheadToModel, f.overheadToCopyFloor])
        finiteSummary(s, 3);
      expect(f.sessionRunMs.min).to.be.greaterThan(0);
      if (encoding === 'rgb8') expect(f.frameBytesPerPlan).to.equal(16 * H * W * 3);
    }
  });

  /** The planner on the real clock with a tiny demo bundle (64×112 frames), as benches 2 and 8 run it. */
  const tinyPlanner = (H: number, W: number) => ({
    bundleDir: benchBundle({ name: 'demo', height: H, width: W }, dir),
    bundle: 'demo',
    providers: ['cpu'],
    frames: rawFrames(4, H, W),
  });

  it('event loop: samples the loop while the planner runs on the real clock', async () => {
    const f = await benchEventLoop({
      ...tinyPlanner(64, 112),
      warmupS: 2,
      warmupPlans: 2,
      durationS: 0.5,
    });
    expect(f.samples).to.be.greaterThan(0);
    // Sampling began after the start-up: at least warmupS, and the plans asked for had completed by then.
    expect(f.startupS).to.be.at.least(2);
    expect(f.startupP99Ms).to.be.at.most(f.startupMaxMs);
    expect(f.delayP50Ms).to.be.at.most(f.delayP99Ms);
    expect(f.delayP99Ms).to.be.at.most(f.delayMaxMs);
    expect(f.commandsPerS).to.be.greaterThan(0);
  });

  it("frames once: plans read their frames in place and the copy reference is one frame's copy", async () => {
    const H = 64,
      W = 112;
    const f = await benchTransport({
      ...tinyPlanner(H, W),
      warmupS: 2,
      durationS: 1,
    });
    expect(f.plans).to.be.greaterThan(0);
    expect(f.copiedBytesPerPlan).to.equal(0);
    expect(f.ringFramesPerPlan).to.equal(16);
    expect(f.admittedBytesPerFrame).to.equal(H * W * 3);
    expect(f.frameCopyMs).to.be.greaterThan(0);
    expect(Number.isFinite(f.planCallToFrameCopyP99) && f.planCallToFrameCopyP99 > 0).to.equal(true);
    // A plan's main-thread time includes its call (and its post and replies).
    expect(f.planMainThreadMs.p50).to.be.greaterThan(0);
    expect(f.planMainThreadMs.max).to.be.at.least(f.planMainThreadMs.p99);
    expect(f.planMainThreadToFrameCopyP99).to.be.greaterThan(0);
  });

  it('event loop: the idle baseline samples the same histogram with nothing running', async () => {
    const b = await idleBaseline(0.3);
    expect(b.samples).to.be.greaterThan(0);
    expect(b.durationS).to.equal(0.3);
    expect(b.delayP50Ms).to.be.at.most(b.delayP99Ms);
    expect(b.delayP99Ms).to.be.at.most(b.delayMaxMs);
  });

  it('watchdog: each run ends in a fallback command after the stream stops', async () => {
    const f = await benchWatchdog({ repetitions: 2, healthyS: 0.3 });
    finiteSummary(f.reactionMs, 2);
    expect(f.controlPeriodMs).to.equal(20);
    expect(f.reactionPeriods.p50).to.be.closeTo(f.reactionMs.p50 / 20, 1e-9);
  });

  it('replay: throughput of the replay and of the bag-read floor on the same bag', async () => {
    const bag = await makeSampleBag(path.join(dir, 'bag'), { durationS: 3 });
    const f = await benchReplay({
      bagPath: bag.file,
      engine: new NullEngine(180, 320),
      engineLabel: 'null',
      outDir: path.join(dir, 'replay'),
      repetitions: 1,
      warmups: 2,
    });
    expect(f.messages).to.equal(bag.messageCount);
    expect(f.plans).to.be.greaterThan(0);
    expect(f.ratioToFloor).to.be.greaterThan(0);
    expect(f.warmups).to.equal(2);
    expect(f.coldRatioToFloor).to.be.greaterThan(0);
    expect(readdirSync(path.join(dir, 'replay')).sort()).to.deep.equal(['rep0', 'warmup0', 'warmup1']);
    expect(f.replayMsgPerS.p50).to.be.greaterThan(0);
  });

  it('memory: a child with --expose-gc reports heap and RSS at each checkpoint', async () => {
    const f = await benchMemory(200, 4);
    expect(f.engine).to.equal('null');
    expect(f.samples.map((s) => s.cycle)).to.deep.equal([50, 100, 150, 200]);
    expect(f.plans).to.be.greaterThan(150);
    expect(f.watchdogState).to.equal('nominal');
    expect(Number.isFinite(f.heapGrowth)).to.equal(true);
  });

  it('engine at scale: decode traffic split vs fused, large-bundle load, batch vs serial (tiny sizes)', async () => {
    const t = await benchDecodeTransport({ layers: 2, kvHeads: 2, positions: 16, headDim: 8 }, 3, dir);
    expect(t.cacheBytes).to.equal(2 * 2 * 2 * 16 * 8 * 2);
    // split: the whole cache goes in and comes out (one position longer) every step, plus ids and logits.
    expect(t.split.hostBytesPerStep).to.be.greaterThan(2 * t.cacheBytes);
    expect(t.fused.hostBytesPerStep).to.equal(8); // one int64 token per step
    finiteSummary(t.split.msPerStep, 3);
    const l = await benchLargeLoad(1e6, path.join(dir, 'large'));
    expect(l.bundleBytes).to.be.greaterThan(1e6);
    for (const k of ['wallMs', 'hashMBps', 'loadMs', 'peakRssBytes', 'peakRssRatio'] as const)
      expect(Number.isFinite(l[k]), k).to.equal(true);
    const b = await benchBatch('split', 2, 1, dir);
    finiteSummary(b.batchMs, 1);
    expect(b.throughputRatio).to.be.greaterThan(0);
  });
});
