import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoBundle } from '../../nodes/syntheticBundles/index.js';
import { makeSampleBag } from '../../nodes/replay/sampleBag.js';

const AR1 = fileURLToPath(new URL('../../bin/ar1.js', import.meta.url));
const PARAMS = fileURLToPath(new URL('../../config/sample_bag.yaml', import.meta.url));
function ar1(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [AR1, ...args]);
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

describe('faults: damaged bags through ar1 replay', function () {
  this.timeout(180000);
  let dir: string;
  let full: { received: number };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-badbag-'));
    makeDemoBundle(join(dir, 'bundle'));
    const bag = await makeSampleBag(join(dir, 'cut'), { durationS: 4, seed: 5 });
    const r = await ar1([
      'replay',
      '--bag',
      join(dir, 'cut'),
      '--bundle',
      join(dir, 'bundle'),
      '--params',
      PARAMS,
      '--providers',
      'cpu',
      '--out',
      join(dir, 'full'),
      '--json',
    ]);
    expect(r.status, r.stderr).to.equal(0);
    full = (JSON.parse(r.stdout) as { bags: Array<{ frames: { received: number } }> }).bags[0]!.frames;
    // An interrupted recording: the file ends 40 % before its summary and index.
    truncateSync(bag.file, Math.floor(statSync(bag.file).size * 0.6));
    // A "bag" whose only file is a few bytes of garbage.
    rmSync(join(dir, 'garbage'), { recursive: true, force: true });
    writeFileSync(join(dir, 'garbage.mcap'), Buffer.from('\x89MCAP0\r\n0000'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a truncated recording: the complete part is replayed and the loss is in the output and report.json', async () => {
    const r = await ar1([
      'replay',
      '--bag',
      join(dir, 'cut'),
      '--bundle',
      join(dir, 'bundle'),
      '--params',
      PARAMS,
      '--providers',
      'cpu',
      '--out',
      join(dir, 'part'),
    ]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/problem {4}.*(truncat|cut|ends)/i);
    const report = JSON.parse(readFileSync(join(dir, 'part', 'report.json'), 'utf8')) as {
      bag: { problems: string[] };
      frames: { received: number; planned: number };
      plans: { published: number };
    };
    expect(report.bag.problems.join(' ')).to.match(/truncat|cut|ends/i);
    expect(report.frames.received).to.be.greaterThan(0).and.lessThan(full.received);
    expect(report.plans.published).to.be.greaterThan(0);
  });

  it('nothing usable: one clear line and a non-zero exit, other bags still replayed', async () => {
    const r = await ar1([
      'replay',
      '--bag',
      join(dir, 'garbage.mcap'),
      join(dir, 'cut'),
      '--bundle',
      join(dir, 'bundle'),
      '--params',
      PARAMS,
      '--providers',
      'cpu',
      '--out',
      join(dir, 'mixed'),
    ]);
    expect(r.status).to.equal(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('ar1: '));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/garbage\.mcap/);
    expect(r.stderr).not.to.match(/\n\s+at /);
    expect(readFileSync(join(dir, 'mixed', 'cut', 'report.json'), 'utf8')).to.contain('"frames"');
  });
});
