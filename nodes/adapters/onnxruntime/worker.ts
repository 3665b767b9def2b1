/**
 * The inference worker thread: verifies the bundle, creates the sessions (EP fallback), then serves one message at
 * a time: a plan, or a batch of plans run in one pass (runPipelineBatch). Each plan's frames are preprocessed right
 * before the vision run that carries it (its slots given straight back), into its row of one pixel buffer: the plans
 * of a run (up to the bundle's vision max_batch) lie one after another there and reach the vision graph as one tensor,
 * with no copy. Each plan gets its own result; every failure of a plan becomes an 'error' message; the worker stays up.
 */
import { parentPort } from 'node:worker_threads';
import { EngineError } from '../../core/planningEngine.js';
import type { Logger } from '../../core/logger.js';
import { checkedRunner, runPipelineBatch } from '../../ar1/planPipeline.js';
import type { GraphRunner } from '../../ar1/pipelineTypes.js';
import type { Tensor } from '../../ar1/tensors.js';
import { loadTokenizer } from '../../ar1/tokenizer.js';
import type { BundleTokenizer } from '../../ar1/tokenizer.js';
import { BundleError } from '../../bundle/manifest.js';
import type { Manifest } from '../../bundle/manifest.js';
import { verifyBundle } from '../../bundle/verifyBundle.js';
import { createSessions } from './ort.js';
import type { SessionSet } from './ort.js';
import { FramePreprocessor } from './preprocess.js';
import { FRAME_FIELDS, frameRef, unpackHistory } from './protocol.js';
import type { FromWorker, InitMessage, PlanMessage, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const logger: Logger = {
  debug: (message) => post({ type: 'log', level: 'debug', message }),
  info: (message) => post({ type: 'log', level: 'info', message }),
  warn: (message) => post({ type: 'log', level: 'warn', message }),
  error: (message) => post({ type: 'log', level: 'error', message }),
};
const now = () => performance.now();

interface Loaded {
  manifest: Manifest;
  tokenizer: BundleTokenizer;
  sessions: SessionSet;
  pre: FramePreprocessor;
  /** Preprocessed frames, one row of pixelDims per plan of a vision run; grown to the largest run so far. */
  pixels: Uint8Array;
  /** One plan's pixel_values dims [frames, H, W, 3]. */
  pixelDims: number[];
}
let loaded: Loaded | undefined;
let queue: Promise<void> = Promise.resolve();

/** Set by a 'retire' message, out of turn: no graph run starts after it, queued plans are skipped. */
let retired = false;

port.on('message', (m: ToWorker) => {
  if (m.type === 'retire') {
    retired = true;
    queue = queue.then(close);
    return;
  }
  queue = queue.then(() => handle(m));
});

async function handle(m: ToWorker): Promise<void> {
  if (retired) return; // the engine already failed these plans
  if (m.type === 'init') return init(m);
  if (m.type === 'plan') return plan([m]);
  if (m.type === 'batch') return plan(m.plans);
  await close();
}

async function close(): Promise<void> {
  await loaded?.sessions.release();
  loaded = undefined;
  if (!retired) post({ type: 'closed' });
  port!.close();
}

async function init(m: InitMessage): Promise<void> {
  try {
    const bundle = await verifyBundle(m.bundleDir, { now, ...(m.trusted ? { trusted: m.trusted } : {}) });
    const st = bundle.stats;
    logger.info(
      `bundle ${m.bundleDir} verified: hashed ${st.files} files (${(st.bytes / 1e6).toFixed(1)} MB) in ${(st.hashMs / 1e3).toFixed(2)} s` +
        (st.hashMs > 0 ? ` (${(st.bytes / 1e3 / st.hashMs).toFixed(0)} MB/s)` : '') +
        `, ${st.unchanged} unchanged since the last verification`,
    );
    const manifest = bundle.manifest;
    const tokenizer = loadTokenizer(bundle.tokenizerJson, manifest);
    const sessions = await createSessions(bundle.graphPaths, m.executionProviders, logger, m.intraOpThreads, now);
    const resize = manifest.image.preprocess === 'host';
    const size = resize ? manifest.image.model : manifest.image.native;
    const n = manifest.cameras.names.length * manifest.cameras.framesPerCamera;
    const pixelDims = [n, size.height, size.width, 3];
    loaded = {
      manifest,
      tokenizer,
      sessions,
      pre: new FramePreprocessor(manifest.image.native, manifest.image.model, resize),
      pixels: new Uint8Array(n * size.height * size.width * 3),
      pixelDims,
    };
    post({ type: 'ready', provider: sessions.provider, stamps: bundle.stamps });
  } catch (e) {
    post({
      type: 'init_error',
      kind: e instanceof BundleError ? 'bundle' : e instanceof EngineError ? e.kind : 'runtime',
      message: (e as Error).message,
    });
  }
}

/** The runner, refusing to start a graph run once the worker is retired (the plan in flight then ends at once). */
function unlessRetired(runner: GraphRunner): GraphRunner {
  return {
    run: (role, feeds) =>
      retired
        ? Promise.reject(new EngineError('worker_crashed', `${role}: not run, the worker was retired`))
        : runner.run(role, feeds),
  };
}

/** Shared frame memory (ring slots and pool slots) by id; each is sent once. */
const slots = new Map<number, SharedArrayBuffer>();

async function plan(ms: readonly PlanMessage[]): Promise<void> {
  const start = now();
  const returned = new Set<number>();
  const giveBack = (id: number) => {
    if (!returned.has(id)) {
      returned.add(id);
      post({ type: 'buffer', id });
    }
  };
  for (const m of ms) {
    for (const id of m.forget) slots.delete(id);
    for (const b of m.buffers) slots.set(b.slot, b.buffer);
  }
  const fail = (m: PlanMessage, e: unknown) => {
    const kind = e instanceof EngineError ? e.kind : e instanceof RangeError ? 'input' : 'runtime';
    const frame = e instanceof EngineError ? e.frame : undefined;
    post({ type: 'error', id: m.id, kind, message: (e as Error).message, ...(frame ? { frame } : {}) });
  };
  if (!loaded) {
    for (const m of ms) {
      giveBack(m.id);
      fail(m, new EngineError('runtime', 'worker has no bundle loaded'));
    }
    return;
  }
  const L = loaded;
  // The frames of this batch and of the one before it (the same bags' previous plans) stay cached.
  const framesPerPlan = L.manifest.cameras.names.length * L.manifest.cameras.framesPerCamera;
  L.pre.reserve(2 * ms.length * framesPerPlan);
  // One row per plan of the largest vision run this batch makes; the rows are views of one buffer.
  const planBytes = L.pixelDims.reduce((a, b) => a * b, 1);
  const rows = Math.min(ms.length, L.manifest.graphs.vision_encoder!.maxBatch);
  if (L.pixels.length < rows * planBytes) L.pixels = new Uint8Array(rows * planBytes);
  const preprocessMs = new Map<number, number>();
  /** Preprocesses a plan's frames into its row of the pixel buffer (its vision run comes next) and gives its slots back. */
  const pixels = async (m: PlanMessage, row: number): Promise<Tensor> => {
    const t = now();
    const out = L.pixels.subarray(row * planBytes, (row + 1) * planBytes);
    try {
      const frameBytes = planBytes / framesPerPlan;
      const perCam = L.manifest.cameras.framesPerCamera;
      if (m.frames.length !== framesPerPlan * FRAME_FIELDS)
        throw new EngineError(
          'runtime',
          `plan ${m.id}: expected ${framesPerPlan} frames, got a table of ${m.frames.length} numbers`,
        );
      /** One frame into its place in the plan's row; whatever fails (a bad range too) rejects this frame only. */
      const one = async (i: number): Promise<void> => {
        const camera = L.manifest.cameras.names[Math.floor(i / perCam)]!;
        const ref = frameRef(m.frames, i, camera);
        const buffer = slots.get(ref.slot);
        if (!buffer) throw new EngineError('runtime', `frame slot ${ref.slot} was never shared with this worker`);
        return L.pre
          .frame(
            i,
            new Uint8Array(buffer, ref.offset, ref.length),
            ref,
            out.subarray(i * frameBytes, (i + 1) * frameBytes),
            `${camera}[${i % perCam}]`,
          )
          .catch((e: unknown) => {
            // A frame that does not decode or has another size: the error names it, so the caller can drop it.
            if (e instanceof EngineError && e.kind === 'input' && !e.frame)
              throw new EngineError('input', e.message, { camera: Math.floor(i / perCam), index: i % perCam });
            throw e;
          });
      };
      const frames: Array<Promise<void>> = [];
      for (let i = 0; i < framesPerPlan; i++) frames.push(one(i));
      // Every frame settles before the next plan writes the pixel buffer (a failed frame's siblings still write).
      const settled = await Promise.allSettled(frames);
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      giveBack(m.id);
    }
    preprocessMs.set(m.id, ms.length === 1 ? now() - start : now() - t);
    return { type: 'uint8', data: out, dims: L.pixelDims };
  };
  L.sessions.sessionRunMs.value = 0;
  const results = await runPipelineBatch(
    {
      manifest: L.manifest,
      tokenizer: L.tokenizer,
      runner: checkedRunner(unlessRetired(L.sessions.runner), L.manifest),
      now,
    },
    ms.map((m) => ({
      pixels: (row: number) => pixels(m, row),
      history: unpackHistory(m.history, m.historyDtS),
      seed: m.seed,
      samples: m.samples,
    })),
  );
  const totalMs = now() - start;
  for (const [i, r] of results.entries()) {
    const m = ms[i]!;
    giveBack(m.id);
    if (r.status === 'rejected') {
      fail(m, r.reason);
      continue;
    }
    const out = r.value;
    post({
      type: 'result',
      id: m.id,
      result: {
        t0S: m.t0S,
        v0: out.v0,
        reasoning: out.reasoning,
        trajectory: out.samples[0]!,
        samples: out.samples,
        timing: {
          preprocessMs: preprocessMs.get(m.id) ?? 0,
          ...out.timing,
          totalMs,
          sessionRunMs: L.sessions.sessionRunMs.value,
        },
      },
    });
  }
}
