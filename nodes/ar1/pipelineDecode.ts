/**
 * The split form's reasoning stage: the plans of one prefill length sample their reasoning in lockstep, one lm_decode
 * run per token for all their samples with the per-layer cache fed back (past_key_values.{i} ← present.{i}), each
 * sample drawing from its own TokenRng (seed + s) with temperature/top-p and the trajectory tokens masked. A sample
 * stops once <|traj_future_start|> is in its cache, or at the manifest's max_tokens with nothing forced (as upstream);
 * a plan leaves the batch with its rows of the cache once all its samples stopped, so its rows never see another
 * plan's. `reasoningTexts` turns a plan's token ids into its samples' texts (both forms). No I/O; `now` is injected.
 */
import { EngineError } from '../core/planningEngine.js';
import { pastKey, pastValue, presentKey, presentValue } from '../bundle/manifest.js';
import { need } from './pipelineTypes.js';
import type { Decoded, PipelineContext, Prefilled } from './pipelineTypes.js';
import { decodePositions } from './prompt.js';
import { sampleToken } from './sampling.js';
import { floatValues, int64Tensor, stackRows, takeRows } from './tensors.js';
import type { Tensor } from './tensors.js';
import type { BundleTokenizer } from './tokenizer.js';
import { TokenRng } from './tokenRng.js';

/**
 * Samples the plans' reasoning in lockstep: one lm_decode run per token for the samples of every plan still
 * reasoning (all their caches have the same length: same prompt length, same step). Sample s of a plan with seed n
 * draws from TokenRng(n + s). A plan leaves the batch, with its rows of the cache, once all its samples stopped.
 */
export async function decodeTogether(ctx: PipelineContext, group: readonly Prefilled[]): Promise<Decoded[]> {
  const { manifest: m, tokenizer: tok, runner, now } = ctx;
  const L = m.lm.layers;
  const S = group[0]!.S;
  interface Row {
    pre: Prefilled;
    K: number;
    rngs: TokenRng[];
    ids: number[][];
    /** Sequence index of each sample's first action token; undefined while it is still reasoning. */
    offsets: (number | undefined)[];
    inputIds: number[];
    logitRows: Float32Array[];
  }
  let active: Row[] = group.map((pre) => {
    const K = pre.plan.samples;
    return {
      pre,
      K,
      rngs: Array.from({ length: K }, (_, s) => new TokenRng(pre.plan.seed + s)),
      ids: Array.from({ length: K }, () => []),
      offsets: new Array<number | undefined>(K).fill(undefined),
      inputIds: new Array<number>(K).fill(0),
      logitRows: Array.from({ length: K }, () => pre.logits),
    };
  });
  let cache: Tensor[] = Array.from({ length: 2 * L }, (_, c) =>
    stackRows(active.map((r) => ({ t: r.pre.prompt[c]!, times: r.K }))),
  );
  const done: Decoded[] = [];
  const leave = (rows: Row[], kept: Row[]) => {
    // Each leaving plan takes its rows of the cache; the plans still reasoning keep theirs, in order.
    const ranges = (which: Row[]) => {
      const out: Array<[number, number]> = [];
      let at = 0;
      for (const r of active) {
        if (which.includes(r)) out.push([at, r.K]);
        at += r.K;
      }
      return out;
    };
    const end = now();
    for (const r of rows) {
      const own =
        rows.length === active.length && rows.length === 1 ? cache : cache.map((t) => takeRows(t, ranges([r])));
      done.push({
        pre: r.pre,
        ids: r.ids,
        offsets: r.offsets as number[],
        cache: own,
        reasoningMs: end - r.pre.reasoningStart,
      });
    }
    if (kept.length > 0) cache = cache.map((t) => takeRows(t, ranges(kept)));
    active = kept;
  };
  for (let step = 0; active.length > 0; step++) {
    for (const r of active)
      for (let s = 0; s < r.K; s++) {
        if (r.offsets[s] !== undefined) continue; // finished: keeps feeding its last token, masked for the expert
        const next = sampleToken(r.logitRows[s]!, m.sampling, r.rngs[s]!, tok.masked);
        r.ids[s]!.push(next);
        r.inputIds[s] = next;
      }
    if (step + 1 >= m.sampling.maxTokens) {
      // The bound, as upstream: generation stops with max_new_tokens tokens; the last one never enters the cache,
      // and the expert attends to everything cached, its first token one after the last generated one.
      for (const r of active) for (let s = 0; s < r.K; s++) r.offsets[s] ??= S + step + 1;
      leave(active, []);
      break;
    }
    const R = active.reduce((n, r) => n + r.K, 0);
    const positions: number[] = [];
    for (let axis = 0; axis < 3; axis++)
      for (const r of active) positions.push(...decodePositions(S + step, r.pre.ropeDelta, r.K).slice(0, r.K));
    const feeds: Record<string, Tensor> = {
      input_ids: int64Tensor(
        active.flatMap((r) => r.inputIds),
        [R, 1],
      ),
      position_ids: int64Tensor(positions, [3, R, 1]),
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
    const V = group[0]!.logits.length;
    if (logits.length !== R * V)
      throw new EngineError('runtime', `lm_decode: logits: expected ${R}×${V} values, got ${logits.length}`);
    let row = 0;
    for (const r of active) {
      r.logitRows = Array.from({ length: r.K }, (_, s) => logits.subarray((row + s) * V, (row + s + 1) * V));
      row += r.K;
      // A sample stops once <|traj_future_start|> is in the cache: its state conditions the expert.
      for (let s = 0; s < r.K; s++)
        if (r.offsets[s] === undefined && r.inputIds[s] === tok.trajFutureStart) r.offsets[s] = S + step + 1;
    }
    const finished = active.filter((r) => r.offsets.every((o) => o !== undefined));
    if (finished.length > 0)
      leave(
        finished,
        active.filter((r) => !finished.includes(r)),
      );
  }
  return done;
}

/** Each sample's reasoning text: its tokens up to <|cot_end|> (all of them when it never came), decoded. */
export function reasoningTexts(tok: BundleTokenizer, ids: readonly number[][]): string[] {
  return ids.map((list) => {
    const end = list.indexOf(tok.cotEnd);
    return tok.decode(end >= 0 ? list.slice(0, end) : list);
  });
}
