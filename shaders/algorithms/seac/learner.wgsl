// SEAC / IAC / SNAC losses (docs/algorithms/seac.md §2, §3) and their gradients w.r.t. the heads, batched over
// learners. Owner: algorithms/seac/learner.ts.
// Learner l (L learners = agent axis of the nets) sees S sources; row r = (s, t, e) of its batch
// (M = S·TR·E rows, TR = T, or T + 1 when the targets bootstrap from the learner's critic, in which
// case rows t = T only feed those targets). Source agent k = l when ownOnly (IAC), else s. A row is
// "own" when shared (SNAC), ownOnly, or k = l. Rollout inputs are the [T(+1), N, S·E] stores.
// Seed batching (algorithms/seeds.ts): S = numSeeds seeds of E = numEnvs envs each; learner l is
// seed l mod S's agent ⌊l / S⌋ (SNAC: seed l's network) and reads only its seed's envs, so every
// index below is the lone run's with e → seed·E + e.
// gather:      one thread per (l, r): x[l, r, :] = obsStore[t, k, e, :]; actRow, behRow from
//              actStore, logpStore; when targetMode = 0, targets[l, r] = returns[t, k, e].
//                                                       writes x, actRow, behRow, targets
// bootTargets: one thread per (l, s, e) (targetMode = 1): the n-step recursion of seac_rollout.wgsl
//              over agent k's rewards and masks with the learner's critic valueIn[l, (s, t, e)]
//              (t = T bootstrap, t < T at truncations).                   writes targets
// loss:        one thread per (l, r) with t < T. c = 1/(T·E); ρ = π_l(a|o) / (π_behaviour(a|o) +
//              1e-7) (foreign rows, detached); w = 1 (own) or λρ (foreign); A = target − V.
//              L_row = c·(−w·A·log π(a) + valueCoef·w·A² − entropyCoef·own·H), A and ρ detached
//              in the policy term; log π and H from common/_categorical.wgsl. Writes dLogits,
//              dValue = ∂L_row / ∂(logits, V), and terms [l, f, r] for f = policy, value
//              (w·A²·c), entropy (own·H·c), ratio (foreign ρ).
//                                                       writes dLogits, dValue, terms
// accumulate:  one thread per seed k and field f of acc [S, F + 2]: acc[k, f] += Σ_l sums[l, f]
//              (f < F), acc[k, F] += Σ_l normIn[l], acc[k, F + 1] += 1, l over seed k's learners
//              in agent order.                                          writes acc
// summarise:   one thread per entry: metricsOut[i] = acc[i]; acc[i] = 0.  writes acc, metricsOut
const FIELDS: u32 = 4u;
const RATIO_EPS: f32 = 1e-7;

struct Params {
  numLearners: u32, numSources: u32, numAgents: u32, numEnvs: u32, obsDim: u32, numActions: u32,
  nSteps: u32, rowSteps: u32, ownOnly: u32, sharedNet: u32, targetMode: u32, numSeeds: u32,
  lambda: f32, gamma: f32, entropyCoef: f32, valueCoef: f32
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> obsIn: array<f32>;
@group(0) @binding(2) var<storage, read> actIn: array<u32>;
@group(0) @binding(3) var<storage, read> logpIn: array<f32>;
@group(0) @binding(4) var<storage, read> returnsIn: array<f32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> actRow: array<u32>;
@group(0) @binding(7) var<storage, read_write> behRow: array<f32>;
@group(0) @binding(8) var<storage, read_write> targets: array<f32>;
@group(0) @binding(9) var<storage, read> valueIn: array<f32>;
@group(0) @binding(10) var<storage, read> rewardIn: array<f32>;
@group(0) @binding(11) var<storage, read> maskIn: array<f32>;
@group(0) @binding(12) var<storage, read> badIn: array<f32>;
@group(0) @binding(13) var<storage, read> logits: array<f32>;
@group(0) @binding(14) var<storage, read> value: array<f32>;
@group(0) @binding(15) var<storage, read> actRowIn: array<u32>;
@group(0) @binding(16) var<storage, read> behRowIn: array<f32>;
@group(0) @binding(17) var<storage, read> targetsIn: array<f32>;
@group(0) @binding(18) var<storage, read_write> dLogits: array<f32>;
@group(0) @binding(19) var<storage, read_write> dValue: array<f32>;
@group(0) @binding(20) var<storage, read_write> terms: array<f32>;
@group(0) @binding(21) var<storage, read> sums: array<f32>;
@group(0) @binding(22) var<storage, read> normIn: array<f32>;
@group(0) @binding(23) var<storage, read_write> acc: array<f32>;
@group(0) @binding(24) var<storage, read_write> metricsOut: array<f32>;

fn rowsPerLearner() -> u32 {
  return params.numSources * params.rowSteps * params.numEnvs;
}

// The logits of common/_categorical.wgsl: row i of the loss is logits[i·K + j], j < K.
fn categoricalLogit(i: u32) -> f32 {
  return logits[i];
}

// The seed of learner l, and its agent within the seed (seed-minor block order).
fn seedOf(l: u32) -> u32 {
  return l % params.numSeeds;
}

fn agentOf(l: u32) -> u32 {
  return l / params.numSeeds;
}

// The source agent of source slot s of learner l.
fn sourceAgent(l: u32, s: u32) -> u32 {
  return select(s, agentOf(l), params.ownOnly != 0u);
}

fn isOwn(l: u32, k: u32) -> bool {
  return params.sharedNet != 0u || params.ownOnly != 0u || k == agentOf(l);
}

// Index of (t, k, env e of learner l's seed) in a [*, N, S·E] rollout store.
fn storeIndex(l: u32, t: u32, k: u32, e: u32) -> u32 {
  return (t * params.numAgents + k) * params.numSeeds * params.numEnvs + seedOf(l) * params.numEnvs + e;
}

// Index of (t, env e of learner l's seed) in a [T + 1, S·E] mask store.
fn maskIndex(l: u32, t: u32, e: u32) -> u32 {
  return t * params.numSeeds * params.numEnvs + seedOf(l) * params.numEnvs + e;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  let M = rowsPerLearner();
  if (i >= params.numLearners * M) { return; }
  let l = i / M;
  let r = i % M;
  let perSource = params.rowSteps * params.numEnvs;
  let s = r / perSource;
  let t = (r % perSource) / params.numEnvs;
  let e = r % params.numEnvs;
  let k = sourceAgent(l, s);
  let src = storeIndex(l, t, k, e) * params.obsDim;
  let dst = i * params.obsDim;
  for (var d = 0u; d < params.obsDim; d++) { x[dst + d] = obsIn[src + d]; }
  let tc = min(t, params.nSteps - 1u);
  actRow[i] = actIn[storeIndex(l, tc, k, e)];
  behRow[i] = logpIn[storeIndex(l, tc, k, e)];
  if (params.targetMode == 0u) {
    targets[i] = returnsIn[storeIndex(l, tc, k, e)];
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn bootTargets(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  let E = params.numEnvs;
  if (i >= params.numLearners * params.numSources * E) { return; }
  let l = i / (params.numSources * E);
  let s = (i / E) % params.numSources;
  let e = i % E;
  let k = sourceAgent(l, s);
  let T = params.nSteps;
  let row0 = l * rowsPerLearner() + s * params.rowSteps * E + e;
  var ret = valueIn[row0 + T * E];
  for (var j = 0u; j < T; j++) {
    let t = T - 1u - j;
    let m = maskIn[maskIndex(l, t + 1u, e)];
    let b = badIn[maskIndex(l, t + 1u, e)];
    ret = (rewardIn[storeIndex(l, t, k, e)] + params.gamma * m * ret) * b + (1.0 - b) * valueIn[row0 + t * E];
    targets[row0 + t * E] = ret;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn loss(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  let M = rowsPerLearner();
  if (i >= params.numLearners * M) { return; }
  let l = i / M;
  let r = i % M;
  let perSource = params.rowSteps * params.numEnvs;
  let t = (r % perSource) / params.numEnvs;
  let k = sourceAgent(l, r / perSource);
  let own = isOwn(l, k);
  let valid = t < params.nSteps;
  let K = params.numActions;
  let base = i * K;
  let shift = categoricalShift(base, K);
  let h = categoricalEntropy(base, K, shift);
  let a = min(actRowIn[i], K - 1u);
  let logpA = categoricalLogProbAt(base, a, shift);
  let ratio = exp(logpA) / (exp(behRowIn[i]) + RATIO_EPS);
  let w = select(select(params.lambda * ratio, 1.0, own), 0.0, !valid);
  let c = 1.0 / f32(params.nSteps * params.numEnvs);
  let adv = targetsIn[i] - value[i];
  let gPol = -w * adv * c;
  let gEnt = select(0.0, params.entropyCoef * c, own && valid);
  for (var j = 0u; j < K; j++) {
    let lp = categoricalLogProbAt(base, j, shift);
    let p = exp(lp);
    dLogits[base + j] = gPol * (select(0.0, 1.0, j == a) - p) + gEnt * p * (lp + h);
  }
  dValue[i] = params.valueCoef * 2.0 * w * c * (value[i] - targetsIn[i]);
  let tb = l * FIELDS * M + r;
  terms[tb] = gPol * logpA;
  terms[tb + M] = w * adv * adv * c;
  terms[tb + 2u * M] = select(0.0, h * c, own && valid);
  terms[tb + 3u * M] = select(0.0, ratio, !own && valid);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= params.numSeeds * (FIELDS + 2u)) { return; }
  let k = i / (FIELDS + 2u);
  let f = i % (FIELDS + 2u);
  var total = 0.0;
  if (f < FIELDS) {
    for (var l = k; l < params.numLearners; l += params.numSeeds) { total += sums[l * FIELDS + f]; }
  } else if (f == FIELDS) {
    for (var l = k; l < params.numLearners; l += params.numSeeds) { total += normIn[l]; }
  } else {
    total = 1.0;
  }
  acc[i] = acc[i] + total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn summarise(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= params.numSeeds * (FIELDS + 2u)) { return; }
  metricsOut[i] = acc[i];
  acc[i] = 0.0;
}
