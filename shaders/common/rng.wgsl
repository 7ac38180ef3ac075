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
