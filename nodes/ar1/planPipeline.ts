/**
 * One AR1 plan over an abstract graph runner (the onnxruntime worker supplies the real one), split form:
 * vision → prompt (template, image pads, history tokens, 3-axis positions) → prefill (one prompt per plan) → the
 * prompt cache repeated to the K samples → K samples decoded together, one decode step per token with the per-layer
 * cache fed back (past_key_values.{i} ← present.{i}) → the flow-matching expert for the K samples in one batch,
 * attending to each sample's cache up to its <|traj_future_start|> → denormalise → unicycle rollout.
 * Sample s of a plan with seed n draws exactly what sample 0 of a plan with seed n + s draws.
 * No I/O and no clock of its own: `now` is injected for the stage timing.
 */
import { EngineError } from '../core/planningEngine.js';
import type { EgoHistory, PlanTrajectory } from '../core/planningEngine.js';
import { denormalizeActions } from './actionSpace.js';
import { flowMatchEuler } from './flowMatching.js';
import { pastKey, pastValue } from '../bundle/manifest.js';
import type { Manifest } from '../bundle/manifest.js';
import { expertPositions } from './prompt.js';
import { SeededRng } from './rng.js';
import { firstNonFinite, floatAt, floatTensor, floatValues, int64Tensor, stackRows } from './tensors.js';
import type { Tensor } from './tensors.js';
import { decodeTogether, reasoningTexts } from './pipelineDecode.js';
import { prefill, prefillFeeds, promptOf, see } from './pipelinePrefill.js';
import { rolloutUnicycle } from './unicycle.js';
import { need } from './pipelineTypes.js';
import type {
  Decoded,
  GraphRunner,
  PipelineContext,
  PipelineOutput,
  PipelinePlan,
  Prefilled,
  Prompted,
  Reject,
} from './pipelineTypes.js';

export type { Tensor } from './tensors.js';
export type { GraphRunner, PipelineContext, PipelineOutput, PipelinePlan } from './pipelineTypes.js';

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
  const [r] = await runPipelineBatch(ctx, [{ pixels: () => pixels, history, seed, samples }]);
  if (r!.status === 'rejected') throw r!.reason;
  return r!.value;
}

/**
 * Several plans in one pass (batched inference across bags). Vision runs once for up to vision_encoder's
 * `max_batch` plans (their images one after another), prefill once for up to lm_prefill's `max_batch` plans whose
 * prompts have the same length (a bundle that declares 1 runs them plan by plan); the plans whose prompts have the
 * same length decode together, one lm_decode run per token for all their samples, each plan leaving the batch with
 * its own cache as soon as all its samples stopped; the action expert runs once per flow step for all the plans
 * whose caches have the same length. Rows never mix: every plan's rows see exactly the inputs they would see alone
 * (same lengths, nothing padded), and each plan draws from its own seeds, so with row-independent graphs each plan's
 * outputs are bit-identical to runPipeline on it alone (tested for the demo and tiny AR1 bundles on the CPU). A
 * failure fails only its plan: a plan whose pixels fail leaves the batch alone, and a shared run that throws is run
 * again plan by plan. Stage times of shared runs are counted for every plan in them. A fused bundle's `generate`
 * runs plan by plan (its vision may be batched).
 */
export async function runPipelineBatch(
  ctx: PipelineContext,
  plans: readonly PipelinePlan[],
): Promise<PromiseSettledResult<PipelineOutput>[]> {
  const results: PromiseSettledResult<PipelineOutput>[] = new Array(plans.length);
  const reject: Reject = (index, reason) => {
    results[index] = { status: 'rejected', reason };
  };
  const prompted: Prompted[] = [];
  for (const s of await see(ctx, plans, reject)) {
    try {
      prompted.push(promptOf(ctx, s));
    } catch (e) {
      reject(s.index, e);
    }
  }
  if (ctx.manifest.form === 'fused') {
    for (const p of prompted) {
      try {
        results[p.index] = { status: 'fulfilled', value: await fused(ctx, p) };
      } catch (e) {
        reject(p.index, e);
      }
    }
    return results;
  }
  const byLength = new Map<number, Prompted[]>();
  for (const p of prompted) {
    const same = byLength.get(p.S);
    if (same) same.push(p);
    else byLength.set(p.S, [p]);
  }
  const groups: Prefilled[][] = [];
  for (const same of byLength.values()) {
    const group = await prefill(ctx, same, reject);
    if (group.length > 0) groups.push(group);
  }
  for (const group of groups) {
    try {
      for (const [i, out] of await finish(ctx, group)) results[i] = { status: 'fulfilled', value: out };
    } catch (e) {
      if (group.length === 1) {
        reject(group[0]!.index, e);
        continue;
      }
      // Which plan failed is not known: each runs again alone, and fails or succeeds as it would alone.
      for (const pre of group) {
        try {
          for (const [i, out] of await finish(ctx, [pre])) results[i] = { status: 'fulfilled', value: out };
        } catch (e1) {
          reject(pre.index, e1);
        }
      }
    }
  }
  return results;
}

/** Decode (all plans of the group together) and the expert (plans with equal cache lengths together). */
async function finish(ctx: PipelineContext, group: readonly Prefilled[]): Promise<Array<[number, PipelineOutput]>> {
  const decoded = await decodeTogether(ctx, group);
  const byLength = new Map<number, Decoded[]>();
  for (const d of decoded) {
    const P = d.cache[0]!.dims[2]!;
    byLength.set(P, [...(byLength.get(P) ?? []), d]);
  }
  const out: Array<[number, PipelineOutput]> = [];
  for (const same of byLength.values()) out.push(...(await expert(ctx, same)));
  return out;
}

/**
 * The flow-matching expert for plans whose caches have the same length, one run per Euler step for all their
 * samples, each attending to its own cache up to its <|traj_future_start|>; then denormalise and roll out per plan.
 */
async function expert(ctx: PipelineContext, plans: readonly Decoded[]): Promise<Array<[number, PipelineOutput]>> {
  const { manifest: m, tokenizer: tok, runner, now } = ctx;
  const L = m.lm.layers;
  const spec = (name: string) => m.graphs.action_expert!.inputs.find((t) => t.name === name)!;
  const t = now();
  const steps = m.trajectory.steps;
  const P = plans[0]!.cache[0]!.dims[2]!; // cached positions, the same for every row here
  const R = plans.reduce((n, d) => n + d.offsets.length, 0);
  const maskSpec = spec('attention_mask');
  const maskValue = MASKED[maskSpec.dtype === 'float16' ? 'float16' : 'float32'];
  const mask = new Float32Array(R * steps * (P + steps));
  const positions: number[][] = [[], [], []];
  let row = 0;
  for (const d of plans) {
    for (const offset of d.offsets) {
      const from = Math.min(P, offset);
      for (let q = 0; q < steps; q++)
        mask.fill(maskValue, (row * steps + q) * (P + steps) + from, (row * steps + q) * (P + steps) + P);
      row++;
    }
    const pos = expertPositions(d.offsets, d.pre.ropeDelta, steps);
    const per = d.offsets.length * steps;
    for (let axis = 0; axis < 3; axis++) positions[axis]!.push(...pos.slice(axis * per, (axis + 1) * per));
  }
  const fixed: Record<string, Tensor> = {
    position_ids: int64Tensor(positions.flat(), [3, R, steps]),
    attention_mask: floatTensor(maskSpec.dtype, mask, [R, 1, steps, P + steps]),
  };
  for (let i = 0; i < L; i++) {
    fixed[pastKey(i)] = stackRows(plans.map((d) => ({ t: d.cache[2 * i]!, times: 1 })));
    fixed[pastValue(i)] = stackRows(plans.map((d) => ({ t: d.cache[2 * i + 1]!, times: 1 })));
  }
  const noise = new Float32Array(R * steps * 2);
  row = 0;
  for (const d of plans) {
    noise.set(flowNoise(d.pre.plan.seed, d.offsets.length, steps), row * steps * 2);
    row += d.offsets.length;
  }
  const tValues = new Float32Array(R);
  const xType = spec('x').dtype,
    tType = spec('t').dtype;
  const n = await flowMatchEuler(noise, m.action.flowSteps, async (x, time) => {
    tValues.fill(time);
    const r = await runner.run('action_expert', {
      ...fixed,
      x: floatTensor(xType, x, [R, steps, 2]),
      t: floatTensor(tType, tValues, [R]),
    });
    return floatValues(need(r, 'velocity', 'action_expert'));
  });
  const flowEnd = now();
  const out: Array<[number, PipelineOutput]> = [];
  row = 0;
  for (const d of plans) {
    const K = d.offsets.length;
    const rollStart = now();
    const { samples, actions } = trajectories(m, d.pre.v0, n.subarray(row * steps * 2, (row + K) * steps * 2), K);
    row += K;
    const texts = reasoningTexts(tok, d.ids);
    out.push([
      d.pre.index,
      {
        v0: d.pre.v0,
        reasoning: { text: texts[0]!, tokens: d.ids[0]!.length, generationMs: d.reasoningMs },
        samples,
        timing: { visionMs: d.pre.visionMs, reasoningMs: d.reasoningMs, actionMs: flowEnd - t + (now() - rollStart) },
        texts,
        tokenIds: d.ids,
        actions,
      },
    ]);
  }
  return out;
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
async function fused(ctx: PipelineContext, p: Prompted): Promise<PipelineOutput> {
  const { manifest: m, tokenizer: tok, runner, now } = ctx;
  const { v0, visionMs, reasoningStart: start } = p;
  const { seed, samples: K } = p.plan;
  const steps = m.trajectory.steps;
  const biasSpec = m.graphs.generate!.inputs.find((x) => x.name === 'logit_bias')!;
  const V = typeof biasSpec.shape[0] === 'number' ? biasSpec.shape[0] : tok.vocabSize;
  const bias = new Float32Array(V);
  for (const id of tok.masked) if (id < V) bias[id] = -Infinity;
  const scalarF = (v: number): Tensor => ({ type: 'float32', data: Float32Array.of(v), dims: [] });
  const scalarI = (v: number): Tensor => ({ type: 'int64', data: BigInt64Array.of(BigInt(v)), dims: [] });
  const out = await runner.run('generate', {
    ...prefillFeeds(m, [p]),
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
  const texts = reasoningTexts(tok, ids);
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
