// Counter-based random numbers, bit-identical to engine/rng.ts. Functions only, no bindings.
// A draw is a pure function of (seed, purpose, a, b, step, draw): a and b are the stream's
// indices (typically env and agent), step the env/train step, draw the index inside that step.
// The hash chains the "lowbias32" integer mixer (C. Wellons) over the six words.

fn rngMix(x0: u32) -> u32 {
  var x = x0;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

fn rngU32(seed: u32, purpose: u32, a: u32, b: u32, step: u32, draw: u32) -> u32 {
  var h = rngMix(seed ^ 0x9e3779b9u);
  h = rngMix(h ^ rngMix(purpose + 0x85ebca6bu));
  h = rngMix(h ^ rngMix(a + 0xc2b2ae35u));
  h = rngMix(h ^ rngMix(b + 0x27d4eb2fu));
  h = rngMix(h ^ rngMix(step + 0x165667b1u));
  h = rngMix(h ^ rngMix(draw + 0xd3a2646cu));
  return h;
}

// Seed batching (docs/statistics.md §8): envs [k·n, (k+1)·n) of a batch with n = envsPerSeed
// belong to seed k and draw as env e mod n of a run seeded seed + k (n = numEnvs: one seed).
fn seedOfEnv(seed: u32, e: u32, envsPerSeed: u32) -> u32 {
  return seed + e / envsPerSeed;
}

// High 32 bits of the 64-bit product a·b (WGSL has no u64).
fn rngMulHi(a: u32, b: u32) -> u32 {
  let aLo = a & 0xffffu;
  let aHi = a >> 16u;
  let bLo = b & 0xffffu;
  let bHi = b >> 16u;
  let loLo = aLo * bLo;
  let hiLo = aHi * bLo;
  let loHi = aLo * bHi;
  let cross = (loLo >> 16u) + (hiLo & 0xffffu) + loHi;
  return aHi * bHi + (hiLo >> 16u) + (cross >> 16u);
}

// Uniform float in [0, 1) with 24 random bits (exact in f32).
fn rngUnit(h: u32) -> f32 {
  return f32(h >> 8u) * (1.0 / 16777216.0);
}

// Integer in [0, n) (multiply-high; bias below n / 2^32).
fn rngBelow(h: u32, n: u32) -> u32 {
  return rngMulHi(h, n);
}

// Uniform float in the open interval (0, 1): (2·(h >> 9) + 1) / 2^24, exact in f32, never 0 or 1.
fn rngOpenUnit(h: u32) -> f32 {
  return f32(((h >> 9u) << 1u) | 1u) * (1.0 / 16777216.0);
}

// Smallest value -log(u) is clamped to before the outer log (never reached for u ≤ 1 − 2^-24).
const RNG_GUMBEL_TINY: f32 = 1e-20;

// Standard Gumbel noise −log(e), e = max(−log(u), RNG_GUMBEL_TINY), u = rngOpenUnit(h), all f32.
// For v = 1 − u < 1/64 (exact), e = v·(1 + v·(1/2 + v·(1/3 + v/4))) (series of −log(1 − v), error
// < v⁵/5): adapters' log near 1 is only accurate to ~1 ulp of 1 absolute, i.e. badly relative.
fn rngGumbel(h: u32) -> f32 {
  let u = rngOpenUnit(h);
  let v = 1.0 - u;
  let series = v * (1.0 + v * (0.5 + v * (0.33333334 + v * 0.25)));
  let e = max(select(-log(u), series, v < 0.015625), RNG_GUMBEL_TINY);
  return -log(e);
}

// 1 with probability p (rngUnit(h) < p), else 0.
fn rngBernoulli(h: u32, p: f32) -> u32 {
  return select(0u, 1u, rngUnit(h) < p);
}

// Standard normal from two draws (Box–Muller, f32): sqrt(−2·log(u1))·cos(2π·u2), u1 = rngOpenUnit(h1),
// u2 = rngUnit(h2). Matches engine/rng.ts rngNormal() to transcendental precision, not bit for bit.
fn rngNormal(h1: u32, h2: u32) -> f32 {
  let r = sqrt(-2.0 * log(rngOpenUnit(h1)));
  return r * cos(6.2831855 * rngUnit(h2));
}

// Categorical sampling protocols (the Gumbel-max loop over a row is categoricalChoice() in
// common/_categorical.wgsl, the inverse-CDF loop lives in its kernels; the TS twins are
// rngCategorical() and rngCategoricalLogits() in engine/rng.ts):
// - inverse CDF over probabilities p[0..K): total = Σ p (f32, in order); target = rngUnit(h)·total;
//   choose the first i with target < (p[0] + … + p[i]) (f32 running sum); if none (rounding), the
//   last i with p[i] > 0 (0 when all are 0). rngCategoricalTarget() computes the target.
// - Gumbel-max over logits l[0..K): choose argmax_i (l[i] + rngGumbel(rngU32(seed, purpose, a, b,
//   step, i))), ties to the lowest index (strict >).
fn rngCategoricalTarget(h: u32, total: f32) -> f32 {
  return rngUnit(h) * total;
}
