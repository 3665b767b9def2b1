/**
 * The model bundle manifest (manifest.yaml): reading, validation against manifest.schema.json (ajv) plus the checks a
 * schema cannot express, with one-line messages naming the file, the field, what was expected and what was found,
 * and the typed Manifest the runtime uses. See README.md in this folder for the format.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../core/errors.js';
import { AR1_ACTION_NORMALIZATION } from '../ar1/actionSpace.js';
import type { ActionNormalization } from '../ar1/actionSpace.js';
import type { DType } from './onnxProto.js';
import type { TensorSpec } from '../syntheticBundles/graphBuilder.js';
import type { ManifestDocument } from './manifest.generated.js';

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
  /**
   * Plans one run may carry (`max_batch`, default 1: plan by plan). Only vision_encoder and lm_prefill batch plans,
   * along a symbolic plan dimension (PLAN_BATCH_DIMS); lm_decode and action_expert batch samples along theirs.
   */
  maxBatch: number;
}

/** The roles that may declare max_batch > 1 (generate takes one prompt: a fused bundle batches its vision only). */
const PLAN_BATCH_ROLES: readonly GraphRole[] = ['vision_encoder', 'lm_prefill'];

/**
 * Where the plan dimension is in each tensor of a role that batches plans; with max_batch > 1 that dimension must be
 * symbolic. vision_encoder: the images of B plans one after another (pixel_values [16·B, H, W, 3]), their
 * embeddings likewise ([16·rows·cols·B, hidden]); lm_prefill: input_ids [B, S], position_ids [3, B, S], the
 * embeddings as vision emits them, logits [B, V], present.{i} [B, kv_heads, S, head_dim].
 */
function planBatchAxis(role: GraphRole, tensor: string): number | undefined {
  if (role === 'vision_encoder') return 0;
  if (role !== 'lm_prefill') return undefined;
  if (tensor === 'position_ids') return 1;
  return 0;
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

const MANIFEST_SCHEMA_PATH = new URL('./manifest.schema.json', import.meta.url);
const ajv = new Ajv({ strict: true, strictNumbers: true, allowUnionTypes: true });
// Each schema field's `expected`: the phrase a refusal prints for it ("an integer ≥ 1"). Annotation only.
ajv.addKeyword({ keyword: 'expected', schemaType: 'string' });
let validator: ValidateFunction<ManifestDocument> | undefined;
let schemaRoot: SchemaNode | undefined;

type SchemaNode = Record<string, unknown>;
const isNode = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schema node at a local "$ref" ("#/definitions/x"), or the node itself. */
function deref(node: SchemaNode, root: SchemaNode): SchemaNode {
  const ref = node['$ref'];
  if (typeof ref !== 'string') return node;
  const target = ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((n, k) => (isNode(n) ? n[k] : undefined), root);
  return isNode(target) ? deref(target, root) : node;
}

/**
 * One ajv error as "<path>: expected …, got …": the path and the phrase are those of the deepest schema field on the
 * way to the failing value that states what it expects (a tensor's dtype, a whole token_ranges list); a missing
 * required key is named with its own phrase and "nothing (missing)".
 */
function schemaRefusal(
  e: ErrorObject,
  raw: unknown,
  root: SchemaNode,
): { path: string; expected: string; got: string } {
  const keys = e.instancePath
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  const missing = e.keyword === 'required' ? String((e.params as { missingProperty: string }).missingProperty) : '';
  if (missing) keys.push(missing);
  let node: SchemaNode | undefined = deref(root, root);
  let value: unknown = raw;
  let path = '';
  let best = { path: '', expected: typeof node['expected'] === 'string' ? node['expected'] : (e.message ?? e.keyword) };
  let bestValue: unknown = raw;
  for (const key of keys) {
    const inList = Array.isArray(value);
    path = inList ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    value = isNode(value) || Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
    let next: unknown;
    if (node !== undefined) {
      if (inList) next = node['items'];
      else {
        const props = node['properties'];
        next = isNode(props) && Object.hasOwn(props, key) ? props[key] : node['additionalProperties'];
      }
    }
    node = isNode(next) ? deref(next, root) : undefined;
    if (node !== undefined && typeof node['expected'] === 'string') {
      best = { path, expected: node['expected'] };
      bestValue = value;
    }
  }
  return { path: best.path, expected: best.expected, got: describe(bestValue) };
}

/**
 * Validates a parsed manifest object; `where` prefixes messages. The structure, types and bounds are the schema's
 * (manifest.schema.json, validated by ajv); what a schema cannot say is checked here: the graphs each form needs and
 * no others, the tensor names from the layer and deepstack counts, the cache geometry, one images and one history
 * part in the prompt, every graph and the tokenizer listed in files, and sampling for the fused form.
 */
export function parseManifest(raw: unknown, where = MANIFEST_FILE): Manifest {
  const fail = (path: string, expected: string, got: string): never => {
    throw new BundleError(`${where}: ${path || '(root)'}: expected ${expected}, got ${got}`);
  };
  if (validator === undefined || schemaRoot === undefined) {
    schemaRoot = JSON.parse(readFileSync(MANIFEST_SCHEMA_PATH, 'utf8')) as SchemaNode;
    validator = ajv.compile<ManifestDocument>(schemaRoot);
  }
  if (!validator(raw)) {
    const first = validator.errors?.[0];
    if (first === undefined) return fail('', 'a valid manifest', 'one the schema refuses');
    const r = schemaRefusal(first, raw, schemaRoot);
    return fail(r.path, r.expected, r.got);
  }
  const doc = raw;

  const names = doc.cameras.names;
  const ranges = (doc.history.token_ranges ?? [
    [-4, 4],
    [-4, 4],
    [-10, 10],
  ]) as [number, number][];
  if (!ranges.every(([lo, hi]) => lo < hi))
    fail('history.token_ranges', '3 [min, max] pairs (x, y, z) with min < max', JSON.stringify(ranges));

  const form: BundleForm = doc.form ?? 'split';
  const roles = FORM_ROLES[form];
  const { deepstack } = doc.vision;
  const { layers, kv_heads: kvHeads, head_dim: headDim, cache_dtype: cacheDtype } = doc.lm;
  const template: PromptPart[] = doc.prompt.template.map((p) => (typeof p === 'string' ? { text: p } : p));
  for (const k of ['images', 'history'] as const) {
    const n = template.filter((p) => k in p).length;
    if (n !== 1) fail('prompt.template', `exactly one {${k}: true}`, String(n));
  }
  const ROLE_IO = roleIo(layers, deepstack);
  const graphs: Partial<Record<GraphRole, GraphSpec>> = {};
  for (const role of roles) {
    const g = doc.graphs[role];
    if (g === undefined) return fail(`graphs.${role}`, 'a mapping', describe(undefined));
    const spec: GraphSpec = {
      file: g.file,
      inputs: g.inputs.map(tensorSpec),
      outputs: g.outputs.map(tensorSpec),
      maxBatch: g.max_batch ?? 1,
    };
    for (const [kind, list] of [
      ['inputs', spec.inputs],
      ['outputs', spec.outputs],
    ] as const) {
      for (const need of ROLE_IO[role][kind]) {
        if (!list.some((t) => t.name === need))
          fail(`graphs.${role}.${kind}`, `a tensor named "${need}"`, `[${list.map((t) => t.name).join(', ')}]`);
      }
    }
    graphs[role] = spec;
    for (const t of [...spec.inputs, ...spec.outputs]) {
      if (!/^(past_key_values|present)\.\d+\.(key|value)$/.test(t.name)) continue;
      const at = `graphs.${role} ${t.name}`;
      if (t.dtype !== cacheDtype) fail(`${at}.dtype`, `lm.cache_dtype ${cacheDtype}`, t.dtype);
      if (t.shape.length !== 4 || t.shape[1] !== kvHeads || t.shape[3] !== headDim) {
        fail(
          `${at}.shape`,
          `[batch, ${kvHeads}, positions, ${headDim}] (lm.kv_heads, lm.head_dim)`,
          JSON.stringify(t.shape),
        );
      }
      if (Number(t.name.split('.')[1]) >= layers) fail(at, `a layer index < lm.layers ${layers}`, t.name);
    }
    if (spec.maxBatch > 1) {
      const batching = form === 'fused' ? ['vision_encoder'] : PLAN_BATCH_ROLES;
      if (!batching.includes(role))
        fail(
          `graphs.${role}.max_batch`,
          `1 (only ${batching.join(' and ')} ${batching.length > 1 ? 'batch' : 'batches'} plans in form ${form}; ${role === 'generate' ? 'generate takes one prompt' : `${role} batches samples along its batch dimension`})`,
          String(spec.maxBatch),
        );
      // Only the contract's tensors carry the plan dimension: a graph may take others (a constant table) as it likes.
      const contract = new Set([...ROLE_IO[role].inputs, ...ROLE_IO[role].outputs]);
      for (const t of [...spec.inputs, ...spec.outputs]) {
        const axis = planBatchAxis(role, t.name);
        if (axis === undefined || !contract.has(t.name)) continue;
        if (typeof t.shape[axis] !== 'string')
          fail(
            `graphs.${role} ${t.name}.shape`,
            `a symbolic dimension ${axis} (the plans of a run, max_batch ${spec.maxBatch})`,
            JSON.stringify(t.shape),
          );
      }
    }
  }
  for (const k of Object.keys(doc.graphs))
    if (!(roles as readonly string[]).includes(k))
      fail(`graphs.${k}`, `one of ${roles.join(', ')} (form ${form})`, 'a role of another form or an unknown one');

  const files: Manifest['files'] = {};
  for (const [name, f] of Object.entries(doc.files)) files[name] = { sha256: f.sha256, bytes: f.bytes };
  const tokenizerFile = doc.tokenizer.file;
  for (const f of [tokenizerFile, ...roles.map((g) => graphs[g]!.file)]) {
    if (!(f in files)) fail('files', `an entry (sha256, bytes) for ${f}`, 'none');
  }

  const an = doc.action.normalization ?? {};
  const tt = doc.tokenizer.trajectory_tokens;
  const description = (doc.bundle as { description?: unknown }).description;
  const m: Manifest = {
    format: doc.format,
    form,
    vision: { grid: doc.vision.grid as [number, number], deepstack },
    lm: { layers, kvHeads, headDim, cacheDtype },
    prompt: {
      template,
      imageStart: doc.prompt.image_start,
      imagePad: doc.prompt.image_pad,
      imageEnd: doc.prompt.image_end,
    },
    bundle: {
      id: doc.bundle.id,
      version: doc.bundle.version,
      description: typeof description === 'string' ? description : '',
    },
    cameras: {
      names,
      framesPerCamera: doc.cameras.frames_per_camera,
      frameSpacingS: doc.cameras.frame_spacing_s,
    },
    image: {
      native: { height: doc.image.native.height, width: doc.image.native.width },
      model: { height: doc.image.model.height, width: doc.image.model.width },
      preprocess: doc.image.preprocess,
      normalization: {
        mean: doc.image.normalization.mean,
        std: doc.image.normalization.std,
        scale: doc.image.normalization.scale,
      },
    },
    history: {
      steps: doc.history.steps,
      dtS: doc.history.dt_s,
      tokenRanges: ranges,
      bins: doc.history.bins,
      tokenOffset: doc.history.token_offset,
    },
    trajectory: { steps: doc.trajectory.steps, dtS: doc.trajectory.dt_s },
    action: {
      normalization: {
        accelMean: an.accel_mean ?? AR1_ACTION_NORMALIZATION.accelMean,
        accelStd: an.accel_std ?? AR1_ACTION_NORMALIZATION.accelStd,
        curvatureMean: an.curvature_mean ?? AR1_ACTION_NORMALIZATION.curvatureMean,
        curvatureStd: an.curvature_std ?? AR1_ACTION_NORMALIZATION.curvatureStd,
      },
      flowSteps: doc.action.flow_steps ?? 10,
    },
    sampling: {
      temperature: doc.sampling.temperature,
      topP: doc.sampling.top_p,
      maxTokens: doc.sampling.max_tokens,
    },
    tokenizer: {
      file: tokenizerFile,
      cotStart: doc.tokenizer.cot_start,
      cotEnd: doc.tokenizer.cot_end,
      trajFutureStart: doc.tokenizer.traj_future_start,
      ...(tt === undefined ? {} : { trajectoryTokens: { first: tt.first, count: tt.count } }),
    },
    graphs,
    files,
  };
  if (form === 'fused' && !(m.sampling.temperature > 0))
    fail(
      'sampling.temperature',
      'a value > 0 for form fused (the graph samples; greedy decoding needs the split form)',
      String(m.sampling.temperature),
    );
  return m;
}

type TensorDocument = ManifestDocument['graphs'][string]['inputs'][number];
/** Compile-time check: the schema's tensor dtypes are exactly the ONNX element types this code knows (DTYPES). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
type _SchemaDtypesAreDTypes = Holds<Same<TensorDocument['dtype'], DType>>;
const tensorSpec = (t: TensorDocument): TensorSpec => ({ name: t.name, dtype: t.dtype, shape: t.shape });

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
}
