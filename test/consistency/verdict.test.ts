import { expect } from 'chai';
import {
  consistencyVerdict,
  DEFAULT_TRAJECTORY_THRESHOLDS,
  DEFAULT_VOCABULARY,
  normaliseWords,
  textClaims,
  trajectoryMetaActions,
  type TrajectoryLike,
  type VerdictKind,
} from '../../nodes/consistency/index.js';
import { rolloutUnicycle } from '../../nodes/ar1/unicycle.js';

const DT = 0.1,
  N = 64;

/** A 64-step plan from v0 and per-step acceleration and curvature (functions of t); speed never goes below 0. */
function plan(v0: number, accel: (t: number) => number, curvature: (t: number) => number = () => 0): TrajectoryLike {
  const a = new Float64Array(N),
    k = new Float64Array(N);
  let v = v0;
  for (let i = 0; i < N; i++) {
    a[i] = Math.max(accel(i * DT), -v / DT);
    k[i] = curvature(i * DT);
    v += a[i]! * DT;
  }
  const r = rolloutUnicycle(v0, a, k, DT);
  return { dt: DT, initialSpeed: v0, x: r.x, y: r.y, heading: r.heading, speed: r.speed };
}

/** A lane change: a sine curvature over 4 s that moves `offsetM` sideways and ends with the heading it started with. */
function laneChange(v: number, offsetM: number): TrajectoryLike {
  const T = 4,
    A = (offsetM * 2 * Math.PI) / (v * v * T * T);
  return plan(
    v,
    () => 0,
    (t) => (t < T ? A * Math.sin((2 * Math.PI * t) / T) : 0),
  );
}

const P = {
  cruise: plan(12, () => 0),
  speedUp: plan(8, () => 1.2),
  gentleSpeedUp: plan(8, () => 0.35),
  slowDown: plan(14, () => -1.2),
  stopAhead: plan(8, () => -2.5),
  standstill: plan(0, () => 0),
  creep: plan(1.5, () => 0),
  turnLeft: plan(
    6,
    () => 0,
    (t) => (t < 2.5 ? 0.1 : 0),
  ),
  turnRight: plan(
    6,
    () => 0,
    (t) => (t < 2.5 ? -0.1 : 0),
  ),
  roadCurvingLeft: plan(
    15,
    () => 0,
    () => 0.0097,
  ),
  gentleBend: plan(
    15,
    () => 0,
    () => 0.002,
  ),
  laneChangeLeft: laneChange(10, 3.5),
  laneChangeRight: laneChange(10, -3.5),
  slowTurnLeft: plan(
    10,
    () => -1,
    (t) => (t < 3 ? 0.06 : 0),
  ),
} as const;
type PlanName = keyof typeof P;

describe('consistency/trajectory meta-actions', () => {
  const table: Array<[PlanName, string[], string | undefined]> = [
    ['cruise', ['keep_speed'], 'straight'],
    ['speedUp', ['accelerate'], 'straight'],
    ['gentleSpeedUp', [], 'straight'], // 0.35 m/s² is between keep_speed (≤ 0.25) and accelerate (≥ 0.5): no label
    ['slowDown', ['decelerate'], 'straight'],
    ['stopAhead', ['decelerate', 'stop'], 'straight'],
    ['standstill', ['stop'], undefined], // no travel: no lateral label
    ['creep', ['keep_speed', 'creep'], 'straight'],
    ['turnLeft', ['keep_speed'], 'turn_left'],
    ['turnRight', ['keep_speed'], 'turn_right'],
    ['roadCurvingLeft', ['keep_speed'], 'turn_left'],
    ['gentleBend', ['keep_speed'], undefined], // heading 0.19 rad, kept: neither straight, turn nor lane change
    ['laneChangeLeft', ['keep_speed'], 'lane_change_left'],
    ['laneChangeRight', ['keep_speed'], 'lane_change_right'],
    ['slowTurnLeft', ['decelerate'], 'turn_left'],
  ];
  for (const [name, longitudinal, lateral] of table) {
    it(`${name} → ${longitudinal.join('+') || '(none)'}, ${lateral ?? 'lateral unknown'}`, () => {
      const m = trajectoryMetaActions(P[name]);
      expect(m.longitudinal).to.deep.equal(longitudinal);
      expect(m.lateral).to.equal(lateral);
    });
  }

  it('labels per window of window_s, and only within horizon_s', () => {
    const m = trajectoryMetaActions(P.stopAhead);
    expect(m.windows).to.have.length(6); // 6 full 1 s windows; the 0.4 s remainder is under half a window
    expect(m.windows[0]!.meanAccelMps2).to.be.closeTo(-2.5, 1e-9);
    expect(m.windows[3]!.labels).to.deep.equal(['stop']); // 8 m/s at −2.5 m/s² stops at 3.2 s
    // Speed up for 2 s, then hard braking: within a 2 s horizon only the acceleration shows.
    const late = plan(5, (t) => (t < 2 ? 1 : -3));
    expect(trajectoryMetaActions(late).longitudinal).to.include('decelerate');
    expect(trajectoryMetaActions(late, { ...DEFAULT_TRAJECTORY_THRESHOLDS, horizon_s: 2 }).longitudinal).to.deep.equal([
      'accelerate',
    ]);
  });

  it('thresholds are parameters: a stricter turn threshold makes the road curve a non-label', () => {
    expect(
      trajectoryMetaActions(P.roadCurvingLeft, { ...DEFAULT_TRAJECTORY_THRESHOLDS, turn_min_heading_rad: 1.2 }).lateral,
    ).to.equal(undefined);
    expect(
      trajectoryMetaActions(P.gentleSpeedUp, { ...DEFAULT_TRAJECTORY_THRESHOLDS, accelerate_min_mps2: 0.3 })
        .longitudinal,
    ).to.deep.equal(['accelerate']);
  });

  it('a non-finite plan gets no label', () => {
    const bad = {
      ...P.cruise,
      speed: Float64Array.from(P.cruise.speed, (v, i) => (i === 5 ? NaN : v)),
      heading: Float64Array.from(P.cruise.heading, () => NaN),
    };
    const m = trajectoryMetaActions(bad);
    expect(m.windows[0]!.labels).to.deep.equal([]);
    expect(m.lateral).to.equal(undefined);
  });
});

describe('consistency/text claims', () => {
  const claims = (t: string) => textClaims(t).map((c) => (c.negated ? `not ${c.action}` : c.action));
  const table: Array<[string, string[]]> = [
    ['Keep lane and maintain speed', ['keep_lane', 'keep_speed']],
    ['Decelerate to yield to the pedestrian crossing.', ['decelerate']],
    ['Do not accelerate; the light ahead is yellow.', ['not accelerate']],
    ["Don't change lanes, the left lane is blocked", ['not lane_change']],
    ['No need to stop, the crosswalk is clear', ['not stop']],
    ['Proceed through the intersection without stopping', ['not stop']],
    ['Decelerate for the stop sign ahead', ['decelerate']], // "stop sign" is a scene object
    ['Come to a complete stop behind the bus', ['stop']],
    ['Creep forward to see past the parked truck', ['creep']],
    ['Turn left at the intersection', ['turn_left']],
    ['Follow the road curving right', ['turn_right']],
    ['Change lanes to the left to pass the cyclist', ['lane_change_left']],
    ['Merge into the right lane for the exit', ['lane_change_right']],
    ['The lead vehicle is slowing down, keep a safe distance', []], // another road user's action
    ['Stop for the red light before turning left', ['stop']], // a later intention is not this plan's
    ['Slow down and do not change lanes', ['decelerate', 'not lane_change']], // negation ends with its action
    ['Do not brake, then accelerate', ['not decelerate']],
    ['Nothing to do here', []],
    ['', []],
  ];
  for (const [text, expected] of table) {
    it(`"${text}" → [${expected.join(', ')}]`, () => expect(claims(text)).to.deep.equal(expected));
  }

  it('normalises case, curly apostrophes and punctuation', () => {
    expect(normaliseWords('DON’T Accelerate!')).to.deep.equal(["don't", 'accelerate', '|']);
    expect(claims('DON’T Accelerate!')).to.deep.equal(['not accelerate']);
  });

  it('among phrases that start with the same word, the longest wins, then the vocabulary order (ignore first)', () => {
    const none = { ...DEFAULT_VOCABULARY.phrases };
    for (const k of Object.keys(none) as Array<keyof typeof none>) none[k] = [];
    const v = {
      ...DEFAULT_VOCABULARY,
      phrases: { ...none, stop: ['halt'], decelerate: ['halt here now'], creep: ['halt here'] },
      ignore: ['halt here'],
      negation: [],
      other_agent: [],
      deferral: [],
      clause_breaks: [],
    };
    const got = (t: string) => textClaims(t, v).map((c) => `${c.action}:${c.phrase}`);
    expect(got('halt here now')).to.deep.equal(['decelerate:halt here now']); // three words beat one and two
    expect(got('halt here please')).to.deep.equal([]); // "halt here" is both ignore and creep: ignore comes first
    expect(got('halt')).to.deep.equal(['stop:halt']);
    expect(got('please halt here now and halt')).to.deep.equal(['decelerate:halt here now', 'stop:halt']);
  });

  it('the vocabulary is per model: other phrases, another negation scope', () => {
    const v = {
      ...DEFAULT_VOCABULARY,
      phrases: { ...DEFAULT_VOCABULARY.phrases, decelerate: ['bremsen'] },
      negation: ['nicht'],
    };
    expect(textClaims('nicht bremsen', v).map((c) => c.action + (c.negated ? '!' : ''))).to.deep.equal(['decelerate!']);
    expect(textClaims('slow down', v)).to.deep.equal([]);
    expect(claims('do not ever suddenly accelerate')).to.deep.equal(['not accelerate']); // 2 words between: the default scope
    expect(claims('do not ever very suddenly accelerate')).to.deep.equal(['accelerate']); // 3: beyond it
    expect(
      textClaims('do not ever very suddenly accelerate', { ...DEFAULT_VOCABULARY, negation_scope_words: 3 })[0]!
        .negated,
    ).to.equal(true);
  });
});

describe('consistency/verdict: trajectories × texts', () => {
  const table: Array<[PlanName, string, VerdictKind, string[]?]> = [
    ['cruise', 'Keep lane and maintain speed', 'consistent'],
    ['cruise', 'Accelerate to merge with traffic', 'inconsistent', ['accelerate']],
    ['cruise', 'Do not accelerate, the road is wet', 'consistent'],
    ['speedUp', 'Do not accelerate, the road is wet', 'inconsistent', ['not accelerate']],
    ['speedUp', 'Accelerate as the light turns green', 'consistent'],
    ['gentleSpeedUp', 'Maintain speed', 'not_assessable'], // no longitudinal label settles it
    ['slowDown', 'Slow down for the upcoming curve', 'consistent'],
    ['slowDown', 'Keep speed on the highway', 'inconsistent', ['keep_speed']],
    ['stopAhead', 'Come to a stop at the stop line', 'consistent'],
    ['stopAhead', 'Decelerate for the red light', 'consistent'],
    ['stopAhead', 'Proceed without stopping', 'inconsistent', ['not stop']],
    ['cruise', 'Stop for the pedestrian', 'inconsistent', ['stop']],
    ['standstill', 'Remain stopped until the light turns green', 'consistent'],
    ['standstill', 'Accelerate away from the light', 'inconsistent', ['accelerate']],
    ['standstill', 'Turn left at the intersection', 'not_assessable'], // no travel: a turn cannot show
    ['creep', 'Creep forward to check for cross traffic', 'consistent'],
    ['cruise', 'Creep forward to check for cross traffic', 'inconsistent', ['creep']],
    ['standstill', 'Creep forward to check for cross traffic', 'inconsistent', ['creep']],
    ['turnLeft', 'Turn left at the intersection', 'consistent'],
    ['turnRight', 'Turn left at the intersection', 'inconsistent', ['turn_left']],
    ['cruise', 'Turn left at the intersection', 'inconsistent', ['turn_left']],
    ['turnLeft', 'Go straight through the intersection', 'inconsistent', ['straight']],
    ['roadCurvingLeft', 'Follow the road curving left', 'consistent'],
    ['roadCurvingLeft', 'Follow the road curving right', 'inconsistent', ['turn_right']],
    ['roadCurvingLeft', 'Keep lane and maintain speed', 'consistent'], // a bend is not a lane change
    ['gentleBend', 'Go straight', 'not_assessable'],
    ['laneChangeLeft', 'Change lanes to the left to overtake', 'consistent'],
    ['laneChangeLeft', 'Change lanes to the right to exit', 'inconsistent', ['lane_change_right']],
    ['laneChangeLeft', 'Keep lane and maintain speed', 'inconsistent', ['keep_lane']],
    ['laneChangeLeft', "Don't change lanes", 'inconsistent', ['not lane_change']],
    ['laneChangeRight', 'Merge right for the exit', 'consistent'],
    ['cruise', "Don't change lanes, keep speed", 'consistent'],
    ['slowTurnLeft', 'Slow down and turn left', 'consistent'],
    ['slowTurnLeft', 'Accelerate and turn left', 'inconsistent', ['accelerate']],
    ['cruise', 'The lead vehicle is slowing down', 'not_assessable'],
    ['cruise', 'Nudge to the left to increase clearance from the cones', 'not_assessable'], // no vocabulary phrase
  ];
  for (const [name, text, kind, differs] of table) {
    it(`${name} × "${text}" → ${kind}${differs ? ` (${differs.join(', ')})` : ''}`, () => {
      const v = consistencyVerdict(text, P[name]);
      expect(v.kind, v.detail).to.equal(kind);
      expect(v.differs).to.deep.equal(differs ?? []);
    });
  }

  it('the detail names the claim, its words and what the trajectory does', () => {
    const v = consistencyVerdict('Do not accelerate, the road is wet', P.speedUp);
    expect(v.detail).to.equal('text says not accelerate ("not … accelerate"); trajectory: accelerate, straight');
    expect(v.stated).to.deep.equal(['not accelerate']);
    expect(v.planned).to.deep.equal(['accelerate', 'straight']);
    expect(consistencyVerdict('', P.cruise).detail).to.equal('the text names no meta-action');
    expect(consistencyVerdict('Keep speed', P.standstill).planned).to.deep.equal(['stop', 'lateral unknown']);
  });
});
