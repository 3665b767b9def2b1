/**
 * The demo bundle: generated deterministically with onnx-proto, AR1's I/O contract at reduced sizes.
 * - vision_encoder: uint8 NHWC frames at model size → per-image features (brightness, left−right balance, …, and
 *   the share of red pixels); `large` adds a ViT-like 16×16 patch embedding + MLP stack at 320×576 for benchmarking.
 * - lm_prefill / lm_decode: image features + history tokens → conditioning state (stand-in for the KV cache) and
 *   next-token logits of a small grammar (demoLanguage.ts).
 * - action_expert: one flow-matching velocity step v(x, t | state) towards a plan that steers towards the brighter
 *   side of the front cameras (the road), keeps the speed roughly steady, and brakes to a stop before a red barrier
 *   seen by the front cameras (its red share gives the distance). Tuned so it drives the sample scene closed loop
 *   (`ar1 sim`, config/scenarios/); the reasoning says why ("stop for the barrier ahead").
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, isScalar, isSeq, visit } from 'yaml';
import { AR1_ACTION_NORMALIZATION } from '../ar1/actionSpace.js';
import { GraphBuilder, moveToExternalData } from './graphBuilder.js';
import type { TensorSpec } from './graphBuilder.js';
import {
  demoTokenizerJson,
  grammarTables,
  SLOT,
  SPECIAL,
  STATE_SIZE,
  tokenStateEffects,
  VOCAB,
  VOCAB_SIZE,
} from './demoLanguage.js';
import { MANIFEST_FILE, MANIFEST_FORMAT, parseManifest } from '../bundle/manifest.js';
import type { GraphRole, Manifest } from '../bundle/manifest.js';
import { SeededRng } from '../ar1/rng.js';

export const AR1_CAMERAS = [
  'camera_cross_left_120fov',
  'camera_front_wide_120fov',
  'camera_cross_right_120fov',
  'camera_front_tele_30fov',
] as const;

export interface DemoBundleOptions {
  /** Native frame size the bundle accepts (H×W), default 180×320. */
  imageHeight?: number;
  imageWidth?: number;
  /** Heavier vision graph at AR1's model size 320×576 (benchmarks). Default false. */
  large?: boolean;
}

const FRAMES = 4;
const HIST = 16;
const STEPS = 64;
const DT = 0.1;
const FEAT = 4;
const V_CRUISE = 15; // [m/s] the demo's speed pull target
const LAT_ACCEL = 4; // [m/s^2] at |turn| = 1: curvature LAT_ACCEL/(v² + 83)
/** turn = tanh(TURN_GAIN · left−right brightness balance), mostly the tele camera (the road ahead) and the wide one. */
const TURN_GAIN = 4;
const TELE_W = 2;
/** [steps] the plan's curvature moves from the history's to the target with this e-folding (the first 0.3 s). */
const HIST_DECAY = 1.5;
/** Red share of a barrier pixel: (150 − 26)/127.5 − 0.5 in normalised units. */
const RED_LEVEL = 0.47;
/** [m/s^2] the deceleration the barrier stop is planned with, and [s] how fast the speed is brought to that profile. */
const BRAKE_MPS2 = 1.6;
const BRAKE_LAG_S = 0.6;
/** [m] camera-to-barrier distance it stops at (the front bumper is 2.3 m ahead of the camera: ~3 m gap). */
const STOP_GAP_M = 7;
/** The demo prompt: every image as <|vision_start|><|image_pad|><|vision_end|>, then the 48 history tokens, then <|cot_start|>. */
const IMAGE_TOKENS = 3; // [m/s^2] lateral acceleration at |turn| = 1 (curvature LAT_ACCEL/(v² + 83): ≤ 0.03 1/m)
/** Plans one vision or prefill run may carry (manifest max_batch); the graphs keep every plan's rows apart. */
const DEMO_MAX_BATCH = 8;

/** Writes the bundle into dir (created if needed) and returns its manifest. Same options → same bytes. */
export function makeDemoBundle(dir: string, opts: DemoBundleOptions = {}): Manifest {
  const built = buildDemoBundle(opts);
  writeBundle(dir, built);
  return built.manifest;
}

/** A demo bundle in memory: its files, its manifest's text and the manifest. */
export interface BuiltBundle {
  files: Record<string, Uint8Array>;
  manifestText: string;
  manifest: Manifest;
}

/** Writes a built bundle into dir (created if needed). */
export function writeBundle(dir: string, built: BuiltBundle): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, b] of Object.entries(built.files)) writeFileSync(join(dir, name), b);
  writeFileSync(join(dir, MANIFEST_FILE), built.manifestText);
}

/** The demo bundle's files and manifest, in memory. Same options → same bytes. */
export function buildDemoBundle(opts: DemoBundleOptions): BuiltBundle {
  const native = { height: opts.imageHeight ?? 180, width: opts.imageWidth ?? 320 };
  if (!(
    Number.isInteger(native.height) &&
    native.height >= 16 &&
    Number.isInteger(native.width) &&
    native.width >= 16
  )) {
    throw new RangeError(`image size: expected integers ≥ 16, got ${native.height}x${native.width}`);
  }
  const large = opts.large ?? false;
  const model = large ? { height: 320, width: 576 } : { height: 64, width: 112 };
  const N = AR1_CAMERAS.length * FRAMES;
  const io = demoIo(N, model.height, model.width);
  const graphs: Record<string, Uint8Array> = {
    'vision_encoder.onnx': visionGraph(io.vision_encoder, model.height, model.width, large),
    'lm_prefill.onnx': prefillGraph(io.lm_prefill, N),
    'lm_decode.onnx': decodeGraph(io.lm_decode),
    'action_expert.onnx': actionGraph(io.action_expert),
  };
  // Weights of 1 KiB and more go to external data beside each graph, as real exports store them.
  const files: Record<string, Uint8Array> = {};
  for (const [name, bytes] of Object.entries(graphs)) {
    const { model: graph, data } = moveToExternalData(bytes, `${name}.data`);
    files[name] = graph;
    if (data.length > 0) files[`${name}.data`] = data;
  }
  files['tokenizer.json'] = new TextEncoder().encode(JSON.stringify(demoTokenizerJson(), null, 1) + '\n');
  const id = large ? 'ar1-demo-large' : 'ar1-demo';
  const raw = {
    format: MANIFEST_FORMAT,
    bundle: {
      id,
      version: '1.0.0',
      description: `generated by ar1 model make-demo (${large ? 'large' : 'small'}); not a trained model`,
    },
    cameras: { names: [...AR1_CAMERAS], frames_per_camera: FRAMES, frame_spacing_s: 0.1 },
    form: 'split',
    image: {
      native,
      model,
      preprocess: 'host',
      normalization: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], scale: 1 / 255 },
    },
    vision: { grid: [1, 1], deepstack: 0 },
    lm: { layers: 1, kv_heads: 1, head_dim: STATE_SIZE, cache_dtype: 'float16' },
    prompt: {
      template: [{ images: true }, { history: true }, SPECIAL.cotStart],
      image_start: SPECIAL.visionStart,
      image_pad: SPECIAL.imagePad,
      image_end: SPECIAL.visionEnd,
    },
    history: {
      steps: HIST,
      dt_s: DT,
      token_ranges: [
        [-4, 4],
        [-4, 4],
        [-10, 10],
      ],
      bins: 1000,
      token_offset: 0,
    },
    trajectory: { steps: STEPS, dt_s: DT },
    action: {
      normalization: {
        accel_mean: AR1_ACTION_NORMALIZATION.accelMean,
        accel_std: AR1_ACTION_NORMALIZATION.accelStd,
        curvature_mean: AR1_ACTION_NORMALIZATION.curvatureMean,
        curvature_std: AR1_ACTION_NORMALIZATION.curvatureStd,
      },
      flow_steps: 10,
    },
    sampling: { temperature: 0.6, top_p: 0.98, max_tokens: 32 },
    tokenizer: {
      file: 'tokenizer.json',
      cot_start: SPECIAL.cotStart,
      cot_end: SPECIAL.cotEnd,
      traj_future_start: SPECIAL.trajFutureStart,
    },
    graphs: Object.fromEntries(
      Object.entries(io).map(([role, g]) => [
        role,
        {
          file: `${role}.onnx`,
          ...g,
          ...(role === 'vision_encoder' || role === 'lm_prefill' ? { max_batch: DEMO_MAX_BATCH } : {}),
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
  const manifest = parseManifest(raw, 'make-demo');
  const manifestText = `# AR1 model bundle manifest (${MANIFEST_FORMAT}); see docs/model-bundle.md\n` + toYaml(raw);
  return { files, manifestText, manifest };
}

type Io = Record<Exclude<GraphRole, 'generate'>, { inputs: TensorSpec[]; outputs: TensorSpec[] }>;

function demoIo(N: number, h: number, w: number): Io {
  const cache = (name: string, batch: string | number, len: string | number): TensorSpec => ({
    name,
    dtype: 'float16',
    shape: [batch, 1, len, STATE_SIZE],
  });
  return {
    // The plan dimension is symbolic (max_batch): the N images of each plan one after another, their embeddings
    // likewise; prefill takes one prompt per plan.
    vision_encoder: {
      inputs: [{ name: 'pixel_values', dtype: 'uint8', shape: ['images', h, w, 3] }],
      outputs: [{ name: 'image_embeds', dtype: 'float32', shape: ['image_tokens', FEAT] }],
    },
    lm_prefill: {
      inputs: [
        { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
        { name: 'position_ids', dtype: 'int64', shape: [3, 'batch', 'sequence'] },
        { name: 'image_embeds', dtype: 'float32', shape: ['image_tokens', FEAT] },
      ],
      outputs: [
        { name: 'logits', dtype: 'float32', shape: ['batch', VOCAB_SIZE] },
        cache('present.0.key', 'batch', 1),
        cache('present.0.value', 'batch', 1),
      ],
    },
    lm_decode: {
      inputs: [
        { name: 'input_ids', dtype: 'int64', shape: ['batch', 1] },
        { name: 'position_ids', dtype: 'int64', shape: [3, 'batch', 1] },
        cache('past_key_values.0.key', 'batch', 'past'),
        cache('past_key_values.0.value', 'batch', 'past'),
      ],
      outputs: [
        { name: 'logits', dtype: 'float32', shape: ['batch', VOCAB_SIZE] },
        cache('present.0.key', 'batch', 'present'),
        cache('present.0.value', 'batch', 'present'),
      ],
    },
    action_expert: {
      inputs: [
        { name: 'x', dtype: 'float32', shape: ['batch', STEPS, 2] },
        { name: 't', dtype: 'float32', shape: ['batch'] },
        { name: 'position_ids', dtype: 'int64', shape: [3, 'batch', STEPS] },
        { name: 'attention_mask', dtype: 'float32', shape: ['batch', 1, STEPS, 'context'] },
        cache('past_key_values.0.key', 'batch', 'past'),
        cache('past_key_values.0.value', 'batch', 'past'),
      ],
      outputs: [{ name: 'velocity', dtype: 'float32', shape: ['batch', STEPS, 2] }],
    },
  };
}

/** The demo's conditioning state [batch, 8] ↔ its one-layer float16 "cache" [batch, 1, 1, 8] (a stand-in: it does not grow). */
function stateFromCache(g: GraphBuilder, name: string): string {
  return g.op('Reshape', [g.op('Cast', [name], { to: { i: 1 } }), g.int64([-1, STATE_SIZE], [2])]);
}
function stateToCache(g: GraphBuilder, state: string, key: string, value: string): void {
  const c = g.op('Reshape', [g.op('Cast', [state], { to: { i: 10 } }), g.int64([-1, 1, 1, STATE_SIZE], [4])]);
  g.op('Identity', [c], {}, key);
  g.op('Identity', [c], {}, value);
}

/** Per image, whatever the number of images (B plans × N): no value depends on another image. */
function visionGraph(io: Io['vision_encoder'], h: number, w: number, large: boolean): Uint8Array {
  const g = new GraphBuilder('vision_encoder');
  const f = g.op('Cast', ['pixel_values'], { to: { i: 1 } });
  // (x/255 − 0.5)/0.5, as Qwen's processor.
  const norm = g.op('Div', [
    g.op('Sub', [g.op('Mul', [f, g.scalar(1 / 255)]), g.float([0.5, 0.5, 0.5], [3])]),
    g.float([0.5, 0.5, 0.5], [3]),
  ]);
  const cols = g.op('ReduceMean', [norm], { axes: { ints: [1, 3] }, keepdims: { i: 0 } }); // [N, w]: column profile
  const W = new Float32Array(w * FEAT);
  for (let x = 0; x < w; x++) {
    const u = (x + 0.5) / w; // 0 left … 1 right
    W[x * FEAT + 0] = 1 / w; // mean brightness
    W[x * FEAT + 1] = (u < 0.5 ? 2 : -2) / w; // left half − right half
    W[x * FEAT + 2] = (Math.abs(u - 0.5) < 1 / 6 ? 3 : -1.5) / w; // centre − sides
    // Feature 3 is the redness below.
  }
  // Feature 3, redness: the share of strongly red pixels (red − green > 0.5 after normalisation: the barrier, not the
  // posts), weighted by how red.
  const ch = (c: number) => g.op('Slice', [norm, g.int64([c], [1]), g.int64([c + 1], [1]), g.int64([3], [1])]);
  const red = g.op('ReduceMean', [g.op('Relu', [g.op('Sub', [g.op('Sub', [ch(0), ch(1)]), g.scalar(0.5)])])], {
    axes: { ints: [1, 2, 3] },
    keepdims: { i: 0 },
  });
  let embeds = g.op('Add', [
    g.op('MatMul', [cols, g.float(W, [w, FEAT])]),
    g.op('Mul', [g.op('Reshape', [red, g.int64([-1, 1], [2])]), g.float([0, 0, 0, 1], [1, FEAT])]),
  ]);
  if (large) {
    const C = 256,
      P = (h / 16) * (w / 16),
      rng = new SeededRng(0x5eed, 1);
    const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
    const nchw = g.op('Transpose', [norm], { perm: { ints: [0, 3, 1, 2] } });
    const patches = g.op('Conv', [nchw, g.float(rand(C * 3 * 16 * 16, 1 / Math.sqrt(768)), [C, 3, 16, 16])], {
      strides: { ints: [16, 16] },
    });
    let tok = g.op('Transpose', [g.op('Reshape', [patches, g.int64([-1, C, P], [3])])], { perm: { ints: [0, 2, 1] } }); // [N, P, C]
    for (let l = 0; l < 4; l++)
      tok = g.op('Relu', [g.op('MatMul', [tok, g.float(rand(C * C, 1 / Math.sqrt(C)), [C, C])])]);
    const pooled = g.op('ReduceMean', [tok], { axes: { ints: [1] }, keepdims: { i: 0 } }); // [N, C]
    embeds = g.op('Add', [embeds, g.op('MatMul', [pooled, g.float(rand(C * FEAT, 0.002), [C, FEAT])])]);
  }
  g.op('Identity', [embeds], {}, 'image_embeds');
  return g.encode(io.inputs, io.outputs, 'AR1 demo vision encoder: per-image brightness features');
}

/** state ⊙ W[<|cot_start|>] + B[<|cot_start|>] → the prefill's logits. */
function emitLogits(g: GraphBuilder, state: string, bigramRow: string, weights: string): string {
  return g.op('Add', [bigramRow, g.op('MatMul', [state, weights])], {}, 'logits');
}

/** B prompts → B states and logits, row by row: [B, …] everywhere, no value depends on another plan's row. */
function prefillGraph(io: Io['lm_prefill'], N: number): Uint8Array {
  const g = new GraphBuilder('lm_prefill');
  const V = VOCAB_SIZE,
    S = STATE_SIZE;
  // Image part: turn from the front cameras' left−right balance (+ tele, + cross-camera balance), mean brightness.
  const Wv = new Float32Array(N * FEAT * 2);
  const img = (cam: number, k: number, feat: number) => ((cam * FRAMES + k) * FEAT + feat) * 2;
  for (let k = 0; k < FRAMES; k++) {
    Wv[img(1, k, 1)] = 1 / FRAMES; // front wide
    Wv[img(3, k, 1)] = TELE_W / FRAMES; // front tele
    Wv[img(0, k, 0)] = 0.15 / FRAMES; // cross left brighter → left
    Wv[img(2, k, 0)] = -0.15 / FRAMES;
    for (let c = 0; c < 4; c++) Wv[img(c, k, 0) + 1] = 1 / N;
  }
  const imgFeat = g.op('MatMul', [
    g.op('Reshape', ['image_embeds', g.int64([-1, N * FEAT], [2])]),
    g.float(Wv, [N * FEAT, 2]),
  ]); // [B,2]
  const col = (t: string, i: number) => g.op('Slice', [t, g.int64([i], [1]), g.int64([i + 1], [1]), g.int64([1], [1])]);
  const turn = g.op('Tanh', [g.op('Mul', [col(imgFeat, 0), g.scalar(TURN_GAIN)])]);
  const bright = col(imgFeat, 1);
  // History part: dequantise AR1's delta tokens, mean forward step → speed, y second difference → curvature.
  const hStart = N * IMAGE_TOKENS; // the history tokens follow the images in the demo prompt
  const history = g.op('Slice', [
    'input_ids',
    g.int64([hStart], [1]),
    g.int64([hStart + HIST * 3], [1]),
    g.int64([1], [1]),
  ]);
  const deq = g.op('Add', [
    g.op('Mul', [
      g.op('Reshape', [g.op('Cast', [history], { to: { i: 1 } }), g.int64([-1, HIST, 3], [3])]),
      g.float([8 / 999, 8 / 999, 20 / 999], [3]),
    ]),
    g.float([-4, -4, -10], [3]),
  ]); // [B,16,3]
  const d = g.op('Reshape', [
    g.op('Slice', [deq, g.int64([1], [1]), g.int64([HIST], [1]), g.int64([1], [1])]),
    g.int64([-1, (HIST - 1) * 3], [2]),
  ]);
  const Wh = new Float32Array((HIST - 1) * 3 * 2);
  for (let i = 0; i < HIST - 1; i++) {
    Wh[i * 3 * 2] = 1 / (HIST - 1); // mean x step
    if (i < 4) Wh[(i * 3 + 1) * 2 + 1] = -1 / 4 / 11;
    if (i >= HIST - 5) Wh[(i * 3 + 1) * 2 + 1] = 1 / 4 / 11;
  }
  const hf = g.op('MatMul', [d, g.float(Wh, [(HIST - 1) * 3, 2])]); // [B,2]: step [m], y second difference [m]
  const step = col(hf, 0);
  const speed = g.op('Div', [step, g.scalar(DT)]);
  // The latest speed (last 0.3 s of the history), for braking: the 1.5 s mean lags behind a car that is slowing.
  const Wn = new Float32Array((HIST - 1) * 3);
  for (let i = HIST - 4; i < HIST - 1; i++) Wn[i * 3] = 1 / 3 / DT;
  const speedNow = g.op('MatMul', [d, g.float(Wn, [(HIST - 1) * 3, 1])]);
  const kappaRaw = g.op('Div', [col(hf, 1), g.op('Add', [g.op('Mul', [step, step]), g.scalar(0.01)])]);
  const kappaHist = g.op('Mul', [g.op('Tanh', [g.op('Mul', [kappaRaw, g.scalar(10)])]), g.scalar(0.1)]);
  const pull = g.op('Tanh', [g.op('Div', [g.op('Sub', [g.scalar(V_CRUISE), speed]), g.scalar(8)])]);
  // The barrier, from the newest front frames: its red share p gives the distance d (sample-scene geometry: a
  // 1.6 m × 7.6 m barrier fills 75/d² of the 30° tele image until it overflows it at ~12 m, and 1.8/d² of the 120°
  // wide one), d gives the speed that still stops STOP_GAP_M before it at BRAKE_MPS2, and the brake slot tracks that
  // speed; standing close, it holds the car.
  const flat = g.op('Reshape', ['image_embeds', g.int64([-1, N * FEAT], [2])]);
  const redShare = (cam: number) => {
    const i = (cam * FRAMES + FRAMES - 1) * FEAT + FEAT - 1; // the camera's newest frame, redness feature
    return g.op('Add', [
      g.op('Div', [
        g.op('Slice', [flat, g.int64([i], [1]), g.int64([i + 1], [1]), g.int64([1], [1])]),
        g.scalar(RED_LEVEL),
      ]),
      g.scalar(1e-6),
    ]);
  };
  const redTele = redShare(3);
  const redWide = redShare(1);
  const dist = g.op('Min', [
    g.op('Sqrt', [g.op('Div', [g.scalar(75), redTele])]),
    g.op('Sqrt', [g.op('Div', [g.scalar(1.8), redWide])]),
  ]);
  const vStop = g.op('Sqrt', [
    g.op('Mul', [g.scalar(2 * BRAKE_MPS2), g.op('Relu', [g.op('Sub', [dist, g.scalar(STOP_GAP_M)])])]),
  ]);
  const track = g.op('Min', [g.scalar(0), g.op('Div', [g.op('Sub', [vStop, speedNow]), g.scalar(BRAKE_LAG_S)])]);
  const hold = g.op('Mul', [g.op('Relu', [g.op('Sub', [g.scalar(4), vStop])]), g.scalar(-0.5)]);
  const brake = g.op('Max', [g.op('Add', [track, hold]), g.scalar(-4)]);
  // What the reasoning reads: braking for it (1 from 0.45 m/s²), and a plan that comes to a standstill within its
  // 6.4 s horizon (1 when |brake|·6.4 s exceeds the speed by 1.5 m/s).
  const one = g.scalar(1);
  const braking = g.op('Min', [
    g.op('Mul', [g.op('Relu', [g.op('Sub', [g.op('Neg', [brake]), g.scalar(0.2)])]), g.scalar(4)]),
    one,
  ]);
  const stopping = g.op('Min', [
    g.op('Relu', [
      g.op('Sub', [g.op('Mul', [g.op('Neg', [brake]), g.scalar(STEPS * DT)]), g.op('Add', [speedNow, g.scalar(0.5)])]),
    ]),
    one,
  ]);
  const slots: string[] = [];
  slots[SLOT.turn] = turn;
  slots[SLOT.absTurn] = g.op('Abs', [turn]);
  slots[SLOT.speedPull] = pull;
  slots[SLOT.kappaHist] = kappaHist;
  const perPlan = (v: number) => g.op('Expand', [g.float([v], [1, 1]), g.op('Shape', [turn])]); // [B,1]
  slots[SLOT.caution] = perPlan(0);
  slots[SLOT.bias] = perPlan(1);
  slots[SLOT.brightness] = bright;
  slots[SLOT.barrier] = braking;
  slots[SLOT.stopping] = stopping;
  slots[SLOT.brake] = brake;
  slots[SLOT.kappaTarget] = g.op('Mul', [
    turn,
    g.op('Div', [g.scalar(LAT_ACCEL), g.op('Add', [g.op('Mul', [speed, speed]), g.scalar(83)])]),
  ]);
  const state = g.op('Concat', slots, { axis: { i: 1 } });
  stateToCache(g, state, 'present.0.key', 'present.0.value');
  const { bigram, stateWeights } = grammarTables();
  const cs = VOCAB.indexOf(SPECIAL.cotStart);
  emitLogits(
    g,
    state,
    g.float(bigram.subarray(cs * V, (cs + 1) * V), [1, V]),
    g.float(stateWeights.subarray(cs * S * V, (cs + 1) * S * V), [S, V]),
  );
  return g.encode(io.inputs, io.outputs, 'AR1 demo prefill: images + history → state, logits after <|cot_start|>');
}

function decodeGraph(io: Io['lm_decode']): Uint8Array {
  const g = new GraphBuilder('lm_decode');
  const V = VOCAB_SIZE,
    S = STATE_SIZE;
  const { bigram, stateWeights } = grammarTables();
  const ids = g.op('Reshape', ['input_ids', g.int64([-1], [1])]); // [K]
  const state = g.op('Add', [
    stateFromCache(g, 'past_key_values.0.key'),
    g.op('Gather', [g.float(tokenStateEffects(), [V, S]), ids], { axis: { i: 0 } }),
  ]); // [K,S]
  stateToCache(g, state, 'present.0.key', 'present.0.value');
  const row = g.op('Gather', [g.float(bigram, [V, V]), ids], { axis: { i: 0 } }); // [K,V]
  const W = g.op('Reshape', [
    g.op('Gather', [g.float(stateWeights, [V, S * V]), ids], { axis: { i: 0 } }),
    g.int64([-1, S, V], [3]),
  ]); // [K,S,V]
  const sw = g.op('Reshape', [
    g.op('MatMul', [g.op('Reshape', [state, g.int64([-1, 1, S], [3])]), W]),
    g.int64([-1, V], [2]),
  ]); // [K,V]
  g.op('Add', [row, sw], {}, 'logits');
  return g.encode(
    io.inputs,
    io.outputs,
    'AR1 demo decode step: token + state → logits, state (K samples in one batch)',
  );
}

function actionGraph(io: Io['action_expert']): Uint8Array {
  const g = new GraphBuilder('action_expert');
  const S = STATE_SIZE,
    c = AR1_ACTION_NORMALIZATION;
  // Target plan in normalised units, linear in the state: a*(k), κ*(k).
  const W = new Float32Array(S * STEPS * 2);
  const set = (slot: number, k: number, ch: number, v: number) => {
    W[slot * STEPS * 2 + k * 2 + ch] = v;
  };
  for (let k = 0; k < STEPS; k++) {
    const bump = k < 40 ? 0.5 * (1 - Math.cos((2 * Math.PI * k) / 40)) : 0;
    set(SLOT.speedPull, k, 0, 0.25 / c.accelStd);
    set(SLOT.caution, k, 0, (-1.0 * bump) / c.accelStd);
    set(SLOT.absTurn, k, 0, -0.3 / c.accelStd);
    set(SLOT.bias, k, 0, -c.accelMean / c.accelStd);
    set(SLOT.brake, k, 0, 1 / c.accelStd);
    const wHist = Math.exp(-k / HIST_DECAY);
    set(SLOT.kappaHist, k, 1, wHist / c.curvatureStd);
    set(SLOT.kappaTarget, k, 1, (1 - wHist) / c.curvatureStd);
    set(SLOT.bias, k, 1, -c.curvatureMean / c.curvatureStd);
  }
  const context = stateFromCache(g, 'past_key_values.0.key');
  const target = g.op('Reshape', [g.op('MatMul', [context, g.float(W, [S, STEPS * 2])]), g.int64([-1, STEPS, 2], [3])]);
  // Rectified-flow velocity towards the target; 1.005 leaves a little of the seeded noise (samples differ slightly).
  const t = g.op('Reshape', ['t', g.int64([-1, 1, 1], [3])]);
  g.op('Div', [g.op('Sub', [target, 'x']), g.op('Sub', [g.scalar(1.005), t])], {}, 'velocity');
  return g.encode(io.inputs, io.outputs, 'AR1 demo action expert: one flow-matching velocity step');
}

/** YAML with lists of scalars (shapes, ranges) on one line. */
function toYaml(raw: object): string {
  const doc = new Document(raw);
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((i) => isScalar(i) || (isSeq(i) && i.items.every(isScalar)))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 });
}
