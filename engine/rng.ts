/**
 * Counter-based random numbers, bit-identical to `shaders/common/_rng.wgsl`: a draw is a pure
 * function of (seed, purpose, a, b, step, draw), so results do not depend on dispatch order and a
 * CPU reference can replay GPU decisions.
 *
 * @module
 */

/** Stream purposes. Kernels receive the number through their params; never hard-code it in WGSL. */
export const RNG_PURPOSE = Object.freeze({
  init: 1,
  envReset: 2,
  envStep: 3,
  action: 4,
  explore: 5,
  sample: 6,
  share: 7,
  influence: 8,
  shuffle: 9,
  test: 99,
});

/** The lowbias32 integer mixer (a bijection of u32). */
export function rngMix(x0: number): number {
  let x = x0 >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The 32-bit draw for (seed, purpose, a, b, step, draw). */
export function rngU32(
  seed: number,
  purpose: number,
  a: number,
  b: number,
  step: number,
  draw: number,
): number {
  let h = rngMix((seed ^ 0x9e3779b9) >>> 0);
  h = rngMix((h ^ rngMix((purpose + 0x85ebca6b) >>> 0)) >>> 0);
  h = rngMix((h ^ rngMix((a + 0xc2b2ae35) >>> 0)) >>> 0);
  h = rngMix((h ^ rngMix((b + 0x27d4eb2f) >>> 0)) >>> 0);
  h = rngMix((h ^ rngMix((step + 0x165667b1) >>> 0)) >>> 0);
  h = rngMix((h ^ rngMix((draw + 0xd3a2646c) >>> 0)) >>> 0);
  return h;
}

/**
 * The seed an env of a seed batch draws with: envs [k·n, (k+1)·n) with n = `envsPerSeed` belong to
 * seed k of the batch and draw as env `e % n` of a run seeded `seed + k` (n = numEnvs: one seed).
 */
export function seedOfEnv(seed: number, e: number, envsPerSeed: number): number {
  return (seed + Math.floor(e / envsPerSeed)) >>> 0;
}

/** High 32 bits of the 64-bit product a·b. */
export function rngMulHi(a: number, b: number): number {
  const aLo = a & 0xffff, aHi = a >>> 16, bLo = b & 0xffff, bHi = b >>> 16;
  const loLo = aLo * bLo, hiLo = aHi * bLo, loHi = aLo * bHi;
  const cross = (loLo >>> 16) + (hiLo & 0xffff) + loHi;
  return (aHi * bHi + (hiLo >>> 16) + Math.floor(cross / 65536)) >>> 0;
}

/** Uniform float in [0, 1) with 24 random bits (exact in f32). */
export function rngUnit(h: number): number {
  return (h >>> 8) / 16777216;
}

/** Integer in [0, n). */
export function rngBelow(h: number, n: number): number {
  return rngMulHi(h >>> 0, n >>> 0);
}

/**
 * A host-side sequential stream over the same hash (for initialisation and tests):
 * draw k of stream (seed, purpose, a, b) is `rngU32(seed, purpose, a, b, 0, k)`.
 */
export class HostRng {
  readonly seed: number;
  readonly purpose: number;
  readonly a: number;
  readonly b: number;
  #k = 0;

  constructor(seed: number, purpose: number = RNG_PURPOSE.init, a = 0, b = 0) {
    this.seed = seed >>> 0;
    this.purpose = purpose >>> 0;
    this.a = a >>> 0;
    this.b = b >>> 0;
  }

  /** Next u32. */
  u32(): number {
    return rngU32(
      this.seed,
      this.purpose,
      this.a,
      this.b,
      Math.floor(this.#k / 2 ** 32),
      this.#k++ >>> 0,
    );
  }

  /** Uniform in [0, 1) (24 bits). */
  unit(): number {
    return rngUnit(this.u32());
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    // 53-bit resolution for host-side init.
    const x = (this.u32() * 2 ** 21 + (this.u32() >>> 11)) / 2 ** 53;
    return lo + (hi - lo) * x;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return rngBelow(this.u32(), n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u1 = 1 - this.uniform(0, 1);
    const u2 = this.uniform(0, 1);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

const f32 = Math.fround;

/** Uniform float in the open interval (0, 1): (2·(h >> 9) + 1) / 2^24, exact in f32. */
export function rngOpenUnit(h: number): number {
  return ((((h >>> 9) << 1) | 1) >>> 0) / 16777216;
}

/** Clamp applied to −log(u) before the outer log of {@linkcode rngGumbel} (an f32 value). */
export const RNG_GUMBEL_TINY: number = f32(1e-20);

/**
 * Standard Gumbel noise −log(max(−log(u), 1e-20)), u = rngOpenUnit(h), rounded to f32 at every
 * step like the WGSL twin; for v = 1 − u < 1/64, −log(u) is the series v(1 + v(1/2 + v(1/3 +
 * v/4))). WGSL `log` may differ from `Math.log` in the last ulps, so results agree to ~1e-6, not
 * bit for bit; compare chosen indices, not raw noise.
 */
export function rngGumbel(h: number): number {
  const u = rngOpenUnit(h);
  const v = f32(1 - u);
  const e0 = v < 0.015625
    ? f32(v * f32(1 + f32(v * f32(0.5 + f32(v * f32(f32(1 / 3) + f32(v * 0.25)))))))
    : f32(-f32(Math.log(u)));
  const e = f32(Math.max(e0, RNG_GUMBEL_TINY));
  return f32(-f32(Math.log(e)));
}

/** 1 with probability p (rngUnit(h) < f32(p)), else 0. */
export function rngBernoulli(h: number, p: number): number {
  return rngUnit(h) < f32(p) ? 1 : 0;
}

/**
 * Standard normal (Box–Muller in f32) from two hashes; equals the WGSL twin up to the precision of
 * the adapter's `log`, `sqrt` and `cos` (not bit for bit).
 */
export function rngNormal(h1: number, h2: number): number {
  const r = f32(Math.sqrt(f32(-2 * f32(Math.log(rngOpenUnit(h1))))));
  return f32(r * f32(Math.cos(f32(f32(6.2831855) * rngUnit(h2)))));
}

/**
 * Inverse-CDF categorical draw over unnormalised probabilities, in f32 like the WGSL protocol:
 * target = rngUnit(h)·Σp; the first i whose running sum exceeds target; if none (rounding), the
 * last i with p[i] > 0 (0 when all are 0).
 */
export function rngCategorical(h: number, probs: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total = f32(total + f32(probs[i]));
  const target = f32(rngUnit(h) * total);
  let acc = 0, last = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = f32(probs[i]);
    acc = f32(acc + p);
    if (target < acc) return i;
    if (p > 0) last = i;
  }
  return last;
}

/**
 * Gumbel-max categorical draw: argmax_i (f32(logits[i]) + rngGumbel(rngU32(seed, purpose, a, b,
 * step, i))), ties to the lowest index.
 */
export function rngCategoricalLogits(
  seed: number,
  purpose: number,
  a: number,
  b: number,
  step: number,
  logits: ArrayLike<number>,
): number {
  const keyOf = (i: number) =>
    f32(f32(logits[i]) + rngGumbel(rngU32(seed, purpose, a, b, step, i)));
  let best = 0, bestKey = keyOf(0);
  for (let i = 1; i < logits.length; i++) {
    const key = keyOf(i);
    if (key > bestKey) {
      best = i;
      bestKey = key;
    }
  }
  return best;
}
