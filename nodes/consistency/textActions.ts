/**
 * The meta-actions a reasoning text asserts, by rules on its words: a vocabulary of phrases per meta-action,
 * negation cues ("do not accelerate" forbids accelerate), clause breaks that end a negation, phrases naming scene
 * objects rather than actions ("stop sign"), and cues that put an action on another road user ("the car ahead is
 * slowing down"). The vocabulary is data: a model that speaks differently gets its own lists in its parameter file.
 * Pure: a string in, claims out.
 */
import { LATERAL, LONGITUDINAL } from './metaActions.js';

/** What a text can claim: every meta-action, plus "lane_change" (either side) and "keep_lane" (no lane change). */
export const TEXT_ACTIONS = [...LONGITUDINAL, ...LATERAL, 'lane_change', 'keep_lane'] as const;
export type TextAction = (typeof TEXT_ACTIONS)[number];

export interface Vocabulary {
  /** Phrases per claim, matched as whole words after normalisation (lower case, punctuation split off). */
  phrases: Record<TextAction, readonly string[]>;
  /** Cues that negate the next action phrase within negation_scope_words words ("do not", "no need to", "without"). */
  negation: readonly string[];
  /** Words that end a clause like punctuation does: a negation or other-agent cue does not reach past them. */
  clause_breaks: readonly string[];
  /** Cues that make the next action phrase (within negation_scope_words) another road user's: "is", "are". */
  other_agent: readonly string[];
  /** Cues that make the next action phrase (within negation_scope_words) a later intention, not this plan's: "before turning left". */
  deferral: readonly string[];
  /** Phrases skipped as scene words, never actions ("stop sign", "bus stop", "slow moving"). */
  ignore: readonly string[];
  /** [words] how many words may stand between a negation or other-agent cue and the action it governs. */
  negation_scope_words: number;
}

/** AR1's chain-of-causation English (imperative: "Decelerate to yield to the pedestrian crossing"). */
export const DEFAULT_VOCABULARY: Readonly<Vocabulary> = Object.freeze({
  phrases: {
    accelerate: [
      'accelerate',
      'accelerating',
      'speed up',
      'speeding up',
      'pick up speed',
      'increase speed',
      'increase the speed',
      'increasing speed',
      'gain speed',
    ],
    keep_speed: [
      'keep speed',
      'keep the speed',
      'keep current speed',
      'keep the current speed',
      'keep a steady speed',
      'maintain speed',
      'maintain the speed',
      'maintain current speed',
      'maintain the current speed',
      'maintain a steady speed',
      'maintaining speed',
      'hold speed',
      'hold the speed',
      'cruise',
      'continue at the same speed',
      'continue at a steady speed',
    ],
    decelerate: [
      'decelerate',
      'decelerating',
      'slow down',
      'slowing down',
      'slow to',
      'reduce speed',
      'reduce the speed',
      'reducing speed',
      'brake',
      'braking',
      'ease off',
    ],
    stop: [
      'stop',
      'stopping',
      'come to a stop',
      'coming to a stop',
      'come to a halt',
      'halt',
      'remain stopped',
      'stay stopped',
      'remain stationary',
      'stay stationary',
      'stop fully',
      'come to a complete stop',
    ],
    creep: [
      'creep',
      'creeping',
      'creep forward',
      'inch forward',
      'inching forward',
      'edge forward',
      'edging forward',
      'roll forward slowly',
    ],
    straight: [
      'go straight',
      'going straight',
      'drive straight',
      'continue straight',
      'proceed straight',
      'keep straight',
      'keep going straight',
      'head straight',
    ],
    turn_left: [
      'turn left',
      'turning left',
      'make a left turn',
      'making a left turn',
      'take a left turn',
      'taking a left turn',
      'curve left',
      'curving left',
      'bear left',
      'veer left',
      'steer left',
    ],
    turn_right: [
      'turn right',
      'turning right',
      'make a right turn',
      'making a right turn',
      'take a right turn',
      'taking a right turn',
      'curve right',
      'curving right',
      'bear right',
      'veer right',
      'steer right',
    ],
    lane_change_left: [
      'change lanes to the left',
      'change lane to the left',
      'change to the left lane',
      'lane change to the left',
      'lane change left',
      'merge left',
      'merge into the left lane',
      'move into the left lane',
      'move to the left lane',
      'shift to the left lane',
      'changing lanes to the left',
      'changing to the left lane',
    ],
    lane_change_right: [
      'change lanes to the right',
      'change lane to the right',
      'change to the right lane',
      'lane change to the right',
      'lane change right',
      'merge right',
      'merge into the right lane',
      'move into the right lane',
      'move to the right lane',
      'shift to the right lane',
      'changing lanes to the right',
      'changing to the right lane',
    ],
    lane_change: ['change lanes', 'change lane', 'changing lanes', 'lane change'],
    keep_lane: [
      'keep lane',
      'keep the lane',
      'keep in lane',
      'keep the current lane',
      'stay in lane',
      'stay in the lane',
      'stay in the current lane',
      'stay in its lane',
      'remain in lane',
      'remain in the lane',
      'maintain lane',
      'maintain the lane',
      'follow the lane',
      'lane keeping',
    ],
  },
  negation: [
    'not',
    'never',
    "don't",
    'dont',
    "doesn't",
    'without',
    'avoid',
    'avoiding',
    'instead of',
    'rather than',
    'no need to',
    'cannot',
    "can't",
    "won't",
    "shouldn't",
    'refrain from',
  ],
  clause_breaks: ['and', 'but', 'so', 'because', 'while', 'as', 'since', 'when'],
  other_agent: ['is', 'are', 'was', 'were'],
  deferral: [
    'before',
    'then',
    'after',
    'until',
    'later',
    'prepare to',
    'preparing to',
    'wait to',
    'waiting to',
    'in order to',
  ],
  ignore: [
    'stop sign',
    'stop signs',
    'stop line',
    'stop bar',
    'bus stop',
    'stop and go',
    'slow moving',
    'left lane',
    'right lane',
    'left turn lane',
    'right turn lane',
    'turn signal',
    'brake lights',
    'brake light',
  ],
  negation_scope_words: 2,
});

/** One claim found in the text. */
export interface TextClaim {
  action: TextAction;
  negated: boolean;
  /** The words that matched, normalised. */
  phrase: string;
}

const BREAK = '|';

/** Lower case, apostrophes kept inside words, sentence punctuation as a clause break, every other symbol a space. */
export function normaliseWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/[.,;:!?()[\]{}"]/g, ` ${BREAK} `)
    .replace(/[^a-z0-9'|]+/g, ' ')
    .split(' ')
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
}

type Kind =
  | { kind: 'ignore' }
  | { kind: 'negation' }
  | { kind: 'break' }
  | { kind: 'skip' }
  | { kind: 'action'; action: TextAction };
interface Entry {
  words: string[];
  what: Kind;
}

/** The vocabulary as entries, longest first (the longest phrase at a position wins; ties: ignore, action, negation, break, skip). */
function entriesOf(v: Vocabulary): Entry[] {
  const out: Entry[] = [];
  const add = (list: readonly string[], what: Kind) => {
    for (const p of list) {
      const words = normaliseWords(p).filter((w) => w !== BREAK);
      if (words.length) out.push({ words, what });
    }
  };
  add(v.ignore, { kind: 'ignore' });
  for (const a of TEXT_ACTIONS) add(v.phrases[a], { kind: 'action', action: a });
  add(v.negation, { kind: 'negation' });
  add(v.clause_breaks, { kind: 'break' });
  add(v.other_agent, { kind: 'skip' });
  add(v.deferral, { kind: 'skip' });
  return out
    .map((e, i) => ({ e, i }))
    .sort((a, b) => b.e.words.length - a.e.words.length || a.i - b.i)
    .map(({ e }) => e);
}

/** The entries that can start at a word, by that word, each list in entriesOf's order (so the first match is the same). */
function byFirstWord(entries: readonly Entry[]): Map<string, Entry[]> {
  const index = new Map<string, Entry[]>();
  for (const e of entries) {
    const list = index.get(e.words[0]!);
    if (list) list.push(e);
    else index.set(e.words[0]!, [e]);
  }
  return index;
}

const cache = new WeakMap<Vocabulary, Map<string, Entry[]>>();

/** The claims of a text, in order, each (action, negated) once. */
export function textClaims(text: string, vocabulary: Vocabulary = DEFAULT_VOCABULARY): TextClaim[] {
  let entries = cache.get(vocabulary);
  if (!entries) {
    entries = byFirstWord(entriesOf(vocabulary));
    cache.set(vocabulary, entries);
  }
  const words = normaliseWords(text);
  const scope = vocabulary.negation_scope_words;
  const claims: TextClaim[] = [];
  let negatedUntil = -1; // an action phrase starting at or before this index is negated
  let skipUntil = -1; // … or not this plan's (another road user's, or a later intention)
  for (let i = 0; i < words.length;) {
    if (words[i] === BREAK) {
      negatedUntil = skipUntil = -1;
      i++;
      continue;
    }
    const hit = entries.get(words[i]!)?.find((e) => e.words.every((w, k) => words[i + k] === w));
    if (!hit) {
      i++;
      continue;
    }
    const end = i + hit.words.length;
    switch (hit.what.kind) {
      case 'ignore':
        break;
      case 'negation':
        negatedUntil = end + scope;
        break;
      case 'break':
        negatedUntil = skipUntil = -1;
        break;
      case 'skip':
        skipUntil = end + scope;
        break;
      case 'action': {
        const negated = i <= negatedUntil;
        if (!(i <= skipUntil)) {
          const { action } = hit.what;
          if (!claims.some((c) => c.action === action && c.negated === negated))
            claims.push({ action, negated, phrase: hit.words.join(' ') });
        }
        negatedUntil = skipUntil = -1;
        break;
      }
    }
    i = end;
  }
  return claims;
}
