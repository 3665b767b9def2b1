/**
 * The model bundle manifest (manifest.yaml): types, parsing and field-by-field validation with precise messages.
 * See README.md in this folder for the format.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../core/errors.js';
import { AR1_ACTION_NORMALIZATION } from '../ar1/actionSpace.js';
import type { ActionNormalization } from '../ar1/actionSpace.js';
import { DTYPES } from './onnxProto.js';
import type { DType } from './onnxProto.js';
import type { Dim, TensorSpec } from '../syntheticBundles/graphBuilder.js';

export const MANIFEST_FILE = 'manifest.yaml';
export const MANIFEST_FORMAT = 'ar1-bundle/2';

/** A refused bundle: missing/corrupt/tampered file, bad manifest field, graph I/O mismatch. */
export class BundleError extends UserError {
  override readonly name = 'BundleError';
}

/** What a path is, in words, for a refusal ("a FIFO", "a directory", …). */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * The size of a bundle file, which must be a regular file (symbolic links followed): a FIFO, socket or device given
 * as a bundle file would block the read for ever, so it is refused before anything opens it. Missing → undefined.
 */
export function regularFileSize(path: string): number | undefined {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BundleError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (!st.isFile()) throw new BundleError(`${path}: expected a regular file, got ${kindOf(st)}`);
  return st.size;
}

/** [bytes] a manifest is a few KB; a larger one is refused before it is read. */
const MAX_MANIFEST_READ_BYTES = 4 << 20;

export type GraphRole = 'vision_encoder' | 'lm_prefill' | 'lm_decode' | 'action_expert' | 'generate';
export type BundleForm = 'split' | 'fused';
/** The graphs of each form: split runs one graph per stage and loops on the host; fused loops inside `generate`. */
export const FORM_ROLES: Record<BundleForm, readonly GraphRole[]> = {
  split: ['vision_encoder', 'lm_prefill', 'lm_decode', 'action_expert'],
  fused: ['vision_encoder', 'generate'],
};
export const GRAPH_ROLES: readonly GraphRole[] = [
  'vision_encoder',
  'lm_prefill',
  'lm_decode',
  'action_expert',
  'generate',
];

/** Cache tensor names, as standard decoder exporters emit them (no renaming needed). */
export const pastKey = (i: number): string => `past_key_values.${i}.key`;
export const pastValue = (i: number): string => `past_key_values.${i}.value`;
export const presentKey = (i: number): string => `present.${i}.key`;
export const presentValue = (i: number): string => `present.${i}.value`;
export const deepstackName = (j: number): string => `deepstack_embeds.${j}`;

/**
 * Tensor names each role must have, from the manifest's layer and deepstack counts (never from code):
 * vision: pixels → embeddings + deepstack features; prefill: embeddings, prompt ids, 3-axis rotary positions →
 * logits + one present key/value per layer; decode step: one past key/value per layer in, present out; expert step:
 * x, t, positions, attention mask and the per-layer cache → velocity.
 */
export function roleIo(layers: number, deepstack: number): Record<GraphRole, { inputs: string[]; outputs: string[] }> {
  const L = Array.from({ length: layers }, (_, i) => i);
  const ds = Array.from({ length: deepstack }, (_, j) => deepstackName(j));
  const past = L.flatMap((i) => [pastKey(i), pastValue(i)]);
  const present = L.flatMap((i) => [presentKey(i), presentValue(i)]);
  return {
    vision_encoder: { inputs: ['pixel_values'], outputs: ['image_embeds', ...ds] },
    lm_prefill: { inputs: ['input_ids', 'position_ids', 'image_embeds', ...ds], outputs: ['logits', ...present] },
    lm_decode: { inputs: ['input_ids', 'position_ids', ...past], outputs: ['logits', ...present] },
    action_expert: { inputs: ['x', 't', 'position_ids', 'attention_mask', ...past], outputs: ['velocity'] },
    generate: {
      inputs: [
        'input_ids',
        'position_ids',
        'image_embeds',
        ...ds,
        'seeds',
        'noise',
        'logit_bias',
        'max_tokens',
        'temperature',
        'top_p',
        'stop_token',
        'flow_steps',
      ],
      outputs: ['tokens', 'token_counts', 'actions'],
    },
  };
}

export interface GraphSpec {
  file: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** One entry of the prompt template: literal text (tokenised), every camera image, or the history tokens. */
export type PromptPart = { text: string } | { images: true } | { history: true };

export interface Manifest {
  format: string;
  bundle: { id: string; version: string; description: string };
  /**
   * split: one graph per stage, the runtime loops and feeds the cache back each step; fused: vision plus one
   * `generate` graph that runs prefill, the sampled reasoning loop (cache loop-carried) and the flow-matching loop.
   */
  form: BundleForm;
  cameras: { names: string[]; framesPerCamera: number; frameSpacingS: number };
  image: {
    native: { height: number; width: number };
    model: { height: number; width: number };
    /** host: the runtime decodes + resizes (bicubic) to model size and feeds uint8 NHWC; graph: native size is fed. */
    preprocess: 'host' | 'graph';
    /** Normalisation applied inside the vision graph (documented; the runtime feeds uint8). */
    normalization: { mean: number[]; std: number[]; scale: number };
  };
  /** Language tokens per image after merging, as a grid (rows × cols) for 3-axis rotary positions; deepstack count. */
  vision: { grid: [number, number]; deepstack: number };
  /** Decoder cache geometry: the cache tensors are [batch, kvHeads, positions, headDim] of cacheDtype per layer. */
  lm: { layers: number; kvHeads: number; headDim: number; cacheDtype: 'float16' | 'float32' };
  prompt: { template: PromptPart[]; imageStart: string; imagePad: string; imageEnd: string };
  history: { steps: number; dtS: number; tokenRanges: [number, number][]; bins: number; tokenOffset: number };
  trajectory: { steps: number; dtS: number };
  action: { normalization: ActionNormalization; flowSteps: number };
  sampling: { temperature: number; topP: number; maxTokens: number };
  tokenizer: {
    file: string;
    cotStart: string;
    cotEnd: string;
    trajFutureStart: string;
    /** Trajectory tokens masked while reasoning: the first one's text and how many follow it (upstream 4000). */
    trajectoryTokens?: { first: string; count: number };
  };
  /** The graphs of the bundle's form (FORM_ROLES), by role. */
  graphs: Partial<Record<GraphRole, GraphSpec>>;
  /** sha256 (hex) and size of every file of the bundle except the manifest. */
  files: Record<string, { sha256: string; bytes: number }>;
}

/** Reads and validates DIR/manifest.yaml (no hashing: see verifyBundle). */
export function loadManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST_FILE);
  const size = regularFileSize(path);
  if (size === undefined) throw new BundleError(`${path}: cannot read the bundle manifest (ENOENT)`);
  if (size > MAX_MANIFEST_READ_BYTES)
    throw new BundleError(`${path}: expected at most ${MAX_MANIFEST_READ_BYTES} bytes, got ${size}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BundleError(
      `${path}: cannot read the bundle manifest (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new BundleError(`${path}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseManifest(raw, path);
}

/** Validates a parsed manifest object; `where` prefixes messages. */
export function parseManifest(raw: unknown, where = MANIFEST_FILE): Manifest {
  const r = new Reader(where);
  const root = r.obj(raw, '');
  const format = r.str(root, 'format');
  if (format !== MANIFEST_FORMAT) r.fail('format', `"${MANIFEST_FORMAT}"`, JSON.stringify(format));
  const bundle = r.obj(root.bundle, 'bundle');
  const cams = r.obj(root.cameras, 'cameras');
  const image = r.obj(root.image, 'image');
  const native = r.obj(image.native, 'image.native');
  const model = r.obj(image.model, 'image.model');
  const norm = r.obj(image.normalization, 'image.normalization');
  const hist = r.obj(root.history, 'history');
  const traj = r.obj(root.trajectory, 'trajectory');
  const action = r.obj(root.action, 'action');
  const an = action.normalization === undefined ? {} : r.obj(action.normalization, 'action.normalization');
  const samp = r.obj(root.sampling, 'sampling');
  const tok = r.obj(root.tokenizer, 'tokenizer');
  const graphsRaw = r.obj(root.graphs, 'graphs');
  const filesRaw = r.obj(root.files, 'files');

  const preprocess = r.str(image, 'preprocess', 'image.preprocess');
  if (preprocess !== 'host' && preprocess !== 'graph')
    r.fail('image.preprocess', '"host" or "graph"', JSON.stringify(preprocess));
  const names = r.strList(cams, 'names', 'cameras.names');
  if (names.length === 0) r.fail('cameras.names', 'at least one camera', '[]');
  if (new Set(names).size !== names.length) r.fail('cameras.names', 'distinct names', JSON.stringify(names));

  const ranges = (hist.token_ranges ?? [
    [-4, 4],
    [-4, 4],
    [-10, 10],
  ]) as unknown;
  if (
    !Array.isArray(ranges) ||
    ranges.length !== 3 ||
    !ranges.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite) && p[0] < p[1])
  ) {
    r.fail('history.token_ranges', '3 [min, max] pairs (x, y, z) with min < max', JSON.stringify(ranges));
  }

  const formRaw = root.form ?? 'split';
  if (formRaw !== 'split' && formRaw !== 'fused') r.fail('form', '"split" or "fused"', JSON.stringify(formRaw));
  const form = formRaw as BundleForm;
  const roles = FORM_ROLES[form];
  const vision = r.obj(root.vision, 'vision');
  const gridRaw = vision.grid;
  if (!Array.isArray(gridRaw) || gridRaw.length !== 2 || !gridRaw.every((v) => Number.isInteger(v) && v >= 1))
    r.fail('vision.grid', '[rows, cols] of positive integers', describe(gridRaw));
  const deepstack = r.int(vision, 'deepstack', 'vision.deepstack', 0);
  const lmRaw = r.obj(root.lm, 'lm');
  const layers = r.int(lmRaw, 'layers', 'lm.layers', 1);
  const kvHeads = r.int(lmRaw, 'kv_heads', 'lm.kv_heads', 1);
  const headDim = r.int(lmRaw, 'head_dim', 'lm.head_dim', 1);
  const cacheDtype = r.str(lmRaw, 'cache_dtype', 'lm.cache_dtype');
  if (cacheDtype !== 'float16' && cacheDtype !== 'float32')
    r.fail('lm.cache_dtype', '"float16" or "float32"', JSON.stringify(cacheDtype));
  const promptRaw = r.obj(root.prompt, 'prompt');
  const tmpl = promptRaw.template;
  if (!Array.isArray(tmpl) || tmpl.length === 0)
    r.fail('prompt.template', 'a non-empty list of text, {images: true} or {history: true}', describe(tmpl));
  const template: PromptPart[] = (tmpl as unknown[]).map((p, i) => {
    if (typeof p === 'string') return { text: p };
    const o = r.obj(p, `prompt.template[${i}]`);
    if (o.images === true) return { images: true };
    if (o.history === true) return { history: true };
    return r.fail(`prompt.template[${i}]`, 'text, {images: true} or {history: true}', describe(p));
  });
  for (const k of ['images', 'history'] as const) {
    const n = template.filter((p) => k in p).length;
    if (n !== 1) r.fail('prompt.template', `exactly one {${k}: true}`, String(n));
  }
  const ROLE_IO = roleIo(layers, deepstack);
  const graphs: Partial<Record<GraphRole, GraphSpec>> = {};
  for (const role of roles) {
    const g = r.obj(graphsRaw[role], `graphs.${role}`);
    const spec: GraphSpec = {
      file: r.str(g, 'file', `graphs.${role}.file`),
      inputs: r.tensors(g.inputs, `graphs.${role}.inputs`),
      outputs: r.tensors(g.outputs, `graphs.${role}.outputs`),
    };
    for (const [kind, list] of [
      ['inputs', spec.inputs],
      ['outputs', spec.outputs],
    ] as const) {
      for (const need of ROLE_IO[role][kind]) {
        if (!list.some((t) => t.name === need))
          r.fail(`graphs.${role}.${kind}`, `a tensor named "${need}"`, `[${list.map((t) => t.name).join(', ')}]`);
      }
    }
    graphs[role] = spec;
    for (const t of [...spec.inputs, ...spec.outputs]) {
      if (!/^(past_key_values|present)\.\d+\.(key|value)$/.test(t.name)) continue;
      const where = `graphs.${role} ${t.name}`;
      if (t.dtype !== cacheDtype) r.fail(`${where}.dtype`, `lm.cache_dtype ${cacheDtype}`, t.dtype);
      if (t.shape.length !== 4 || t.shape[1] !== kvHeads || t.shape[3] !== headDim) {
        r.fail(
          `${where}.shape`,
          `[batch, ${kvHeads}, positions, ${headDim}] (lm.kv_heads, lm.head_dim)`,
          JSON.stringify(t.shape),
        );
      }
      if (Number(t.name.split('.')[1]) >= layers) r.fail(where, `a layer index < lm.layers ${layers}`, t.name);
    }
  }
  for (const [k] of Object.entries(graphsRaw))
    if (!(roles as readonly string[]).includes(k))
      r.fail(`graphs.${k}`, `one of ${roles.join(', ')} (form ${form})`, 'a role of another form or an unknown one');

  const files: Manifest['files'] = {};
  for (const [name, v] of Object.entries(filesRaw)) {
    const f = r.obj(v, `files.${name}`);
    const sha = r.str(f, 'sha256', `files.${name}.sha256`);
    if (!/^[0-9a-f]{64}$/.test(sha)) r.fail(`files.${name}.sha256`, '64 lowercase hex digits', JSON.stringify(sha));
    files[name] = { sha256: sha, bytes: r.int(f, 'bytes', `files.${name}.bytes`, 0) };
  }
  const tokenizerFile = r.str(tok, 'file', 'tokenizer.file');
  for (const f of [tokenizerFile, ...roles.map((g) => graphs[g]!.file)]) {
    if (!(f in files)) r.fail('files', `an entry (sha256, bytes) for ${f}`, 'none');
  }

  const m: Manifest = {
    format,
    form,
    vision: { grid: gridRaw as [number, number], deepstack },
    lm: { layers, kvHeads, headDim, cacheDtype: cacheDtype as 'float16' | 'float32' },
    prompt: {
      template,
      imageStart: r.str(promptRaw, 'image_start', 'prompt.image_start'),
      imagePad: r.str(promptRaw, 'image_pad', 'prompt.image_pad'),
      imageEnd: r.str(promptRaw, 'image_end', 'prompt.image_end'),
    },
    bundle: {
      id: r.str(bundle, 'id', 'bundle.id'),
      version: r.str(bundle, 'version', 'bundle.version'),
      description: typeof bundle.description === 'string' ? bundle.description : '',
    },
    cameras: {
      names,
      framesPerCamera: r.int(cams, 'frames_per_camera', 'cameras.frames_per_camera', 1),
      frameSpacingS: r.num(cams, 'frame_spacing_s', 'cameras.frame_spacing_s', 0),
    },
    image: {
      native: {
        height: r.int(native, 'height', 'image.native.height', 1),
        width: r.int(native, 'width', 'image.native.width', 1),
      },
      model: {
        height: r.int(model, 'height', 'image.model.height', 1),
        width: r.int(model, 'width', 'image.model.width', 1),
      },
      preprocess: preprocess as 'host' | 'graph',
      normalization: {
        mean: r.numList(norm, 'mean', 'image.normalization.mean'),
        std: r.numList(norm, 'std', 'image.normalization.std'),
        scale: r.num(norm, 'scale', 'image.normalization.scale', 0),
      },
    },
    history: {
      steps: r.int(hist, 'steps', 'history.steps', 4),
      dtS: r.num(hist, 'dt_s', 'history.dt_s', 0),
      tokenRanges: ranges as [number, number][],
      bins: r.int(hist, 'bins', 'history.bins', 2),
      tokenOffset: r.int(hist, 'token_offset', 'history.token_offset', 0),
    },
    trajectory: { steps: r.int(traj, 'steps', 'trajectory.steps', 1), dtS: r.num(traj, 'dt_s', 'trajectory.dt_s', 0) },
    action: {
      normalization: {
        accelMean: r.num(
          an,
          'accel_mean',
          'action.normalization.accel_mean',
          undefined,
          AR1_ACTION_NORMALIZATION.accelMean,
        ),
        accelStd: r.num(an, 'accel_std', 'action.normalization.accel_std', 0, AR1_ACTION_NORMALIZATION.accelStd),
        curvatureMean: r.num(
          an,
          'curvature_mean',
          'action.normalization.curvature_mean',
          undefined,
          AR1_ACTION_NORMALIZATION.curvatureMean,
        ),
        curvatureStd: r.num(
          an,
          'curvature_std',
          'action.normalization.curvature_std',
          0,
          AR1_ACTION_NORMALIZATION.curvatureStd,
        ),
      },
      flowSteps: r.int(action, 'flow_steps', 'action.flow_steps', 1, 10),
    },
    sampling: {
      temperature: r.num(samp, 'temperature', 'sampling.temperature', -1e-300),
      topP: r.num(samp, 'top_p', 'sampling.top_p', 0),
      maxTokens: r.int(samp, 'max_tokens', 'sampling.max_tokens', 1),
    },
    tokenizer: {
      file: tokenizerFile,
      cotStart: r.str(tok, 'cot_start', 'tokenizer.cot_start'),
      cotEnd: r.str(tok, 'cot_end', 'tokenizer.cot_end'),
      trajFutureStart: r.str(tok, 'traj_future_start', 'tokenizer.traj_future_start'),
      ...(tok.trajectory_tokens === undefined
        ? {}
        : (() => {
            const tt = r.obj(tok.trajectory_tokens, 'tokenizer.trajectory_tokens');
            return {
              trajectoryTokens: {
                first: r.str(tt, 'first', 'tokenizer.trajectory_tokens.first'),
                count: r.int(tt, 'count', 'tokenizer.trajectory_tokens.count', 1),
              },
            };
          })()),
    },
    graphs,
    files,
  };
  if (m.sampling.topP > 1) r.fail('sampling.top_p', 'a value in (0, 1]', String(m.sampling.topP));
  // Sane bounds on the numbers that steer the car (AR1: accel_std 0.68, curvature_std 0.026, 0.1 s spacing): an
  // edit that keeps the file hashes valid must not scale the plans by 100 or sample at temperature 1e300.
  const within = (path: string, v: number, lo: number, hi: number) => {
    if (!(v >= lo && v <= hi)) r.fail(path, `a value in [${lo}, ${hi}]`, String(v));
  };
  within('sampling.temperature', m.sampling.temperature, 0, 10);
  within('sampling.max_tokens', m.sampling.maxTokens, 1, 65536);
  within('cameras.frame_spacing_s', m.cameras.frameSpacingS, 0.01, 1);
  within('history.dt_s', m.history.dtS, 0.01, 1);
  within('trajectory.dt_s', m.trajectory.dtS, 0.01, 1);
  within('action.normalization.accel_mean', m.action.normalization.accelMean, -10, 10);
  within('action.normalization.accel_std', m.action.normalization.accelStd, 0.01, 10);
  within('action.normalization.curvature_mean', m.action.normalization.curvatureMean, -1, 1);
  within('action.normalization.curvature_std', m.action.normalization.curvatureStd, 1e-4, 1);
  if (form === 'fused' && !(m.sampling.temperature > 0))
    r.fail(
      'sampling.temperature',
      'a value > 0 for form fused (the graph samples; greedy decoding needs the split form)',
      String(m.sampling.temperature),
    );
  return m;
}

/** Field readers that throw BundleError("<file>: <path>: expected …, got …"). */
class Reader {
  constructor(readonly where: string) {}
  fail(path: string, expected: string, got: string): never {
    throw new BundleError(`${this.where}: ${path || '(root)'}: expected ${expected}, got ${got}`);
  }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'a mapping', describe(v));
    return v as Record<string, unknown>;
  }
  str(o: Record<string, unknown>, key: string, path = key): string {
    const v = o[key];
    if (typeof v !== 'string' || v === '') this.fail(path, 'a non-empty string', describe(v));
    return v;
  }
  num(o: Record<string, unknown>, key: string, path: string, exclusiveMin?: number, dflt?: number): number {
    const v = o[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, 'a finite number', describe(v));
    if (exclusiveMin !== undefined && !(v > exclusiveMin)) this.fail(path, `a number > ${exclusiveMin}`, String(v));
    return v;
  }
  int(o: Record<string, unknown>, key: string, path: string, min: number, dflt?: number): number {
    const v = o[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(path, `an integer ≥ ${min}`, describe(v));
    return v;
  }
  strList(o: Record<string, unknown>, key: string, path: string): string[] {
    const v = o[key];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== ''))
      this.fail(path, 'a list of non-empty strings', describe(v));
    return v as string[];
  }
  numList(o: Record<string, unknown>, key: string, path: string): number[] {
    const v = o[key];
    if (!Array.isArray(v) || !v.every((n) => typeof n === 'number' && Number.isFinite(n)))
      this.fail(path, 'a list of numbers', describe(v));
    return v as number[];
  }
  tensors(v: unknown, path: string): TensorSpec[] {
    if (!Array.isArray(v) || v.length === 0) this.fail(path, 'a non-empty list of {name, dtype, shape}', describe(v));
    return v.map((t, i) => {
      const o = this.obj(t, `${path}[${i}]`);
      const name = this.str(o, 'name', `${path}[${i}].name`);
      const dtype = this.str(o, 'dtype', `${path}[${i}].dtype`);
      if (!(dtype in DTYPES))
        this.fail(`${path}[${i}].dtype`, `one of ${Object.keys(DTYPES).join(', ')}`, JSON.stringify(dtype));
      const shape = o.shape;
      if (
        !Array.isArray(shape) ||
        !shape.every(
          (d) => (typeof d === 'number' && Number.isInteger(d) && d >= 0) || (typeof d === 'string' && d !== ''),
        )
      ) {
        this.fail(`${path}[${i}].shape`, 'a list of non-negative integers or symbolic names', describe(shape));
      }
      return { name, dtype: dtype as DType, shape: shape as Dim[] };
    });
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
}
