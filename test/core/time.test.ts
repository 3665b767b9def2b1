import { expect } from 'chai';
import fc from 'fast-check';
import {
  nanosToSeconds,
  nanosToStamp,
  secondsToNanos,
  secondsToStamp,
  stampToNanos,
  stampToSeconds,
} from '../../nodes/core/time.js';

describe('core/time: the conversions between stamps, nanoseconds and float seconds', () => {
  it('seconds → stamp: seconds floored, nanoseconds rounded and carried, negative times normalised', () => {
    expect(secondsToStamp(101.5)).to.deep.equal({ sec: 101, nanosec: 500_000_000 });
    expect(secondsToStamp(0.9999999996)).to.deep.equal({ sec: 1, nanosec: 0 });
    expect(secondsToStamp(1.0000000004)).to.deep.equal({ sec: 1, nanosec: 0 });
    expect(secondsToStamp(-0.25)).to.deep.equal({ sec: -1, nanosec: 750_000_000 });
    expect(secondsToStamp(-1e-10)).to.deep.equal({ sec: 0, nanosec: 0 });
    expect(secondsToStamp(-0)).to.deep.equal({ sec: 0, nanosec: 0 });
    expect(secondsToStamp(1_700_000_000.1234567)).to.deep.equal({ sec: 1_700_000_000, nanosec: 123_456_717 });
  });

  it('seconds → stamp refuses a non-finite time, naming it', () => {
    expect(() => secondsToStamp(Number.NaN)).to.throw(RangeError, 'expected a finite time in s, got NaN');
    expect(() => secondsToStamp(Infinity)).to.throw(RangeError, 'got Infinity');
  });

  it('stamp → seconds and nanoseconds', () => {
    expect(stampToSeconds({ sec: 101, nanosec: 500_000_000 })).to.equal(101.5);
    expect(stampToNanos({ sec: 2, nanosec: 5 })).to.equal(2_000_000_005n);
    expect(stampToNanos({ sec: -1, nanosec: 750_000_000 })).to.equal(-250_000_000n);
  });

  it('nanoseconds → seconds and stamp (exact integer split, truncated towards zero)', () => {
    expect(nanosToSeconds(1_500_000_000n)).to.equal(1.5);
    expect(nanosToStamp(1_700_000_000_123_456_789n)).to.deep.equal({ sec: 1_700_000_000, nanosec: 123_456_789 });
    expect(nanosToStamp(-1_500_000_000n)).to.deep.equal({ sec: -1, nanosec: -500_000_000 });
    expect(nanosToSeconds(-1_500_000_000n)).to.equal(-1.5);
    expect(secondsToNanos(101.5)).to.equal(101_500_000_000n);
    expect(secondsToNanos(-0.25)).to.equal(-250_000_000n);
  });

  it('property: every stamp from seconds is normalised and within half a nanosecond (plus float error) of it', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e10, max: 1e10 }), (s) => {
        const st = secondsToStamp(s);
        const ok = Number.isInteger(st.sec) && Number.isInteger(st.nanosec) && st.nanosec >= 0 && st.nanosec < 1e9;
        const err = Math.abs(st.sec - Math.floor(s) + (st.nanosec - (s - Math.floor(s)) * 1e9) * 1e-9);
        return ok && err <= 0.5e-9 + Math.abs(s) * 1e-15 && !Object.is(st.sec, -0);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: stamp → nanoseconds → stamp is the identity for normalised non-negative stamps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 999_999_999 }),
        (sec, nanosec) => {
          const st = nanosToStamp(stampToNanos({ sec, nanosec }));
          return st.sec === sec && st.nanosec === nanosec;
        },
      ),
      { numRuns: 2000 },
    );
  });
});
