import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoBundle } from '../../nodes/syntheticBundles/index.js';
import { makeSampleBag } from '../../nodes/replay/sampleBag.js';

const AR1 = fileURLToPath(new URL('../../bin/ar1.js', import.meta.url));
const PARAMS = fileURLToPath(new URL('../../config/sample_bag.yaml', import.meta.url));
const runSync = (...args: string[]) =>
  spawnSync(process.execPath, [AR1, ...args], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
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
/** Exactly one "ar1: …" line on stderr, matching re, exit 2, no stack trace. */
function oneLine(r: { status: number | null; stderr: string }, re: RegExp): void {
  expect(r.stderr, 'no stack trace').not.to.match(/\n\s+at /);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('ar1: '));
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(re);
  expect(r.status, r.stderr).to.equal(2);
}

describe('cli: hostile and unlucky input (one line, exit 2, never a stack trace)', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-cli-hostile-'));
    makeDemoBundle(join(dir, 'bundle'));
    await makeSampleBag(join(dir, 'short'), { durationS: 1, seed: 3 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const replay = (...extra: string[]) => [
    'replay',
    '--bag',
    join(dir, 'short'),
    '--bundle',
    join(dir, 'bundle'),
    '--params',
    PARAMS,
    '--providers',
    'cpu',
    ...extra,
  ];

  it('usage errors exit 2 (unknown option, missing argument); --help and --version exit 0', () => {
    expect(runSync('replay', '--bogus').status).to.equal(2);
    expect(runSync('report', 'merge').status).to.equal(2);
    expect(runSync('no-such-command').status).to.equal(2);
    expect(runSync('--help').status).to.equal(0);
    expect(runSync('--version').status).to.equal(0);
  });

  it("--seed '' is refused (it was taken as seed 0), as are other non-integers", () => {
    oneLine(runSync(...replay('--seed', '')), /^ar1: --seed: expected an integer >= 0, got ""$/);
    oneLine(runSync(...replay('--seed', '1e400')), /^ar1: --seed: expected an integer >= 0, got "1e400"$/);
    oneLine(runSync(...replay('--samples', ' ')), /^ar1: --samples: expected an integer >= 1/);
  });

  it('--providers: an empty list and an unknown provider name', () => {
    oneLine(
      runSync(...replay('--providers', '')),
      /^ar1: --providers: expected a comma-separated list of execution providers \(.*\), got ""$/,
    );
    oneLine(
      runSync(...replay('--providers', 'cpu,foo')),
      /^ar1: --providers: unknown execution provider "foo" \(expected one of /,
    );
  });

  it('cuda without a GPU: the bundle cannot load on any listed provider → one line, exit 2', () => {
    oneLine(
      runSync(...replay('--providers', 'cuda', '--out', join(dir, 'cuda'))),
      /^ar1: --bundle .*: no execution provider could load the bundle: cuda: /,
    );
  });

  it('a missing or tampered bundle', () => {
    oneLine(
      runSync(
        'replay',
        '--bag',
        join(dir, 'short'),
        '--bundle',
        join(dir, 'nope'),
        '--params',
        PARAMS,
        '--out',
        join(dir, 'o1'),
      ),
      /^ar1: --bundle .*nope: .*manifest\.yaml/,
    );
    mkdirSync(join(dir, 'tampered'), { recursive: true });
    for (const f of ['manifest.yaml']) writeFileSync(join(dir, 'tampered', f), readFileSync(join(dir, 'bundle', f)));
    oneLine(
      runSync(
        'replay',
        '--bag',
        join(dir, 'short'),
        '--bundle',
        join(dir, 'tampered'),
        '--params',
        PARAMS,
        '--providers',
        'cpu',
        '--out',
        join(dir, 'o2'),
      ),
      /^ar1: --bundle .*tampered: /,
    );
  });

  it('cheap inputs first: a missing bag is refused (exit 2) before the model is loaded (a missing bundle is not reached)', () => {
    oneLine(
      runSync('replay', '--bag', join(dir, 'nope.mcap'), '--bundle', join(dir, 'no-bundle'), '--params', PARAMS),
      /^ar1: --bag: .*nope\.mcap: no such file or directory$/,
    );
  });

  it('a FIFO as the bag or as the bag list ends with an error instead of hanging', function () {
    const fifo = join(dir, 'fifo.mcap');
    if (spawnSync('mkfifo', [fifo]).status !== 0) this.skip();
    oneLine(
      runSync('replay', '--bag', fifo, '--bundle', join(dir, 'bundle'), '--params', PARAMS),
      /^ar1: --bag: .*fifo\.mcap: expected an \.mcap file or a rosbag2 directory, got a FIFO, socket or device$/,
    );
    oneLine(
      runSync('replay', '--bag-list', fifo, '--bundle', join(dir, 'bundle'), '--params', PARAMS),
      /^ar1: --bag-list: .*fifo\.mcap: expected a text file, got a FIFO, socket or device$/,
    );
  });

  it('--out pointing at a file or into /proc', () => {
    writeFileSync(join(dir, 'afile'), 'x');
    oneLine(
      runSync(...replay('--out', join(dir, 'afile'))),
      /^ar1: --out: .*afile: cannot create the output directory \(a file is in the way\)$/,
    );
    oneLine(
      runSync(...replay('--out', '/proc/ar1-out')),
      /^ar1: --out: \/proc\/ar1-out: expected a directory on a file system/,
    );
  });

  it('report merge of a null or mistyped report.json, and --out that cannot be written', () => {
    mkdirSync(join(dir, 'r1'), { recursive: true });
    writeFileSync(join(dir, 'r1', 'report.json'), 'null');
    oneLine(
      runSync('report', 'merge', join(dir, 'r1')),
      /^ar1: .*r1\/report\.json: expected a JSON object, got null \(an ar1 replay report\.json\)$/,
    );
    writeFileSync(
      join(dir, 'r1', 'report.json'),
      JSON.stringify({ bag: { path: 'x' }, frames: { received: '7', planned: 0, dropped: {} } }),
    );
    oneLine(runSync('report', 'merge', join(dir, 'r1')), /^ar1: .*: frames\.received: expected a count, got "7"/);
  });

  it('a metadata.yaml whose duration is an integer (not a map): one line naming the key, for bag info and replay', () => {
    cpSync(join(dir, 'short'), join(dir, 'mdint'), { recursive: true });
    const meta = join(dir, 'mdint', 'metadata.yaml');
    writeFileSync(meta, readFileSync(meta, 'utf8').replace(/duration:\n\s+nanoseconds: \d+/, 'duration: 20'));
    oneLine(
      runSync('bag', 'info', join(dir, 'mdint')),
      /^ar1: .*metadata\.yaml: rosbag2_bagfile_information\.duration: expected a map with 'nanoseconds', got 20$/,
    );
    const r = runSync(
      ...replay('--out', join(dir, 'mdint-out')).map((a) => (a === join(dir, 'short') ? join(dir, 'mdint') : a)),
    );
    expect(r.stderr).not.to.match(/\n\s+at /);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('ar1: '))).to.have.length(1);
    expect(r.status).to.equal(2); // every bag is opened (metadata.yaml, MCAP summaries) before the model loads: bad input
  });

  it('make-demo --image-size 100000x100000 is refused (30 GB a frame)', () => {
    oneLine(
      runSync('model', 'make-demo', join(dir, 'huge'), '--image-size', '100000x100000'),
      /^ar1: --image-size: expected HxW with 16 ≤ H ≤ 4320 and 16 ≤ W ≤ 7680/,
    );
  });

  it('a bag too short to plan: the headline says n/a, never "NaN ms"; report.json commands include the final command in the output bag', async () => {
    const r = await run(replay('--out', join(dir, 'short-out')));
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).not.to.match(/NaN/);
    expect(r.stdout).to.match(/compute {4}total p50 n\/a ms, p99 n\/a ms/);
    const report = JSON.parse(readFileSync(join(dir, 'short-out', 'report.json'), 'utf8')) as {
      commands: Record<string, number>;
    };
    const info = JSON.parse(runSync('bag', 'info', join(dir, 'short-out', 'bag'), '--json').stdout) as {
      topics: Array<{ topic: string; message_count: number }>;
    };
    const inBag = info.topics.find((t) => t.topic === '/vehicle/unicycle_command')!.message_count;
    expect(Object.values(report.commands).reduce((a, b) => a + b, 0)).to.equal(inBag);
  });
});
