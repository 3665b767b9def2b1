import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { makeDemoBundle } from '../../nodes/syntheticBundles/demoBundle.js';
import { BundleError, FORM_ROLES, parseManifest } from '../../nodes/bundle/manifest.js';
import { DTYPES } from '../../nodes/bundle/onnxProto.js';

// A parsed manifest.yaml, edited by path in each case.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

const SCHEMA = JSON.parse(
  readFileSync(new URL('../../nodes/bundle/manifest.schema.json', import.meta.url), 'utf8'),
) as {
  properties: { form: { enum: string[] } };
  definitions: { tensor: { properties: { dtype: { enum: string[] } } } };
};

describe('bundle/manifest: the schema', () => {
  let base: string;
  let demo: Doc;
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'ar1-manifest-'));
    makeDemoBundle(join(base, 'demo'));
    demo = parse(readFileSync(join(base, 'demo', 'manifest.yaml'), 'utf8')) as Doc;
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  const edited = (f: (m: Doc) => void): Doc => {
    const m = structuredClone(demo);
    f(m);
    return m;
  };
  const refusal = (m: unknown): string => {
    try {
      parseManifest(m, 'b/manifest.yaml');
    } catch (e) {
      expect(e).to.be.instanceOf(BundleError);
      return (e as Error).message;
    }
    return 'accepted';
  };

  it("lists the code's dtypes and forms", () => {
    expect(SCHEMA.definitions.tensor.properties.dtype.enum).to.have.members(Object.keys(DTYPES));
    expect(SCHEMA.properties.form.enum).to.have.members(Object.keys(FORM_ROLES));
  });

  it('the demo manifest passes, and one key the format does not name is still read past (as before)', () => {
    expect(parseManifest(demo).cameras.framesPerCamera).to.equal(4);
    expect(parseManifest(edited((m) => (m['exporter'] = { version: 3 }))).bundle.id).to.equal('ar1-demo');
  });

  // One line each: the file, the field, what was expected, what was found.
  const cases: Array<[string, (m: Doc) => void, string]> = [
    ['the wrong format', (m) => (m.format = 'ar1-bundle/1'), 'format: expected "ar1-bundle/2", got "ar1-bundle/1"'],
    ['a missing section', (m) => delete m.sampling, 'sampling: expected a mapping, got nothing (missing)'],
    ['a section that is a list', (m) => (m.lm = [1]), 'lm: expected a mapping, got [1]'],
    ['an empty bundle id', (m) => (m.bundle.id = ''), 'bundle.id: expected a non-empty string, got ""'],
    ['a missing version', (m) => delete m.bundle.version, 'bundle.version: expected a non-empty string, got nothing'],
    ['an unknown form', (m) => (m.form = 'mixed'), 'form: expected "split" or "fused", got "mixed"'],
    ['no camera', (m) => (m.cameras.names = []), 'cameras.names: expected a list of distinct non-empty strings'],
    ['a camera twice', (m) => (m.cameras.names = ['a', 'a']), 'cameras.names: expected a list of distinct'],
    [
      '0 frames per camera',
      (m) => (m.cameras.frames_per_camera = 0),
      'frames_per_camera: expected an integer ≥ 1, got 0',
    ],
    ['1.5 frames per camera', (m) => (m.cameras.frames_per_camera = 1.5), 'expected an integer ≥ 1, got 1.5'],
    [
      'a spacing of 2.5 s',
      (m) => (m.cameras.frame_spacing_s = 2.5),
      'frame_spacing_s: expected a value in [0.01, 1], got 2.5',
    ],
    [
      'a spacing as text',
      (m) => (m.cameras.frame_spacing_s = 'x'),
      'frame_spacing_s: expected a value in [0.01, 1], got "x"',
    ],
    [
      'an infinite spacing',
      (m) => (m.cameras.frame_spacing_s = Infinity),
      'frame_spacing_s: expected a value in [0.01, 1]',
    ],
    ['a model width of 0', (m) => (m.image.model.width = 0), 'image.model.width: expected an integer ≥ 1, got 0'],
    [
      'preprocess on the gpu',
      (m) => (m.image.preprocess = 'gpu'),
      'image.preprocess: expected "host" or "graph", got "gpu"',
    ],
    [
      'a text in mean',
      (m) => (m.image.normalization.mean = [0.5, 'a']),
      'normalization.mean: expected a list of numbers',
    ],
    [
      'a scale of 0',
      (m) => (m.image.normalization.scale = 0),
      'image.normalization.scale: expected a number > 0, got 0',
    ],
    ['a 3-long grid', (m) => (m.vision.grid = [1, 1, 1]), 'vision.grid: expected [rows, cols] of positive integers'],
    [
      'a grid of 0',
      (m) => (m.vision.grid = [0, 1]),
      'vision.grid: expected [rows, cols] of positive integers, got [0,1]',
    ],
    ['a bf16 cache', (m) => (m.lm.cache_dtype = 'bfloat16'), 'lm.cache_dtype: expected "float16" or "float32"'],
    ['an empty template', (m) => (m.prompt.template = []), 'prompt.template: expected a non-empty list of text'],
    [
      'a template part of another kind',
      (m) => (m.prompt.template[1] = { video: true }),
      'prompt.template[1]: expected text, {images: true} or {history: true}, got {"video":true}',
    ],
    [
      'two image parts',
      (m) => m.prompt.template.push({ images: true }),
      'prompt.template: expected exactly one {images: true}, got 2',
    ],
    [
      '2 token ranges',
      (m) =>
        (m.history.token_ranges = [
          [-4, 4],
          [-4, 4],
        ]),
      'history.token_ranges: expected 3 [min, max] pairs',
    ],
    [
      'min above max',
      (m) => (m.history.token_ranges[2] = [10, -10]),
      'token_ranges: expected 3 [min, max] pairs (x, y, z) with min < max',
    ],
    ['3 history steps', (m) => (m.history.steps = 3), 'history.steps: expected an integer ≥ 4, got 3'],
    ['1 bin', (m) => (m.history.bins = 1), 'history.bins: expected an integer ≥ 2, got 1'],
    [
      'accel_std × 100',
      (m) => (m.action.normalization.accel_std = 68.1),
      'accel_std: expected a value in [0.01, 10], got 68.1',
    ],
    ['0 flow steps', (m) => (m.action.flow_steps = 0), 'action.flow_steps: expected an integer ≥ 1, got 0'],
    [
      'a negative temperature',
      (m) => (m.sampling.temperature = -1),
      'sampling.temperature: expected a value in [0, 10], got -1',
    ],
    ['top_p 0', (m) => (m.sampling.top_p = 0), 'sampling.top_p: expected a value in (0, 1], got 0'],
    ['top_p 1.5', (m) => (m.sampling.top_p = 1.5), 'sampling.top_p: expected a value in (0, 1], got 1.5'],
    [
      'max_tokens 1e6',
      (m) => (m.sampling.max_tokens = 1e6),
      'max_tokens: expected an integer in [1, 65536], got 1000000',
    ],
    [
      '0 trajectory tokens',
      (m) => (m.tokenizer.trajectory_tokens = { first: '<i0>', count: 0 }),
      'tokenizer.trajectory_tokens.count: expected an integer ≥ 1, got 0',
    ],
    [
      'no tokenizer file',
      (m) => delete m.tokenizer.file,
      'tokenizer.file: expected a non-empty string, got nothing (missing)',
    ],
    [
      'a graph without file',
      (m) => delete m.graphs.lm_decode.file,
      'graphs.lm_decode.file: expected a non-empty string, got nothing',
    ],
    [
      'no inputs',
      (m) => (m.graphs.lm_decode.inputs = []),
      'graphs.lm_decode.inputs: expected a non-empty list of {name, dtype, shape}, got []',
    ],
    [
      'a tensor of an unknown dtype',
      (m) => (m.graphs.vision_encoder.inputs[0].dtype = 'float8'),
      'graphs.vision_encoder.inputs[0].dtype: expected one of float32, uint8, int8, int32, int64, bool, float16, float64, bfloat16, got "float8"',
    ],
    [
      'a negative dimension',
      (m) => (m.graphs.vision_encoder.inputs[0].shape = [16, -1, 112, 3]),
      'graphs.vision_encoder.inputs[0].shape: expected a list of non-negative integers or symbolic names, got [16,-1,112,3]',
    ],
    [
      'max_batch 0',
      (m) => (m.graphs.vision_encoder.max_batch = 0),
      'graphs.vision_encoder.max_batch: expected an integer in [1, 1024], got 0',
    ],
    [
      'max_batch 2.5',
      (m) => (m.graphs.lm_prefill.max_batch = 2.5),
      'graphs.lm_prefill.max_batch: expected an integer in [1, 1024], got 2.5',
    ],
    [
      'max_batch as text',
      (m) => (m.graphs.lm_prefill.max_batch = '8'),
      'graphs.lm_prefill.max_batch: expected an integer in [1, 1024], got "8"',
    ],
    [
      'max_batch on the decode step (it batches samples, not plans)',
      (m) => (m.graphs.lm_decode.max_batch = 4),
      'graphs.lm_decode.max_batch: expected 1 (only vision_encoder and lm_prefill batch plans in form split; lm_decode batches samples along its batch dimension), got 4',
    ],
    [
      'max_batch on the expert',
      (m) => (m.graphs.action_expert.max_batch = 2),
      'graphs.action_expert.max_batch: expected 1 (only vision_encoder and lm_prefill batch plans in form split',
    ],
    [
      'max_batch with a fixed image count',
      (m) => (m.graphs.vision_encoder.inputs[0].shape = [16, 64, 112, 3]),
      'graphs.vision_encoder pixel_values.shape: expected a symbolic dimension 0 (the plans of a run, max_batch 8), got [16,64,112,3]',
    ],
    [
      'max_batch with a fixed embedding count',
      (m) => (m.graphs.vision_encoder.outputs[0].shape = [16, 4]),
      'graphs.vision_encoder image_embeds.shape: expected a symbolic dimension 0 (the plans of a run, max_batch 8), got [16,4]',
    ],
    [
      'max_batch with prefill positions for one prompt',
      (m) => (m.graphs.lm_prefill.inputs[1].shape = [3, 1, 'sequence']),
      'graphs.lm_prefill position_ids.shape: expected a symbolic dimension 1 (the plans of a run, max_batch 8), got [3,1,"sequence"]',
    ],
    [
      'max_batch with a batch-1 prefill cache',
      (m) => (m.graphs.lm_prefill.outputs[1].shape[0] = 1),
      'graphs.lm_prefill present.0.key.shape: expected a symbolic dimension 0 (the plans of a run, max_batch 8), got [1,1,1,',
    ],
    [
      'a missing graph',
      (m) => delete m.graphs.lm_decode,
      'graphs.lm_decode: expected a mapping, got nothing (missing)',
    ],
    [
      'a short sha256',
      (m) => (m.files['tokenizer.json'].sha256 = 'abc'),
      'files.tokenizer.json.sha256: expected 64 lowercase hex digits, got "abc"',
    ],
    [
      'a negative size',
      (m) => (m.files['tokenizer.json'].bytes = -1),
      'files.tokenizer.json.bytes: expected an integer ≥ 0, got -1',
    ],
    [
      'an unlisted tokenizer',
      (m) => delete m.files['tokenizer.json'],
      'files: expected an entry (sha256, bytes) for tokenizer.json, got none',
    ],
  ];
  for (const [name, edit, message] of cases) {
    it(`${name}: refused in one line naming the file and the field`, () => {
      const got = refusal(edited(edit));
      expect(got).to.match(/^b\/manifest\.yaml: \S.*: expected .+, got .+$/);
      expect(got).not.to.contain('\n');
      expect(got).to.contain(message);
    });
  }

  it('max_batch: the demo declares 8 for vision and prefill; without it (or at 1) a graph runs plan by plan, fixed dims allowed', () => {
    const m = parseManifest(demo);
    expect(m.graphs.vision_encoder!.maxBatch).to.equal(8);
    expect(m.graphs.lm_prefill!.maxBatch).to.equal(8);
    expect(m.graphs.lm_decode!.maxBatch).to.equal(1);
    for (const one of [undefined, 1]) {
      const plain = parseManifest(
        edited((d) => {
          for (const role of ['vision_encoder', 'lm_prefill']) d.graphs[role].max_batch = one;
          if (one === undefined) for (const role of ['vision_encoder', 'lm_prefill']) delete d.graphs[role].max_batch;
          d.graphs.vision_encoder.inputs[0].shape = [16, 64, 112, 3];
          d.graphs.lm_prefill.inputs[0].shape = [1, 'sequence'];
        }),
      );
      expect(plain.graphs.vision_encoder!.maxBatch).to.equal(1);
      expect(plain.graphs.lm_prefill!.maxBatch).to.equal(1);
    }
  });

  it("docs/model-bundle.md's field table names the schema's fields, and every field of the schema", () => {
    type Node = { properties?: Record<string, Node>; additionalProperties?: Node | boolean; $ref?: string };
    const root = SCHEMA as unknown as Node & { definitions: Record<string, Node> };
    const deref = (n: Node): Node => (n.$ref ? root.definitions[n.$ref.split('/').pop()!]! : n);
    /** Leaf paths; a free-form key (graphs.<role>, files.<name>) is written <key>. */
    const leaves = (n: Node, prefix: string): string[] => {
      const d = deref(n);
      const props = Object.entries(d.properties ?? {});
      const extra = typeof d.additionalProperties === 'object' ? [['<key>', d.additionalProperties] as const] : [];
      if (!props.length && !extra.length) return [prefix];
      return [...props, ...extra].flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
    };
    const schemaFields = leaves(root, '');
    const text = readFileSync(new URL('../../docs/model-bundle.md', import.meta.url), 'utf8');
    const table = text.slice(text.indexOf('## The manifest'), text.indexOf('\n\n', text.indexOf('| field |')));
    const documented = [...table.matchAll(/^\| (.+?) \|/gm)]
      .flatMap((m) => [...m[1]!.matchAll(/`([^`]+)`/g)].map((c) => c[1]!.replace(/:.*$/, '')))
      .flatMap((f) => {
        const brace = /^(.*)\{([^}]+)\}$/.exec(f);
        return brace ? brace[2]!.split(',').map((k) => brace[1]! + k.trim()) : [f];
      })
      .map((f) => f.replace(/<[^>]+>/g, '<key>'));
    expect(documented.length).to.be.greaterThan(30);
    const NOT_VALIDATED = ['bundle.description']; // free text, read when it is a string (as before the schema)
    for (const f of documented) {
      if (NOT_VALIDATED.includes(f)) continue;
      expect(
        schemaFields.some((s) => s === f || s.startsWith(`${f}.`)),
        `docs/model-bundle.md: ${f} is a field of the schema`,
      ).to.equal(true);
    }
    for (const s of schemaFields)
      expect(
        documented.some((f) => s === f || s.startsWith(`${f}.`)),
        `${s} is in docs/model-bundle.md's table`,
      ).to.equal(true);
  });

  it('refuses a document that is not a mapping at all, naming the root', () => {
    expect(refusal([1, 2])).to.equal('b/manifest.yaml: (root): expected a mapping, got [1,2]');
    expect(refusal(null)).to.equal('b/manifest.yaml: (root): expected a mapping, got null');
  });
});
