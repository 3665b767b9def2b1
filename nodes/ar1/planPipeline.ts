/**
 * One AR1 plan over an abstract graph runner (the onnxruntime worker supplies the real one), split form:
 * vision → prompt (template, image pads, history tokens, 3-axis positions) → prefill (batch 1) → the prompt cache
 * repeated to the K samples → K samples decoded together, one decode step per token with the per-layer cache fed
 * back (past_key_values.{i} ← present.{i}) → the flow-matching expert for the K samples in one batch, attending to
 * each sample's cache up to its <|traj_future_start|> → denormalise → unicycle rollout.
 * Sample s of a plan with seed n draws exactly what sample 0 of a plan with seed n + s draws.
 * No I/O and no clock of its own: `now` is injected for the stage timing.
 */
import { EngineError } from '../core/planningEngine.js';
import type { EgoHistory, PlanTiming, PlanTrajectory } from '../core/planningEngine.js';
import { denormalizeActions } from './actionSpace.js';
import { flowMatchEuler } from './flowMatching.js';
import { historyTokens } from './historyTokens.js';
import { estimateInitialSpeed } from './initialSpeed.js';
import { deepstackName, pastKey, pastValue, presentKey, presentValue } from '../bundle/manifest.js';
import type { GraphRole, Manifest } from '../bundle/manifest.js';
import { buildPrompt, decodePositions, expertPositions } from './prompt.js';
import { SeededRng } from './rng.js';
import { sampleToken } from './sampling.js';
import { TokenRng } from './tokenRng.js';
import { firstNonFinite, floatAt, floatTensor, floatValues, int64Tensor, repeatBatch } from './tensors.js';
import type { Tensor } from './tensors.js';
import type { BundleTokenizer } from './tokenizer.js';
import { rolloutUnicycle } from './unicycle.js';

export type { Tensor } from './tensors.js';

export interface GraphRunner {
  /** Runs one graph; outputs by name. Rejects on failure. */
  run(role: GraphRole, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
}

export interface PipelineOutput {
  v0: number;
  reasoning: { text: string; tokens: number; generationMs: number };
  samples: PlanTrajectory[];
  /** Everything except preprocessMs / totalMs / sessionRunMs, which the caller owns. */
  timing: Pick<PlanTiming, 'visionMs' | 'reasoningMs' | 'actionMs'>;
  /** Texts of all samples (sample 0 first). */
  texts: string[];
  /** Generated token ids of every sample (up to and including <|traj_future_start|>, or to the bound). */
  tokenIds: number[][];
  /** Normalised expert output of every sample, [steps, 2] each, before denormalisation. */
  actions: Float32Array[];
}

export interface PipelineContext {
  manifest: Manifest;
  tokenizer: BundleTokenizer;
  runner: GraphRunner;
  now: () => number;
}

/** Wraps a runner so every float output is checked for NaN/Inf: EngineError('non_finite') naming graph, tensor, index. */
export function checkedRunner(inner: GraphRunner, manifest: Manifest): GraphRunner {
  return {
    async run(role, feeds) {
      const out = await inner.run(role, feeds);
      for (const [name, t] of Object.entries(out)) {
        const i = firstNonFinite(t);
        if (i >= 0)
          throw new EngineError(
            'non_finite',
            `${manifest.graphs[role]?.file ?? role}: output ${name}[${i}] is ${floatAt(t, i)} (graph ${role}) [bundle=${manifest.bundle.id}]`,
          );
      }
      return out;
    },
  };
}

/** finfo.min of the mask dtype: the additive mask value for positions a sample must not attend to. */
const MASKED = { float32: -3.4028234663852886e38, float16: -65504 } as const;

export async function runPipeline(
  ctx: PipelineContext,
  pixels: Tensor,
  history: EgoHistory,
  seed: number,
  samples: number,
): Promise<PipelineOutput> {
  const { manifest: m, tokenizer: tok, runner, now } = ctx;
  const K = samples;
  const L = m.lm.layers;
  const v0 = estimateInitialSpeed(history, history.dt);
  const spec = (role: GraphRole, name: string) => m.graphs[role]!.inputs.find((t) => t.name === name)!;

  let t = now();
  const vision = await runner.run('vision_encoder', { pixel_values: pixels });
  const visionMs = now() - t;

  t = now();
  const histTok = historyTokens(history, m.history.tokenRanges, m.history.bins, m.history.tokenOffset);
  const prompt = buildPrompt(m, tok, Array.from(histTok, Number), m.cameras.names.length * m.cameras.framesPerCamera);
  const S = prompt.ids.length;
  const prefillFeeds: Record<string, Tensor> = {
    input_ids: int64Tensor(prompt.ids, [1, S]),
    position_ids: int64Tensor(prompt.positions, [3, 1, S]),
    image_embeds: need(vision, 'image_embeds', 'vision_encoder'),
  };
  for (let j = 0; j < m.vision.deepstack; j++)
    prefillFeeds[deepstackName(j)] = need(vision, deepstackName(j), 'vision_encoder');
  if (m.form === 'fused') return fused(ctx, prefillFeeds, v0, seed, K, visionMs, t);
  const prefill = await runner.run('lm_prefill', prefillFeeds);
  let cache: Tensor[] = [];
  for (let i = 0; i < L; i++)
    cache.push(
      repeatBatch(need(prefill, presentKey(i), 'lm_prefill'), K),
      repeatBatch(need(prefill, presentValue(i), 'lm_prefill'), K),
    );
  const prefillLogits = floatValues(need(prefill, 'logits', 'lm_prefill'));
  const V = prefillLogits.length;
  let logitRows: Float32Array[] = Array.from({ length: K }, () => prefillLogits);

  const rngs = Array.from({ length: K }, (_, s) => new TokenRng(seed + s));
  const ids: number[][] = Array.from({ length: K }, () => []);
  /** Sequence index of each sample's first action token; undefined while it is still reasoning. */
  const offsets: (number | undefined)[] = new Array(K).fill(undefined);
  const inputIds = new Array<number>(K).fill(0);
  for (let step = 0; ; step++) {
    for (let s = 0; s < K; s++) {
      if (offsets[s] !== undefined) continue; // finished: keeps feeding its last token, masked for the expert
      const next = sampleToken(logitRows[s]!, m.sampling, rngs[s]!, tok.masked);
      ids[s]!.push(next);
      inputIds[s] = next;
    }
    if (step + 1 >= m.sampling.maxTokens) {
      // The bound, as upstream: generation stops with max_new_tokens tokens; the last one never enters the cache,
      // and the expert attends to everything cached, its first token one after the last generated one.
      for (let s = 0; s < K; s++) offsets[s] ??= S + step + 1;
      break;
    }
    const feeds: Record<string, Tensor> = {
      input_ids: int64Tensor(inputIds, [K, 1]),
      position_ids: int64Tensor(decodePositions(S + step, prompt.ropeDelta, K), [3, K, 1]),
    };
    for (let i = 0; i < L; i++) {
      feeds[pastKey(i)] = cache[2 * i]!;
      feeds[pastValue(i)] = cache[2 * i + 1]!;
    }
    const out = await runner.run('lm_decode', feeds);
    cache = [];
    for (let i = 0; i < L; i++)
      cache.push(need(out, presentKey(i), 'lm_decode'), need(out, presentValue(i), 'lm_decode'));
    const logits = floatValues(need(out, 'logits', 'lm_decode'));
    if (logits.length !== K * V)
      throw new EngineError('runtime', `lm_decode: logits: expected ${K}×${V} values, got ${logits.length}`);
    logitRows = Array.from({ length: K }, (_, s) => logits.subarray(s * V, (s + 1) * V));
    // A sample stops once <|traj_future_start|> is in the cache: its state conditions the expert.
    for (let s = 0; s < K; s++)
      if (offsets[s] === undefined && inputIds[s] === tok.trajFutureStart) offsets[s] = S + step + 1;
    if (offsets.every((o) => o !== undefined)) break;
  }
  const texts = ids.map((list) => {
    const end = list.indexOf(tok.cotEnd);
    return tok.decode(end >= 0 ? list.slice(0, end) : list);
  });
  const reasoningMs = now() - t;

  t = now();
  const steps = m.trajectory.steps;
  const P = cache[0]!.dims[2]!; // cached positions, the same for every sample (lockstep)
  const maskSpec = spec('action_expert', 'attention_mask');
  const maskValue = MASKED[maskSpec.dtype === 'float16' ? 'float16' : 'float32'];
  const mask = new Float32Array(K * steps * (P + steps));
  for (let s = 0; s < K; s++) {
    const from = Math.min(P, offsets[s]!);
    for (let q = 0; q < steps; q++)
      mask.fill(maskValue, (s * steps + q) * (P + steps) + from, (s * steps + q) * (P + steps) + P);
  }
  const fixed: Record<string, Tensor> = {
    position_ids: int64Tensor(expertPositions(offsets as number[], prompt.ropeDelta, steps), [3, K, steps]),
    attention_mask: floatTensor(maskSpec.dtype, mask, [K, 1, steps, P + steps]),
  };
  for (let i = 0; i < L; i++) {
    fixed[pastKey(i)] = cache[2 * i]!;
    fixed[pastValue(i)] = cache[2 * i + 1]!;
  }
  const noise = flowNoise(seed, K, steps);
  const tValues = new Float32Array(K);
  const xType = spec('action_expert', 'x').dtype,
    tType = spec('action_expert', 't').dtype;
  const n = await flowMatchEuler(noise, m.action.flowSteps, async (x, time) => {
    tValues.fill(time);
    const r = await runner.run('action_expert', {
      ...fixed,
      x: floatTensor(xType, x, [K, steps, 2]),
      t: floatTensor(tType, tValues, [K]),
    });
    return floatValues(need(r, 'velocity', 'action_expert'));
  });
  const { samples: out, actions } = trajectories(m, v0, n, K);
  const actionMs = now() - t;
  return {
    v0,
    reasoning: { text: texts[0]!, tokens: ids[0]!.length, generationMs: reasoningMs },
    samples: out,
    timing: { visionMs, reasoningMs, actionMs },
    texts,
    tokenIds: ids,
    actions,
  };
}

/** N(0, 1) flow noise [K, steps, 2]: sample s from SeededRng(seed + s, 1), in either form. */
function flowNoise(seed: number, K: number, steps: number): Float32Array {
  const noise = new Float32Array(K * steps * 2);
  for (let s = 0; s < K; s++) noise.set(new SeededRng(seed + s, 1).normals(steps * 2), s * steps * 2);
  return noise;
}

function trajectories(
  m: Manifest,
  v0: number,
  n: Float32Array,
  K: number,
): { samples: PlanTrajectory[]; actions: Float32Array[] } {
  const steps = m.trajectory.steps;
  const samples: PlanTrajectory[] = [];
  const actions: Float32Array[] = [];
  for (let s = 0; s < K; s++) {
    const ns = n.slice(s * steps * 2, (s + 1) * steps * 2);
    actions.push(ns);
    const { accel, curvature } = denormalizeActions(ns, m.action.normalization);
    samples.push(toTrajectory(v0, accel, curvature, m.trajectory.dtS, m.bundle.id));
  }
  return { samples, actions };
}

/**
 * The fused form: one `generate` run does prefill, the sampled reasoning loop and the flow-matching loop on the
 * device. In: the prompt, seeds (seed + s), the flow noise, the trajectory-token mask as a logit bias and the sampling
 * settings; out: tokens, token counts and normalised actions. Same draws as the split form.
 */
async function fused(
  ctx: PipelineContext,
  prefillFeeds: Record<string, Tensor>,
  v0: number,
  seed: number,
  K: number,
  visionMs: number,
  start: number,
): Promise<PipelineOutput> {
  const { manifest: m, tokenizer: tok, runner, now } = ctx;
  const steps = m.trajectory.steps;
  const biasSpec = m.graphs.generate!.inputs.find((x) => x.name === 'logit_bias')!;
  const V = typeof biasSpec.shape[0] === 'number' ? biasSpec.shape[0] : tok.vocabSize;
  const bias = new Float32Array(V);
  for (const id of tok.masked) if (id < V) bias[id] = -Infinity;
  const scalarF = (v: number): Tensor => ({ type: 'float32', data: Float32Array.of(v), dims: [] });
  const scalarI = (v: number): Tensor => ({ type: 'int64', data: BigInt64Array.of(BigInt(v)), dims: [] });
  const out = await runner.run('generate', {
    ...prefillFeeds,
    seeds: int64Tensor(
      Array.from({ length: K }, (_, s) => seed + s),
      [K],
    ),
    noise: { type: 'float32', data: flowNoise(seed, K, steps), dims: [K, steps, 2] },
    logit_bias: { type: 'float32', data: bias, dims: [V] },
    max_tokens: scalarI(m.sampling.maxTokens),
    temperature: scalarF(m.sampling.temperature),
    top_p: scalarF(m.sampling.topP),
    stop_token: scalarI(tok.trajFutureStart),
    flow_steps: scalarI(m.action.flowSteps),
  });
  const tokens = need(out, 'tokens', 'generate'),
    counts = need(out, 'token_counts', 'generate');
  const T = tokens.dims[1]!;
  const ids = Array.from({ length: K }, (_, s) => {
    const n = Number((counts.data as BigInt64Array)[s]);
    return Array.from((tokens.data as BigInt64Array).subarray(s * T, s * T + n), Number);
  });
  const texts = ids.map((list) => {
    const end = list.indexOf(tok.cotEnd);
    return tok.decode(end >= 0 ? list.slice(0, end) : list);
  });
  const t = now();
  const { samples, actions } = trajectories(m, v0, floatValues(need(out, 'actions', 'generate')), K);
  const generateMs = t - start;
  // Reasoning and action run in one graph: the split of its time between them is not observable; it is all
  // reported as reasoning, and actionMs covers the host rollout only.
  return {
    v0,
    reasoning: { text: texts[0]!, tokens: ids[0]!.length, generationMs: generateMs },
    samples,
    timing: { visionMs, reasoningMs: generateMs, actionMs: now() - t },
    texts,
    tokenIds: ids,
    actions,
  };
}

function toTrajectory(
  v0: number,
  accel: Float64Array,
  curvature: Float64Array,
  dt: number,
  bundleId: string,
): PlanTrajectory {
  const r = rolloutUnicycle(v0, accel, curvature, dt);
  for (const [name, arr] of Object.entries(r) as [string, Float64Array][]) {
    const i = arr.findIndex((v) => !Number.isFinite(v));
    if (i >= 0)
      throw new EngineError(
        'non_finite',
        `trajectory ${name}[${i}] is ${arr[i]} after rollout (v0=${v0}) [bundle=${bundleId}]`,
      );
  }
  const t = Float64Array.from({ length: accel.length }, (_, k) => (k + 1) * dt);
  return { dt, t, x: r.x, y: r.y, heading: r.heading, speed: r.speed, acceleration: accel, curvature };
}

function need(out: Record<string, Tensor>, name: string, role: GraphRole): Tensor {
  const t = out[name];
  if (!t) throw new EngineError('runtime', `${role}: graph output ${name} missing`);
  return t;
}
