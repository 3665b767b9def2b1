/**
 * The demo bundle's tiny language: a word-level vocabulary and a grammar whose branches depend on the
 * conditioning state, so the sampled reasoning describes the scene ("keep lane and maintain speed",
 * "follow the road curving left", "slow down for upcoming right curve ahead", "stop for the barrier ahead"). Baked into
 * the decode graph.
 */
import { wordTokenizerJson } from './wordTokenizer.js';

/** Conditioning-state slots (the demo's stand-in for the KV cache), written by the prefill graph. */
export const SLOT = {
  turn: 0,
  absTurn: 1,
  speedPull: 2,
  kappaHist: 3,
  caution: 4,
  bias: 5,
  brightness: 6,
  kappaTarget: 7,
  /** braking for a red barrier (0…1), the plan reaching a standstill before it (0…1), the braking [m/s²] */
  barrier: 8,
  stopping: 9,
  brake: 10,
} as const;
export const STATE_SIZE = 11;

export const SPECIAL = {
  unk: '[UNK]',
  cotStart: '<|cot_start|>',
  cotEnd: '<|cot_end|>',
  trajFutureStart: '<|traj_future_start|>',
  visionStart: '<|vision_start|>',
  imagePad: '<|image_pad|>',
  visionEnd: '<|vision_end|>',
} as const;

const WORDS = [
  'keep',
  'stay',
  'in',
  'lane',
  'and',
  'maintain',
  'speed',
  'follow',
  'the',
  'road',
  'curving',
  'left',
  'right',
  'slow',
  'down',
  'for',
  'upcoming',
  'curve',
  'ahead',
  'stop',
  'barrier',
] as const;

export const VOCAB: readonly string[] = [...Object.values(SPECIAL), ...WORDS];
export const VOCAB_SIZE = VOCAB.length;
const id = (w: string): number => {
  const i = VOCAB.indexOf(w);
  if (i < 0) throw new Error(`demo vocabulary has no "${w}"`);
  return i;
};

/** logit(from → to) = base + Σ coef[slot]·state[slot]; unlisted transitions get IMPOSSIBLE. */
interface Rule {
  from: string;
  to: string;
  base: number;
  coef?: Partial<Record<keyof typeof SLOT, number>>;
}
const IMPOSSIBLE = -12;
const SURE = 8;
const chain = (...w: string[]): Rule[] => w.slice(1).map((to, i) => ({ from: w[i]!, to, base: SURE }));
const RULES: Rule[] = [
  // Scene choice after <|cot_start|>: straight (|turn| small) / mild curve / sharp curve.
  { from: SPECIAL.cotStart, to: 'keep', base: 5, coef: { absTurn: -15 } },
  { from: SPECIAL.cotStart, to: 'stay', base: 4.6, coef: { absTurn: -15 } },
  // "follow the road curving …" from |turn| ≈ 0.28 on at 10 m/s (a plan turning ~0.35 rad over its horizon), later
  // the slower the car (speedPull grows as speed drops): a slow plan barely turns within its horizon, and saying
  // "curving" over it would contradict it (reasoning–action consistency; pull_away crept straight while saying it).
  { from: SPECIAL.cotStart, to: 'follow', base: 3, coef: { speedPull: -4 } },
  // Braking for a red barrier: "slow down for the barrier ahead", or "stop for the barrier ahead" once the plan stops.
  { from: SPECIAL.cotStart, to: 'slow', base: -8, coef: { absTurn: 14, barrier: 16 } },
  { from: SPECIAL.cotStart, to: 'stop', base: -14, coef: { stopping: 26 } },
  ...chain('keep', 'lane'),
  ...chain('stay', 'in', 'lane', 'and', 'maintain', 'speed', SPECIAL.cotEnd),
  ...chain('follow', 'the'),
  ...chain('road', 'curving'),
  ...chain('slow', 'down', 'for'),
  ...chain('stop', 'for'),
  { from: 'for', to: 'upcoming', base: 8, coef: { barrier: -20, stopping: -20 } },
  { from: 'for', to: 'the', base: -8, coef: { barrier: 20, stopping: 20 } },
  { from: 'the', to: 'road', base: 8, coef: { barrier: -20, stopping: -20 } },
  { from: 'the', to: 'barrier', base: -8, coef: { barrier: 20, stopping: 20 } },
  ...chain('barrier', 'ahead'),
  ...['curving', 'upcoming'].flatMap((from): Rule[] => [
    { from, to: 'left', base: 0, coef: { turn: 10 } },
    { from, to: 'right', base: 0, coef: { turn: -10 } },
  ]),
  ...['left', 'right'].flatMap((from): Rule[] => [
    { from, to: SPECIAL.cotEnd, base: 3, coef: { caution: -8 } },
    { from, to: 'curve', base: -3, coef: { caution: 8 } },
  ]),
  ...chain('curve', 'ahead', SPECIAL.cotEnd),
  ...chain(SPECIAL.cotEnd, SPECIAL.trajFutureStart),
];

/** Bigram logits B[from][to] (row-major V×V) and state weights W[from][slot][to] (V×S×V). */
export function grammarTables(): { bigram: Float32Array; stateWeights: Float32Array } {
  const V = VOCAB_SIZE,
    S = STATE_SIZE;
  const bigram = new Float32Array(V * V).fill(IMPOSSIBLE);
  const stateWeights = new Float32Array(V * S * V);
  for (const r of RULES) {
    const f = id(r.from),
      t = id(r.to);
    bigram[f * V + t] = r.base;
    for (const [slot, c] of Object.entries(r.coef ?? {}))
      stateWeights[(f * S + SLOT[slot as keyof typeof SLOT]) * V + t] = c;
  }
  return { bigram, stateWeights };
}

/** How each generated token changes the state (E[token][slot]): "slow" raises caution, which the expert obeys. */
export function tokenStateEffects(): Float32Array {
  const E = new Float32Array(VOCAB_SIZE * STATE_SIZE);
  E[id('slow') * STATE_SIZE + SLOT.caution] = 1;
  return E;
}

/** tokenizer.json (HF tokenizers format): word-level vocabulary via WordPiece with whole words, specials added. */
export function demoTokenizerJson(): object {
  return wordTokenizerJson(VOCAB, Object.values(SPECIAL), SPECIAL.unk);
}
