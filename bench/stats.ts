/** Order statistics for benchmark samples, with the project's one percentile helper (nearest rank), as replay's compute.json. */
import { percentile, percentilesOf } from '../nodes/replay/stats.js';

export { percentile };

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  if (n === 0) return { n, p50: NaN, p99: NaN, min: NaN, max: NaN, mean: NaN };
  let min = Infinity,
    max = -Infinity,
    sum = 0;
  for (const v of samples) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  const [p50, p99] = percentilesOf(samples, [50, 99]) as [number, number];
  return { n, p50, p99, min, max, mean: sum / n };
}

/** Rounds for printing/JSON: 3 significant decimals below 10, 2 below 1000, else integers. */
export function round(v: number): number {
  if (!Number.isFinite(v)) return v;
  const a = Math.abs(v);
  const d = a < 1 ? 4 : a < 10 ? 3 : a < 1000 ? 2 : 0;
  return Number(v.toFixed(d));
}

export function roundSummary(s: Summary): Summary {
  return { n: s.n, p50: round(s.p50), p99: round(s.p99), min: round(s.min), max: round(s.max), mean: round(s.mean) };
}
