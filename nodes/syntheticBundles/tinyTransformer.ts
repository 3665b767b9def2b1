/**
 * The tiny AR1's building blocks as ONNX subgraphs: seeded fp16 weights, RMS norm, SiLU, 3-axis rotary positions,
 * the pre-norm decoder layer (grouped-query attention with a per-layer fp16 cache, SwiGLU MLP), the language model's
 * forward pass and the flow-matching expert's velocity evaluation. tinyAr1Bundle.ts assembles them into the bundle's
 * graphs; every graph that draws a block's weights gets the same values.
 */
import { SeededRng } from '../ar1/rng.js';
import type { GraphBuilder } from './graphBuilder.js';

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

/** Trajectory waypoints (AR1: 64 at 0.1 s). */
export const STEPS = 64;

/** Seeded random weights, one stream per named tensor so adding a tensor does not shift the others. */
export class Weights {
  #n = 0;
  constructor(readonly seed: number) {}
  normal(count: number, std: number): Float32Array {
    const rng = new SeededRng(this.seed, 1000 + this.#n++);
    return Float32Array.from({ length: count }, () => rng.normal() * std);
  }
}

/** fp16 weight [rows, cols], std 1/√rows, cast to float32 in the graph. */
export function weight(g: GraphBuilder, w: Weights, rows: number, cols: number, gain = 1): string {
  return g.op('Cast', [g.float16(w.normal(rows * cols, gain / Math.sqrt(rows)), [rows, cols])], { to: { i: 1 } });
}

export function rmsNorm(g: GraphBuilder, x: string): string {
  const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
  return g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.scalar(1e-6)])])]);
}

export const silu = (g: GraphBuilder, x: string): string => g.op('Mul', [x, g.op('Sigmoid', [x])]);

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

export interface LmWeights {
  table: string;
  layers: LayerWeights[];
  head: string;
}

/** The language model's weights: its own seed stream, identical in prefill, decode and the fused graph. */
export function lmWeights(g: GraphBuilder, seed: number, layers: number, V: number): LmWeights {
  const w = new Weights(seed + 7919);
  const table = g.float16(w.normal(V * TINY.hidden, 1), [V, TINY.hidden]);
  const ls = Array.from({ length: layers }, () => layerWeights(g, w, TINY.hidden));
  return { table, layers: ls, head: weight(g, w, TINY.hidden, V) };
}

export interface LmIn {
  ids: string;
  positions: string;
  /** Prefill only: image embeddings and deepstack features, and the image pad token id. */
  image?: { embeds: string; deepstack: string[]; pad: number };
  /** Decode only: the per-layer fp16 cache [B, KVH, P, hd]. */
  past?: [string, string][];
}

/** The decoder forward over ids [B, S]: logits of the last position [B, V] and the per-layer fp16 present cache. */
export function lmForward(g: GraphBuilder, W: LmWeights, a: LmIn): { logits: string; present: [string, string][] } {
  const D = TINY.hidden;
  const tokens = g.op('Cast', [g.op('Gather', [W.table, a.ids], { axis: { i: 0 } })], { to: { i: 1 } }); // [B, S, D]
  let h = tokens;
  let isImage = '',
    imageIndex = '';
  let mask: string | undefined;
  if (a.image) {
    const pad = g.op('Equal', [a.ids, g.int64([a.image.pad], [])]);
    isImage = g.op('Unsqueeze', [pad, g.int64([-1], [1])]); // [B, S, 1]
    // Prompt b's k-th image pad takes embedding row b·T + k: the B prompts' embeddings [B·T, D] one after another.
    const dim = (t: string, i: number) => g.op('Slice', [g.op('Shape', [t]), g.int64([i], [1]), g.int64([i + 1], [1])]); // [1]
    const B = dim(a.ids, 0);
    const perPrompt = g.op('Div', [dim(a.image.embeds, 0), B]); // T
    const firstRow = g.op('Unsqueeze', [
      g.op('Mul', [
        g.op('Range', [g.int64([0], []), g.op('Squeeze', [B, g.int64([0], [1])]), g.int64([1], [])]),
        perPrompt,
      ]),
      g.int64([1], [1]),
    ]); // [B, 1]
    imageIndex = g.op('Add', [
      g.op('Max', [
        g.op('Sub', [g.op('CumSum', [g.op('Cast', [pad], { to: { i: 7 } }), g.int64([1], [])]), g.int64([1], [])]),
        g.int64([0], []),
      ]),
      firstRow,
    ]); // [B, S]
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

export interface ExpertWeights {
  in1: string;
  in2: string;
  layers: LayerWeights[];
  out: string;
}

export function expertWeights(g: GraphBuilder, seed: number, layers: number): ExpertWeights {
  const w = new Weights(seed + 104729);
  const E = TINY.expertHidden,
    nf = TINY.fourierFreqs.length;
  const in1 = weight(g, w, 6 * nf, E),
    in2 = weight(g, w, E, E);
  return { in1, in2, layers: Array.from({ length: layers }, () => layerWeights(g, w, E)), out: weight(g, w, E, 2, 1) };
}

/** One velocity evaluation: x [B, 64, 2], t [B], positions [3, B, 64], mask broadcastable to [B, 1, 64, P + 64]. */
export function expertForward(
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
