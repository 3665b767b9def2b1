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
import {
  expertForward,
  expertWeights,
  lmForward,
  lmWeights,
  rmsNorm,
  silu,
  STEPS,
  TINY,
  weight,
  Weights,
} from './tinyTransformer.js';
import { generateGraph } from './tinyFusedGraph.js';
import { wordTokenizerJson } from './wordTokenizer.js';
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

const FRAMES = 4;
const HIST = 16;
/** Plans one vision or prefill run may carry (manifest max_batch); the graphs keep every plan's rows apart. */
const TINY_MAX_BATCH = 8;
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
          vision_encoder: visionGraph(io.vision_encoder, w),
          lm_prefill: lmGraph('prefill', io.lm_prefill, seed, layers, V, id('<|image_pad|>')),
          lm_decode: lmGraph('decode', io.lm_decode, seed, layers, V, id('<|image_pad|>')),
          action_expert: expertGraph(io.action_expert, seed, layers),
        }
      : {
          vision_encoder: visionGraph(io.vision_encoder, w),
          generate: generateGraph(io.generate, seed, layers, V, id('<|image_pad|>')),
        };
  const files: Record<string, Uint8Array> = {};
  for (const [role, bytes] of Object.entries(graphs)) {
    const { model, data } = moveToExternalData(bytes!, `${role}.onnx.data`);
    files[`${role}.onnx`] = model;
    if (data.length > 0) files[`${role}.onnx.data`] = data;
  }
  files['tokenizer.json'] = new TextEncoder().encode(
    JSON.stringify(wordTokenizerJson(vocab, SPECIALS, '[UNK]')) + '\n',
  );
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
      Object.keys(graphs).map((role) => [
        role,
        {
          file: `${role}.onnx`,
          ...io[role as GraphRole],
          // generate takes one prompt: a fused bundle batches its vision only.
          ...(role === 'vision_encoder' || role === 'lm_prefill' ? { max_batch: TINY_MAX_BATCH } : {}),
        },
      ]),
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
  // The plan dimension of vision and prefill is symbolic (max_batch): the N images of each plan one after another,
  // their embeddings likewise, one prompt per plan. The fused generate takes one plan's prompt.
  const embeds = (name: string, rows: string | number = 'image_tokens'): TensorSpec => ({
    name,
    dtype: 'float32',
    shape: [rows, TINY.hidden],
  });
  const L = Array.from({ length: layers }, (_, i) => i);
  const ds = Array.from({ length: TINY.deepstack }, (_, j) => embeds(deepstackName(j)));
  const io = {
    vision_encoder: {
      inputs: [{ name: 'pixel_values', dtype: 'uint8', shape: ['images', TINY.model.height, TINY.model.width, 3] }],
      outputs: [embeds('image_embeds'), ...ds],
    },
    lm_prefill: {
      inputs: [
        { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
        { name: 'position_ids', dtype: 'int64', shape: [3, 'batch', 'sequence'] },
        embeds('image_embeds'),
        ...ds,
      ],
      outputs: [
        { name: 'logits', dtype: 'float32', shape: ['batch', V] },
        ...L.flatMap((i) => [cache(presentKey(i), 'batch', 'sequence'), cache(presentValue(i), 'batch', 'sequence')]),
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
  const T = N * tokensPerImage;
  io.generate = {
    inputs: [
      { name: 'input_ids', dtype: 'int64', shape: [1, 'sequence'] },
      { name: 'position_ids', dtype: 'int64', shape: [3, 1, 'sequence'] },
      embeds('image_embeds', T),
      ...Array.from({ length: TINY.deepstack }, (_, j) => embeds(deepstackName(j), T)),
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

/** Per image, whatever the number of images (B plans × N): no value depends on another image. */
function visionGraph(io: Io['vision_encoder'], w: Weights): Uint8Array {
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
    const grouped = g.op('Reshape', [h, g.int64([-1, ph / 2, 2, pw / 2, 2, C], [6])]);
    const merged = g.op('Reshape', [
      g.op('Transpose', [grouped], { perm: { ints: [0, 1, 3, 2, 4, 5] } }),
      g.int64([-1, 4 * C], [2]),
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
