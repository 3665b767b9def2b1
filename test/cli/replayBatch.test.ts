import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoBundle, makeTinyAr1Bundle } from '../../nodes/syntheticBundles/index.js';
import { TINY } from '../../nodes/syntheticBundles/tinyTransformer.js';
import { makeSampleBag } from '../../nodes/replay/sampleBag.js';

const AR1 = fileURLToPath(new URL('../../bin/ar1.js', import.meta.url));
const PARAMS = fileURLToPath(new URL('../../config/sample_bag.yaml', import.meta.url));
function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [AR1, ...args], { env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The replay's info line: several plans went to the engine in one call. */
function expectBatched(stderr: string): void {
  const m = /batched inference: (\d+) plans in (\d+) engine calls \(at most (\d+) in one\)/.exec(stderr);
  expect(m, stderr).to.not.equal(null);
  expect(Number(m![3]), 'plans of several bags in one engine call').to.be.greaterThan(1);
  expect(Number(m![2])).to.be.lessThan(Number(m![1]));
}

describe('cli: ar1 replay --batch (several bags at once in one process)', function () {
  this.timeout(240000);
  let dir: string;
  const bags = ['a', 'b', 'c'];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-replay-batch-'));
    const m = makeDemoBundle(join(dir, 'bundle'));
    // The bundle batches vision and prefill: one vision run and one prefill run carry the plans of a batched call.
    expect([m.graphs.vision_encoder!.maxBatch, m.graphs.lm_prefill!.maxBatch]).to.deep.equal([8, 8]);
    for (const [i, b] of bags.entries()) await makeSampleBag(join(dir, b), { durationS: 3 + i, seed: i + 1 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("outputs are byte-identical to replaying one bag at a time (fixed latency; vision and prefill batched too); headlines and summary keep the bags' order", async () => {
    const common = [
      'replay',
      '--bag',
      ...bags.map((b) => join(dir, b)),
      '--bundle',
      join(dir, 'bundle'),
      '--params',
      PARAMS,
      '--providers',
      'cpu',
      '--latency',
      '100',
    ];
    const one = await run([...common, '--out', join(dir, 'one')]);
    expect(one.status, one.stderr).to.equal(0);
    const many = await run([...common, '--batch', '3', '--out', join(dir, 'many'), '--log-level', 'info']);
    expect(many.status, many.stderr).to.equal(0);
    expectBatched(many.stderr);
    for (const b of bags) {
      for (const f of ['report.json', 'bag/bag_0.mcap']) {
        expect(
          readFileSync(join(dir, 'many', b, f)).equals(readFileSync(join(dir, 'one', b, f))),
          `${b}/${f}`,
        ).to.equal(true);
      }
    }
    expect(readFileSync(join(dir, 'many', 'summary.json'), 'utf8')).to.equal(
      readFileSync(join(dir, 'one', 'summary.json'), 'utf8'),
    );
    const order = (out: string) => [...out.matchAll(/^replayed (\S+)/gm)].map((m) => m[1]);
    expect(order(many.stdout)).to.deep.equal(bags.map((b) => join(dir, b)));
    // The headlines differ only in the measured compute time.
    const modelled = (out: string) => out.replace(/^ {2}compute .*$/gm, '');
    expect(modelled(many.stdout.replaceAll('/many', '/one'))).to.equal(modelled(one.stdout));
  });

  it('with the tiny AR1 bundle (per-layer cache, plans seen, prefilled and decoded together, 2 samples each): byte-identical too', async () => {
    const tiny = join(dir, 'tiny');
    const m = makeTinyAr1Bundle(join(tiny, 'bundle'));
    expect([m.graphs.vision_encoder!.maxBatch, m.graphs.lm_prefill!.maxBatch]).to.deep.equal([8, 8]);
    for (const [i, b] of bags.entries())
      await makeSampleBag(join(tiny, b), {
        durationS: 3 + i,
        seed: 10 + i,
        width: TINY.native.width,
        height: TINY.native.height,
      });
    const common = [
      'replay',
      '--bag',
      ...bags.map((b) => join(tiny, b)),
      '--bundle',
      join(tiny, 'bundle'),
      '--params',
      PARAMS,
      '--providers',
      'cpu',
      '--latency',
      '100',
      '--samples',
      '2',
    ];
    const one = await run([...common, '--out', join(tiny, 'one')]);
    expect(one.status, one.stderr).to.equal(0);
    const many = await run([...common, '--batch', '3', '--out', join(tiny, 'many'), '--log-level', 'info']);
    expect(many.status, many.stderr).to.equal(0);
    expectBatched(many.stderr);
    for (const b of bags)
      for (const f of ['report.json', 'bag/bag_0.mcap'])
        expect(
          readFileSync(join(tiny, 'many', b, f)).equals(readFileSync(join(tiny, 'one', b, f))),
          `${b}/${f}`,
        ).to.equal(true);
    const report = JSON.parse(readFileSync(join(tiny, 'one', 'a', 'report.json'), 'utf8')) as {
      plans: { published: number };
    };
    expect(report.plans.published, 'the tiny bundle plans').to.be.greaterThan(5);
  });

  it('a bad --batch is one line, exit 2', () => {
    const r = spawnSync(process.execPath, [AR1, 'replay', '--bag', 'x', '--batch', '0'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.equal('ar1: --batch: expected an integer >= 1, got "0"\n');
  });
});
