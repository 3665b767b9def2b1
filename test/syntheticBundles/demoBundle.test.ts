import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ensureDemoBundle, makeDemoBundle } from '../../nodes/syntheticBundles/demoBundle.js';

describe('syntheticBundles/demoBundle: ar1 demo keeps its bundle current', () => {
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

  it('remakes a bundle another version left (its manifest differs), dropping its files', () => {
    const dir = join(root, 'bundle');
    const fresh = join(root, 'fresh');
    makeDemoBundle(fresh);
    makeDemoBundle(dir);
    // An older generator: no max_batch in the manifest, and a graph file this version does not write.
    const manifest = join(dir, 'manifest.yaml');
    const old = readFileSync(manifest, 'utf8').replace(/^\s*max_batch: 8\n/gm, '');
    expect(old).not.to.equal(readFileSync(manifest, 'utf8'));
    writeFileSync(manifest, old);
    writeFileSync(join(dir, 'old_graph.onnx'), 'stale');
    expect(ensureDemoBundle(dir)).to.equal('remade');
    expect(existsSync(join(dir, 'old_graph.onnx'))).to.equal(false);
    expect(readFileSync(manifest, 'utf8')).to.equal(readFileSync(join(fresh, 'manifest.yaml'), 'utf8'));
    expect(ensureDemoBundle(dir)).to.equal('current');
  });
});
