import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../nodes/core/errors.js';
import { makeDemoBundle } from '../../nodes/syntheticBundles/demoBundle.js';
import { ensureDemoBundle } from '../../nodes/syntheticBundles/demoBundleDir.js';

describe('syntheticBundles/demoBundleDir: ar1 demo keeps its bundle current', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(os.tmpdir(), 'ar1-demo-bundle-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('makes the bundle once, then leaves a current one untouched', () => {
    const dir = join(root, 'bundle');
    expect(ensureDemoBundle(dir)).to.equal('made');
    writeFileSync(join(dir, 'notes.txt'), 'kept');
    expect(ensureDemoBundle(dir)).to.equal('current');
    expect(existsSync(join(dir, 'notes.txt'))).to.equal(true);
  });

  it('remakes a demo bundle another version left (its manifest differs), replacing the files it listed', () => {
    const dir = join(root, 'bundle');
    const fresh = join(root, 'fresh');
    makeDemoBundle(fresh);
    makeDemoBundle(dir);
    // An older generator: no max_batch in the manifest, and a graph file this version does not write.
    const manifest = join(dir, 'manifest.yaml');
    const current = readFileSync(manifest, 'utf8');
    const old = current
      .replace(/^\s*max_batch: 8\n/gm, '')
      .replace(/^files:\n/m, 'files:\n  old_graph.onnx:\n    sha256: "00"\n    bytes: 5\n');
    expect(old).to.include('old_graph.onnx');
    writeFileSync(manifest, old);
    writeFileSync(join(dir, 'old_graph.onnx'), 'stale');
    writeFileSync(join(dir, 'notes.txt'), "the user's, not listed");
    expect(ensureDemoBundle(dir)).to.equal('remade');
    expect(existsSync(join(dir, 'old_graph.onnx'))).to.equal(false);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).to.equal("the user's, not listed");
    expect(readFileSync(manifest, 'utf8')).to.equal(readFileSync(join(fresh, 'manifest.yaml'), 'utf8'));
    expect(ensureDemoBundle(dir)).to.equal('current');
  });

  it('refuses to replace any other bundle (a real model, the large demo bundle) and leaves it as it is', () => {
    const dir = join(root, 'bundle');
    makeDemoBundle(dir, { large: true });
    const before = readFileSync(join(dir, 'manifest.yaml'), 'utf8');
    expect(() => ensureDemoBundle(dir))
      .to.throw(UserError)
      .with.property('message')
      .that.matches(/manifest\.yaml: bundle\.id: expected the demo bundle ar1-demo to update, found ar1-demo-large; /);
    expect(readFileSync(join(dir, 'manifest.yaml'), 'utf8')).to.equal(before);
    expect(existsSync(join(dir, 'vision_encoder.onnx'))).to.equal(true);
    writeFileSync(join(dir, 'manifest.yaml'), 'not: [a manifest');
    expect(() => ensureDemoBundle(dir)).to.throw(UserError, /found no bundle\.id/);
    expect(existsSync(join(dir, 'vision_encoder.onnx'))).to.equal(true);
  });
});
