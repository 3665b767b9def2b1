/**
 * AR1's ego-history delta tokenizer (docs/ar1.md §3, upstream `delta_tokenizer.py`): prepend a zero row, take
 * consecutive xyz differences, normalise each axis from its range to [0, 1], bin with round-half-to-even
 * (PyTorch `.round()`), clamp to [0, bins − 1]. Output: steps × 3 token values (x, y, z per step) + offset.
 */
export function historyTokens(
  h: { x: ArrayLike<number>; y: ArrayLike<number>; z: ArrayLike<number> },
  ranges: readonly (readonly [number, number])[],
  bins: number,
  offset = 0,
): BigInt64Array {
  const n = h.x.length;
  const out = new BigInt64Array(n * 3);
  const axes = [h.x, h.y, h.z];
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const p = axes[a]!;
      const d = p[i]! - (i === 0 ? 0 : p[i - 1]!);
      const [lo, hi] = ranges[a]!;
      const bin = Math.min(bins - 1, Math.max(0, roundHalfEven(((d - lo) / (hi - lo)) * (bins - 1))));
      out[i * 3 + a] = BigInt(bin + offset);
    }
  }
  return out;
}

/** Round half to even, as PyTorch/NumPy round. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
