/**
 * One AR1 plan, or several together, over an abstract graph runner (the onnxruntime worker supplies the real one).
 * Split form: vision → prompt (template, image pads, history tokens, 3-axis positions) → prefill (one prompt per plan)
 * → the prompt cache repeated to the K samples → K samples decoded together, one decode step per token with the
 * per-layer cache fed back (past_key_values.{i} ← present.{i}) → the flow-matching expert for the K samples in one
 * batch, attending to each sample's cache up to its <|traj_future_start|> → denormalise → unicycle rollout. Fused form:
 * vision → prompt → one `generate` run → rollout. Sample s of a plan with seed n draws exactly what sample 0 of a plan
 * with seed n + s draws. No I/O and no clock of its own: `now` is injected for the stage timing.
 *
 * This module holds the entry points (`runPipeline`, `runPipelineBatch`, `checkedRunner`): how plans are grouped
 * between stages and what happens when a shared run fails. The stages are in pipelinePrefill.ts (vision, prompt,
 * prefill), pipelineDecode.ts (reasoning), pipelineAction.ts (expert, rollout) and pipelineFused.ts (`generate`); the
 * types they share in pipelineTypes.ts, whose public ones are re-exported here.
 */
import { EngineError } from '../core/planningEngine.js';
import type { EgoHistory } from '../core/planningEngine.js';
import type { Manifest } from '../bundle/manifest.js';
import { expert } from './pipelineAction.js';
import { decodeTogether } from './pipelineDecode.js';
import { fused } from './pipelineFused.js';
import { prefill, promptOf, see } from './pipelinePrefill.js';
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
import { firstNonFinite, floatAt } from './tensors.js';
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

/** One plan alone: runPipelineBatch with one plan; its failure is thrown. */
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
    const same = byLength.get(P);
    if (same) same.push(d);
    else byLength.set(P, [d]);
  }
  const out: Array<[number, PipelineOutput]> = [];
  for (const same of byLength.values()) out.push(...(await expert(ctx, same)));
  return out;
}
