/**
 * Benchmark 4b, bags replayed at once: `ar1 replay --batch B` over the same bags against `--batch 1`, each as a
 * child process (one model load each), with the large bundle on the CPU and a fixed latency. Reports plans per
 * second of wall time for both and checks that every bag's report.json and output bag are byte-identical.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSampleBag } from '../nodes/replay/sampleBag.js';
import { round } from './stats.js';

export interface ReplayBatchFigures {
  bags: number;
  batch: number;
  plans: number;
  serialS: number;
  batchS: number;
  serialPlansPerS: number;
  batchPlansPerS: number;
  speedup: number;
  identical: boolean;
}

const AR1 = fileURLToPath(new URL('../bin/ar1.js', import.meta.url));
const PARAMS = fileURLToPath(new URL('../config/sample_bag.yaml', import.meta.url));

function ar1(args: string[]): Promise<{ ms: number; stdout: string }> {
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
        ? resolve({ ms: performance.now() - t, stdout })
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
  const batched = await ar1([...common, '--batch', String(o.batch), '--out', path.join(o.work, 'batched')]);
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
    speedup: round(serialS / batchS),
    identical,
  };
}
