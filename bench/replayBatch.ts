/**
 * Benchmark 4b, bags replayed at once: `ar1 replay --batch B` over the same bags against `--batch 1`, each as a
 * child process (one model load each), with the large bundle on the CPU and a fixed latency. With --batch B the
 * plans pending across the bags go to the engine in one batched call (planBatch), where one vision run and one
 * prefill run carry them (the bundle's max_batch); the replay's info log says how many calls the plans took. Reports plans per second of wall time for both, the plans per engine call, and checks
 * that every bag's report.json and output bag are byte-identical.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { makeSampleBag } from '../nodes/replay/sampleBag.js';
import { createSessions } from '../nodes/adapters/onnxruntime/ort.js';
import { silentLogger } from '../nodes/core/logger.js';
import { checkedRunner, runPipeline, runPipelineBatch } from '../nodes/ar1/planPipeline.js';
import type { PipelineOutput } from '../nodes/ar1/planPipeline.js';
import { makeTinyAr1Bundle } from '../nodes/syntheticBundles/tinyAr1Bundle.js';
import { TINY } from '../nodes/syntheticBundles/tinyTransformer.js';
import { loadTokenizer } from '../nodes/ar1/tokenizer.js';
import { verifyBundle } from '../nodes/bundle/verifyBundle.js';
import { round, summarize } from './stats.js';

export interface ReplayBatchFigures {
  bags: number;
  batch: number;
  plans: number;
  serialS: number;
  batchS: number;
  serialPlansPerS: number;
  batchPlansPerS: number;
  /** Engine calls the batched run made, and the mean and largest number of plans in one. */
  engineCalls: number;
  plansPerCall: number;
  largestCall: number;
  speedup: number;
  identical: boolean;
}

const AR1 = fileURLToPath(new URL('../bin/ar1.js', import.meta.url));
const PARAMS = fileURLToPath(new URL('../config/sample_bag.yaml', import.meta.url));

function ar1(args: string[]): Promise<{ ms: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const p = spawn(process.execPath, [AR1, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.on('close', (code) =>
      code === 0
        ? resolve({ ms: performance.now() - t, stdout, stderr })
        : reject(
            new Error(
              `replay batch bench: ar1 ${args.slice(0, 2).join(' ')} … exited ${code}: ${stderr.trim().split('\n').at(-1)}`,
            ),
          ),
    );
  });
}

export async function benchReplayBatch(o: {
  work: string;
  bundleDir: string;
  bags: number;
  durationS: number;
  batch: number;
}): Promise<ReplayBatchFigures> {
  const names = Array.from({ length: o.bags }, (_, i) => `bag${i}`);
  for (const [i, n] of names.entries())
    await makeSampleBag(path.join(o.work, n), { durationS: o.durationS, seed: i + 1 });
  const common = [
    'replay',
    '--bag',
    ...names.map((n) => path.join(o.work, n)),
    '--bundle',
    o.bundleDir,
    '--params',
    PARAMS,
    '--providers',
    'cpu',
    '--latency',
    '100',
    '--json',
  ];
  const serial = await ar1([...common, '--batch', '1', '--out', path.join(o.work, 'serial')]);
  const batched = await ar1([
    ...common,
    '--batch',
    String(o.batch),
    '--out',
    path.join(o.work, 'batched'),
    '--log-level',
    'info',
  ]);
  const calls = /batched inference: (\d+) plans in (\d+) engine calls \(at most (\d+) in one\)/.exec(batched.stderr);
  const plans = (JSON.parse(serial.stdout) as { bags: Array<{ plans: { published: number } }> }).bags.reduce(
    (a, b) => a + b.plans.published,
    0,
  );
  const identical = names.every((n) =>
    ['report.json', 'bag/bag_0.mcap'].every((f) =>
      readFileSync(path.join(o.work, 'serial', n, f)).equals(readFileSync(path.join(o.work, 'batched', n, f))),
    ),
  );
  const serialS = serial.ms / 1000,
    batchS = batched.ms / 1000;
  return {
    bags: o.bags,
    batch: o.batch,
    plans,
    serialS: round(serialS),
    batchS: round(batchS),
    serialPlansPerS: round(plans / serialS),
    batchPlansPerS: round(plans / batchS),
    engineCalls: calls ? Number(calls[2]) : plans,
    plansPerCall: calls ? round(Number(calls[1]) / Number(calls[2])) : 1,
    largestCall: calls ? Number(calls[3]) : 1,
    speedup: round(serialS / batchS),
    identical,
  };
}

export interface PlanBatchFigures {
  plans: number;
  /** Wall ms for the B plans in one runPipelineBatch call, and one by one (p50 over the rounds). */
  batchMs: number;
  serialMs: number;
  throughputRatio: number;
  identical: boolean;
}

/**
 * B plans of different pixels, histories and seeds in one batched pass (runPipelineBatch: one vision run and one
 * prefill run for all, up to the bundle's max_batch of 8; one decode run per token for all; the expert for equal
 * cache lengths together) against the same plans one by one, in process on the tiny AR1 bundle (split form, CPU):
 * the decode-bound case the large demo bundle, whose cost is its vision graph, does not show. Checks that every
 * plan's tokens and actions are bit-identical.
 */
export async function benchPlanBatch(
  plans = 8,
  reps = 5,
  dir = path.join(os.tmpdir(), 'ar1-bench'),
): Promise<PlanBatchFigures> {
  const bundle = path.join(dir, 'tiny-split');
  makeTinyAr1Bundle(bundle);
  const v = await verifyBundle(bundle);
  const sessions = await createSessions(v.graphPaths, ['cpu'], silentLogger);
  const ctx = {
    manifest: v.manifest,
    tokenizer: loadTokenizer(v.tokenizerJson, v.manifest),
    runner: checkedRunner(sessions.runner, v.manifest),
    now: () => performance.now(),
  };
  const N = 16,
    { height: H, width: W } = TINY.model;
  const inputs = Array.from({ length: plans }, (_, b) => ({
    pixels: () => ({
      type: 'uint8' as const,
      data: new Uint8Array(N * H * W * 3).map((_, i) => (i * (31 + 2 * b)) & 255),
      dims: [N, H, W, 3],
    }),
    history: {
      x: Float64Array.from({ length: 16 }, (_, i) => (i - 15) * (0.4 + 0.2 * b)),
      y: new Float64Array(16),
      z: new Float64Array(16),
      yaw: new Float64Array(16),
      dt: 0.1,
    },
    seed: 17 * b + 1,
    samples: 1,
  }));
  const batch: number[] = [],
    serial: number[] = [];
  let identical = true;
  try {
    for (let r = 0; r < reps + 1; r++) {
      let t0 = performance.now();
      const together = await runPipelineBatch(ctx, inputs);
      const b = performance.now() - t0;
      t0 = performance.now();
      const alone: PipelineOutput[] = [];
      for (const p of inputs) alone.push(await runPipeline(ctx, p.pixels(), p.history, p.seed, p.samples));
      const sr = performance.now() - t0;
      together.forEach((t, i) => {
        const a = alone[i]!;
        if (
          t.status !== 'fulfilled' ||
          JSON.stringify(t.value.tokenIds) !== JSON.stringify(a.tokenIds) ||
          !Buffer.from(t.value.actions[0]!.buffer).equals(Buffer.from(a.actions[0]!.buffer))
        )
          identical = false;
      });
      if (r > 0) {
        batch.push(b);
        serial.push(sr);
      } // the first round warms up
    }
  } finally {
    await sessions.release();
  }
  const bs = summarize(batch).p50,
    ss = summarize(serial).p50;
  return { plans, batchMs: round(bs), serialMs: round(ss), throughputRatio: round(ss / bs), identical };
}
