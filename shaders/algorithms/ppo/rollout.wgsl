// Independent PPO (docs/algorithms/dials.md §6): acting, on-policy rollout storage, GAE and schedules, batched over
// agents. Owner: algorithms/ppo/rollout.ts. N agents × E envs (lanes) × T steps per rollout,
// K actions, D obs, H hidden (GRU policies; 0 for MLP policies), L = seqLen, C = T / L chunks.
// Storage (slot-major): obsStore [T, N, E, D], actStore/logpStore/rewStore [T, N, E],
// valStore [T + 1, N, E] (slot T = bootstrap), doneStore [T, E] (1 = the step ended the episode),
// hStore [C, N, E, H] (hidden state fed into step c·L), advStore/retStore [T, N, E].
// counter [4] u32: 0 = lane steps taken (drives the RNG and the schedules), 1 = updates done,
// 2 = acting steps outside training (evaluation / data collection).
// act:      one thread per (a, e) row of head [N, E, K + 1] (K logits then the value). When
//           store: writes valStore of `slot` and, when sample, obsStore of `slot`.
//           When sample: categoricalChoice (common/_categorical.wgsl) over the logits, Gumbel-max
//           (argmax when greedy) keyed by rngU32(seed, purpose, e, a, counterIn[which], i), seed and
//           e per seed of a batch (seedOfEnv, common/_rng.wgsl: envs [k·n, (k+1)·n), n =
//           envsPerSeed, are seed + k's; then XOR seedMix); writes actions and, when store, actStore
//           and logpStore = log softmax(logits)[action].
//                                             writes actions, obsStore, valStore, actStore, logpStore
// storeState: GRU policies only, one thread per (a, e, k < H), dispatched before `act` of a slot
//           with slot % L == 0: hStore[slot / L] = hIn (the state fed into that step). (Apart
//           from `act` so that `act` binds at most 8 storage buffers.)           writes hStore
// record:   one thread per (a, e, k < max(H, 1)) after the env step of `slot`: when store,
//           rewStore[slot] = reward (k = 0) and doneStore[slot] (a = 0, k = 0); when H > 0,
//           h = hNext, zeroed where the episode ended (the next step starts a new one). Thread 0
//           advances counter[which].           writes rewStore, doneStore, h, counter
// gae:      one thread per (a, e): backward scan δ_t = r_t + γ V_{t+1} (1 − d_t) − V_t,
//           A_t = δ_t + γλ (1 − d_t) A_{t+1}, with A_{t+1} := 0 where t + 1 is a multiple of
//           `horizon` (a GAE segment boundary, bootstrapped by V_{t+1}); R_t = A_t + V_t.
//                                                                   writes advStore, retStore
// schedule: one thread per parameter block (agents × seeds), before an update: progress
//           p = min(counter[0]·envsPerSeed / total, 1); lrSched[a] = lr0 + (lrEnd − lr0) p,
//           clipSched[a] = clip0 + (clipEnd − clip0) p.
//                                                                   writes lrSched, clipSched
struct Params {
  numAgents: u32, numEnvs: u32, obsDim: u32, numActions: u32, hidden: u32, seqLen: u32,
  slot: u32, sample: u32, greedy: u32, store: u32, which: u32, seed: u32, purpose: u32,
  steps: u32, horizon: u32, gamma: f32, lambda: f32, totalSteps: f32, lr0: f32, lrEnd: f32,
  clip0: f32, clipEnd: f32, envsPerSeed: u32, seeds: u32, seedMix: u32
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> obs: array<f32>;
@group(0) @binding(2) var<storage, read> head: array<f32>;
@group(0) @binding(3) var<storage, read> counterIn: array<u32>;
@group(0) @binding(4) var<storage, read_write> actions: array<u32>;
@group(0) @binding(5) var<storage, read_write> obsStore: array<f32>;
@group(0) @binding(6) var<storage, read_write> valStore: array<f32>;
@group(0) @binding(7) var<storage, read_write> actStore: array<u32>;
@group(0) @binding(8) var<storage, read_write> logpStore: array<f32>;
@group(0) @binding(9) var<storage, read> hIn: array<f32>;
@group(0) @binding(10) var<storage, read_write> hStore: array<f32>;
@group(0) @binding(11) var<storage, read> reward: array<f32>;
@group(0) @binding(12) var<storage, read> terminated: array<u32>;
@group(0) @binding(13) var<storage, read> truncated: array<u32>;
@group(0) @binding(14) var<storage, read> hNext: array<f32>;
@group(0) @binding(15) var<storage, read_write> rewStore: array<f32>;
@group(0) @binding(16) var<storage, read_write> doneStore: array<f32>;
@group(0) @binding(17) var<storage, read_write> h: array<f32>;
@group(0) @binding(18) var<storage, read_write> counter: array<u32>;
@group(0) @binding(19) var<storage, read> rewIn: array<f32>;
@group(0) @binding(20) var<storage, read> doneIn: array<f32>;
@group(0) @binding(21) var<storage, read> valIn: array<f32>;
@group(0) @binding(22) var<storage, read_write> advStore: array<f32>;
@group(0) @binding(23) var<storage, read_write> retStore: array<f32>;
@group(0) @binding(24) var<storage, read_write> lrSched: array<f32>;
@group(0) @binding(25) var<storage, read_write> clipSched: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn act(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let rows = params.numAgents * params.numEnvs;
  if (t >= rows) { return; }
  let a = t / params.numEnvs;
  let e = t % params.numEnvs;
  let K = params.numActions;
  let base = t * (K + 1u);
  let slotBase = params.slot * rows;
  if (params.store != 0u) {
    valStore[slotBase + t] = head[base + K];
    if (params.sample != 0u) {
      let d0 = t * params.obsDim;
      let s0 = (slotBase + t) * params.obsDim;
      for (var d = 0u; d < params.obsDim; d++) { obsStore[s0 + d] = obs[d0 + d]; }
    }
  }
  if (params.sample == 0u) { return; }
  let step = counterIn[params.which];
  let greedy = params.greedy != 0u;
  let seed = seedOfEnv(params.seed, e, params.envsPerSeed) ^ params.seedMix;
  let best = categoricalChoice(base, K, greedy, seed, params.purpose, e % params.envsPerSeed, a, step,
    0u);
  actions[t] = best;
  if (params.store != 0u) {
    actStore[slotBase + t] = best;
    logpStore[slotBase + t] = categoricalLogProb(base, K, best);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn storeState(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let n = params.numAgents * params.numEnvs * params.hidden;
  if (t >= n) { return; }
  hStore[params.slot / params.seqLen * n + t] = hIn[t];
}

// The logits of categorical.wgsl: row (a, e) is head[(a·E + e)·(K + 1) + i], i < K.
fn categoricalLogit(i: u32) -> f32 {
  return head[i];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn record(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let rows = params.numAgents * params.numEnvs;
  let width = max(params.hidden, 1u);
  if (t >= rows * width) { return; }
  let row = t / width;
  let k = t % width;
  let e = row % params.numEnvs;
  let done = terminated[e] != 0u || truncated[e] != 0u;
  if (params.store != 0u && k == 0u) {
    rewStore[params.slot * rows + row] = reward[row];
    if (row < params.numEnvs) { doneStore[params.slot * params.numEnvs + e] = select(0.0, 1.0, done); }
  }
  if (params.hidden > 0u) { h[t] = select(hNext[t], 0.0, done); }
  if (t == 0u) { counter[params.which] = counter[params.which] + 1u; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gae(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let rows = params.numAgents * params.numEnvs;
  if (t >= rows) { return; }
  let e = t % params.numEnvs;
  let T = params.steps;
  var last = 0.0;
  for (var k = 0u; k < T; k++) {
    let s = T - 1u - k;
    let notDone = 1.0 - doneIn[s * params.numEnvs + e];
    let boundary = (s + 1u) % params.horizon == 0u;
    let carry = select(last, 0.0, boundary);
    let v = valIn[s * rows + t];
    let delta = rewIn[s * rows + t] + params.gamma * valIn[(s + 1u) * rows + t] * notDone - v;
    last = delta + params.gamma * params.lambda * notDone * carry;
    advStore[s * rows + t] = last;
    retStore[s * rows + t] = last + v;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn schedule(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flatIndex(gid, nwg);
  if (a >= params.numAgents * params.seeds) { return; }
  let p = min(f32(counterIn[0]) * f32(params.envsPerSeed) / max(params.totalSteps, 1.0), 1.0);
  lrSched[a] = params.lr0 + (params.lrEnd - params.lr0) * p;
  clipSched[a] = params.clip0 + (params.clipEnd - params.clip0) * p;
}
