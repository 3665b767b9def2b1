/**
 * Token sampling as AR1 (`do_sample`, temperature, top-p, no top-k; docs/ar1.md §4), with a seeded RNG.
 * Temperature 0 means greedy (argmax). Masked tokens (e.g. trajectory tokens) never get picked.
 */
/** Anything that draws uniforms in [0, 1): SeededRng, TokenRng. */
export interface UniformSource {
  uniform(): number;
}

export interface SamplingParams {
  temperature: number;
  topP: number;
}

/**
 * Picks a token id from logits. `masked` ids are excluded (−∞). Ties in probability keep the lower id first.
 * Throws RangeError on non-finite logits or when every token is masked.
 */
export function sampleToken(
  logits: ArrayLike<number>,
  params: SamplingParams,
  rng: UniformSource,
  masked?: ReadonlySet<number>,
): number {
  const V = logits.length;
  let best = -1,
    bestLogit = -Infinity;
  for (let i = 0; i < V; i++) {
    const l = logits[i]!;
    if (Number.isNaN(l) || l === Infinity) throw new RangeError(`logits[${i}] is ${l}`);
    if (masked?.has(i)) continue;
    if (l > bestLogit) {
      bestLogit = l;
      best = i;
    }
  }
  if (best < 0) throw new RangeError('every token is masked');
  if (params.temperature <= 0) return best;
  // Softmax at temperature, stable.
  const ids: number[] = [];
  const probs: number[] = [];
  let sum = 0;
  for (let i = 0; i < V; i++) {
    if (masked?.has(i)) continue;
    const p = Math.exp((logits[i]! - bestLogit) / params.temperature);
    if (p > 0) {
      ids.push(i);
      probs.push(p);
      sum += p;
    }
  }
  const order = ids.map((_, k) => k).sort((a, b) => probs[b]! - probs[a]! || ids[a]! - ids[b]!);
  // Nucleus: smallest prefix whose mass reaches topP (the token crossing the threshold is kept, as HF does).
  const keep: number[] = [];
  let mass = 0;
  for (const k of order) {
    keep.push(k);
    mass += probs[k]! / sum;
    if (mass >= params.topP) break;
  }
  let kept = 0;
  for (const k of keep) kept += probs[k]!;
  let u = rng.uniform() * kept;
  for (const k of keep) {
    u -= probs[k]!;
    if (u < 0) return ids[k]!;
  }
  return ids[keep[keep.length - 1]!]!;
}
