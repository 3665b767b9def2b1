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
import type { EgoHistory } from '../core/planningEngine.js';
import type { Manifest } from '../bundle/manifest.js';
import { expert, flowNoise, trajectories } from './pipelineAction.js';
import { decodeTogether, reasoningTexts } from './pipelineDecode.js';
import { prefill, prefillFeeds, promptOf, see } from './pipelinePrefill.js';
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
import { firstNonFinite, floatAt, floatValues, int64Tensor } from './tensors.js';
import type { Tensor } from './tensors.js';

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
