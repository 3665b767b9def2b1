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
import { AR1_ACTION_NORMALIZATION } from './actionSpace.js';
import { AR1_CAMERAS } from './demoBundle.js';
import { GraphBuilder, moveToExternalData } from './graphBuilder.js';
import type { TensorSpec } from './graphBuilder.js';
import { MANIFEST_FILE, MANIFEST_FORMAT, parseManifest, pastKey, pastValue, presentKey, presentValue, deepstackName, roleIo } from './manifest.js';
import type { GraphRole, Manifest } from './manifest.js';
import { SeededRng } from './rng.js';

export interface TinyAr1Options {
  /** Decoder (and expert) layers, default 2. */
  layers?: number;
  /** Weight seed, default 1. */
  seed?: number;
  /** Reasoning token bound, default 12. */
  maxTokens?: number;
}

/** Tiny sizes; the real AR1 values are in docs/model-bundle.md. */
export const TINY = {
  native: { height: 48, width: 96 }, model: { height: 32, width: 64 }, patch: 8,
  visionWidth: 24, visionBlocks: 3, deepstack: 2,
  hidden: 32, heads: 4, kvHeads: 2, headDim: 8, ffn: 64, ropeTheta: 10000, ropeSections: [2, 1, 1],
  expertHidden: 32, fourierFreqs: [1, 3, 9, 27],
  trajectoryTokens: 4000, historyTokenStart: 3000,
} as const;

const FRAMES = 4;
const STEPS = 64;
const HIST = 16;
const SPECIALS = ['[UNK]', '<|im_start|>', '<|im_end|>', '<|vision_start|>', '<|image_pad|>', '<|vision_end|>', '<|traj_history_start|>',
  '<|traj_history_end|>', '<|cot_start|>', '<|cot_end|>', '<|traj_future_start|>'] as const;
const WORDS = ('you are a driving assistant that generates safe and accurate actions output the chain of thought reasoning process then future trajectory '
  + 'keep lane slow down stop yield to pedestrian vehicle ahead left right turn follow road curve cones nudge increase clearance from construction zone').split(' ');

export function tinyVocabulary(): string[] {
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
  const graphs: Record<GraphRole, Uint8Array> = {
    vision_encoder: visionGraph(io.vision_encoder, w, N),
    lm_prefill: lmGraph('prefill', io.lm_prefill, w, layers, V, id('<|image_pad|>')),
    lm_decode: lmGraph('decode', io.lm_decode, w, layers, V, id('<|image_pad|>')),
    action_expert: expertGraph(io.action_expert, w, layers),
  };
  const files: Record<string, Uint8Array> = {};
  for (const [role, bytes] of Object.entries(graphs)) {
    const { model, data } = moveToExternalData(bytes, `${role}.onnx.data`);
    files[`${role}.onnx`] = model;
    if (data.length > 0) files[`${role}.onnx.data`] = data;
  }
  files['tokenizer.json'] = new TextEncoder().encode(JSON.stringify(tokenizerJson(vocab)) + '\n');
  const raw = {
    format: MANIFEST_FORMAT,
    bundle: { id: 'ar1-tiny', version: '1.0.0', description: `AR1 topology at tiny sizes (${layers} layers, random weights seed ${seed}); generated, not trained` },
    form: 'split',
    cameras: { names: [...AR1_CAMERAS], frames_per_camera: FRAMES, frame_spacing_s: 0.1 },
    image: { native: TINY.native, model: TINY.model, preprocess: 'host', normalization: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], scale: 1 / 255 } },
    vision: { grid, deepstack: TINY.deepstack },
    lm: { layers, kv_heads: TINY.kvHeads, head_dim: TINY.headDim, cache_dtype: 'float16' },
    prompt: {
      template: [
        '<|im_start|>system you are a driving assistant that generates safe and accurate actions<|im_end|><|im_start|>user', { images: true },
        '<|traj_history_start|>', { history: true },
        '<|traj_history_end|>output the chain of thought reasoning of the driving process then output the future trajectory<|im_end|><|im_start|>assistant<|cot_start|>',
      ],
      image_start: '<|vision_start|>', image_pad: '<|image_pad|>', image_end: '<|vision_end|>',
    },
    history: { steps: HIST, dt_s: 0.1, token_ranges: [[-4, 4], [-4, 4], [-10, 10]], bins: 1000, token_offset: id('<i0>') + TINY.historyTokenStart },
    trajectory: { steps: STEPS, dt_s: 0.1 },
    action: {
      normalization: {
        accel_mean: AR1_ACTION_NORMALIZATION.accelMean, accel_std: AR1_ACTION_NORMALIZATION.accelStd,
        curvature_mean: AR1_ACTION_NORMALIZATION.curvatureMean, curvature_std: AR1_ACTION_NORMALIZATION.curvatureStd,
      },
      flow_steps: 10,
    },
    sampling: { temperature: 0.6, top_p: 0.98, max_tokens: opts.maxTokens ?? 12 },
    tokenizer: { file: 'tokenizer.json', cot_start: '<|cot_start|>', cot_end: '<|cot_end|>', traj_future_start: '<|traj_future_start|>', trajectory_tokens: { first: '<i0>', count: TINY.trajectoryTokens } },
    graphs: Object.fromEntries(Object.entries(io).map(([role, g]) => [role, { file: `${role}.onnx`, ...g }])),
    files: Object.fromEntries(Object.entries(files).map(([name, b]) => [name, { sha256: createHash('sha256').update(b).digest('hex'), bytes: b.length }])),
  };
  const manifest = parseManifest(raw, 'make-tiny');
  mkdirSync(dir, { recursive: true });
  for (const [name, b] of Object.entries(files)) writeFileSync(join(dir, name), b);
  const doc = new Document(raw);
  visit(doc, { Seq(_, node) { if (node.items.every((i) => isScalar(i) || (isSeq(i) && i.items.every(isScalar)))) node.flow = true; } });
  writeFileSync(join(dir, MANIFEST_FILE), `# AR1 model bundle manifest (${MANIFEST_FORMAT}); see docs/model-bundle.md\n` + doc.toString({ lineWidth: 0 }));
  return manifest;
}

type Io = Record<GraphRole, { inputs: TensorSpec[]; outputs: TensorSpec[] }>;

function tinyIo(N: number, layers: number, V: number, tokensPerImage: number): Io {
  const names = roleIo(layers, TINY.deepstack);
  const cache = (name: string, batch: string | number, len: string): TensorSpec => ({ name, dtype: 'float16', shape: [batch, TINY.kvHeads, len, TINY.headDim] });
  const T = N * tokensPerImage;
  const embeds = (name: string): TensorSpec => ({ name, dtype: 'float32', shape: [T, TINY.hidden] });
  const L = Array.from({ length: layers }, (_, i) => i);
  const ds = Array.from({ length: TINY.deepstack }, (_, j) => embeds(deepstackName(j)));
  const io: Io = {
    vision_encoder: { inputs: [{ name: 'pixel_values', dtype: 'uint8', shape: [N, TINY.model.height, TINY.model.width, 3] }], outputs: [embeds('image_embeds'), ...ds] },
    lm_prefill: {
      inputs: [{ name: 'input_ids', dtype: 'int64', shape: [1, 'sequence'] }, { name: 'position_ids', dtype: 'int64', shape: [3, 1, 'sequence'] }, embeds('image_embeds'), ...ds],
      outputs: [{ name: 'logits', dtype: 'float32', shape: [1, V] }, ...L.flatMap((i) => [cache(presentKey(i), 1, 'sequence'), cache(presentValue(i), 1, 'sequence')])],
    },
    lm_decode: {
      inputs: [{ name: 'input_ids', dtype: 'int64', shape: ['batch', 1] }, { name: 'position_ids', dtype: 'int64', shape: [3, 'batch', 1] },
        ...L.flatMap((i) => [cache(pastKey(i), 'batch', 'past'), cache(pastValue(i), 'batch', 'past')])],
      outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', V] }, ...L.flatMap((i) => [cache(presentKey(i), 'batch', 'present'), cache(presentValue(i), 'batch', 'present')])],
    },
    action_expert: {
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', STEPS, 2] }, { name: 't', dtype: 'float32', shape: ['batch'] },
        { name: 'position_ids', dtype: 'int64', shape: [3, 'batch', STEPS] }, { name: 'attention_mask', dtype: 'float32', shape: ['batch', 1, STEPS, 'context'] },
        ...L.flatMap((i) => [cache(pastKey(i), 'batch', 'past'), cache(pastValue(i), 'batch', 'past')])],
      outputs: [{ name: 'velocity', dtype: 'float32', shape: ['batch', STEPS, 2] }],
    },
  };
  for (const [role, g] of Object.entries(io) as [GraphRole, Io[GraphRole]][]) {
    const want = names[role];
    if (g.inputs.map((t) => t.name).join() !== want.inputs.join() || g.outputs.map((t) => t.name).join() !== want.outputs.join()) throw new Error(`tiny AR1 ${role}: I/O names differ from the contract`);
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
  const ph = TINY.model.height / patch, pw = TINY.model.width / patch;
  const f = g.op('Cast', ['pixel_values'], { to: { i: 1 } });
  const norm = g.op('Div', [g.op('Sub', [g.op('Mul', [f, g.scalar(1 / 255)]), g.float([0.5, 0.5, 0.5], [3])]), g.float([0.5, 0.5, 0.5], [3])]);
  const nchw = g.op('Transpose', [norm], { perm: { ints: [0, 3, 1, 2] } });
  const kernel = g.op('Cast', [g.float16(w.normal(C * 3 * patch * patch, 1 / Math.sqrt(3 * patch * patch)), [C, 3, patch, patch])], { to: { i: 1 } });
  const patches = g.op('Conv', [nchw, kernel], { strides: { ints: [patch, patch] } }); // [N, C, ph, pw]
  let x = g.op('Transpose', [patches], { perm: { ints: [0, 2, 3, 1] } }); // [N, ph, pw, C]
  const merger = (h: string): string => {
    // 2×2 neighbours → one language token, row-major over the merged grid (as the prompt's positions assume).
    const grouped = g.op('Reshape', [h, g.int64([N, ph / 2, 2, pw / 2, 2, C], [6])]);
    const merged = g.op('Reshape', [g.op('Transpose', [grouped], { perm: { ints: [0, 1, 3, 2, 4, 5] } }), g.int64([N * (ph / 2) * (pw / 2), 4 * C], [2])]);
    return g.op('MatMul', [silu(g, g.op('MatMul', [rmsNorm(g, merged), weight(g, w, 4 * C, TINY.hidden)])), weight(g, w, TINY.hidden, TINY.hidden)]);
  };
  const taps: string[] = [];
  for (let b = 0; b < TINY.visionBlocks; b++) {
    x = g.op('Add', [x, g.op('MatMul', [silu(g, g.op('MatMul', [rmsNorm(g, x), weight(g, w, C, 2 * C)])), weight(g, w, 2 * C, C, 0.5)])]);
    if (b < TINY.deepstack) taps.push(x);
  }
  g.op('Identity', [merger(x)], {}, 'image_embeds');
  taps.forEach((t, j) => g.op('Identity', [merger(t)], {}, deepstackName(j)));
  return g.encode(io.inputs, io.outputs, 'tiny AR1 vision encoder: patch embedding, MLP blocks, 2x2 merger, deepstack taps');
}

/** cos, sin [B, 1, S, headDim/2] of the 3-axis rotary angles for position_ids [3, B, S]. */
function rotary(g: GraphBuilder, positionIds: string): { cos: string; sin: string } {
  const half = TINY.headDim / 2;
  // Frequency f belongs to axis a(f): contiguous sections (t, h, w) of ropeSections.
  const sel = new Float32Array(3 * half);
  let f = 0;
  TINY.ropeSections.forEach((n, axis) => { for (let k = 0; k < n; k++, f++) sel[axis * half + f] = TINY.ropeTheta ** (-(2 * f) / TINY.headDim); });
  const pos = g.op('Transpose', [g.op('Cast', [positionIds], { to: { i: 1 } })], { perm: { ints: [1, 2, 0] } }); // [B, S, 3]
  const angles = g.op('Reshape', [g.op('MatMul', [pos, g.float(sel, [3, half])]), g.int64([0, 1, -1, half], [4])]); // [B, 1, S, half]
  return { cos: g.op('Cos', [angles]), sin: g.op('Sin', [angles]) };
}

function applyRotary(g: GraphBuilder, x: string, r: { cos: string; sin: string }): string {
  const half = TINY.headDim / 2;
  const sl = (a: number, b: number) => g.op('Slice', [x, g.int64([a], [1]), g.int64([b], [1]), g.int64([-1], [1])]);
  const x1 = sl(0, half), x2 = sl(half, TINY.headDim);
  return g.op('Concat', [g.op('Sub', [g.op('Mul', [x1, r.cos]), g.op('Mul', [x2, r.sin])]), g.op('Add', [g.op('Mul', [x2, r.cos]), g.op('Mul', [x1, r.sin])])], { axis: { i: -1 } });
}

interface AttentionIn {
  h: string; hidden: number; r: { cos: string; sin: string };
  /** Cached keys/values [B, KVH, P, hd] (float32) to attend to before the new tokens. */
  pastK?: string; pastV?: string;
  /** Additive mask broadcastable to [B, KVH, G, S, T]. */
  mask?: string;
}

/** One pre-norm decoder layer (GQA attention + SwiGLU MLP); returns the new hidden state and this layer's full K, V. */
function decoderLayer(g: GraphBuilder, w: Weights, a: AttentionIn): { h: string; k: string; v: string } {
  const { heads: H, kvHeads: KVH, headDim: hd, ffn } = TINY;
  const G = H / KVH;
  const x = rmsNorm(g, a.h);
  const split = (t: string, n: number) => g.op('Transpose', [g.op('Reshape', [t, g.int64([0, 0, n, hd], [4])])], { perm: { ints: [0, 2, 1, 3] } }); // [B, n, S, hd]
  const q = applyRotary(g, split(g.op('MatMul', [x, weight(g, w, a.hidden, H * hd)]), H), a.r);
  let k = applyRotary(g, split(g.op('MatMul', [x, weight(g, w, a.hidden, KVH * hd)]), KVH), a.r);
  let v = split(g.op('MatMul', [x, weight(g, w, a.hidden, KVH * hd)]), KVH);
  if (a.pastK && a.pastV) {
    k = g.op('Concat', [a.pastK, k], { axis: { i: 2 } });
    v = g.op('Concat', [a.pastV, v], { axis: { i: 2 } });
  }
  const qg = g.op('Reshape', [q, g.int64([0, KVH, G, -1, hd], [5])]); // [B, KVH, G, S, hd]
  const kt = g.op('Reshape', [g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } }), g.int64([0, KVH, 1, hd, -1], [5])]); // [B, KVH, 1, hd, T]
  let scores = g.op('Mul', [g.op('MatMul', [qg, kt]), g.scalar(1 / Math.sqrt(hd))]); // [B, KVH, G, S, T]
  if (a.mask) scores = g.op('Add', [scores, a.mask]);
  const p = g.op('Softmax', [scores], { axis: { i: -1 } });
  const ctx = g.op('MatMul', [p, g.op('Reshape', [v, g.int64([0, KVH, 1, -1, hd], [5])])]); // [B, KVH, G, S, hd]
  const merged = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [ctx, g.int64([0, H, -1, hd], [4])])], { perm: { ints: [0, 2, 1, 3] } }), g.int64([0, 0, H * hd], [3])]);
  const h1 = g.op('Add', [a.h, g.op('MatMul', [merged, weight(g, w, H * hd, a.hidden, 0.5)])]);
  const x2 = rmsNorm(g, h1);
  const gate = silu(g, g.op('MatMul', [x2, weight(g, w, a.hidden, ffn)]));
  const up = g.op('MatMul', [x2, weight(g, w, a.hidden, ffn)]);
  const h2 = g.op('Add', [h1, g.op('MatMul', [g.op('Mul', [gate, up]), weight(g, w, ffn, a.hidden, 0.5)])]);
  return { h: h2, k, v };
}

const toCache = (g: GraphBuilder, t: string, name: string) => g.op('Cast', [t], { to: { i: 10 } }, name);
const fromCache = (g: GraphBuilder, name: string) => g.op('Cast', [name], { to: { i: 1 } });

/**
 * The language model, prefill or one decode step; both draw the same weights (same seed stream order), so the
 * decode step continues exactly what the prefill started.
 */
function lmGraph(kind: 'prefill' | 'decode', io: Io['lm_prefill'], w0: Weights, layers: number, V: number, imagePad: number): Uint8Array {
  const w = new Weights(w0.seed + 7919); // the language model's own stream, identical for prefill and decode
  const g = new GraphBuilder(kind === 'prefill' ? 'lm_prefill' : 'lm_decode');
  const D = TINY.hidden;
  const table = g.float16(w.normal(V * D, 1), [V, D]);
  const tokens = g.op('Cast', [g.op('Gather', [table, 'input_ids'], { axis: { i: 0 } })], { to: { i: 1 } }); // [B, S, D]
  let h = tokens;
  let isImage = '', imageIndex = '';
  if (kind === 'prefill') {
    isImage = g.op('Unsqueeze', [g.op('Equal', ['input_ids', g.int64([imagePad], [])]), g.int64([-1], [1])]); // [1, S, 1]
    const count = g.op('CumSum', [g.op('Cast', [g.op('Equal', ['input_ids', g.int64([imagePad], [])])], { to: { i: 7 } }), g.int64([1], [])]);
    imageIndex = g.op('Max', [g.op('Sub', [count, g.int64([1], [])]), g.int64([0], [])]); // [1, S]: the image token each pad takes
    h = g.op('Where', [isImage, g.op('Gather', ['image_embeds', imageIndex], { axis: { i: 0 } }), tokens]);
  }
  const r = rotary(g, 'position_ids');
  let mask: string | undefined;
  if (kind === 'prefill') {
    const S = g.op('Squeeze', [g.op('Slice', [g.op('Shape', ['input_ids']), g.int64([1], [1]), g.int64([2], [1])]), g.int64([0], [1])]);
    const idx = g.op('Range', [g.int64([0], []), S, g.int64([1], [])]);
    const later = g.op('Greater', [g.op('Unsqueeze', [idx, g.int64([0], [1])]), g.op('Unsqueeze', [idx, g.int64([1], [1])])]); // [S, S]: key after query
    mask = g.op('Mul', [g.op('Cast', [later], { to: { i: 1 } }), g.scalar(-1e9)]);
  }
  // Layer weights are drawn in the same order for prefill and decode.
  for (let i = 0; i < layers; i++) {
    const past = kind === 'decode' ? { pastK: fromCache(g, pastKey(i)), pastV: fromCache(g, pastValue(i)) } : {};
    const out = decoderLayer(g, w, { h, hidden: D, r, ...past, ...(mask ? { mask } : {}) });
    h = out.h;
    toCache(g, out.k, presentKey(i));
    toCache(g, out.v, presentValue(i));
    if (kind === 'prefill' && i < TINY.deepstack) {
      // Deepstack: the tapped vision features join the image positions after the first layers.
      const ds = g.op('Gather', [deepstackName(i), imageIndex], { axis: { i: 0 } });
      h = g.op('Add', [h, g.op('Where', [isImage, ds, g.float([0], [])])]);
    }
  }
  const last = g.op('Reshape', [g.op('Slice', [h, g.int64([-1], [1]), g.int64([2 ** 53], [1]), g.int64([1], [1])]), g.int64([-1, D], [2])]); // [B, D]
  g.op('MatMul', [rmsNorm(g, last), weight(g, w, D, V)], {}, 'logits');
  return g.encode(io.inputs, io.outputs, `tiny AR1 language model, ${kind === 'prefill' ? 'prefill' : 'one decode step'}`);
}

function expertGraph(io: Io['action_expert'], w0: Weights, layers: number): Uint8Array {
  const w = new Weights(w0.seed + 104729);
  const g = new GraphBuilder('action_expert');
  const E = TINY.expertHidden;
  const nf = TINY.fourierFreqs.length;
  // Per-waypoint Fourier features of (accel, curvature, t).
  const x0 = g.op('Slice', ['x', g.int64([0], [1]), g.int64([1], [1]), g.int64([-1], [1])]); // [B, 64, 1]
  const tB = g.op('Add', [g.op('Reshape', ['t', g.int64([-1, 1, 1], [3])]), g.op('Mul', [x0, g.scalar(0)])]); // t broadcast to [B, 64, 1]
  const chans = g.op('Unsqueeze', [g.op('Concat', ['x', tB], { axis: { i: -1 } }), g.int64([-1], [1])]); // [B, 64, 3, 1]
  const ang = g.op('Mul', [chans, g.float(TINY.fourierFreqs, [1, nf])]); // [B, 64, 3, nf]
  const feats = g.op('Reshape', [g.op('Concat', [g.op('Sin', [ang]), g.op('Cos', [ang])], { axis: { i: -1 } }), g.int64([0, 0, 3 * 2 * nf], [3])]);
  let h = g.op('MatMul', [silu(g, g.op('MatMul', [feats, weight(g, w, 6 * nf, E)])), weight(g, w, E, E)]);
  const r = rotary(g, 'position_ids');
  const mask = g.op('Unsqueeze', ['attention_mask', g.int64([2], [1])]); // [B, 1, 1, 64, P + 64]
  for (let i = 0; i < layers; i++) {
    h = decoderLayer(g, w, { h, hidden: E, r, pastK: fromCache(g, pastKey(i)), pastV: fromCache(g, pastValue(i)), mask }).h;
  }
  g.op('MatMul', [rmsNorm(g, h), weight(g, w, E, 2, 1)], {}, 'velocity');
  return g.encode(io.inputs, io.outputs, 'tiny AR1 action expert: one flow-matching velocity step attending to the language model cache');
}

/** tokenizer.json: word-level (WordPiece over whole words), specials as added tokens, trajectory tokens in the vocabulary. */
function tokenizerJson(vocab: string[]): object {
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: SPECIALS.map((content) => ({ id: vocab.indexOf(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  };
}
