import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoBundle } from '../../nodes/syntheticBundles/index.js';
import { verifyBundle } from '../../nodes/bundle/index.js';
import { BundleError } from '../../nodes/bundle/manifest.js';
import { checkManifestPin, manifestSha256 } from '../../nodes/bundle/manifestPin.js';

const AR1 = fileURLToPath(new URL('../../bin/ar1.js', import.meta.url));
const SAMPLE_PARAMS = fileURLToPath(new URL('../../config/sample_bag.yaml', import.meta.url));
const ar1 = (...args: string[]) =>
  spawnSync(process.execPath, [AR1, ...args], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });

describe('bundle/manifestPin: the manifest is verified too (pinned digest, sane numbers)', function () {
  this.timeout(120_000);
  let dir: string;
  let bundle: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-pin-'));
    bundle = join(dir, 'bundle');
    makeDemoBundle(bundle);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A copy of the demo bundle whose manifest.yaml has one edit. */
  function edited(name: string, from: RegExp, to: string): string {
    const d = join(dir, name);
    cpSync(bundle, d, { recursive: true });
    const path = join(d, 'manifest.yaml');
    const text = readFileSync(path, 'utf8');
    expect(from.test(text), String(from)).to.equal(true);
    writeFileSync(path, text.replace(from, to));
    return d;
  }

  it("manifestSha256 is the sha256 of manifest.yaml's bytes; an empty pin checks nothing, the right pin passes", () => {
    const hex = createHash('sha256')
      .update(readFileSync(join(bundle, 'manifest.yaml')))
      .digest('hex');
    expect(manifestSha256(bundle)).to.equal(hex);
    checkManifestPin(bundle, '');
    checkManifestPin(bundle, hex);
  });

  it("accel_std × 100, frame_spacing_s or temperature 1e300 passed every file hash before; each is refused by the manifest's bounds", async () => {
    const cases: Array<[string, RegExp, string, RegExp]> = [
      [
        'accel',
        /accel_std: [\d.]+/,
        'accel_std: 68.10426736454882',
        /action\.normalization\.accel_std: expected a value in \[0\.01, 10\], got 68\.1/,
      ],
      [
        'spacing',
        /frame_spacing_s: 0\.1/,
        'frame_spacing_s: 2.5',
        /cameras\.frame_spacing_s: expected a value in \[0\.01, 1\], got 2\.5/,
      ],
      [
        'temperature',
        /temperature: 0\.6/,
        'temperature: 1e300',
        /sampling\.temperature: expected a value in \[0, 10\], got 1e\+300/,
      ],
    ];
    for (const [name, from, to, message] of cases) {
      const d = edited(name, from, to);
      let err: unknown;
      try {
        await verifyBundle(d);
      } catch (e) {
        err = e;
      }
      expect(err, name).to.be.instanceOf(BundleError);
      expect((err as Error).message, name).to.match(message);
    }
  });

  it('an edit inside the bounds (accel_std × 1.5) changes the digest: a pinned configuration refuses it, naming both digests', () => {
    const pin = manifestSha256(bundle);
    const d = edited('subtle', /accel_std: [\d.]+/, 'accel_std: 1.0215640104682323');
    expect(() => checkManifestPin(d, pin)).to.throw(
      BundleError,
      new RegExp(
        `manifest\\.yaml: sha256 [0-9a-f]{64} does not match manifest_sha256 ${pin} \\(the manifest was changed`,
      ),
    );
  });

  it('through the CLI: ar1 model verify prints the digest to pin; ar1 replay with a wrong pin is one line, exit 2, before the model loads', () => {
    const v = ar1('model', 'verify', bundle, '--no-load');
    expect(v.status, v.stderr).to.equal(0);
    expect(v.stdout).to.contain(
      `manifest sha256 ${manifestSha256(bundle)} (pin it: planner parameter manifest_sha256)`,
    );
    const params = join(dir, 'pinned.yaml');
    writeFileSync(params, `ar1_planner:\n  ros__parameters:\n    manifest_sha256: "${'0'.repeat(64)}"\n`);
    const bag = join(dir, 'bag.mcap');
    writeFileSync(bag, '');
    const r = ar1(
      'replay',
      '--bag',
      bag,
      '--bundle',
      bundle,
      '--params',
      SAMPLE_PARAMS,
      '--params',
      params,
      '--out',
      join(dir, 'out'),
    );
    expect(r.status, r.stderr).to.equal(2);
    expect(r.stderr).not.to.match(/\n\s+at /);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('ar1: ')),
    ).to.have.length(1);
    expect(r.stderr).to.match(/^ar1: .*manifest\.yaml: sha256 [0-9a-f]{64} does not match manifest_sha256 0{64}/m);
  });
});
