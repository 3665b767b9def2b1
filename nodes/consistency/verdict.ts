/**
 * One plan's verdict: is what its reasoning says the same as what its trajectory does? Every claim of the text is
 * held against the trajectory's meta-actions: a claimed action must be among them, a negated one must not. A claim
 * the trajectory cannot settle (no lateral label, no longitudinal label) is left out; a text with no claim, or with
 * only such claims, is not assessable. Pure.
 */
import {
  DEFAULT_TRAJECTORY_THRESHOLDS,
  LATERAL,
  trajectoryMetaActions,
  type LateralAction,
  type LongitudinalAction,
  type TrajectoryLike,
  type TrajectoryMetaActions,
  type TrajectoryThresholds,
} from './metaActions.js';
import { DEFAULT_VOCABULARY, textClaims, type TextClaim, type Vocabulary } from './textActions.js';

export const VERDICTS = ['not_assessable', 'consistent', 'inconsistent'] as const;
export type VerdictKind = (typeof VERDICTS)[number];

export interface ConsistencyParams {
  trajectory: TrajectoryThresholds;
  vocabulary: Vocabulary;
}

export const DEFAULT_CONSISTENCY: Readonly<ConsistencyParams> = Object.freeze({
  trajectory: DEFAULT_TRAJECTORY_THRESHOLDS,
  vocabulary: DEFAULT_VOCABULARY,
});

export interface Verdict {
  kind: VerdictKind;
  /** One line: which claim differs and what the trajectory does, what matched, or why it is not assessable. */
  detail: string;
  /** The text's claims, "decelerate" or "not accelerate". */
  stated: string[];
  /** The trajectory's meta-actions: longitudinal labels, then the lateral one ("lateral unknown" when none). */
  planned: string[];
  /** The claims that differ, as stated. */
  differs: string[];
}

type Check = 'match' | 'differs' | 'unknown';

const isLateral = (a: string): a is LateralAction => (LATERAL as readonly string[]).includes(a);
const LANE_CHANGES: readonly LateralAction[] = ['lane_change_left', 'lane_change_right'];

function check(c: TextClaim, m: TrajectoryMetaActions): Check {
  const lat = m.lateral;
  // "keep lane" is "no lane change"; a negated "keep lane" is a lane change.
  const action = c.action === 'keep_lane' ? 'lane_change' : c.action;
  const negated = c.action === 'keep_lane' ? !c.negated : c.negated;
  if (action === 'lane_change' || isLateral(action)) {
    if (lat === undefined) return 'unknown';
    const holds = action === 'lane_change' ? LANE_CHANGES.includes(lat) : lat === action;
    return holds !== negated ? 'match' : 'differs';
  }
  if (m.longitudinal.length === 0) return 'unknown';
  const holds = m.longitudinal.includes(action as LongitudinalAction);
  return holds !== negated ? 'match' : 'differs';
}

const claimName = (c: TextClaim) => (c.negated ? `not ${c.action}` : c.action);

/** The verdict of one plan: its reasoning text against its trajectory. */
export function consistencyVerdict(
  text: string,
  trajectory: TrajectoryLike,
  params: ConsistencyParams = DEFAULT_CONSISTENCY,
): Verdict {
  const claims = textClaims(text, params.vocabulary);
  const meta = trajectoryMetaActions(trajectory, params.trajectory);
  const planned: string[] = [...meta.longitudinal, meta.lateral ?? 'lateral unknown'];
  const stated = claims.map(claimName);
  const trajectorySays = `trajectory: ${planned.join(', ')}`;
  if (claims.length === 0) {
    return { kind: 'not_assessable', detail: 'the text names no meta-action', stated, planned, differs: [] };
  }
  const results = claims.map((c) => ({ c, r: check(c, meta) }));
  const differs = results.filter((x) => x.r === 'differs');
  if (differs.length > 0) {
    const said = differs.map(({ c }) => `${claimName(c)} ("${c.negated ? 'not … ' : ''}${c.phrase}")`).join(', ');
    return {
      kind: 'inconsistent',
      detail: `text says ${said}; ${trajectorySays}`,
      stated,
      planned,
      differs: differs.map(({ c }) => claimName(c)),
    };
  }
  const matched = results.filter((x) => x.r === 'match');
  if (matched.length === 0) {
    return {
      kind: 'not_assessable',
      detail: `the trajectory settles none of ${stated.join(', ')}; ${trajectorySays}`,
      stated,
      planned,
      differs: [],
    };
  }
  return {
    kind: 'consistent',
    detail: `${matched.map(({ c }) => claimName(c)).join(', ')} match the ${trajectorySays}`,
    stated,
    planned,
    differs: [],
  };
}
