import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoBundle } from '../../nodes/syntheticBundles/index.js';
import { makeSampleBag } from '../../nodes/replay/sampleBag.js';

const AR1 = fileURLToPath(new URL('../../bin/ar1.js', import.meta.url));
const PARAMS = fileURLToPath(new URL('../../config/sample_bag.yaml', import.meta.url));
const runSync = (...args: string[]) => spawnSync(process.execPath, [AR1, ...args], { encoding: 'utf8' });
/** Async, so mocha's timeout keeps ticking while a replay runs. */
function run(args: string[], cwd?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [AR1, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' } });
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
const noStack = (s: string) => expect(s, 'no stack trace').not.to.match(/\n\s+at /);

describe('cli: ar1 replay, ar1 report merge, ar1 demo', function () {
  this.timeout(180000);
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-cli-replay-'));
    makeDemoBundle(join(dir, 'bundle'));
    await makeSampleBag(join(dir, 'a'), { durationS: 3, seed: 1 });
    await makeSampleBag(join(dir, 'b'), { durationS: 3, seed: 2 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing bag: one line naming it, exit 2 (a bad input), no stack trace', async () => {
    const r = await run([
      'replay',
      '--bag',
      join(dir, 'nope'),
      '--bundle',
      join(dir, 'bundle'),
      '--params',
      PARAMS,
      '--out',
      join(dir, 'o0'),
      '--providers',
      'cpu',
    ]);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/^ar1: --bag: .*nope: no such file or directory/m);
    noStack(r.stderr);
  });

  it('bad options and a missing bundle are refused before anything runs', () => {
    const lat = runSync('replay', '--bag', 'x', '--latency', 'soon');
    expect(lat.status).to.equal(2);
    expect(lat.stderr).to.equal('ar1: --latency: expected milliseconds >= 0 or "measured", got "soon"\n');
    const shard = runSync('replay', '--bag', 'x', '--shard', '2/2');
    expect(shard.stderr).to.equal('ar1: --shard: expected 0 <= i < 2, got i=2\n');
    const bundle = runSync('replay', '--bag', 'x');
    expect(bundle.stderr).to.match(/^ar1: no model bundle: pass --bundle DIR or set bundle_dir/);
    const list = runSync('replay', '--bag-list', join(dir, 'missing.txt'));
    expect(list.stderr).to.match(/^ar1: --bag-list: .*missing\.txt: cannot read \(ENOENT\)\n$/);
    expect(runSync('replay').stderr).to.equal('ar1: no bags: pass --bag PATH… or --bag-list FILE\n');
    const params = runSync('replay', '--bag', 'x', '--params', join(dir, 'missing.yaml'));
    expect(params.stderr).to.match(/^ar1: .*missing\.yaml: cannot read parameter file \(no such file\)\n$/);
  });

  it('two shards replayed separately merge into the same totals as their parts', async () => {
    writeFileSync(join(dir, 'bags.txt'), '# the dataset\na\n\nb  # second drive\n');
    const common = [
      '--bag-list',
      join(dir, 'bags.txt'),
      '--bundle',
      join(dir, 'bundle'),
      '--params',
      PARAMS,
      '--providers',
      'cpu',
      '--json',
    ];
    const [s0, s1] = await Promise.all([
      run(['replay', ...common, '--shard', '0/2', '--out', join(dir, 's0')]),
      run(['replay', ...common, '--shard', '1/2', '--out', join(dir, 's1')]),
    ]);
    expect(s0.status, s0.stderr).to.equal(0);
    expect(s1.status, s1.stderr).to.equal(0);
    const j0 = JSON.parse(s0.stdout) as { bags: Array<{ bag: string; frames: { received: number } }> };
    const j1 = JSON.parse(s1.stdout) as typeof j0;
    expect(j0.bags.map((b) => b.bag)).to.deep.equal([join(dir, 'a')]);
    expect(j1.bags.map((b) => b.bag)).to.deep.equal([join(dir, 'b')]);
    for (const f of ['report.json', 'compute.json', 'report.html', 'bag/metadata.yaml'])
      expect(existsSync(join(dir, 's0', f)), f).to.equal(true);
    const m = await run(['report', 'merge', join(dir, 's0'), join(dir, 's1'), '--out', join(dir, 'merged.json')]);
    expect(m.status, m.stderr).to.equal(0);
    const merged = JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8')) as {
      bags: number;
      frames: { received: number };
    };
    expect(merged.bags).to.equal(2);
    expect(merged.frames.received).to.equal(j0.bags[0]!.frames.received + j1.bags[0]!.frames.received);
    const bad = await run(['report', 'merge', join(dir, 'nope')]);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/^ar1: .*nope: expected a replay output directory, found nothing\n$/);
  });

  it('--no-output-bag: the reports and the headline, no output bag', async () => {
    const out = join(dir, 'report-only');
    const r = await run([
      'replay',
      ...['--bag', join(dir, 'a'), '--bundle', join(dir, 'bundle'), '--params', PARAMS, '--providers', 'cpu'],
      ...['--out', out, '--no-output-bag'],
    ]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^ {2}output bag not written \(--no-output-bag\)$/m);
    for (const f of ['report.json', 'compute.json', 'report.html']) expect(existsSync(join(out, f)), f).to.equal(true);
    expect(existsSync(join(out, 'bag'))).to.equal(false);
  });

  it('ar1 demo makes the sample drive and the demo bundle on first use, replays it and prints the headline', async () => {
    const r = await run(['demo', '--dir', join(dir, 'demo'), '--samples', '1']);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/made the demo bundle in /);
    expect(r.stdout).to.match(/frames {5}received \d+, planned \d+/);
    expect(r.stdout).to.match(/report {5}.*report\.html/);
    // The demo network's reasoning says what its trajectory does, on the shipped drive: every judged plan consistent.
    expect(r.stdout).to.match(
      /\n {2}reasoning {2}consistent 100\.0 % \(\d+ of \d+ judged; 0 inconsistent, \d+ not assessable\)\n/,
    );
    const report = JSON.parse(readFileSync(join(dir, 'demo', 'replay', 'report.json'), 'utf8')) as {
      plans: { published: number };
      watchdog: { final_state: string };
      consistency: { plans: number; consistent: number; inconsistent: number };
    };
    expect(report.plans.published).to.be.greaterThan(100);
    expect(report.consistency.plans).to.equal(report.plans.published);
    expect(report.consistency.inconsistent).to.equal(0);
    expect(report.consistency.consistent).to.be.greaterThan(0.9 * report.plans.published); // judged, not merely not assessable
    const again = await run(['demo', '--dir', join(dir, 'demo'), '--samples', '1', '--json']);
    expect(again.status).to.equal(0);
    expect(again.stderr).not.to.match(/making/);
    expect(JSON.parse(again.stdout).bags[0].frames.received).to.equal(
      JSON.parse(readFileSync(join(dir, 'demo', 'replay', 'report.json'), 'utf8')).frames.received,
    );
  });
});
