/**
 * The token-sampling random stream of the bundle contract, the same on the host (split form) and inside a fused
 * graph, so both draw identical uniforms for a seed: Park–Miller MINSTD, x ← 48271·x mod (2³¹ − 1), seeded by
 * x₀ = ((seed mod (2³¹ − 2)) + 1)·1103515245 mod (2³¹ − 1); each draw is u = float32(float32(x) / float32(2³¹ − 1)),
 * which is exactly what int64 Mul/Mod, Cast and a float32 Div compute in ONNX. Small and statistically weak, which
 * is fine for picking tokens; the flow-matching noise uses SeededRng (fed to every graph as a tensor).
 */
export const MINSTD_MODULUS = 2147483647;
export const MINSTD_MULTIPLIER = 48271;
export const MINSTD_SEED_MULTIPLIER = 1103515245;

/** x₀ for a seed (any safe integer, negative too). */
export function minstdInit(seed: number): number {
  const m = BigInt(MINSTD_MODULUS - 1);
  const s = ((BigInt(Math.trunc(seed)) % m) + m) % m; // ONNX Mod with fmod = 0 (sign of the divisor)
  return Number(((s + 1n) * BigInt(MINSTD_SEED_MULTIPLIER)) % BigInt(MINSTD_MODULUS));
}

export class TokenRng {
  #x: number;
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: expected a safe integer, got ${seed}`);
    this.#x = minstdInit(seed);
  }

  /** Next uniform in (0, 1), float32-rounded as in the graph. */
  uniform(): number {
    this.#x = (this.#x * MINSTD_MULTIPLIER) % MINSTD_MODULUS; // < 2^47: exact in a double
    return Math.fround(Math.fround(this.#x) / Math.fround(MINSTD_MODULUS));
  }
}
