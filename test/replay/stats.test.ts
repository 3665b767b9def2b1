import { expect } from 'chai';
import fc from 'fast-check';
import { percentile, percentiles, percentilesOf } from '../../nodes/replay/stats.js';

/** Nearest rank by its definition: the sample at rank ⌈q/100 · n⌉ (at least 1) of the sorted samples. */
function nearestRank(samples: readonly number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil((q / 100) * s.length))) - 1]!;
}

describe('replay/stats: the one percentile helper (nearest rank)', () => {
  it('picks a sample by nearest rank, never interpolates, and leaves its input unsorted', () => {
    const xs = [5, 1, 3, 2, 4];
    expect(percentile(xs, 50)).to.equal(3);
    expect(percentile(xs, 99)).to.equal(5);
    expect(percentile(xs, 0)).to.equal(1);
    expect(percentile([1, 2, 3, 4], 50)).to.equal(2); // not 2.5
    expect(percentilesOf(xs, [50, 99, 100])).to.deep.equal([3, 5, 5]);
    expect(xs).to.deep.equal([5, 1, 3, 2, 4]);
  });

  it('is NaN for no samples', () => {
    expect(Number.isNaN(percentile([], 50))).to.equal(true);
    expect(percentiles([])).to.deep.include({ count: 0 });
    expect(Number.isNaN(percentiles([]).p99)).to.equal(true);
  });

  it('agrees with the definition for any finite samples and percentile', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 0, max: 100 }),
        (xs, q) => {
          expect(percentile(xs, q)).to.equal(nearestRank(xs, q));
        },
      ),
    );
  });

  it('summarises compute times: count, p50, p99, max and the mean', () => {
    const xs = Array.from({ length: 200 }, (_, i) => (i * 37) % 200);
    expect(percentiles(xs)).to.deep.equal({ count: 200, p50: 99, p99: 197, max: 199, mean: 99.5 });
  });
});
