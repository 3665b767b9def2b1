/**
 * The engine at AR1's real size (wall-clock reads are allowed here only):
 * - decode transport: host bytes copied and ms per decode step, split (past in, present out every step) vs fused
 *   (the cache loop-carried inside one graph), with AR1's real cache: 36 layers × K and V × [1, 8, 3100, 128] fp16;
 * - loading a bundle over 2 GiB in a child `ar1 model verify --json`: wall time, hash MB/s, peak RSS ÷ bundle size;
 * - K = 6 samples in one batch vs 6 serial plans of one sample, on the tiny AR1 bundle (both forms).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { createSessions, loadOrt } from '../nodes/adapters/onnxruntime/ort.js';
import { silentLogger } from '../nodes/core/logger.js';
import { GraphBuilder } from '../nodes/syntheticBundles/graphBuilder.js';
import type { TensorSpec } from '../nodes/syntheticBundles/graphBuilder.js';
import { onnx } from '../nodes/bundle/onnxProto.js';
import { checkedRunner, runPipeline } from '../nodes/ar1/planPipeline.js';
import { makeTinyAr1Bundle } from '../nodes/syntheticBundles/tinyAr1Bundle.js';
import { TINY } from '../nodes/syntheticBundles/tinyTransformer.js';
import { loadTokenizer } from '../nodes/ar1/tokenizer.js';
import { sha256File, verifyBundle } from '../nodes/bundle/verifyBundle.js';
import { summarize } from './stats.js';
import type { Summary } from './stats.js';

export interface CacheGeometry {
  layers: number;
  kvHeads: number;
  positions: number;
  headDim: number;
}
/** AR1: 36 layers, 8 KV heads × 128, ≈3.1k prompt tokens (4 cameras × 4 frames). */
export const AR1_CACHE: CacheGeometry = { layers: 36, kvHeads: 8, positions: 3100, headDim: 128 };

export interface TransportFigures {
  cacheBytes: number;
  steps: number;
  split: { msPerStep: Summary; hostBytesPerStep: number };
  fused: { msPerStep: number; hostBytesPerStep: number; runMs: number };
}

/**
 * Two graphs with AR1's cache traffic and a trivial model (the new key/value of each layer derive from the token):
 * a split step (past_key_values.{i} → present.{i} = past ⧺ new, logits) and a fused Loop of `steps` such steps with
 * the cache loop-carried and only the token per step as output.
 */
function transportGraphs(c: CacheGeometry): { split: Uint8Array; fused: (steps: number) => Uint8Array } {
  const VOCAB = Math.min(64, c.headDim);
  const cache = (name: string, len: string): TensorSpec => ({
    name,
    dtype: 'float16',
    shape: [1, c.kvHeads, len, c.headDim],
  });
  const step = (g: GraphBuilder, ids: string, past: string[]): { logits: string; next: string; present: string[] } => {
    const x = g.op(
      'Cast',
      [
        g.op('Expand', [
          g.op('Reshape', [g.op('Cast', [ids], { to: { i: 1 } }), g.int64([1, 1, 1, 1], [4])]),
          g.int64([1, c.kvHeads, 1, c.headDim], [4]),
        ]),
      ],
      { to: { i: 10 } },
    );
    const present = past.map((p) => g.op('Concat', [p, x], { axis: { i: 2 } }));
    const logits = g.op(
      'Cast',
      [
        g.op('Reshape', [
          g.op('Slice', [present[0]!, g.int64([0, 0, 0, 0], [4]), g.int64([1, 1, 1, VOCAB], [4])]),
          g.int64([1, VOCAB], [2]),
        ]),
      ],
      { to: { i: 1 } },
    );
    const next = g.op('Reshape', [
      g.op('ArgMax', [logits], { axis: { i: -1 }, keepdims: { i: 0 } }),
      g.int64([1, 1], [2]),
    ]);
    return { logits, next, present };
  };
  const names = Array.from({ length: c.layers }, (_, i) => [
    `past_key_values.${i}.key`,
    `past_key_values.${i}.value`,
  ]).flat();
  const sg = new GraphBuilder('decode_step');
  const s = step(sg, 'input_ids', names);
  sg.op('Identity', [s.logits], {}, 'logits');
  s.present.forEach((p, j) => sg.op('Identity', [p], {}, names[j]!.replace('past_key_values', 'present')));
  const split = sg.encode(
    [{ name: 'input_ids', dtype: 'int64', shape: [1, 1] }, ...names.map((n) => cache(n, 'past'))],
    [
      { name: 'logits', dtype: 'float32', shape: [1, VOCAB] },
      ...names.map((n) => cache(n.replace('past_key_values', 'present'), 'present')),
    ],
  );
  const fused = (steps: number) => {
    const g = new GraphBuilder('decode_loop');
    const b = new GraphBuilder('body', 'b_');
    const carriedIn = ['b_ids', ...names.map((_, j) => `b_c${j}`)];
    const o = step(b, 'b_ids', carriedIn.slice(1));
    const outs = [
      b.op('Identity', ['b_cond']),
      b.op('Identity', [o.next]),
      ...o.present.map((p) => b.op('Identity', [p])),
      b.op('Identity', [o.next]),
    ];
    const any = (name: string, dtype: TensorSpec['dtype'], rank: number): TensorSpec => ({
      name,
      dtype,
      shape: Array.from({ length: rank }, (_, i) => `${name}_${i}`),
    });
    const body = b.subgraph(
      [
        any('b_iter', 'int64', 0),
        any('b_cond', 'bool', 0),
        any('b_ids', 'int64', 2),
        ...carriedIn.slice(1).map((n) => any(n, 'float16', 4)),
      ],
      [
        any(outs[0]!, 'bool', 0),
        any(outs[1]!, 'int64', 2),
        ...outs.slice(2, -1).map((n) => any(n, 'float16', 4)),
        any(outs.at(-1)!, 'int64', 2),
      ],
    );
    const loopOuts = ['l_ids', ...names.map((_, j) => `l_c${j}`), 'tokens_scan'];
    g.opN(
      'Loop',
      [g.int64([steps], []), g.op('Cast', [g.int64([1], [])], { to: { i: 9 } }), 'input_ids', ...names],
      loopOuts,
      { body: { g: body } },
    );
    g.op('Reshape', ['tokens_scan', g.int64([1, steps], [2])], {}, 'tokens');
    return g.encode(
      [{ name: 'input_ids', dtype: 'int64', shape: [1, 1] }, ...names.map((n) => cache(n, 'past'))],
      [{ name: 'tokens', dtype: 'int64', shape: [1, steps] }],
    );
  };
  return { split, fused };
}

export async function benchDecodeTransport(
  c: CacheGeometry = AR1_CACHE,
  steps = 5,
  dir = path.join(os.tmpdir(), 'ar1-bench'),
): Promise<TransportFigures> {
  const ort = await loadOrt();
  const g = transportGraphs(c);
  const splitPath = path.join(dir, 'transport-split.onnx'),
    fusedPath = path.join(dir, `transport-fused-${steps}.onnx`);
  writeFileSync(splitPath, g.split);
  writeFileSync(fusedPath, g.fused(steps));
  const opts = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all' as const,
    extra: { session: { 'intra_op.allow_spinning': '0' } },
  };
  const perLayer = c.kvHeads * c.positions * c.headDim;
  const cacheBytes = 2 * c.layers * perLayer * 2;
  const initial = () => {
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.of(3n), [1, 1]),
    };
    for (let i = 0; i < c.layers; i++)
      for (const kv of ['key', 'value'])
        feeds[`past_key_values.${i}.${kv}`] = new ort.Tensor('float16', new Uint16Array(perLayer), [
          1,
          c.kvHeads,
          c.positions,
          c.headDim,
        ]);
    return feeds;
  };
  const bytesOf = (ts: Iterable<{ data: unknown }>) => {
    let n = 0;
    for (const t of ts) n += (t.data as ArrayBufferView).byteLength;
    return n;
  };

  const split = await ort.InferenceSession.create(splitPath, opts);
  let feeds = initial();
  const ms: number[] = [];
  let hostBytes = 0;
  for (let k = 0; k < steps; k++) {
    const t0 = performance.now();
    const out = await split.run(feeds);
    ms.push(performance.now() - t0);
    hostBytes += bytesOf(Object.values(feeds)) + bytesOf(Object.values(out)); // every input crosses in, every output out
    const next: typeof feeds = { input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1, 1]) };
    for (let i = 0; i < c.layers; i++)
      for (const kv of ['key', 'value']) next[`past_key_values.${i}.${kv}`] = out[`present.${i}.${kv}`]!;
    feeds = next;
  }
  await split.release();
  feeds = initial();

  const fused = await ort.InferenceSession.create(fusedPath, opts);
  const t0 = performance.now();
  const out = await fused.run(feeds);
  const runMs = performance.now() - t0;
  // The initial cache crosses once (on a vehicle the prefill leaves it on the device inside the same graph); per
  // step only the token does.
  const tokenBytes = bytesOf([out.tokens!]) / steps;
  await fused.release();
  return {
    cacheBytes,
    steps,
    split: { msPerStep: summarize(ms), hostBytesPerStep: hostBytes / steps },
    fused: { msPerStep: runMs / steps, hostBytesPerStep: tokenBytes, runMs },
  };
}

export interface LargeLoadFigures {
  bundleBytes: number;
  wallMs: number;
  hashMBps: number;
  loadMs: number;
  peakRssBytes: number;
  peakRssRatio: number;
}

/**
 * A tiny AR1 bundle whose vision graph also uses a lookup table of `ballastBytes` fp16 zeros in its own external
 * data file (sparse on disk; indexed by a pixel, so onnxruntime keeps it resident), verified and loaded by a child
 * `ar1 model verify --json`.
 */
export async function benchLargeLoad(
  ballastBytes = 2.2e9,
  dir = path.join(os.tmpdir(), 'ar1-bench', 'large-bundle'),
): Promise<LargeLoadFigures> {
  const cols = 64;
  const rows = Math.ceil(ballastBytes / (cols * 2));
  const dataBytes = rows * cols * 2;
  const marker = path.join(dir, `.ballast-${dataBytes}`);
  if (!existsSync(marker)) {
    makeTinyAr1Bundle(dir);
    const data = path.join(dir, 'vision_ballast.data');
    const fd = openSync(data, 'w');
    writeSync(fd, new Uint8Array(1), 0, 1, dataBytes - 1); // sparse zeros
    closeSync(fd);
    const gp = path.join(dir, 'vision_encoder.onnx');
    const m = onnx.ModelProto.decode(readFileSync(gp));
    const graph = m.graph!;
    const last = graph.node!.find((n) => n.output?.includes('image_embeds'))!;
    last.output = ['ie_before_ballast'];
    graph.initializer!.push({
      name: 'ballast_table',
      dataType: 10,
      dims: [rows, cols],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: 'vision_ballast.data' },
        { key: 'offset', value: '0' },
        { key: 'length', value: String(dataBytes) },
      ],
    });
    const b = new GraphBuilder('ballast', 'ballast_');
    const idx = b.op(
      'Cast',
      [b.op('Slice', [b.op('Reshape', ['pixel_values', b.int64([-1], [1])]), b.int64([0], [1]), b.int64([1], [1])])],
      { to: { i: 7 } },
    );
    const row = b.op('Cast', [b.op('Gather', ['ballast_table', idx], { axis: { i: 0 } })], { to: { i: 1 } });
    b.op(
      'Add',
      ['ie_before_ballast', b.op('Mul', [b.op('ReduceSum', [row], { keepdims: { i: 0 } }), b.scalar(0)])],
      {},
      'image_embeds',
    );
    graph.node!.push(...b.nodes);
    graph.initializer!.push(...b.initializers);
    writeFileSync(gp, onnx.ModelProto.encode(m).finish());
    const mp = path.join(dir, 'manifest.yaml');
    const man = parse(readFileSync(mp, 'utf8'));
    for (const f of ['vision_encoder.onnx', 'vision_ballast.data'])
      man.files[f] = { sha256: await sha256File(path.join(dir, f)), bytes: statSync(path.join(dir, f)).size };
    writeFileSync(mp, stringify(man));
    writeFileSync(marker, '');
  }
  const bundleBytes = await verifyBundleSize(dir);
  const ar1 = fileURLToPath(new URL('../bin/ar1.js', import.meta.url));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [ar1, 'model', 'verify', dir, '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`ar1 model verify ${dir}: ${r.stderr.trim()}`);
  const o = JSON.parse(r.stdout) as { hashMBps: number; loadMs: number; peakRssBytes: number };
  return {
    bundleBytes,
    wallMs,
    hashMBps: o.hashMBps,
    loadMs: o.loadMs,
    peakRssBytes: o.peakRssBytes,
    peakRssRatio: o.peakRssBytes / bundleBytes,
  };
}

async function verifyBundleSize(dir: string): Promise<number> {
  const man = parse(readFileSync(path.join(dir, 'manifest.yaml'), 'utf8')) as {
    files: Record<string, { bytes: number }>;
  };
  return Object.values(man.files).reduce((s, f) => s + f.bytes, 0);
}

export interface BatchFigures {
  form: 'split' | 'fused';
  samples: number;
  batchMs: Summary;
  serialMs: Summary;
  throughputRatio: number;
}

/** K samples in one plan vs K plans of one sample (seeds seed + s, so they draw the same), tiny AR1 bundle. */
export async function benchBatch(
  form: 'split' | 'fused',
  samples = 6,
  reps = 5,
  dir = path.join(os.tmpdir(), 'ar1-bench'),
): Promise<BatchFigures> {
  const bundle = path.join(dir, `tiny-${form}`);
  makeTinyAr1Bundle(bundle, { form });
  const v = await verifyBundle(bundle);
  const sessions = await createSessions(v.graphPaths, ['cpu'], silentLogger);
  const tok = loadTokenizer(v.tokenizerJson, v.manifest);
  const ctx = {
    manifest: v.manifest,
    tokenizer: tok,
    runner: checkedRunner(sessions.runner, v.manifest),
    now: () => performance.now(),
  };
  const N = 16,
    { height: H, width: W } = TINY.model;
  const px = {
    type: 'uint8' as const,
    data: new Uint8Array(N * H * W * 3).map((_, i) => (i * 31) & 255),
    dims: [N, H, W, 3],
  };
  const hist = {
    x: Float64Array.from({ length: 16 }, (_, i) => (i - 15) * 1.2),
    y: new Float64Array(16),
    z: new Float64Array(16),
    yaw: new Float64Array(16),
    dt: 0.1,
  };
  const batch: number[] = [],
    serial: number[] = [];
  try {
    for (let r = 0; r < reps + 1; r++) {
      let t0 = performance.now();
      await runPipeline(ctx, px, hist, 100 * r, samples);
      const b = performance.now() - t0;
      t0 = performance.now();
      for (let s = 0; s < samples; s++) await runPipeline(ctx, px, hist, 100 * r + s, 1);
      const sr = performance.now() - t0;
      if (r > 0) {
        batch.push(b);
        serial.push(sr);
      } // the first round warms up
    }
  } finally {
    await sessions.release();
  }
  const bs = summarize(batch),
    ss = summarize(serial);
  return { form, samples, batchMs: bs, serialMs: ss, throughputRatio: ss.p50 / bs.p50 };
}
