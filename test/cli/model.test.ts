import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const AR1 = fileURLToPath(new URL('../../bin/ar1.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [AR1, ...args], { encoding: 'utf8' });

describe('cli: ar1 model make-demo / verify', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-model-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('make-demo writes a bundle that verify accepts, with a summary of graphs, cameras and sizes', () => {
    const made = run('model', 'make-demo', join(dir, 'b'));
    expect(made.status, made.stderr).to.equal(0);
    const v = run('model', 'verify', join(dir, 'b'));
    expect(v.status, v.stderr).to.equal(0);
    expect(v.stdout).to.match(/^bundle ar1-demo@1\.0\.0/);
    expect(v.stdout).to.match(/vision_encoder +vision_encoder\.onnx: pixel_values uint8\[images, \d+, \d+, 3\]/);
    // The roles that batch plans say how many; lm_decode (batched by samples, not by a manifest field) does not.
    expect(v.stdout).to.match(/vision_encoder .*\(up to 8 plans per run\)\n/);
    expect(v.stdout).to.match(/lm_prefill .*\(up to 8 plans per run\)\n/);
    expect(v.stdout).to.not.match(/lm_decode .*plans per run/);
    expect(v.stdout).to.contain(
      'camera_cross_left_120fov, camera_front_wide_120fov, camera_cross_right_120fov, camera_front_tele_30fov',
    );
    expect(v.stdout).to.match(/sha256 OK, graph I\/O OK/);
  });

  it('verify streams the hashes and loads the graphs: throughput and load time, also as --json', () => {
    run('model', 'make-demo', join(dir, 'j'));
    const v = run('model', 'verify', join(dir, 'j'));
    expect(v.stdout).to.match(/hashed \d+ files, [\d.]+ KiB in [\d.]+ s \(\d+ MB\/s\)/);
    expect(v.stdout).to.match(/loaded on cpu in [\d.]+ s; peak RSS [\d.]+ MiB/);
    const j = run('model', 'verify', join(dir, 'j'), '--json');
    expect(j.status, j.stderr).to.equal(0);
    const o = JSON.parse(j.stdout) as Record<string, unknown>;
    expect(o).to.include({ bundle: 'ar1-demo@1.0.0', ok: true, provider: 'cpu' });
    expect(o.files).to.be.greaterThan(4);
    for (const k of ['bytes', 'hashMs', 'hashMBps', 'loadMs', 'peakRssBytes']) expect(o[k], k).to.be.a('number');
    const n = run('model', 'verify', join(dir, 'j'), '--json', '--no-load');
    expect(JSON.parse(n.stdout)).to.include({ provider: null, loadMs: null });
  });

  it('make-tiny writes the tiny AR1 bundle in either form; verify accepts it; a bad --form is one line, exit 2', () => {
    const made = run('model', 'make-tiny', join(dir, 'tiny'), '--form', 'fused', '--layers', '3');
    expect(made.status, made.stderr).to.equal(0);
    const v = run('model', 'verify', join(dir, 'tiny'), '--no-load');
    expect(v.status, v.stderr).to.equal(0);
    expect(v.stdout).to.match(/^bundle ar1-tiny-fused@1\.0\.0/);
    expect(v.stdout).to.contain(
      'form fused; language model 3 layers, cache float16 [batch, 2, positions, 8] per layer',
    );
    expect(v.stdout).to.match(/generate +generate\.onnx: input_ids int64\[1, sequence\]/);
    const bad = run('model', 'make-tiny', join(dir, 'bad'), '--form', 'both');
    expect(bad.status).to.equal(2);
    expect(bad.stderr.trim()).to.equal('ar1: --form: expected split or fused, got "both"');
  });

  it('a tampered file is refused in one line naming it, exit 2, no stack trace', () => {
    run('model', 'make-demo', join(dir, 't'));
    appendFileSync(join(dir, 't', 'action_expert.onnx'), Buffer.from([0]));
    const v = run('model', 'verify', join(dir, 't'));
    expect(v.status).to.equal(2);
    expect(v.stderr.trim().split('\n')).to.have.length(1);
    expect(v.stderr).to.match(/^ar1: .*action_expert\.onnx/);
    expect(v.stderr).not.to.match(/\n\s+at /);
  });

  it('a missing bundle directory is one line, exit 2', () => {
    const v = run('model', 'verify', join(dir, 'nope'));
    expect(v.status).to.equal(2);
    expect(v.stderr).to.match(/^ar1: .*nope/);
  });
});
