/**
 * Counter-based random numbers, bit-identical to `shaders/common/rng.wgsl`: a draw is a pure
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
