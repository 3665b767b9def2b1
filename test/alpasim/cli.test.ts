import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { makeDemoBundle } from '../../nodes/syntheticBundles/demoBundle.js';
import { connect, makeImages, rollout } from './runtime.js';

const AR1 = fileURLToPath(new URL('../../bin/ar1.js', import.meta.url));

interface Running {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [AR1, 'alpasim-driver', ...args]);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<number | null>((r) => child.on('close', r));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /serving egodriver\.EgodriverService on 127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) resolve({ child, port: Number(m[1]), stderr: () => stderr, exit });
    });
    void exit.then((code) => reject(new Error(`exited ${code} before serving: ${stderr}`)));
  });
}

function run(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [AR1, 'alpasim-driver', ...args]);
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.on('close', (status) => resolve({ status, stderr }));
  });
}

describe('ar1 alpasim-driver (the command)', function () {
  this.timeout(120000);
  let dir: string;
  let images: Buffer[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-alpasim-cli-'));
    makeDemoBundle(join(dir, 'bundle'));
    images = await makeImages(320, 180, 4);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function recordedRollout(out: string): Promise<string> {
    const d = await start([
      '--listen',
      '127.0.0.1:0',
      '--bundle',
      join(dir, 'bundle'),
      '--providers',
      'cpu',
      '--seed',
      '3',
      '--record',
      out,
    ]);
    const client = connect(d.port);
    try {
      await rollout(client, { session: 'b6a1c0de-rollout/0', images, steps: 25 });
    } finally {
      client.close();
    }
    d.child.kill('SIGTERM');
    expect(await d.exit, d.stderr()).to.equal(0);
    return d.stderr();
  }

  it('serves a rollout, logs the session accounting at close, and --record writes the bag and reports replay writes', async () => {
    const stderr = await recordedRollout(join(dir, 'rec1'));
    expect(stderr).to.match(
      /session b6a1c0de-rollout\/0 closed: frames received 100, planned \d+, dropped .*drives 25/,
    );
    expect(stderr).not.to.match(/\n\s+at /);
    const out = join(dir, 'rec1', 'b6a1c0de-rollout_0');
    for (const f of ['report.json', 'compute.json', 'report.html', 'bag/metadata.yaml'])
      expect(existsSync(join(out, f)), f).to.equal(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      frames: { received: number; planned: number; dropped: Record<string, number> };
      plans: { published: number };
      watchdog: { final_state: string };
      metrics: { plans_scored: Record<string, number> };
      seed: number;
    };
    expect(report.seed).to.equal(3);
    expect(report.frames.received).to.equal(100);
    expect(report.frames.planned + Object.values(report.frames.dropped).reduce((a, b) => a + b, 0)).to.equal(100);
    expect(report.plans.published).to.equal(22);
    expect(report.watchdog.final_state).to.equal('nominal');
    expect(report.metrics.plans_scored['1']).to.be.greaterThan(0);
    expect(readFileSync(join(out, 'bag', 'metadata.yaml'), 'utf8')).to.match(
      /\/ar1\/trajectory[\s\S]*\/vehicle\/unicycle_command|\/vehicle\/unicycle_command[\s\S]*\/ar1\/trajectory/,
    );
  });

  it('is deterministic: the same rollout, seed and latency give a byte-identical bag and report.json', async () => {
    await recordedRollout(join(dir, 'rec2'));
    const a = join(dir, 'rec1', 'b6a1c0de-rollout_0');
    const b = join(dir, 'rec2', 'b6a1c0de-rollout_0');
    expect(readFileSync(join(b, 'report.json'), 'utf8')).to.equal(readFileSync(join(a, 'report.json'), 'utf8'));
    const mcap = readdirSync(join(a, 'bag')).find((f) => f.endsWith('.mcap'))!;
    expect(readFileSync(join(b, 'bag', mcap)).equals(readFileSync(join(a, 'bag', mcap)))).to.equal(true);
  });

  it('bad options: one line naming the option and exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busy = (blocker.address() as AddressInfo).port;
    after(() => blocker.close());
    for (const [args, re] of [
      [['--listen', 'nowhere'], /^ar1: --listen: expected HOST:PORT \(port 0-65535\), got "nowhere"$/],
      [
        ['--listen', '127.0.0.1:0', '--latency', 'soon', '--bundle', join(dir, 'bundle')],
        /^ar1: --latency: expected milliseconds >= 0 or "measured", got "soon"$/,
      ],
      [['--listen', '127.0.0.1:0'], /^ar1: no model bundle: pass --bundle DIR/],
      [
        ['--listen', '127.0.0.1:0', '--bundle', join(dir, 'bundle'), '--providers', 'cdua,cpu'],
        /^ar1: --providers: unknown execution provider "cdua" \(expected one of tensorrt, cuda, cpu/,
      ],
      [
        ['--listen', `127.0.0.1:${busy}`, '--bundle', join(dir, 'bundle'), '--providers', 'cpu', '--log-level', 'warn'],
        new RegExp(`^ar1: --listen: cannot serve on 127\\.0\\.0\\.1:${busy}: address already in use$`),
      ],
    ] as Array<[string[], RegExp]>) {
      const r = await run(args);
      expect(r.status, r.stderr).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr.trim()).to.match(re);
    }
  });
});
