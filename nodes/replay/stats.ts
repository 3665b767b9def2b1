/**
 * The project's one percentile helper: nearest-rank (the smallest sample with at least q % of the samples at or
 * below it, no interpolation), computed by the `percentile` package. Replay's compute.json and the benchmarks both
 * use it.
 */
import percentileOf from 'percentile';

/** Order statistics for compute-time summaries. */
export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles qs ∈ [0, 100] of samples, with one sort; NaN each when there are no samples. */
export function percentilesOf(samples: readonly number[], qs: readonly number[]): number[] {
  if (samples.length === 0) return qs.map(() => Number.NaN);
  // The package copies before sorting; with several percentiles it returns one value per percentile.
  const values = percentileOf([...qs], samples as number[]) as number | number[];
  return typeof values === 'number' ? [values] : values;
}

/** Nearest-rank percentile q ∈ [0, 100] of samples; NaN when there are none. */
export function percentile(samples: readonly number[], q: number): number {
  return percentilesOf(samples, [q])[0]!;
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  const [p50, p99, max] = percentilesOf(values, [50, 99, 100]) as [number, number, number];
  // Summed in ascending order, as compute.json always has been (a different order can change the last digit).
  const mean = [...values].sort((a, b) => a - b).reduce((a, b) => a + b, 0) / values.length;
  return { count: values.length, p50, p99, max, mean };
}
