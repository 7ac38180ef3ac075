// A2C rollout for SEAC / IAC / SNAC: acting, rollout storage and n-step returns.
// Owner: algorithms/seac/rollout.ts. Rollout storage (agent-major inside each step slot):
//   obsStore [T + 1, N, E, D], valueStore [T + 1, N, E], actStore, logpStore, rewardStore [T, N, E],
//   maskStore, badStore [T + 1, E] (m = 1 − done, b = 1 − truncated-without-termination; slot 0
//   unused by the returns), returns [T, N, E]. counter [2] u32: (training iteration, eval step).
// act:     one thread per (agent a, env e) row of logits [N, E, K]. When `store`: copies obs into
//          obsStore[slot] and value into valueStore[slot]. When `sample`: picks the action with
//          categoricalChoice (common/_categorical.wgsl: argmax, ties to the lowest index, when
//          `greedy`; else Gumbel-max with category i keyed by rngU32(seed, purpose, e, a,
//          counterIn[which]·T + slot, i), seed and e per seed of a batch as seedOfEnv in
//          common/_rng.wgsl), writes actions and, when `store`,
//          logpStore[slot] = log softmax(logits)[action] (`record` stores the action itself).
//                                                  writes actions, obsStore, valueStore, logpStore
// record:  one thread per (a, e), after the env step of slot `slot`: actStore[slot] = actionsIn
//          (the actions `act` wrote; the env step only reads them), rewardStore[slot] = reward;
//          agent 0 writes maskStore[slot + 1] and badStore[slot + 1] from terminated/truncated.
//          (A separate dispatch from `act`: together they would bind 15 storage buffers, over
//          the 8 WebGPU guarantees; storing the action here keeps `act` at 8.)
//                                                writes actStore, rewardStore, maskStore, badStore
// nStepReturns: one thread per (a, e): backward scan R_T = V̂_T, R_t = (r_t + γ m_{t+1} R_{t+1}) b_{t+1}
//          + (1 − b_{t+1}) V̂_t (docs/algorithms/seac.md §1).                                    writes returns
// returnsAdvance: nStepReturns, and thread 0 also does advance (one dispatch).
//                                                                  writes returns, counter
// advance: one thread: counter[which] += 1.                                  writes counter
struct Params {
  numAgents: u32, numEnvs: u32, obsDim: u32, numActions: u32, nSteps: u32, slot: u32,
  sample: u32, greedy: u32, store: u32, seed: u32, envsPerSeed: u32, purpose: u32, which: u32,
  gamma: f32
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> obs: array<f32>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> value: array<f32>;
@group(0) @binding(4) var<storage, read> counterIn: array<u32>;
@group(0) @binding(5) var<storage, read_write> actions: array<u32>;
@group(0) @binding(6) var<storage, read_write> obsStore: array<f32>;
@group(0) @binding(7) var<storage, read_write> valueStore: array<f32>;
@group(0) @binding(8) var<storage, read_write> logpStore: array<f32>;
@group(0) @binding(9) var<storage, read> actionsIn: array<u32>;
@group(0) @binding(10) var<storage, read> reward: array<f32>;
@group(0) @binding(11) var<storage, read> terminated: array<u32>;
@group(0) @binding(12) var<storage, read> truncated: array<u32>;
@group(0) @binding(13) var<storage, read_write> actStore: array<u32>;
@group(0) @binding(14) var<storage, read_write> rewardStore: array<f32>;
@group(0) @binding(15) var<storage, read_write> maskStore: array<f32>;
@group(0) @binding(16) var<storage, read_write> badStore: array<f32>;
@group(0) @binding(17) var<storage, read> valueIn: array<f32>;
@group(0) @binding(18) var<storage, read> rewardIn: array<f32>;
@group(0) @binding(19) var<storage, read> maskIn: array<f32>;
@group(0) @binding(20) var<storage, read> badIn: array<f32>;
@group(0) @binding(21) var<storage, read_write> returns: array<f32>;
@group(0) @binding(22) var<storage, read_write> counter: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn act(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let rows = params.numAgents * params.numEnvs;
  if (t >= rows) { return; }
  let a = t / params.numEnvs;
  let e = t % params.numEnvs;
  let slotBase = params.slot * rows;
  if (params.store != 0u) {
    let d0 = t * params.obsDim;
    let s0 = (slotBase + t) * params.obsDim;
    for (var d = 0u; d < params.obsDim; d++) { obsStore[s0 + d] = obs[d0 + d]; }
    valueStore[slotBase + t] = value[t];
  }
  if (params.sample == 0u) { return; }
  let K = params.numActions;
  let base = t * K;
  let step = counterIn[params.which] * params.nSteps + params.slot;
  let greedy = params.greedy != 0u;
  let seed = seedOfEnv(params.seed, e, params.envsPerSeed);
  let best = categoricalChoice(base, K, greedy, seed, params.purpose, e % params.envsPerSeed, a, step, 0u);
  actions[t] = best;
  if (params.store != 0u) { logpStore[slotBase + t] = categoricalLogProb(base, K, best); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn record(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let rows = params.numAgents * params.numEnvs;
  if (t >= rows) { return; }
  let slot = params.slot;
  actStore[slot * rows + t] = actionsIn[t];
  rewardStore[slot * rows + t] = reward[t];
  if (t < params.numEnvs) {
    let term = terminated[t] != 0u;
    let trunc = truncated[t] != 0u;
    let next = (slot + 1u) * params.numEnvs + t;
    maskStore[next] = select(1.0, 0.0, term || trunc);
    badStore[next] = select(1.0, 0.0, trunc && !term);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn nStepReturns(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.numEnvs) { return; }
  returnsRow(t);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn returnsAdvance(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.numEnvs) { return; }
  returnsRow(t);
  if (t == 0u) { counter[params.which] = counter[params.which] + 1u; }
}

// The logits of categorical.wgsl: row (a, e) is logits[(a·E + e)·K + i].
fn categoricalLogit(i: u32) -> f32 {
  return logits[i];
}

// n-step returns of row t (see `nStepReturns`).
fn returnsRow(t: u32) {
  let rows = params.numAgents * params.numEnvs;
  let e = t % params.numEnvs;
  let T = params.nSteps;
  var ret = valueIn[T * rows + t];
  for (var k = 0u; k < T; k++) {
    let s = T - 1u - k;
    let m = maskIn[(s + 1u) * params.numEnvs + e];
    let b = badIn[(s + 1u) * params.numEnvs + e];
    ret = (rewardIn[s * rows + t] + params.gamma * m * ret) * b + (1.0 - b) * valueIn[s * rows + t];
    returns[s * rows + t] = ret;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn advance(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= 1u) { return; }
  counter[params.which] = counter[params.which] + 1u;
}
