/**
 * The plan pipeline's first stages, for one plan or a batch: vision (`see`: up to vision_encoder's max_batch plans'
 * frames in one run, each plan taking its share of the output rows), the prompt (`promptOf`: template, image pads,
 * history tokens, 3-axis positions) and, for the split form, prefill (`prefill`: up to lm_prefill's max_batch prompts
 * of the same length in one run, each plan taking its row of the logits and of the cache). A plan whose pixels fail is
 * rejected alone; a shared run that throws runs again plan by plan, so each plan fails or succeeds as it would alone.
 * `prefillFeeds` also builds the prompt feeds of the fused form's `generate`. No I/O; `now` is injected.
 */
import { EngineError } from '../core/planningEngine.js';
import { deepstackName, presentKey, presentValue } from '../bundle/manifest.js';
import type { Manifest } from '../bundle/manifest.js';
import { historyTokens } from './historyTokens.js';
import { estimateInitialSpeed } from './initialSpeed.js';
import { need } from './pipelineTypes.js';
import type { PipelineContext, PipelinePlan, Prefilled, Prompted, Reject, Seen } from './pipelineTypes.js';
import { buildPrompt } from './prompt.js';
import { floatValues, int64Tensor, joinRows, rowsView } from './tensors.js';
import type { Tensor } from './tensors.js';

/** image_embeds and the deepstack features: what vision hands to prefill. */
const embedNames = (m: Manifest): string[] => [
  'image_embeds',
  ...Array.from({ length: m.vision.deepstack }, (_, j) => deepstackName(j)),
];

/**
 * Vision for the plans, up to vision_encoder's max_batch in one run. Each plan's pixels are asked for with its row
 * in the run; a plan whose pixels (or history) fail is rejected alone and the next plan takes its row.
 */
export async function see(ctx: PipelineContext, plans: readonly PipelinePlan[], reject: Reject): Promise<Seen[]> {
  const max = ctx.manifest.graphs.vision_encoder!.maxBatch;
  const seen: Seen[] = [];
  let run: VisionRow[] = [];
  for (const [index, plan] of plans.entries()) {
    try {
      const pixels = await plan.pixels(run.length);
      run.push({ index, plan, pixels, v0: estimateInitialSpeed(plan.history, plan.history.dt) });
    } catch (e) {
      reject(index, e);
    }
    if (run.length === max || (index === plans.length - 1 && run.length > 0)) {
      seen.push(...(await visionRun(ctx, run, reject)));
      run = [];
    }
  }
  return seen;
}

interface VisionRow {
  index: number;
  plan: PipelinePlan;
  pixels: Tensor;
  v0: number;
}

/** One vision run for the rows' plans; a run of several that throws is run again plan by plan. */
async function visionRun(ctx: PipelineContext, run: readonly VisionRow[], reject: Reject): Promise<Seen[]> {
  const { manifest: m, runner, now } = ctx;
  const B = run.length;
  try {
    const t = now();
    const out = await runner.run('vision_encoder', { pixel_values: joinRows(run.map((r) => r.pixels)) });
    const visionMs = now() - t;
    const whole: Record<string, Tensor> = {};
    for (const name of embedNames(m)) whole[name] = need(out, name, 'vision_encoder');
    return run.map((r, b) => {
      const embeds: Record<string, Tensor> = {};
      for (const name of embedNames(m)) embeds[name] = B === 1 ? whole[name]! : planRows(whole, name, b, B);
      return { index: r.index, plan: r.plan, v0: r.v0, embeds, visionMs };
    });
  } catch (e) {
    return aloneAfter(run, e, reject, (r) => visionRun(ctx, [r], reject));
  }
}

/**
 * After a shared run threw: a run of one plan rejects it with the error; a run of several is run again plan by plan
 * (which plan failed is not known), so each fails or succeeds as it would alone.
 */
async function aloneAfter<T extends { index: number }, R>(
  run: readonly T[],
  e: unknown,
  reject: Reject,
  again: (one: T) => Promise<R[]>,
): Promise<R[]> {
  if (run.length === 1) {
    reject(run[0]!.index, e);
    return [];
  }
  const out: R[] = [];
  for (const r of run) out.push(...(await again(r)));
  return out;
}

/** Plan b's rows of a vision output that carried B plans (a view): the output's rows split evenly between them. */
function planRows(out: Record<string, Tensor>, name: string, b: number, B: number): Tensor {
  const t = out[name]!;
  const rows = t.dims[0] ?? 0;
  if (rows % B !== 0)
    throw new EngineError(
      'runtime',
      `vision_encoder: output ${name} [${t.dims}]: expected a multiple of ${B} rows, one share per plan of the run`,
    );
  return rowsView(t, (b * rows) / B, rows / B);
}

/** The plan's prompt (template, image pads, history tokens, 3-axis positions). */
export function promptOf(ctx: PipelineContext, s: Seen): Prompted {
  const { manifest: m, tokenizer: tok, now } = ctx;
  const reasoningStart = now();
  const histTok = historyTokens(s.plan.history, m.history.tokenRanges, m.history.bins, m.history.tokenOffset);
  const prompt = buildPrompt(m, tok, Array.from(histTok, Number), m.cameras.names.length * m.cameras.framesPerCamera);
  return { ...s, prompt, S: prompt.ids.length, reasoningStart };
}

/** lm_prefill's (or generate's prompt) feeds for plans whose prompts have the same length: [B, S] in plan order. */
export function prefillFeeds(m: Manifest, run: readonly Prompted[]): Record<string, Tensor> {
  const B = run.length,
    S = run[0]!.S;
  const axis = (a: number) => run.flatMap((p) => p.prompt.positions.slice(a * S, (a + 1) * S));
  const feeds: Record<string, Tensor> = {
    input_ids: int64Tensor(B === 1 ? run[0]!.prompt.ids : run.flatMap((p) => p.prompt.ids), [B, S]),
    position_ids: int64Tensor(B === 1 ? run[0]!.prompt.positions : [0, 1, 2].flatMap(axis), [3, B, S]),
  };
  for (const name of embedNames(m)) feeds[name] = joinRows(run.map((p) => p.embeds[name]!));
  return feeds;
}

/** Prefill for plans whose prompts have the same length, up to lm_prefill's max_batch in one run. */
export async function prefill(ctx: PipelineContext, same: readonly Prompted[], reject: Reject): Promise<Prefilled[]> {
  const max = ctx.manifest.graphs.lm_prefill!.maxBatch;
  const done: Prefilled[] = [];
  for (let at = 0; at < same.length; at += max) done.push(...(await prefillRun(ctx, same.slice(at, at + max), reject)));
  return done;
}

/**
 * One prefill run; each plan takes its row of the logits and of every cache tensor (B rows, one per prompt). A run of
 * several that throws is run again plan by plan.
 */
async function prefillRun(ctx: PipelineContext, run: readonly Prompted[], reject: Reject): Promise<Prefilled[]> {
  const { manifest: m, runner } = ctx;
  const B = run.length;
  try {
    const out = await runner.run('lm_prefill', prefillFeeds(m, run));
    const row = (name: string, b: number): Tensor => {
      const t = need(out, name, 'lm_prefill');
      if (B === 1) return t;
      if (t.dims[0] !== B)
        throw new EngineError('runtime', `lm_prefill: output ${name} [${t.dims}]: expected ${B} rows, one per prompt`);
      return rowsView(t, b, 1);
    };
    return run.map((p, b) => {
      const cache: Tensor[] = [];
      for (let i = 0; i < m.lm.layers; i++) cache.push(row(presentKey(i), b), row(presentValue(i), b));
      return {
        index: p.index,
        plan: p.plan,
        v0: p.v0,
        S: p.S,
        ropeDelta: p.prompt.ropeDelta,
        prompt: cache,
        logits: floatValues(row('logits', b)),
        visionMs: p.visionMs,
        reasoningStart: p.reasoningStart,
      };
    });
  } catch (e) {
    return aloneAfter(run, e, reject, (p) => prefillRun(ctx, [p], reject));
  }
}
