/**
 * AR1's initial-speed estimate v0 from the ego pose history (docs/ar1.md §6, upstream
 * `estimate_t0_states` / `dxy_theta_to_v_without_v0`): regularised least squares over the speeds v_0..v_{n-1}
 * with trapezoid rows, a third-difference smoothness penalty and a ridge, solved by Cholesky in float64.
 */

/** Upstream constants: λ on the third difference (scaled by 1/dt⁶) and the ridge on every speed. */
export const V_LAMBDA = 1e-6;
export const V_RIDGE = 1e-4;

export interface PoseHistory {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Heading [rad] of each pose (only cos/sin are used, so unwrapping changes nothing). */
  yaw: ArrayLike<number>;
}

/**
 * Speeds v_0..v_{n-1} [m/s] at each history pose (oldest first) that best explain the displacements.
 * Throws RangeError for fewer than 4 poses, unequal lengths or non-finite values.
 */
export function estimateSpeeds(history: PoseHistory, dt = 0.1): Float64Array {
  const n = history.x.length;
  if (n < 4) throw new RangeError(`history: expected at least 4 poses, got ${n}`);
  if (history.y.length !== n || history.yaw.length !== n) {
    throw new RangeError(
      `history: x, y, yaw must have equal lengths, got ${n}, ${history.y.length}, ${history.yaw.length}`,
    );
  }
  if (!(dt > 0)) throw new RangeError(`dt: expected > 0 s, got ${dt}`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(history.x[i]!) || !Number.isFinite(history.y[i]!) || !Number.isFinite(history.yaw[i]!)) {
      throw new RangeError(
        `history: pose ${i} is not finite (x=${history.x[i]}, y=${history.y[i]}, yaw=${history.yaw[i]})`,
      );
    }
  }
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    cos[i] = Math.cos(history.yaw[i]!);
    sin[i] = Math.sin(history.yaw[i]!);
  }

  // M = AᵀA + (λ/dt⁶)·D3ᵀD3 + ridge·I (n×n, row-major); rhs = Aᵀb.
  const M = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) {
    const bx = (2 / dt) * (history.x[i + 1]! - history.x[i]!);
    const by = (2 / dt) * (history.y[i + 1]! - history.y[i]!);
    // Row x: cos_i·v_i + cos_{i+1}·v_{i+1} = bx ; row y: same with sines.
    for (const [c, b] of [
      [cos, bx],
      [sin, by],
    ] as const) {
      const a0 = c[i]!,
        a1 = c[i + 1]!;
      add(M, i * n + i, a0 * a0);
      add(M, i * n + i + 1, a0 * a1);
      add(M, (i + 1) * n + i, a1 * a0);
      add(M, (i + 1) * n + i + 1, a1 * a1);
      add(rhs, i, a0 * b);
      add(rhs, i + 1, a1 * b);
    }
  }
  const lam = V_LAMBDA / dt ** 6;
  const d3 = [-1, 3, -3, 1];
  for (let r = 0; r + 3 < n; r++) {
    for (let p = 0; p < 4; p++) {
      for (let q = 0; q < 4; q++) add(M, (r + p) * n + r + q, lam * d3[p]! * d3[q]!);
    }
  }
  for (let i = 0; i < n; i++) add(M, i * n + i, V_RIDGE);
  return choleskySolve(M, rhs, n);
}

/**
 * v0 [m/s] at t0 (the newest pose) exactly as AR1: the last of the least-squares speeds.
 * 16 poses at 10 Hz in the rig frame at t0 for AR1; a clean 30 m/s straight history gives ≈ 29.9982.
 */
export function estimateInitialSpeed(history: PoseHistory, dt = 0.1): number {
  const v = estimateSpeeds(history, dt);
  return v[v.length - 1]!;
}

/** Solves M·x = b for symmetric positive definite M (row-major n×n) by Cholesky, float64. */
function choleskySolve(M: Float64Array, b: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = M[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`cholesky: matrix not positive definite at row ${i} (pivot ${s})`);
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j]!;
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
    y[i] = s / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}

function add(a: Float64Array, i: number, v: number): void {
  a[i] = a[i]! + v;
}
