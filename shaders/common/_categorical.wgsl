// Categorical draws from a row of logits with the counter RNG: Gumbel-max (argmax when greedy) and
// the log-probability of a category. Functions only, no bindings; common/_rng.wgsl comes before it.
// Used by engine/ops/random.wgsl, algorithms/ppo/rollout.wgsl, algorithms/seac/rollout.wgsl and
// algorithms/dials/aip.wgsl; the TS twin of the draw is rngCategoricalLogits() in engine/rng.ts.
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

// log softmax(row)[i] = (l_i − m) − log Σ_j exp(l_j − m), m = max_j l_j; f32, in index order.
fn categoricalLogProb(base: u32, k: u32, i: u32) -> f32 {
  var m = categoricalLogit(base);
  for (var j = 1u; j < k; j++) { m = max(m, categoricalLogit(base + j)); }
  var s = 0.0;
  for (var j = 0u; j < k; j++) { s += exp(categoricalLogit(base + j) - m); }
  return (categoricalLogit(base + i) - m) - log(s);
}
