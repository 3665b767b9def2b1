/**
 * The fused form after the prompt, one plan at a time: a single `generate` graph does on the device what the split
 * form's prefill, decode and action stages do on the host, so this module only assembles its feeds from the same
 * pieces (prompt feeds, seeds, flow noise; pipelinePrefill, pipelineAction) and turns its outputs into a
 * PipelineOutput (texts, rollout). No I/O; `now` is injected.
 */
import { EngineError } from '../core/planningEngine.js';
import { flowNoise, trajectories } from './pipelineAction.js';
import { reasoningTexts } from './pipelineDecode.js';
import { prefillFeeds } from './pipelinePrefill.js';
import { need } from './pipelineTypes.js';
import type { PipelineContext, PipelineOutput, Prompted } from './pipelineTypes.js';
import { floatValues, int64Tensor } from './tensors.js';
import type { Tensor } from './tensors.js';

/**
 * The fused form: one `generate` run does prefill, the sampled reasoning loop and the flow-matching loop on the
 * device. In: the prompt, seeds (seed + s), the flow noise, the trajectory-token mask as a logit bias and the sampling
 * settings; out: tokens, token counts and normalised actions. Same draws as the split form.
 */
export async function fused(ctx: PipelineContext, p: Prompted): Promise<PipelineOutput> {
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
  const T = tokens.dims[1] ?? -1;
  if (tokens.dims.length !== 2 || tokens.dims[0] !== K || tokens.data.length !== K * T)
    throw new EngineError('runtime', `generate: tokens: expected [${K}, T], got [${tokens.dims.join(', ')}]`);
  if (counts.data.length !== K)
    throw new EngineError('runtime', `generate: token_counts: expected ${K} counts, got ${counts.data.length}`);
  const ids = Array.from({ length: K }, (_, s) => {
    const n = Number((counts.data as BigInt64Array)[s]);
    // A count past T would read the next sample's tokens into this sample's text.
    if (!(Number.isInteger(n) && n >= 0 && n <= T))
      throw new EngineError('runtime', `generate: token_counts[${s}]: expected 0 … ${T} (the tokens' width), got ${n}`);
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
