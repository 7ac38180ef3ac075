// Independent PPO update (docs/algorithms/dials.md §6): minibatch shuffling and gathering, per-minibatch advantage
// normalisation, the clipped surrogate + clipped value loss + entropy bonus and its gradient w.r.t.
// the policy head, and loss metrics. Owner: algorithms/ppo/learner.ts. Sizes as ppo_rollout.wgsl;
// S = C·E sequences per agent (sequence s = c·E + e covers steps c·L … c·L + L − 1 of env e),
// Bs sequences per minibatch, R = L·Bs rows per minibatch, row r = l·Bs + b (time-major).
// Agents: the update runs for `numAgents` learner agents a; learner agent a reads rollout agent
// a + agent0 of the storage's `storeAgents` (independent PPO: numAgents = storeAgents, agent0 = 0;
// the GS baseline's shared policy: one learner agent per agent in turn, numAgents = 1).
// Seeds batched (`seeds` > 1, independent only): "agents" are parameter blocks b = a·seeds + k
// (seed k's agent a), numEnvs is E per seed, the storage [T, agents, seeds·E] read as
// [T, storeAgents = agents·seeds, E]; doneStore stays [T, seeds·E]; shuffle keys use seed + k and
// agent a; acc/out are [seeds, FIELDS + 1].
// shuffle:  one thread per (a, epoch): Fisher–Yates permutation of the S sequences,
//           j = rngBelow(rngU32(seed + k, purpose, a + agent0, epoch, counterIn[1], i), i + 1).
//                                                                               writes perm
// gatherNet: one thread per (a, r) for minibatch `mb` of epoch `epoch`: copies the obs of the
//           row's step into mbObs, the reset flag (the previous step of the sequence ended an
//           episode; 0 at l = 0) into mbReset and, at l = 0 (GRU), the stored hidden state of the
//           sequence into mbH0.                              writes mbObs, mbReset, mbH0
// gatherLoss: one thread per (a, r), the same row as gatherNet: copies the action into mbAct and
//           log-prob, advantage, return, old value into mbRow [N, R, 4] (log π_old, A, R, V_old).
//           (Two gathers: one would bind 14 storage buffers, over the 10 a browser allows.)
//                                                                       writes mbAct, mbRow
// advStats: one thread per agent: mean and unbiased std (n − 1) of the advantages over its R rows.
//                                                                             writes advStat
// loss:     one thread per (a, r). Â = (A − mean) / (std + 1e-8); ρ = exp(log π(a) − log π_old);
//           L = (1/R) Σ_r [−min(ρÂ, clip(ρ, 1 − ε, 1 + ε)Â) + vCoef·max((V − R)², (V_old +
//           clip(V − V_old, −ε, ε) − R)²) − βH], ε = clipSched[a + agent0]. Writes
//           dHead = ∂L/∂(logits, V) and terms [a, r, 4] = (policy loss, value loss, entropy,
//           clipped 0/1); log π and H from common/_categorical.wgsl.  writes dHead, terms
// accumulate: one thread per (seed k, field f): f < 4: acc[k, f] += Σ_a (1/R) Σ_r terms[a, r, f]
//           over seed k's blocks; f = 4: acc[k, 4] += 1 (minibatch steps); thread (0, 4) also
//           advances counter[1] when `advance`.
//                                                                      writes acc, counter
// summarise: one thread per field: out[f] = acc[f]; acc[f] = 0.               writes acc, out
const FIELDS: u32 = 4u;
const ADV_EPS: f32 = 1e-8;
// Fields of a minibatch row in mbRow [N, R, ROW]: old log-prob, advantage, return, old value.
const ROW: u32 = 4u;
const LOGP: u32 = 0u;
const ADV: u32 = 1u;
const RET: u32 = 2u;
const VAL: u32 = 3u;

struct Params {
  numAgents: u32, numEnvs: u32, obsDim: u32, numActions: u32, hidden: u32, seqLen: u32,
  steps: u32, epochs: u32, seqPerBatch: u32, epoch: u32, mb: u32, advance: u32, seed: u32,
  purpose: u32, valueCoef: f32, entropyCoef: f32, storeAgents: u32, agent0: u32, seeds: u32
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> counterIn: array<u32>;
@group(0) @binding(2) var<storage, read_write> perm: array<u32>;
@group(0) @binding(3) var<storage, read> permIn: array<u32>;
@group(0) @binding(4) var<storage, read> obsStore: array<f32>;
@group(0) @binding(5) var<storage, read> actStore: array<u32>;
@group(0) @binding(6) var<storage, read> logpStore: array<f32>;
@group(0) @binding(7) var<storage, read> advStore: array<f32>;
@group(0) @binding(8) var<storage, read> retStore: array<f32>;
@group(0) @binding(9) var<storage, read> valStore: array<f32>;
@group(0) @binding(10) var<storage, read> doneStore: array<f32>;
@group(0) @binding(11) var<storage, read> hStore: array<f32>;
@group(0) @binding(12) var<storage, read_write> mbObs: array<f32>;
@group(0) @binding(13) var<storage, read_write> mbAct: array<u32>;
@group(0) @binding(14) var<storage, read_write> mbRow: array<f32>;
@group(0) @binding(18) var<storage, read_write> mbReset: array<f32>;
@group(0) @binding(19) var<storage, read_write> mbH0: array<f32>;
@group(0) @binding(20) var<storage, read> mbRowIn: array<f32>;
@group(0) @binding(21) var<storage, read_write> advStat: array<f32>;
@group(0) @binding(22) var<storage, read> head: array<f32>;
@group(0) @binding(23) var<storage, read> mbActIn: array<u32>;
@group(0) @binding(27) var<storage, read> advStatIn: array<f32>;
@group(0) @binding(28) var<storage, read> clipSched: array<f32>;
@group(0) @binding(29) var<storage, read_write> dHead: array<f32>;
@group(0) @binding(30) var<storage, read_write> terms: array<f32>;
@group(0) @binding(31) var<storage, read> termsIn: array<f32>;
@group(0) @binding(32) var<storage, read_write> acc: array<f32>;
@group(0) @binding(33) var<storage, read_write> counter: array<u32>;
@group(0) @binding(34) var<storage, read_write> out: array<f32>;

// The logits of common/_categorical.wgsl: row t of the loss is head[t·(K + 1) + j], j < K.
fn categoricalLogit(i: u32) -> f32 {
  return head[i];
}

fn sequences() -> u32 {
  return (params.steps / params.seqLen) * params.numEnvs;
}

fn rowsPerBatch() -> u32 {
  return params.seqLen * params.seqPerBatch;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn shuffle(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.epochs) { return; }
  let a = t / params.epochs;
  let ep = t % params.epochs;
  let S = sequences();
  let base = t * S;
  for (var i = 0u; i < S; i++) { perm[base + i] = i; }
  for (var k = 1u; k < S; k++) {
    let i = S - k;
    let key = rngU32(params.seed + a % params.seeds, params.purpose, a / params.seeds + params.agent0,
      ep, counterIn[1], i);
    let j = rngBelow(key, i + 1u);
    let tmp = perm[base + i];
    perm[base + i] = perm[base + j];
    perm[base + j] = tmp;
  }
}

// Where minibatch row t = (a, r = l·Bs + b) of `gatherNet` / `gatherLoss` comes from: sequence
// s = c·E + e of the permutation, step = c·L + l, src = its row in [T, storeAgents, E] storage.
struct GatherRow { a: u32, l: u32, b: u32, c: u32, e: u32, step: u32, src: u32 }

fn gatherRow(t: u32) -> GatherRow {
  let R = rowsPerBatch();
  let a = t / R;
  let r = t % R;
  let l = r / params.seqPerBatch;
  let b = r % params.seqPerBatch;
  let E = params.numEnvs;
  let s = permIn[(a * params.epochs + params.epoch) * sequences() + params.mb * params.seqPerBatch + b];
  let c = s / E;
  let e = s % E;
  let step = c * params.seqLen + l;
  let src = step * params.storeAgents * E + (a + params.agent0) * E + e;
  return GatherRow(a, l, b, c, e, step, src);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gatherNet(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * rowsPerBatch()) { return; }
  let g = gatherRow(t);
  for (var d = 0u; d < params.obsDim; d++) {
    mbObs[t * params.obsDim + d] = obsStore[g.src * params.obsDim + d];
  }
  // doneStore [T, seeds·E]: block a is seed a mod seeds's.
  let envs = params.seeds * params.numEnvs;
  let lane = (g.a % params.seeds) * params.numEnvs + g.e;
  mbReset[t] = select(0.0, doneStore[(g.step - 1u) * envs + lane], g.l > 0u);
  if (params.hidden > 0u && g.l == 0u) {
    let rows = params.storeAgents * params.numEnvs;
    let h0 = (g.a * params.seqPerBatch + g.b) * params.hidden;
    let hs = (g.c * rows + (g.a + params.agent0) * params.numEnvs + g.e) * params.hidden;
    for (var k = 0u; k < params.hidden; k++) { mbH0[h0 + k] = hStore[hs + k]; }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gatherLoss(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * rowsPerBatch()) { return; }
  let src = gatherRow(t).src;
  mbAct[t] = actStore[src];
  mbRow[t * ROW + LOGP] = logpStore[src];
  mbRow[t * ROW + ADV] = advStore[src];
  mbRow[t * ROW + RET] = retStore[src];
  mbRow[t * ROW + VAL] = valStore[src];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn advStats(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flatIndex(gid, nwg);
  if (a >= params.numAgents) { return; }
  let R = rowsPerBatch();
  var s = 0.0;
  for (var r = 0u; r < R; r++) { s += mbRowIn[(a * R + r) * ROW + ADV]; }
  let mean = s / f32(R);
  var q = 0.0;
  for (var r = 0u; r < R; r++) {
    let d = mbRowIn[(a * R + r) * ROW + ADV] - mean;
    q += d * d;
  }
  advStat[a * 2u] = mean;
  advStat[a * 2u + 1u] = select(0.0, sqrt(q / f32(max(R, 2u) - 1u)), R > 1u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn loss(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let R = rowsPerBatch();
  if (t >= params.numAgents * R) { return; }
  let a = t / R;
  let K = params.numActions;
  let base = t * (K + 1u);
  let scale = 1.0 / f32(R);
  let shift = categoricalShift(base, K);
  let ent = categoricalEntropy(base, K, shift);
  let act = mbActIn[t];
  let logp = categoricalLogProbAt(base, act, shift);
  let adv = (mbRowIn[t * ROW + ADV] - advStatIn[a * 2u]) / (advStatIn[a * 2u + 1u] + ADV_EPS);
  let eps = clipSched[a + params.agent0];
  let ratio = exp(logp - mbRowIn[t * ROW + LOGP]);
  let clipped = clamp(ratio, 1.0 - eps, 1.0 + eps);
  let s1 = ratio * adv;
  let s2 = clipped * adv;
  // d(−min(s1, s2))/dlogp: the unclipped branch is active when s1 ≤ s2 (or when ρ is inside the
  // clip range, where both are equal); the clipped branch has zero gradient outside the range.
  let inside = ratio >= 1.0 - eps && ratio <= 1.0 + eps;
  let gLogp = select(0.0, -adv * ratio, s1 <= s2 || inside);
  let v = head[base + K];
  let vOld = mbRowIn[t * ROW + VAL];
  let ret = mbRowIn[t * ROW + RET];
  let dv = v - vOld;
  let vClip = vOld + clamp(dv, -eps, eps);
  let lu = (v - ret) * (v - ret);
  let lc = (vClip - ret) * (vClip - ret);
  let useU = lu >= lc;
  let gv = select(select(0.0, 2.0 * (vClip - ret), abs(dv) < eps), 2.0 * (v - ret), useU);
  for (var j = 0u; j < K; j++) {
    let lp = categoricalLogProbAt(base, j, shift);
    let p = exp(lp);
    let onehot = select(0.0, 1.0, j == act);
    dHead[base + j] = scale * (gLogp * (onehot - p) + params.entropyCoef * p * (lp + ent));
  }
  dHead[base + K] = scale * params.valueCoef * gv;
  terms[t * FIELDS] = -min(s1, s2);
  terms[t * FIELDS + 1u] = max(lu, lc);
  terms[t * FIELDS + 2u] = ent;
  terms[t * FIELDS + 3u] = select(0.0, 1.0, !inside);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.seeds * (FIELDS + 1u)) { return; }
  let k = t / (FIELDS + 1u);
  let f = t % (FIELDS + 1u);
  if (f == FIELDS) {
    acc[t] = acc[t] + 1.0;
    if (params.advance != 0u && k == 0u) { counter[1] = counter[1] + 1u; }
    return;
  }
  let R = rowsPerBatch();
  var total = 0.0;
  // Seed k's blocks a·seeds + k, agents in order (as a lone run sums its agents).
  for (var a = k; a < params.numAgents; a += params.seeds) {
    var s = 0.0;
    for (var r = 0u; r < R; r++) { s += termsIn[(a * R + r) * FIELDS + f]; }
    total += s / f32(R);
  }
  acc[t] = acc[t] + total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn summarise(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.seeds * (FIELDS + 1u)) { return; }
  out[t] = acc[t];
  acc[t] = 0.0;
}
