/**
 * The tiny AR1 bundle: AR1's topology at tiny sizes, generated with seeded random weights (not trained), in the
 * split form of the bundle contract, fp16 weights in external data beside each graph.
 * - vision_encoder: uint8 NHWC frames → normalise → 8×8 patch embedding → residual MLP blocks over the patches →
 *   a 2×2 patch merger to the language width (image_embeds) plus one merger per tapped block (deepstack_embeds.{j}),
 *   as Qwen3-VL's vision tower with deepstack does;
 * - lm_prefill / lm_decode: an L-layer decoder: RMSNorm, grouped-query attention (H query heads over KVH key/value
 *   heads) with 3-axis rotary positions (temporal/height/width frequency sections), SwiGLU MLP; image embeddings
 *   replace the image pad tokens, deepstack features are added to the image positions after the first layers; one
 *   fp16 key and value per layer are the cache (past_key_values.{i} in, present.{i} out);
 * - action_expert: per-waypoint Fourier features of (x, t) → MLP → L expert layers whose attention reads the
 *   language model's cache of the same layer plus the 64 action tokens (non-causal; the attention mask hides the
 *   positions after each sample's stop) → velocity.
 * Weights are stored fp16; the graphs compute in float32 (onnxruntime's CPU provider has few fp16 kernels).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, isScalar, isSeq, visit } from 'yaml';
import { AR1_ACTION_NORMALIZATION } from '../ar1/actionSpace.js';
import { AR1_CAMERAS } from './demoBundle.js';
import { GraphBuilder, moveToExternalData } from './graphBuilder.js';
import type { TensorSpec } from './graphBuilder.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  parseManifest,
  pastKey,
  pastValue,
  presentKey,
  presentValue,
  deepstackName,
  roleIo,
} from '../bundle/manifest.js';
import type { BundleForm, GraphRole, Manifest } from '../bundle/manifest.js';
import { MINSTD_MODULUS, MINSTD_MULTIPLIER, MINSTD_SEED_MULTIPLIER } from '../ar1/tokenRng.js';
import { SeededRng } from '../ar1/rng.js';

export interface TinyAr1Options {
  /** Decoder (and expert) layers, default 2. */
  layers?: number;
  /** Weight seed, default 1. */
  seed?: number;
  /** Reasoning token bound, default 12. */
  maxTokens?: number;
  /** split (one graph per stage, default) or fused (vision + one generate graph with both loops inside). */
  form?: BundleForm;
}

/** Tiny sizes; the real AR1 values are in docs/model-bundle.md. */
export const TINY = {
  native: { height: 48, width: 96 },
  model: { height: 32, width: 64 },
  patch: 8,
  visionWidth: 24,
  visionBlocks: 3,
  deepstack: 2,
  hidden: 32,
  heads: 4,
  kvHeads: 2,
  headDim: 8,
  ffn: 64,
  ropeTheta: 10000,
  ropeSections: [2, 1, 1],
  expertHidden: 32,
  fourierFreqs: [1, 3, 9, 27],
  trajectoryTokens: 4000,
  historyTokenStart: 3000,
} as const;

const FRAMES = 4;
const STEPS = 64;
const HIST = 16;
const SPECIALS = [
  '[UNK]',
  '<|im_start|>',
  '<|im_end|>',
  '<|vision_start|>',
  '<|image_pad|>',
  '<|vision_end|>',
  '<|traj_history_start|>',
  '<|traj_history_end|>',
  '<|cot_start|>',
  '<|cot_end|>',
  '<|traj_future_start|>',
] as const;
const WORDS = (
  'you are a driving assistant that generates safe and accurate actions output the chain of thought reasoning process then future trajectory ' +
  'keep lane slow down stop yield to pedestrian vehicle ahead left right turn follow road curve cones nudge increase clearance from construction zone'
).split(' ');

function tinyVocabulary(): string[] {
  const words = [...new Set(WORDS)];
  return [...SPECIALS, ...words, ...Array.from({ length: TINY.trajectoryTokens }, (_, i) => `<i${i}>`)];
}

/** Writes the bundle into dir (created if needed) and returns its manifest. Same options → same bytes. */
export function makeTinyAr1Bundle(dir: string, opts: TinyAr1Options = {}): Manifest {
  const layers = opts.layers ?? 2;
  const seed = opts.seed ?? 1;
  const vocab = tinyVocabulary();
  const V = vocab.length;
  const id = (t: string) => vocab.indexOf(t);
  const N = AR1_CAMERAS.length * FRAMES;
  const grid: [number, number] = [TINY.model.height / TINY.patch / 2, TINY.model.width / TINY.patch / 2];
  const tokensPerImage = grid[0] * grid[1];
  const io = tinyIo(N, layers, V, tokensPerImage);
  const w = new Weights(seed);
  const form = opts.form ?? 'split';
  const graphs: Partial<Record<GraphRole, Uint8Array>> =
    form === 'split'
      ? {
          vision_encoder: visionGraph(io.vision_encoder, w, N),
          lm_prefill: lmGraph('prefill', io.lm_prefill, seed, layers, V, id('<|image_pad|>')),
          lm_decode: lmGraph('decode', io.lm_decode, seed, layers, V, id('<|image_pad|>')),
          action_expert: expertGraph(io.action_expert, seed, layers),
        }
      : {
          vision_encoder: visionGraph(io.vision_encoder, w, N),
          generate: generateGraph(io.generate, seed, layers, V, id('<|image_pad|>')),
        };
  const files: Record<string, Uint8Array> = {};
  for (const [role, bytes] of Object.entries(graphs)) {
    const { model, data } = moveToExternalData(bytes!, `${role}.onnx.data`);
    files[`${role}.onnx`] = model;
    if (data.length > 0) files[`${role}.onnx.data`] = data;
  }
  files['tokenizer.json'] = new TextEncoder().encode(JSON.stringify(tokenizerJson(vocab)) + '\n');
  const raw = {
    format: MANIFEST_FORMAT,
    bundle: {
      id: form === 'split' ? 'ar1-tiny' : 'ar1-tiny-fused',
      version: '1.0.0',
      description: `AR1 topology at tiny sizes (${form} form, ${layers} layers, random weights seed ${seed}); generated, not trained`,
    },
    form,
    cameras: { names: [...AR1_CAMERAS], frames_per_camera: FRAMES, frame_spacing_s: 0.1 },
    image: {
      native: TINY.native,
      model: TINY.model,
      preprocess: 'host',
      normalization: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], scale: 1 / 255 },
    },
    vision: { grid, deepstack: TINY.deepstack },
    lm: { layers, kv_heads: TINY.kvHeads, head_dim: TINY.headDim, cache_dtype: 'float16' },
    prompt: {
      template: [
        '<|im_start|>system you are a driving assistant that generates safe and accurate actions<|im_end|><|im_start|>user',
        { images: true },
        '<|traj_history_start|>',
        { history: true },
        '<|traj_history_end|>output the chain of thought reasoning of the driving process then output the future trajectory<|im_end|><|im_start|>assistant<|cot_start|>',
      ],
      image_start: '<|vision_start|>',
      image_pad: '<|image_pad|>',
      image_end: '<|vision_end|>',
    },
    history: {
      steps: HIST,
      dt_s: 0.1,
      token_ranges: [
        [-4, 4],
        [-4, 4],
        [-10, 10],
      ],
      bins: 1000,
      token_offset: id('<i0>') + TINY.historyTokenStart,
    },
    trajectory: { steps: STEPS, dt_s: 0.1 },
    action: {
      normalization: {
        accel_mean: AR1_ACTION_NORMALIZATION.accelMean,
        accel_std: AR1_ACTION_NORMALIZATION.accelStd,
        curvature_mean: AR1_ACTION_NORMALIZATION.curvatureMean,
        curvature_std: AR1_ACTION_NORMALIZATION.curvatureStd,
      },
      flow_steps: 10,
    },
    sampling: { temperature: 0.6, top_p: 0.98, max_tokens: opts.maxTokens ?? 12 },
    tokenizer: {
      file: 'tokenizer.json',
      cot_start: '<|cot_start|>',
      cot_end: '<|cot_end|>',
      traj_future_start: '<|traj_future_start|>',
      trajectory_tokens: { first: '<i0>', count: TINY.trajectoryTokens },
    },
    graphs: Object.fromEntries(
      Object.keys(graphs).map((role) => [role, { file: `${role}.onnx`, ...io[role as GraphRole] }]),
    ),
    files: Object.fromEntries(
      Object.entries(files).map(([name, b]) => [
        name,
        { sha256: createHash('sha256').update(b).digest('hex'), bytes: b.length },
      ]),
    ),
  };
  const manifest = parseManifest(raw, 'make-tiny');
  mkdirSync(dir, { recursive: true });
  for (const [name, b] of Object.entries(files)) writeFileSync(join(dir, name), b);
  const doc = new Document(raw);
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((i) => isScalar(i) || (isSeq(i) && i.items.every(isScalar)))) node.flow = true;
    },
  });
  writeFileSync(
    join(dir, MANIFEST_FILE),
    `# AR1 model bundle manifest (${MANIFEST_FORMAT}); see docs/model-bundle.md\n` + doc.toString({ lineWidth: 0 }),
  );
  return manifest;
}

type Io = Record<GraphRole, { inputs: TensorSpec[]; outputs: TensorSpec[] }>;

function tinyIo(N: number, layers: number, V: number, tokensPerImage: number): Io {
  const names = roleIo(layers, TINY.deepstack);
  const cache = (name: string, batch: string | number, len: string): TensorSpec => ({
    name,
    dtype: 'float16',
    shape: [batch, TINY.kvHeads, len, TINY.headDim],
  });
  const T = N * tokensPerImage;
  const embeds = (name: string): TensorSpec => ({ name, dtype: 'float32', shape: [T, TINY.hidden] });
  const L = Array.from({ length: layers }, (_, i) => i);
  const ds = Array.from({ length: TINY.deepstack }, (_, j) => embeds(deepstackName(j)));
  const io = {
    vision_encoder: {
      inputs: [{ name: 'pixel_values', dtype: 'uint8', shape: [N, TINY.model.height, TINY.model.width, 3] }],
      outputs: [embeds('image_embeds'), ...ds],
    },
    lm_prefill: {
      inputs: [
        { name: 'input_ids', dtype: 'int64', shape: [1, 'sequence'] },
        { name: 'position_ids', dtype: 'int64', shape: [3, 1, 'sequence'] },
        embeds('image_embeds'),
        ...ds,
      ],
      outputs: [
        { name: 'logits', dtype: 'float32', shape: [1, V] },
        ...L.flatMap((i) => [cache(presentKey(i), 1, 'sequence'), cache(presentValue(i), 1, 'sequence')]),
      ],
    },
    lm_decode: {
      inputs: [
        { name: 'input_ids', dtype: 'int64', shape: ['batch', 1] },
        { name: 'position_ids', dtype: 'int64', shape: [3, 'batch', 1] },
        ...L.flatMap((i) => [cache(pastKey(i), 'batch', 'past'), cache(pastValue(i), 'batch', 'past')]),
      ],
      outputs: [
        { name: 'logits', dtype: 'float32', shape: ['batch', V] },
        ...L.flatMap((i) => [cache(presentKey(i), 'batch', 'present'), cache(presentValue(i), 'batch', 'present')]),
      ],
    },
    action_expert: {
      inputs: [
        { name: 'x', dtype: 'float32', shape: ['batch', STEPS, 2] },
        { name: 't', dtype: 'float32', shape: ['batch'] },
        { name: 'position_ids', dtype: 'int64', shape: [3, 'batch', STEPS] },
        { name: 'attention_mask', dtype: 'float32', shape: ['batch', 1, STEPS, 'context'] },
        ...L.flatMap((i) => [cache(pastKey(i), 'batch', 'past'), cache(pastValue(i), 'batch', 'past')]),
      ],
      outputs: [{ name: 'velocity', dtype: 'float32', shape: ['batch', STEPS, 2] }],
    },
  } as Io;
  const scalar = (name: string, dtype: 'int64' | 'float32'): TensorSpec => ({ name, dtype, shape: [] });
  io.generate = {
    inputs: [
      ...io.lm_prefill.inputs,
      { name: 'seeds', dtype: 'int64', shape: ['batch'] },
      { name: 'noise', dtype: 'float32', shape: ['batch', STEPS, 2] },
      { name: 'logit_bias', dtype: 'float32', shape: [V] },
      scalar('max_tokens', 'int64'),
      scalar('temperature', 'float32'),
      scalar('top_p', 'float32'),
      scalar('stop_token', 'int64'),
      scalar('flow_steps', 'int64'),
    ],
    outputs: [
      { name: 'tokens', dtype: 'int64', shape: ['batch', 'generated'] },
      { name: 'token_counts', dtype: 'int64', shape: ['batch'] },
      { name: 'actions', dtype: 'float32', shape: ['batch', STEPS, 2] },
    ],
  };
  for (const [role, g] of Object.entries(io) as [GraphRole, Io[GraphRole]][]) {
    const want = names[role];
    if (
      g.inputs.map((t) => t.name).join() !== want.inputs.join() ||
      g.outputs.map((t) => t.name).join() !== want.outputs.join()
    )
      throw new Error(`tiny AR1 ${role}: I/O names differ from the contract`);
  }
  return io;
}

/** Seeded random weights, one stream per named tensor so adding a tensor does not shift the others. */
class Weights {
  #n = 0;
  constructor(readonly seed: number) {}
  normal(count: number, std: number): Float32Array {
    const rng = new SeededRng(this.seed, 1000 + this.#n++);
    return Float32Array.from({ length: count }, () => rng.normal() * std);
  }
}

/** fp16 weight [rows, cols], std 1/√rows, cast to float32 in the graph. */
function weight(g: GraphBuilder, w: Weights, rows: number, cols: number, gain = 1): string {
  return g.op('Cast', [g.float16(w.normal(rows * cols, gain / Math.sqrt(rows)), [rows, cols])], { to: { i: 1 } });
}

function rmsNorm(g: GraphBuilder, x: string): string {
  const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
  return g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.scalar(1e-6)])])]);
}

const silu = (g: GraphBuilder, x: string): string => g.op('Mul', [x, g.op('Sigmoid', [x])]);

function visionGraph(io: Io['vision_encoder'], w: Weights, N: number): Uint8Array {
  const g = new GraphBuilder('vision_encoder');
  const { patch, visionWidth: C } = TINY;
  const ph = TINY.model.height / patch,
    pw = TINY.model.width / patch;
  const f = g.op('Cast', ['pixel_values'], { to: { i: 1 } });
  const norm = g.op('Div', [
    g.op('Sub', [g.op('Mul', [f, g.scalar(1 / 255)]), g.float([0.5, 0.5, 0.5], [3])]),
    g.float([0.5, 0.5, 0.5], [3]),
  ]);
  const nchw = g.op('Transpose', [norm], { perm: { ints: [0, 3, 1, 2] } });
  const kernel = g.op(
    'Cast',
    [g.float16(w.normal(C * 3 * patch * patch, 1 / Math.sqrt(3 * patch * patch)), [C, 3, patch, patch])],
    { to: { i: 1 } },
  );
  const patches = g.op('Conv', [nchw, kernel], { strides: { ints: [patch, patch] } }); // [N, C, ph, pw]
  let x = g.op('Transpose', [patches], { perm: { ints: [0, 2, 3, 1] } }); // [N, ph, pw, C]
  const merger = (h: string): string => {
    // 2×2 neighbours → one language token, row-major over the merged grid (as the prompt's positions assume).
    const grouped = g.op('Reshape', [h, g.int64([N, ph / 2, 2, pw / 2, 2, C], [6])]);
    const merged = g.op('Reshape', [
      g.op('Transpose', [grouped], { perm: { ints: [0, 1, 3, 2, 4, 5] } }),
      g.int64([N * (ph / 2) * (pw / 2), 4 * C], [2]),
    ]);
    return g.op('MatMul', [
      silu(g, g.op('MatMul', [rmsNorm(g, merged), weight(g, w, 4 * C, TINY.hidden)])),
      weight(g, w, TINY.hidden, TINY.hidden),
    ]);
  };
  const taps: string[] = [];
  for (let b = 0; b < TINY.visionBlocks; b++) {
    x = g.op('Add', [
      x,
      g.op('MatMul', [silu(g, g.op('MatMul', [rmsNorm(g, x), weight(g, w, C, 2 * C)])), weight(g, w, 2 * C, C, 0.5)]),
    ]);
    if (b < TINY.deepstack) taps.push(x);
  }
  g.op('Identity', [merger(x)], {}, 'image_embeds');
  taps.forEach((t, j) => g.op('Identity', [merger(t)], {}, deepstackName(j)));
  return g.encode(
    io.inputs,
    io.outputs,
    'tiny AR1 vision encoder: patch embedding, MLP blocks, 2x2 merger, deepstack taps',
  );
}

/** cos, sin [B, 1, S, headDim/2] of the 3-axis rotary angles for position_ids [3, B, S]. */
function rotary(g: GraphBuilder, positionIds: string): { cos: string; sin: string } {
  const half = TINY.headDim / 2;
  // Frequency f belongs to axis a(f): contiguous sections (t, h, w) of ropeSections.
  const sel = new Float32Array(3 * half);
  let f = 0;
  TINY.ropeSections.forEach((n, axis) => {
    for (let k = 0; k < n; k++, f++) sel[axis * half + f] = TINY.ropeTheta ** (-(2 * f) / TINY.headDim);
  });
  const pos = g.op('Transpose', [g.op('Cast', [positionIds], { to: { i: 1 } })], { perm: { ints: [1, 2, 0] } }); // [B, S, 3]
  const angles = g.op('Reshape', [g.op('MatMul', [pos, g.float(sel, [3, half])]), g.int64([0, 1, -1, half], [4])]); // [B, 1, S, half]
  return { cos: g.op('Cos', [angles]), sin: g.op('Sin', [angles]) };
}

function applyRotary(g: GraphBuilder, x: string, r: { cos: string; sin: string }): string {
  const half = TINY.headDim / 2;
  const sl = (a: number, b: number) => g.op('Slice', [x, g.int64([a], [1]), g.int64([b], [1]), g.int64([-1], [1])]);
  const x1 = sl(0, half),
    x2 = sl(half, TINY.headDim);
  return g.op(
    'Concat',
    [
      g.op('Sub', [g.op('Mul', [x1, r.cos]), g.op('Mul', [x2, r.sin])]),
      g.op('Add', [g.op('Mul', [x2, r.cos]), g.op('Mul', [x1, r.sin])]),
    ],
    { axis: { i: -1 } },
  );
}

interface LayerWeights {
  q: string;
  k: string;
  v: string;
  o: string;
  gate: string;
  up: string;
  down: string;
}

/** One decoder layer's weights, drawn in a fixed order (so every graph that draws them gets the same values). */
function layerWeights(g: GraphBuilder, w: Weights, hidden: number): LayerWeights {
  const { heads: H, kvHeads: KVH, headDim: hd, ffn } = TINY;
  return {
    q: weight(g, w, hidden, H * hd),
    k: weight(g, w, hidden, KVH * hd),
    v: weight(g, w, hidden, KVH * hd),
    o: weight(g, w, H * hd, hidden, 0.5),
    gate: weight(g, w, hidden, ffn),
    up: weight(g, w, hidden, ffn),
    down: weight(g, w, ffn, hidden, 0.5),
  };
}

interface AttentionIn {
  h: string;
  hidden: number;
  r: { cos: string; sin: string };
  lw: LayerWeights;
  /** Cached keys/values [B, KVH, P, hd] (float32) to attend to before the new tokens. */
  pastK?: string;
  pastV?: string;
  /** Additive mask broadcastable to [B, KVH, G, S, T]. */
  mask?: string;
}

/** One pre-norm decoder layer (GQA attention + SwiGLU MLP); returns the new hidden state and this layer's full K, V. */
function decoderLayer(g: GraphBuilder, a: AttentionIn): { h: string; k: string; v: string } {
  const { heads: H, kvHeads: KVH, headDim: hd } = TINY;
  const G = H / KVH;
  const x = rmsNorm(g, a.h);
  const split = (t: string, n: number) =>
    g.op('Transpose', [g.op('Reshape', [t, g.int64([0, 0, n, hd], [4])])], { perm: { ints: [0, 2, 1, 3] } }); // [B, n, S, hd]
  const q = applyRotary(g, split(g.op('MatMul', [x, a.lw.q]), H), a.r);
  let k = applyRotary(g, split(g.op('MatMul', [x, a.lw.k]), KVH), a.r);
  let v = split(g.op('MatMul', [x, a.lw.v]), KVH);
  if (a.pastK && a.pastV) {
    k = g.op('Concat', [a.pastK, k], { axis: { i: 2 } });
    v = g.op('Concat', [a.pastV, v], { axis: { i: 2 } });
  }
  const qg = g.op('Reshape', [q, g.int64([0, KVH, G, -1, hd], [5])]); // [B, KVH, G, S, hd]
  const kt = g.op('Reshape', [
    g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } }),
    g.int64([0, KVH, 1, hd, -1], [5]),
  ]); // [B, KVH, 1, hd, T]
  let scores = g.op('Mul', [g.op('MatMul', [qg, kt]), g.scalar(1 / Math.sqrt(hd))]); // [B, KVH, G, S, T]
  if (a.mask) scores = g.op('Add', [scores, a.mask]);
  const p = g.op('Softmax', [scores], { axis: { i: -1 } });
  const ctx = g.op('MatMul', [p, g.op('Reshape', [v, g.int64([0, KVH, 1, -1, hd], [5])])]); // [B, KVH, G, S, hd]
  const merged = g.op('Reshape', [
    g.op('Transpose', [g.op('Reshape', [ctx, g.int64([0, H, -1, hd], [4])])], { perm: { ints: [0, 2, 1, 3] } }),
    g.int64([0, 0, H * hd], [3]),
  ]);
  const h1 = g.op('Add', [a.h, g.op('MatMul', [merged, a.lw.o])]);
  const x2 = rmsNorm(g, h1);
  const h2 = g.op('Add', [
    h1,
    g.op('MatMul', [g.op('Mul', [silu(g, g.op('MatMul', [x2, a.lw.gate])), g.op('MatMul', [x2, a.lw.up])]), a.lw.down]),
  ]);
  return { h: h2, k, v };
}

const toCache = (g: GraphBuilder, t: string, name?: string) => g.op('Cast', [t], { to: { i: 10 } }, name);
const fromCache = (g: GraphBuilder, name: string) => g.op('Cast', [name], { to: { i: 1 } });

interface LmWeights {
  table: string;
  layers: LayerWeights[];
  head: string;
}

/** The language model's weights: its own seed stream, identical in prefill, decode and the fused graph. */
function lmWeights(g: GraphBuilder, seed: number, layers: number, V: number): LmWeights {
  const w = new Weights(seed + 7919);
  const table = g.float16(w.normal(V * TINY.hidden, 1), [V, TINY.hidden]);
  const ls = Array.from({ length: layers }, () => layerWeights(g, w, TINY.hidden));
  return { table, layers: ls, head: weight(g, w, TINY.hidden, V) };
}

interface LmIn {
  ids: string;
  positions: string;
  /** Prefill only: image embeddings and deepstack features, and the image pad token id. */
  image?: { embeds: string; deepstack: string[]; pad: number };
  /** Decode only: the per-layer fp16 cache [B, KVH, P, hd]. */
  past?: [string, string][];
}

/** The decoder forward over ids [B, S]: logits of the last position [B, V] and the per-layer fp16 present cache. */
function lmForward(g: GraphBuilder, W: LmWeights, a: LmIn): { logits: string; present: [string, string][] } {
  const D = TINY.hidden;
  const tokens = g.op('Cast', [g.op('Gather', [W.table, a.ids], { axis: { i: 0 } })], { to: { i: 1 } }); // [B, S, D]
  let h = tokens;
  let isImage = '',
    imageIndex = '';
  let mask: string | undefined;
  if (a.image) {
    const pad = g.op('Equal', [a.ids, g.int64([a.image.pad], [])]);
    isImage = g.op('Unsqueeze', [pad, g.int64([-1], [1])]); // [1, S, 1]
    imageIndex = g.op('Max', [
      g.op('Sub', [g.op('CumSum', [g.op('Cast', [pad], { to: { i: 7 } }), g.int64([1], [])]), g.int64([1], [])]),
      g.int64([0], []),
    ]); // [1, S]
    h = g.op('Where', [isImage, g.op('Gather', [a.image.embeds, imageIndex], { axis: { i: 0 } }), tokens]);
    const S = g.op('Squeeze', [
      g.op('Slice', [g.op('Shape', [a.ids]), g.int64([1], [1]), g.int64([2], [1])]),
      g.int64([0], [1]),
    ]);
    const idx = g.op('Range', [g.int64([0], []), S, g.int64([1], [])]);
    const later = g.op('Greater', [
      g.op('Unsqueeze', [idx, g.int64([0], [1])]),
      g.op('Unsqueeze', [idx, g.int64([1], [1])]),
    ]); // [S, S]: key after query
    mask = g.op('Mul', [g.op('Cast', [later], { to: { i: 1 } }), g.scalar(-1e9)]);
  }
  const r = rotary(g, a.positions);
  const present: [string, string][] = [];
  W.layers.forEach((lw, i) => {
    const past = a.past ? { pastK: fromCache(g, a.past[i]![0]), pastV: fromCache(g, a.past[i]![1]) } : {};
    const out = decoderLayer(g, { h, hidden: D, r, lw, ...past, ...(mask ? { mask } : {}) });
    h = out.h;
    present.push([toCache(g, out.k), toCache(g, out.v)]);
    if (a.image && i < a.image.deepstack.length) {
      // Deepstack: the tapped vision features join the image positions after the first layers.
      const ds = g.op('Gather', [a.image.deepstack[i]!, imageIndex], { axis: { i: 0 } });
      h = g.op('Add', [h, g.op('Where', [isImage, ds, g.float([0], [])])]);
    }
  });
  const last = g.op('Reshape', [
    g.op('Slice', [h, g.int64([-1], [1]), g.int64([2 ** 53], [1]), g.int64([1], [1])]),
    g.int64([-1, D], [2]),
  ]); // [B, D]
  return { logits: g.op('MatMul', [rmsNorm(g, last), W.head]), present };
}

function lmGraph(
  kind: 'prefill' | 'decode',
  io: Io['lm_prefill'],
  seed: number,
  layers: number,
  V: number,
  imagePad: number,
): Uint8Array {
  const g = new GraphBuilder(kind === 'prefill' ? 'lm_prefill' : 'lm_decode');
  const W = lmWeights(g, seed, layers, V);
  const out = lmForward(g, W, {
    ids: 'input_ids',
    positions: 'position_ids',
    ...(kind === 'prefill'
      ? {
          image: {
            embeds: 'image_embeds',
            deepstack: Array.from({ length: TINY.deepstack }, (_, j) => deepstackName(j)),
            pad: imagePad,
          },
        }
      : { past: Array.from({ length: layers }, (_, i): [string, string] => [pastKey(i), pastValue(i)]) }),
  });
  g.op('Identity', [out.logits], {}, 'logits');
  out.present.forEach(([k, v], i) => {
    g.op('Identity', [k], {}, presentKey(i));
    g.op('Identity', [v], {}, presentValue(i));
  });
  return g.encode(
    io.inputs,
    io.outputs,
    `tiny AR1 language model, ${kind === 'prefill' ? 'prefill' : 'one decode step'}`,
  );
}

interface ExpertWeights {
  in1: string;
  in2: string;
  layers: LayerWeights[];
  out: string;
}

function expertWeights(g: GraphBuilder, seed: number, layers: number): ExpertWeights {
  const w = new Weights(seed + 104729);
  const E = TINY.expertHidden,
    nf = TINY.fourierFreqs.length;
  const in1 = weight(g, w, 6 * nf, E),
    in2 = weight(g, w, E, E);
  return { in1, in2, layers: Array.from({ length: layers }, () => layerWeights(g, w, E)), out: weight(g, w, E, 2, 1) };
}

/** One velocity evaluation: x [B, 64, 2], t [B], positions [3, B, 64], mask broadcastable to [B, 1, 64, P + 64]. */
function expertForward(
  g: GraphBuilder,
  W: ExpertWeights,
  a: { x: string; t: string; positions: string; mask: string; past: [string, string][] },
): string {
  const E = TINY.expertHidden;
  // Per-waypoint Fourier features of (accel, curvature, t).
  const x0 = g.op('Slice', [a.x, g.int64([0], [1]), g.int64([1], [1]), g.int64([-1], [1])]); // [B, 64, 1]
  const tB = g.op('Add', [g.op('Reshape', [a.t, g.int64([-1, 1, 1], [3])]), g.op('Mul', [x0, g.scalar(0)])]); // t broadcast to [B, 64, 1]
  const chans = g.op('Unsqueeze', [g.op('Concat', [a.x, tB], { axis: { i: -1 } }), g.int64([-1], [1])]); // [B, 64, 3, 1]
  const ang = g.op('Mul', [chans, g.float(TINY.fourierFreqs, [1, TINY.fourierFreqs.length])]); // [B, 64, 3, nf]
  const feats = g.op('Reshape', [
    g.op('Concat', [g.op('Sin', [ang]), g.op('Cos', [ang])], { axis: { i: -1 } }),
    g.int64([0, 0, 6 * TINY.fourierFreqs.length], [3]),
  ]);
  let h = g.op('MatMul', [silu(g, g.op('MatMul', [feats, W.in1])), W.in2]);
  const r = rotary(g, a.positions);
  const mask = g.op('Unsqueeze', [a.mask, g.int64([2], [1])]); // [B, 1, 1, 64, P + 64]
  W.layers.forEach((lw, i) => {
    h = decoderLayer(g, {
      h,
      hidden: E,
      r,
      lw,
      pastK: fromCache(g, a.past[i]![0]),
      pastV: fromCache(g, a.past[i]![1]),
      mask,
    }).h;
  });
  return g.op('MatMul', [rmsNorm(g, h), W.out]);
}

function expertGraph(io: Io['action_expert'], seed: number, layers: number): Uint8Array {
  const g = new GraphBuilder('action_expert');
  const W = expertWeights(g, seed, layers);
  const v = expertForward(g, W, {
    x: 'x',
    t: 't',
    positions: 'position_ids',
    mask: 'attention_mask',
    past: Array.from({ length: layers }, (_, i): [string, string] => [pastKey(i), pastValue(i)]),
  });
  g.op('Identity', [v], {}, 'velocity');
  return g.encode(
    io.inputs,
    io.outputs,
    'tiny AR1 action expert: one flow-matching velocity step attending to the language model cache',
  );
}

/** tokenizer.json: word-level (WordPiece over whole words), specials as added tokens, trajectory tokens in the vocabulary. */
function tokenizerJson(vocab: string[]): object {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content) => ({
      id: vocab.indexOf(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

/**
 * The fused form: prefill, then an ONNX Loop that samples one token per sample per iteration from the logits
 * (temperature, top-p, logit_bias masking the trajectory tokens, the contract's MINSTD uniforms seeded by `seeds`)
 * and runs the decode step with the per-layer fp16 cache as loop-carried state, until every sample has put
 * <|traj_future_start|> into its cache or max_tokens; then a second Loop integrates the expert's velocity over
 * flow_steps Euler steps from `noise`, attending to that cache. Only tokens, counts and actions leave the graph.
 * Same weights (same seed streams) as the split graphs, so both forms plan alike.
 */
function generateGraph(
  io: { inputs: TensorSpec[]; outputs: TensorSpec[] },
  seed: number,
  layers: number,
  V: number,
  imagePad: number,
): Uint8Array {
  const g = new GraphBuilder('generate');
  const LW = lmWeights(g, seed, layers, V);
  const EW = expertWeights(g, seed, layers);
  const deepstack = Array.from({ length: TINY.deepstack }, (_, j) => deepstackName(j));
  const pre = lmForward(g, LW, {
    ids: 'input_ids',
    positions: 'position_ids',
    image: { embeds: 'image_embeds', deepstack, pad: imagePad },
  });
  const i64 = (v: number) => g.int64([v], []);
  const K1 = g.op('Shape', ['seeds']); // [1]: K
  const S = g.op('Squeeze', [
    g.op('Slice', [g.op('Shape', ['input_ids']), g.int64([1], [1]), g.int64([2], [1])]),
    g.int64([0], [1]),
  ]); // scalar
  const delta = g.op('Sub', [g.op('Add', [g.op('ReduceMax', ['position_ids'], { keepdims: { i: 0 } }), i64(1)]), S]);
  const batchCache = g.op('Concat', [K1, g.int64([1, 1, 1], [3])], { axis: { i: 0 } });
  const cache0 = pre.present.flatMap(([k, v]) => [g.op('Expand', [k, batchCache]), g.op('Expand', [v, batchCache])]);
  const logits0 = g.op('Expand', [pre.logits, g.op('Concat', [K1, g.int64([1], [1])], { axis: { i: 0 } })]);
  const zeros = g.op('Sub', ['seeds', 'seeds']);
  const m = MINSTD_MODULUS;
  const rng0 = g.op(
    'Mod',
    [
      g.op('Mul', [
        g.op('Add', [g.op('Mod', ['seeds', i64(m - 1)], { fmod: { i: 0 } }), i64(1)]),
        i64(MINSTD_SEED_MULTIPLIER),
      ]),
      i64(m),
    ],
    { fmod: { i: 0 } },
  );
  const done0 = g.op('Cast', [zeros], { to: { i: 9 } });

  // Reasoning loop body.
  const b = new GraphBuilder('reasoning_step', 'rs_');
  const bi = (v: number) => b.int64([v], []);
  const cacheIn = Array.from({ length: 2 * layers }, (_, j) => `rs_in_cache_${j}`);
  const r1 = b.op('Mod', [b.op('Mul', ['rs_in_rng', bi(MINSTD_MULTIPLIER)]), bi(m)], { fmod: { i: 0 } });
  const u = b.op('Div', [b.op('Cast', [r1], { to: { i: 1 } }), b.scalar(m)]);
  const sampled = sampleInGraph(b, 'rs_in_logits', u, V);
  const tok = b.op('Where', ['rs_in_done', 'rs_in_last', sampled]);
  const notDone = b.op('Not', ['rs_in_done']);
  const count = b.op('Add', ['rs_in_count', b.op('Cast', [notDone], { to: { i: 7 } })]);
  const rng = b.op('Where', ['rs_in_done', 'rs_in_rng', r1]);
  const atBound = b.op('Equal', [b.op('Add', ['rs_iter', bi(1)]), 'max_tokens']);
  // A sample is done once its stop token has been decoded into the cache; at the bound nothing more is decoded.
  const done = b.op('Or', ['rs_in_done', b.op('And', [b.op('Equal', [tok, 'stop_token']), b.op('Not', [atBound])])]);
  const pos = b.op('Expand', [
    b.op('Reshape', [b.op('Add', [b.op('Add', [S, 'rs_iter']), delta]), b.int64([1, 1, 1], [3])]),
    b.op('Concat', [b.int64([3], [1]), K1, b.int64([1], [1])], { axis: { i: 0 } }),
  ]);
  const step = lmForward(b, LW, {
    ids: b.op('Unsqueeze', [tok, b.int64([1], [1])]),
    positions: pos,
    past: Array.from({ length: layers }, (_, i): [string, string] => [cacheIn[2 * i]!, cacheIn[2 * i + 1]!]),
  });
  const allDone = b.op('Cast', [b.op('ReduceMin', [b.op('Cast', [done], { to: { i: 6 } })], { keepdims: { i: 0 } })], {
    to: { i: 9 },
  });
  const cond = b.op('And', [b.op('Not', [allDone]), b.op('Not', [atBound])]);
  const outs = [
    b.op('Identity', [cond]),
    b.op('Identity', [step.logits]),
    b.op('Identity', [rng]),
    b.op('Identity', [done]),
    b.op('Identity', [count]),
    b.op('Identity', [tok]),
    ...step.present.flatMap(([k, v]) => [b.op('Identity', [k]), b.op('Identity', [v])]),
    b.op('Identity', [tok]),
  ];
  const any = (name: string, dtype: TensorSpec['dtype'], rank: number): TensorSpec => ({
    name,
    dtype,
    shape: Array.from({ length: rank }, (_, i) => `${name}_d${i}`),
  });
  const body = b.subgraph(
    [
      any('rs_iter', 'int64', 0),
      any('rs_cond', 'bool', 0),
      any('rs_in_logits', 'float32', 2),
      any('rs_in_rng', 'int64', 1),
      any('rs_in_done', 'bool', 1),
      any('rs_in_count', 'int64', 1),
      any('rs_in_last', 'int64', 1),
      ...cacheIn.map((n) => any(n, 'float16', 4)),
    ],
    [
      any(outs[0]!, 'bool', 0),
      any(outs[1]!, 'float32', 2),
      any(outs[2]!, 'int64', 1),
      any(outs[3]!, 'bool', 1),
      any(outs[4]!, 'int64', 1),
      any(outs[5]!, 'int64', 1),
      ...outs.slice(6, 6 + 2 * layers).map((n) => any(n, 'float16', 4)),
      any(outs.at(-1)!, 'int64', 1),
    ],
  );
  const carried = [
    'r_logits',
    'r_rng',
    'r_done',
    'r_count',
    'r_last',
    ...Array.from({ length: 2 * layers }, (_, j) => `r_cache_${j}`),
  ];
  const loopOut = g.opN(
    'Loop',
    ['max_tokens', g.op('Cast', [i64(1)], { to: { i: 9 } }), logits0, rng0, done0, zeros, zeros, ...cache0],
    [...carried, 'r_tokens_scan'],
    { body: { g: body } },
  );
  const [, , doneF, countF] = loopOut;
  const cacheF = loopOut.slice(5, 5 + 2 * layers);
  g.op('Transpose', ['r_tokens_scan'], { perm: { ints: [1, 0] } }, 'tokens');
  g.op('Identity', [countF!], {}, 'token_counts');

  // Expert conditioning: the first action token one after the stop (or after the bound's last token); attend to the
  // cache below each sample's valid length (through its stop token, or everything decoded before the bound).
  const offset = g.op('Add', [S, countF!]); // [K]
  const valid = g.op('Where', [doneF!, offset, g.op('Sub', [offset, i64(1)])]);
  const P = g.op('Squeeze', [
    g.op('Slice', [g.op('Shape', [cacheF[0]!]), g.int64([2], [1]), g.int64([3], [1])]),
    g.int64([0], [1]),
  ]);
  const j = g.op('Range', [i64(0), g.op('Add', [P, i64(STEPS)]), i64(1)]); // [T]
  const validCol = g.op('Unsqueeze', [valid, g.int64([1], [1])]); // [K, 1]
  const hidden = g.op('And', [g.op('GreaterOrEqual', [j, validCol]), g.op('Less', [j, P])]); // [K, T]
  const mask = g.op('Unsqueeze', [
    g.op('Where', [hidden, g.scalar(-3.4028234663852886e38), g.scalar(0)]),
    g.int64([1, 2], [2]),
  ]); // [K, 1, 1, T]
  const k64 = g.op('Range', [i64(0), i64(STEPS), i64(1)]);
  const posRow = g.op('Add', [g.op('Unsqueeze', [g.op('Add', [offset, delta]), g.int64([1], [1])]), k64]); // [K, 64]
  const expertPos = g.op('Expand', [
    g.op('Unsqueeze', [posRow, g.int64([0], [1])]),
    g.op('Concat', [g.int64([3], [1]), K1, g.int64([STEPS], [1])], { axis: { i: 0 } }),
  ]);

  // Flow-matching loop body.
  const f = new GraphBuilder('flow_step', 'fs_');
  const steps = f.op('Cast', ['flow_steps'], { to: { i: 1 } });
  const tK = f.op('Expand', [f.op('Div', [f.op('Cast', ['fs_iter'], { to: { i: 1 } }), steps]), K1]);
  const vel = expertForward(f, EW, {
    x: 'fs_in_x',
    t: tK,
    positions: expertPos,
    mask,
    past: Array.from({ length: layers }, (_, i): [string, string] => [cacheF[2 * i]!, cacheF[2 * i + 1]!]),
  });
  const xNext = f.op('Add', ['fs_in_x', f.op('Div', [vel, steps])]);
  const fOuts = [f.op('Identity', ['fs_cond']), f.op('Identity', [xNext])];
  const flowBody = f.subgraph(
    [any('fs_iter', 'int64', 0), any('fs_cond', 'bool', 0), any('fs_in_x', 'float32', 3)],
    [any(fOuts[0]!, 'bool', 0), any(fOuts[1]!, 'float32', 3)],
  );
  g.opN('Loop', ['flow_steps', g.op('Cast', [i64(1)], { to: { i: 9 } }), 'noise'], ['actions'], {
    body: { g: flowBody },
  });
  return g.encode(
    io.inputs,
    io.outputs,
    'tiny AR1 fused: prefill, in-graph sampled reasoning loop with a loop-carried cache, in-graph flow-matching loop',
  );
}

/**
 * Temperature + top-p sampling of one token per row of logits [K, V] with uniforms u [K], exactly the host
 * sampler's rule: probabilities sorted descending (ties: lower id first), keep the smallest prefix whose mass
 * reaches top_p (the crossing token kept), pick the first kept token whose cumulative mass exceeds u × kept mass.
 */
function sampleInGraph(g: GraphBuilder, logits: string, u: string, V: number): string {
  const p = g.op('Softmax', [g.op('Div', [g.op('Add', [logits, 'logit_bias']), 'temperature'])], { axis: { i: -1 } });
  const [sp, si] = g.opN('TopK', [p, g.int64([V], [1])], [g.fresh('sorted'), g.fresh('order')], {
    axis: { i: -1 },
    largest: { i: 1 },
    sorted: { i: 1 },
  });
  const cum = g.op('CumSum', [sp!, g.int64([-1], [])]);
  const keep = g.op('Less', [g.op('Sub', [cum, sp!]), 'top_p']);
  const kept = g.op('ReduceSum', [g.op('Where', [keep, sp!, g.scalar(0)]), g.int64([-1], [1])], { keepdims: { i: 1 } }); // [K, 1]
  const target = g.op('Mul', [g.op('Unsqueeze', [u, g.int64([1], [1])]), kept]);
  const hit = g.op('Cast', [g.op('And', [g.op('Greater', [cum, target]), keep])], { to: { i: 1 } });
  const first = g.op('ArgMax', [hit], { axis: { i: -1 }, keepdims: { i: 1 } }); // first 1 (ties → lowest index)
  return g.op('Reshape', [g.op('GatherElements', [si!, first], { axis: { i: -1 } }), g.int64([-1], [1])]);
}
