// Random draws from the counter-based hash in common/_rng.wgsl. Owner: engine/ops/random.ts.
// fill:              one thread per element (r, c) of out [rows, cols]; h = rngU32(seed, purpose,
//                    c, r, step, draw) (normal uses draws 2·draw and 2·draw + 1). writes out (u32
//                    words; f32 results are stored as their bits).
//                    dist 0 bits, 1 uniform [lo, hi), 2 integer [0, k), 3 normal(mean lo, std hi),
//                    4 Gumbel, 5 Bernoulli(p = lo).
// categoricalProbs:  one thread per row (agent, env) of probs [numAgents, numEnvs, k] (unnormalised);
//                    inverse CDF with h = rngU32(seed, purpose, env, agent, step, draw). writes choice
// categoricalLogits: one thread per row of logits [numAgents, numEnvs, k]; categoricalChoice of
//                    common/_categorical.wgsl: Gumbel-max, category i keyed by rngU32(seed, purpose,
//                    env, agent, step, i), ties to the lowest index.          writes choice
struct Params { rows: u32, cols: u32, seed: u32, purpose: u32, step: u32, draw: u32, dist: u32, k: u32, lo: f32, hi: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> probs: array<f32>;
@group(0) @binding(3) var<storage, read> logits: array<f32>;
@group(0) @binding(4) var<storage, read_write> choice: array<u32>;

const DIST_BITS: u32 = 0u;
const DIST_UNIFORM: u32 = 1u;
const DIST_BELOW: u32 = 2u;
const DIST_NORMAL: u32 = 3u;
const DIST_GUMBEL: u32 = 4u;
const DIST_BERNOULLI: u32 = 5u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.rows * params.cols) { return; }
  let r = t / params.cols;
  let c = t % params.cols;
  let h = rngU32(params.seed, params.purpose, c, r, params.step, params.draw);
  var v = h;
  switch params.dist {
    case DIST_UNIFORM: { v = bitcast<u32>(params.lo + (params.hi - params.lo) * rngUnit(h)); }
    case DIST_BELOW: { v = rngBelow(h, params.k); }
    case DIST_NORMAL: {
      let h1 = rngU32(params.seed, params.purpose, c, r, params.step, 2u * params.draw);
      let h2 = rngU32(params.seed, params.purpose, c, r, params.step, 2u * params.draw + 1u);
      v = bitcast<u32>(params.lo + params.hi * rngNormal(h1, h2));
    }
    case DIST_GUMBEL: { v = bitcast<u32>(rngGumbel(h)); }
    case DIST_BERNOULLI: { v = rngBernoulli(h, params.lo); }
    default: {}
  }
  out[t] = v;
}

// rows = numAgents · numEnvs, cols = numEnvs (so agent = row / cols, env = row % cols).
@compute @workgroup_size(WORKGROUP_SIZE)
fn categoricalProbs(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.rows) { return; }
  let base = t * params.k;
  var total = 0.0;
  for (var i = 0u; i < params.k; i++) { total += probs[base + i]; }
  let h = rngU32(params.seed, params.purpose, t % params.cols, t / params.cols, params.step, params.draw);
  let goal = rngCategoricalTarget(h, total);
  var acc = 0.0;
  var last = 0u;
  var chosen = 0xffffffffu;
  for (var i = 0u; i < params.k; i++) {
    let p = probs[base + i];
    acc += p;
    if (goal < acc) { chosen = i; break; }
    last = select(last, i, p > 0.0);
  }
  choice[t] = select(chosen, last, chosen == 0xffffffffu);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn categoricalLogits(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.rows) { return; }
  let env = t % params.cols;
  let agent = t / params.cols;
  choice[t] = categoricalChoice(
    t * params.k, params.k, false, params.seed, params.purpose, env, agent, params.step, 0u,
  );
}

// The logits of categorical.wgsl: row t is logits[t·k + i].
fn categoricalLogit(i: u32) -> f32 {
  return logits[i];
}
