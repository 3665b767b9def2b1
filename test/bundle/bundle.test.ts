import { expect } from 'chai';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { makeDemoBundle } from '../../nodes/syntheticBundles/demoBundle.js';
import { GraphBuilder } from '../../nodes/syntheticBundles/graphBuilder.js';
import { BundleError, loadManifest } from '../../nodes/bundle/manifest.js';
import { loadTokenizer } from '../../nodes/ar1/tokenizer.js';
import { verifyBundle } from '../../nodes/bundle/verifyBundle.js';
import { refused, replaceFile } from './bundleFixtures.js';

describe('model bundle: demo generation and verification', () => {
  let base: string;
  let work: string;
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'ar1-bundle-'));
    makeDemoBundle(join(base, 'demo'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));
  beforeEach(() => {
    work = mkdtempSync(join(base, 'case-'));
    cpSync(join(base, 'demo'), work, { recursive: true });
  });

  it('is deterministic: the same options give the same bytes', async () => {
    makeDemoBundle(join(base, 'again'));
    const names = readdirSync(join(base, 'demo')).sort();
    expect(readdirSync(join(base, 'again')).sort()).to.deep.equal(names);
    expect(names).to.include.members([
      'manifest.yaml',
      'vision_encoder.onnx',
      'lm_decode.onnx',
      'lm_decode.onnx.data',
      'tokenizer.json',
    ]);
    for (const f of names) {
      expect(readFileSync(join(base, 'again', f)).equals(readFileSync(join(base, 'demo', f))), f).to.equal(true);
    }
  });

  it('verifies: AR1 cameras, 4 frames, 16 history poses, 64 steps, AR1 action constants, native 180x320', async () => {
    const { manifest: m, graphPaths } = await verifyBundle(work);
    expect(m.cameras.names).to.deep.equal([
      'camera_cross_left_120fov',
      'camera_front_wide_120fov',
      'camera_cross_right_120fov',
      'camera_front_tele_30fov',
    ]);
    expect([m.cameras.framesPerCamera, m.history.steps, m.trajectory.steps, m.action.flowSteps]).to.deep.equal([
      4, 16, 64, 10,
    ]);
    expect(m.image.native).to.deep.equal({ height: 180, width: 320 });
    expect(m.action.normalization.accelStd).to.equal(0.6810426736454882);
    expect(m.action.normalization.curvatureMean).to.equal(0.0002692167976330542);
    expect(Object.keys(graphPaths)).to.have.length(4);
  });

  it('has a real tokenizer: special tokens resolve and ids decode to words', async () => {
    const v = await verifyBundle(work);
    const tok = loadTokenizer(v.tokenizerJson, v.manifest);
    const vocab = (v.tokenizerJson as { model: { vocab: Record<string, number> } }).model.vocab;
    const ids = ['slow', 'down', 'for', 'upcoming', 'left', 'curve', 'ahead'].map((w) => vocab[w]!);
    expect(tok.decode([tok.cotStart, ...ids, tok.cotEnd])).to.equal('slow down for upcoming left curve ahead');
    expect(tok.masked.size).to.equal(0); // the demo vocabulary has no trajectory tokens to mask
    expect(tok.decode([])).to.equal(''); // reasoning that closes at once (<|cot_end|> first) is empty text
    expect(tok.decode([tok.cotEnd])).to.equal('');
  });

  it('refuses a missing file', async () => {
    unlinkSync(join(work, 'lm_decode.onnx'));
    await refused(verifyBundle(work), /lm_decode\.onnx: missing \(declared in manifest\.yaml files\)/);
  });

  it('refuses a truncated file', async () => {
    truncateSync(join(work, 'vision_encoder.onnx'), 100);
    await refused(verifyBundle(work), /vision_encoder\.onnx: expected \d+ bytes, got 100 \(truncated\)/);
  });

  it('refuses a tampered file of the same size (sha256 mismatch)', async () => {
    const p = join(work, 'action_expert.onnx');
    const b = readFileSync(p);
    b[b.length - 5] = b[b.length - 5]! ^ 0xff;
    writeFileSync(p, b);
    await refused(verifyBundle(work), /action_expert\.onnx: sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}/);
  });

  it('refuses a graph whose real inputs differ from the manifest (name, dtype, shape)', async () => {
    const g = new GraphBuilder('bad');
    g.op('Identity', ['y'], {}, 'velocity');
    replaceFile(
      work,
      'action_expert.onnx',
      g.encode(
        [{ name: 'y', dtype: 'float32', shape: [1, 64, 2] }],
        [{ name: 'velocity', dtype: 'float32', shape: [1, 64, 2] }],
      ),
    );
    await refused(
      verifyBundle(work),
      /action_expert\.onnx: input x: declared in manifest\.yaml but the graph has inputs \[y\]/,
    );

    const g2 = new GraphBuilder('bad2');
    g2.op('Identity', ['image_embeds_in'], {}, 'image_embeds');
    const vis = (dtype: 'uint8' | 'float32', shape: Array<number | string>) =>
      g2.encode(
        [{ name: 'pixel_values', dtype, shape }],
        [{ name: 'image_embeds', dtype: 'float32', shape: ['image_tokens', 4] }],
      );
    g2.nodes[0]!.input = ['pixel_values'];
    replaceFile(work, 'vision_encoder.onnx', vis('float32', ['images', 64, 112, 3]));
    await refused(verifyBundle(work), /vision_encoder\.onnx: input pixel_values: expected dtype uint8, got float32/);
    replaceFile(work, 'vision_encoder.onnx', vis('uint8', ['images', 320, 576, 3]));
    await refused(
      verifyBundle(work),
      /vision_encoder\.onnx: input pixel_values: expected shape \[images, 64, 112, 3\], got \[images, 320, 576, 3\]/,
    );
    // The manifest declares max_batch 8: a graph whose plan dimension is fixed is refused.
    replaceFile(work, 'vision_encoder.onnx', vis('uint8', [16, 64, 112, 3]));
    await refused(
      verifyBundle(work),
      /vision_encoder\.onnx: input pixel_values: expected shape \[images, 64, 112, 3\], got \[16, 64, 112, 3\]/,
    );
  });

  it('refuses a file that is not ONNX even with a matching hash', async () => {
    replaceFile(work, 'lm_prefill.onnx', new TextEncoder().encode('not a model at all, just text'));
    await refused(verifyBundle(work), /lm_prefill\.onnx: (not a valid ONNX model|input)/);
  });

  it('refuses bad manifest fields with path, expected and got', async () => {
    const p = join(work, 'manifest.yaml');
    const m = parse(readFileSync(p, 'utf8'));
    m.cameras.frames_per_camera = 0;
    writeFileSync(p, stringify(m));
    expect(() => loadManifest(work)).to.throw(
      BundleError,
      /manifest\.yaml: cameras\.frames_per_camera: expected an integer ≥ 1, got 0/,
    );
    m.cameras.frames_per_camera = 4;
    delete m.graphs.lm_decode;
    writeFileSync(p, stringify(m));
    expect(() => loadManifest(work)).to.throw(
      BundleError,
      /graphs\.lm_decode: expected a mapping, got nothing \(missing\)/,
    );
    rmSync(p);
    expect(() => loadManifest(work)).to.throw(
      BundleError,
      /manifest\.yaml: cannot read the bundle manifest \(ENOENT\)/,
    );
  });

  it("makes a 1080x1920 variant and a large variant with AR1's model size", async () => {
    const m = makeDemoBundle(join(base, 'large'), { imageHeight: 1080, imageWidth: 1920, large: true });
    expect(m.image.native).to.deep.equal({ height: 1080, width: 1920 });
    expect(m.image.model).to.deep.equal({ height: 320, width: 576 });
    expect((await verifyBundle(join(base, 'large'))).manifest.bundle.id).to.equal('ar1-demo-large');
  });
});
