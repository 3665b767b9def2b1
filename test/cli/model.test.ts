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
  before(() => { dir = mkdtempSync(join(tmpdir(), 'ar1-model-cli-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('make-demo writes a bundle that verify accepts, with a summary of graphs, cameras and sizes', () => {
    const made = run('model', 'make-demo', join(dir, 'b'));
    expect(made.status, made.stderr).to.equal(0);
    const v = run('model', 'verify', join(dir, 'b'));
    expect(v.status, v.stderr).to.equal(0);
    expect(v.stdout).to.match(/^bundle ar1-demo@1\.0\.0/);
    expect(v.stdout).to.match(/vision_encoder +vision_encoder\.onnx: pixel_values uint8\[16, \d+, \d+, 3\]/);
    expect(v.stdout).to.contain('camera_cross_left_120fov, camera_front_wide_120fov, camera_cross_right_120fov, camera_front_tele_30fov');
    expect(v.stdout).to.match(/sha256 OK, graph I\/O OK/);
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
