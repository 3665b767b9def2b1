/**
 * Seeded random numbers: same seed → same stream on every machine. SplitMix64-seeded xoshiro128** for uniforms,
 * Box–Muller for N(0,1). Not cryptographic.
 */
export class SeededRng {
  #s = new Uint32Array(4);
  #spare: number | undefined;

  constructor(seed: number, stream = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed: expected a finite number, got ${seed}`);
    // SplitMix64 on a BigInt state, seeded by (seed, stream).
    let z =
      (BigInt.asUintN(64, BigInt(Math.trunc(seed))) ^ (BigInt(stream) * 0x9e3779b97f4a7c15n)) & 0xffffffffffffffffn;
    for (let i = 0; i < 2; i++) {
      z = (z + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
      let r = z;
      r = ((r ^ (r >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
      r = ((r ^ (r >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
      r ^= r >> 31n;
      this.#s[2 * i] = Number(r & 0xffffffffn);
      this.#s[2 * i + 1] = Number(r >> 32n);
    }
    if (this.#s.every((w) => w === 0)) this.#s[0] = 1;
  }

  /** Next uint32 (xoshiro128**). */
  nextUint32(): number {
    const s = this.#s;
    let s0 = s[0]!,
      s1 = s[1]!,
      s2 = s[2]!,
      s3 = s[3]!;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return result;
  }

  /** Uniform in [0, 1) with 32 bits. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal N(0, 1). */
  normal(): number {
    if (this.#spare !== undefined) {
      const v = this.#spare;
      this.#spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const w = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * w);
    return r * Math.cos(2 * Math.PI * w);
  }

  /** Fills a Float32Array with N(0, 1) samples. */
  normals(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
