import { expect } from 'chai';
import fc from 'fast-check';
import {
  atOrBefore,
  horizonIndex,
  planTime,
  selectFrames,
  type SelectionOptions,
} from '../../nodes/planner/frameSelection.js';

const CAMS = ['a', 'b'];
const opts: SelectionOptions = { cameras: CAMS, framesPerCamera: 4, spacingS: 0.1, toleranceS: 0.05 };
const buf = (...stamps: number[]) => stamps.map((stampS) => ({ stampS }));

describe('planner/frameSelection', () => {
  it('t0 is the newest time every camera has reached', () => {
    expect(planTime([buf(1.0, 1.1), buf(1.0, 1.05)])).to.equal(1.05);
    expect(planTime([buf(1.0), buf()])).to.equal(undefined);
    expect(planTime([])).to.equal(undefined);
  });

  it('picks the closest frame at or before each target, never after', () => {
    const b = buf(0.7, 0.75, 0.8, 0.86, 0.9, 0.96, 1.0);
    expect(atOrBefore(b, 0.8)).to.equal(2);
    expect(atOrBefore(b, 0.85)).to.equal(2); // 0.86 is closer but after
    expect(atOrBefore(b, 0.69)).to.equal(-1);
    expect(atOrBefore(b, 0.8 - 1e-9)).to.equal(2); // float noise of t0 − 0.2
  });

  it('selects exact frames for 10 Hz cameras: 4 per camera at t0−0.3 … t0, oldest first', () => {
    const a = buf(0.6, 0.7, 0.8, 0.9, 1.0);
    const s = selectFrames([a, a], 1.0, opts);
    expect(s).to.deep.equal({
      ok: true,
      t0S: 1.0,
      indices: [
        [1, 2, 3, 4],
        [1, 2, 3, 4],
      ],
    });
  });

  it('with 30 Hz jitter, takes the newest frame at or before each target', () => {
    const jittery = buf(0.668, 0.701, 0.733, 0.769, 0.799, 0.834, 0.868, 0.9, 0.935, 0.966, 1.003);
    const ten = buf(0.7, 0.8, 0.9, 1.0);
    const s = selectFrames([jittery, ten], 1.0, opts);
    // targets 0.7, 0.8, 0.9, 1.0 → 0.668 (0.701 is after 0.7), 0.799, 0.9, 0.966 (1.003 is after t0)
    expect(s.ok && s.indices).to.deep.equal([
      [0, 4, 7, 9],
      [0, 1, 2, 3],
    ]);
  });

  it('refuses a camera with no frame at or before the oldest target', () => {
    const s = selectFrames([buf(0.7, 0.8, 0.9, 1.0), buf(0.75, 0.8, 0.9, 1.0)], 1.0, opts);
    expect(s.ok).to.equal(false);
    if (s.ok) return;
    expect(s.reason).to.equal('frame_missing');
    expect(s.camera).to.equal(1);
    expect(s.detail).to.match(
      /^b: expected a frame at or before 0\.700 s \(t0=1\.000 s\), got none \(oldest 0\.750 s\)$/,
    );
  });

  it('refuses a frame older than its target by more than the tolerance (a hole in one camera)', () => {
    const s = selectFrames([buf(0.7, 0.8, 0.9, 1.0), buf(0.7, 0.8, 1.0)], 1.0, opts);
    expect(s.ok).to.equal(false);
    if (s.ok) return;
    expect(s.reason).to.equal('frame_too_old');
    expect(s.detail).to.match(
      /^b: expected a frame within 0\.050 s at or before 0\.900 s \(t0=1\.000 s\), got 0\.800 s$/,
    );
  });

  it('a lost frame: with one period of tolerance the frame before it stands in, its stamp up to stamp jitter early', () => {
    const lost = { ...opts, toleranceS: 0.1, jitterS: 0.02 };
    // Camera b lost its 0.9 s frame; its 0.8 s frame is stamped 1 ms early.
    const s = selectFrames([buf(0.7, 0.8, 0.9, 1.0), buf(0.7, 0.799, 1.0)], 1.0, lost);
    expect(s.ok).to.equal(true);
    if (s.ok) expect(s.indices[1]).to.deep.equal([0, 1, 1, 2]); // the 0.799 s frame fills the 0.8 and 0.9 s targets
    // 21 ms early is past tolerance + jitter; without jitter, 1 ms is already too old.
    for (const [stamp, o, within] of [
      [0.779, lost, '0.120'],
      [0.799, { ...lost, jitterS: 0 }, '0.100'],
    ] as const) {
      const r = selectFrames([buf(0.7, 0.8, 0.9, 1.0), buf(0.7, stamp, 1.0)], 1.0, o);
      expect(r.ok).to.equal(false);
      if (!r.ok) {
        expect(r.reason).to.equal('frame_too_old');
        expect(r.detail).to.equal(
          `b: expected a frame within ${within} s at or before 0.900 s (t0=1.000 s), got ${stamp.toFixed(3)} s`,
        );
      }
    }
  });

  it("t0's own frame gets no jitter widening: a camera whose frame of this round has not arrived yet is not planned on its previous one", () => {
    const lost = { ...opts, toleranceS: 0.1, jitterS: 0.02 };
    // Camera b's 1.0 s frame is on its way; its newest is 0.898 s (stamped 2 ms early).
    const r = selectFrames([buf(0.7, 0.8, 0.9, 1.0), buf(0.698, 0.798, 0.898)], 1.0, lost);
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.reason).to.equal('frame_too_old');
      expect(r.detail).to.equal('b: expected a frame within 0.100 s at or before 1.000 s (t0=1.000 s), got 0.898 s');
    }
  });

  it('horizon: frames before the newest one at or before t0 − window can never be selected again', () => {
    const b = buf(0.5, 0.6, 0.65, 0.7, 0.8);
    expect(horizonIndex(b, 1.0, 0.3)).to.equal(3);
    expect(horizonIndex(b, 0.5, 0.3)).to.equal(0);
  });

  it('property: every selected frame is at or before its target and no later buffered frame is', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 2000 }),
        (ms, t0ms) => {
          const b = buf(...[...new Set(ms)].sort((x, y) => x - y).map((m) => m / 1000));
          const t0 = t0ms / 1000;
          const s = selectFrames([b], t0, { cameras: ['a'], framesPerCamera: 4, spacingS: 0.1, toleranceS: 10 });
          if (!s.ok) return b[0]!.stampS > t0 - 0.3;
          return s.indices[0]!.every((i, k) => {
            const target = t0 - (3 - k) * 0.1;
            return b[i]!.stampS <= target + 1e-6 && (i + 1 >= b.length || b[i + 1]!.stampS > target + 1e-6);
          });
        },
      ),
    );
  });
});
