// Categorical distributions over a row of logits: draws with the counter RNG (Gumbel-max, argmax
// when greedy), log-softmax, log-probabilities and entropy. The one WGSL copy of these numerics:
// every kernel that needs them includes this file. Functions only, no bindings; common/_rng.wgsl
// comes before it. Used by engine/ops/random.wgsl, engine/ops/policy.wgsl,
// algorithms/ppo/{rollout,learner}.wgsl, algorithms/seac/{rollout,learner}.wgsl and
// algorithms/dials/aip.wgsl; the TS twin of the draw is rngCategoricalLogits() in engine/rng.ts,
// the float64 references of the rest are in engine/ops/policy_reference.ts.
// A row is the k ≥ 1 logits at base … base + k − 1 of the including shader's logits buffer, which
// that shader exposes by defining
//   fn categoricalLogit(i: u32) -> f32   (element i of the buffer)
// (WGSL cannot pass storage buffers to functions).

// argmax_i (l_i + rngGumbel(rngU32(seed, purpose, a, b, step, draw0 + i))) over the row, or
// argmax_i l_i when greedy (no noise added); ties go to the lowest index (strict >).
fn categoricalChoice(
  base: u32, k: u32, greedy: bool, seed: u32, purpose: u32, a: u32, b: u32, step: u32, draw0: u32,
) -> u32 {
  var best = 0u;
  var bestKey = 0.0;
  for (var i = 0u; i < k; i++) {
    let noise = select(rngGumbel(rngU32(seed, purpose, a, b, step, draw0 + i)), 0.0, greedy);
    let key = categoricalLogit(base + i) + noise;
    if (i == 0u || key > bestKey) {
      best = i;
      bestKey = key;
    }
  }
  return best;
}

// (m, log Σ_j exp(l_j − m)) of the row, m = max_j l_j: the shift of its log-softmax. f32, in index
// order (the max from l_0, the sum from 0.0); Σ ≥ 1, so the log is safe.
fn categoricalShift(base: u32, k: u32) -> vec2f {
  var m = categoricalLogit(base);
  for (var j = 1u; j < k; j++) { m = max(m, categoricalLogit(base + j)); }
  var s = 0.0;
  for (var j = 0u; j < k; j++) { s += exp(categoricalLogit(base + j) - m); }
  return vec2f(m, log(s));
}

// log softmax(row)[i] = (l_i − m) − log Σ_j exp(l_j − m), given the row's categoricalShift.
fn categoricalLogProbAt(base: u32, i: u32, shift: vec2f) -> f32 {
  return (categoricalLogit(base + i) - shift.x) - shift.y;
}

// log softmax(row)[i], computing the row's shift.
fn categoricalLogProb(base: u32, k: u32, i: u32) -> f32 {
  return categoricalLogProbAt(base, i, categoricalShift(base, k));
}

// H = −Σ_j p_j log p_j of the row given its categoricalShift; subtracted from 0.0 in index order.
fn categoricalEntropy(base: u32, k: u32, shift: vec2f) -> f32 {
  var h = 0.0;
  for (var j = 0u; j < k; j++) {
    let lp = categoricalLogProbAt(base, j, shift);
    h -= exp(lp) * lp;
  }
  return h;
}
