// SUPER relay selection (docs/algorithms/super.md §2–3). Owner: algorithms/super/select.ts.
// A fragment is the F = `fragment` stores since the last relay; its rows per agent are
// j = step·numEnvs + env (n = F·numEnvs rows). Replay counters [numAgents, 8] u32 are (ptr, fill,
// pendingStart, pendingCount, completedStart, completedCount, inserts, 0) (engine/replay/buffer.ts).
//
// fragmentSlots:   one thread per (agent a, row j < n). Step 0 of the fragment completed the rows
//                  that were pending at the last relay (startIn[a], recorded by `snapshot`); steps
//                  s ≥ 1 are contiguous and end at completedStart: completedStart − (F−1−s)·numEnvs.
//                  writes slots [numAgents, n]
// windowPush:      one thread per (agent a, k < n): appends |δ| to the agent's FIFO window
//                  (value number i at slot i mod capacity; only the last `capacity` of a large
//                  fragment are kept).                                           writes window
// selectQuantile:  one thread per (agent, k): flag = |δ_k| > τ_a, τ from `threshold [numAgents]`.
// selectGaussian:  one thread per (agent, k): flag = |δ_k| > μ + c·s, (μ, v) from `moments`, s = v
//                  (released code, `useStd` = 0) or √v (paper text); `mode` 1 shares all (β ≥ 1),
//                  2 shares none (β ≤ 0).
// selectStochastic: one thread per (agent, k): with priorities π(a) = a^α (π(a) = a when α = 1,
//                  0 for a ≤ 0) and `sums[a]` = Σ π over the normaliser's m values — the fragment
//                  (`normaliser` 0, m = n) or the agent's window (1, m = min(count, capacity)) —
//                  p = min(1, β·m·π(|δ_k|) / Σ π) = min(1, β·π(|δ_k|) / mean π) (0 when the sum is
//                  not in (0, F32_MAX]), flag = Bernoulli(p) with draw rngU32(seed, purpose, a, k,
//                  clock[0], 0); with seeds batched (agent a = b·seeds + k' is seed k''s agent b)
//                  rngU32(seed + k', purpose, b, k, clock[0], 0).               all write flags
// batchPriority:   one thread per (agent, k): prio = π(|δ_k|) of the fragment.   writes prio
// windowPriority:  one thread per (agent, slot < capacity): prio = π(window value) for the
//                  min(count, capacity) filled slots, 0 elsewhere.               writes prio
// snapshot:        one thread per agent: startOut[a] = pendingStart (after the relay).
// windowCount:     one thread per agent: count[a] += n (after windowPush).        writes count
// advance:         one thread per agent: metrics[a] += (shared rows, fragment rows, Σ|δ|); thread 0
//                  advances the clock.                                 writes metrics, clockOut
struct Params { numAgents: u32, numEnvs: u32, fragment: u32, n: u32, capacity: u32, mode: u32, c: f32, useStd: u32, beta: f32, seed: u32, purpose: u32, alpha: f32, normaliser: u32, seeds: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> countersIn: array<u32>;
@group(0) @binding(2) var<storage, read> startIn: array<u32>;
@group(0) @binding(3) var<storage, read_write> slots: array<u32>;
@group(0) @binding(4) var<storage, read> absTd: array<f32>;
@group(0) @binding(5) var<storage, read> countIn: array<u32>;
@group(0) @binding(6) var<storage, read_write> window: array<f32>;
@group(0) @binding(7) var<storage, read> threshold: array<f32>;
@group(0) @binding(8) var<storage, read> moments: array<f32>;
@group(0) @binding(9) var<storage, read> sums: array<f32>;
@group(0) @binding(10) var<storage, read> clock: array<u32>;
@group(0) @binding(11) var<storage, read_write> flags: array<u32>;
@group(0) @binding(12) var<storage, read_write> startOut: array<u32>;
@group(0) @binding(13) var<storage, read_write> count: array<u32>;
@group(0) @binding(14) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(15) var<storage, read_write> clockOut: array<u32>;
@group(0) @binding(16) var<storage, read> sharedCount: array<u32>;
@group(0) @binding(17) var<storage, read> windowIn: array<f32>;
@group(0) @binding(18) var<storage, read_write> prio: array<f32>;

const COUNTER_STRIDE: u32 = 8u;
const F32_MAX: f32 = 3.40282347e38;
const TINY: f32 = 1e-30;

// Stochastic priority π(a) = a^α of a score a = |δ|: exactly a when α = 1 (the released rule stays
// bit for bit), 0 for a ≤ 0 (pow is not defined there).
fn priority(a: f32) -> f32 {
  let powered = select(pow(max(a, TINY), params.alpha), 0.0, a <= 0.0);
  return select(powered, a, params.alpha == 1.0);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn fragmentSlots(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.n) { return; }
  let a = t / params.n;
  let j = t % params.n;
  let step = j / params.numEnvs;
  let e = j % params.numEnvs;
  let cap = params.capacity;
  let completed = countersIn[a * COUNTER_STRIDE + 4u];
  // (F − 1 − step)·numEnvs < capacity is checked on the host; add cap before subtracting.
  let back = ((params.fragment - 1u - step) * params.numEnvs) % cap;
  let later = (completed + cap - back) % cap;
  let first = select(later, startIn[a] % cap, step == 0u);
  slots[t] = (first + e) % cap;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn windowPush(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.n) { return; }
  let a = t / params.n;
  let k = t % params.n;
  if (k + params.capacity < params.n) { return; }
  window[a * params.capacity + (countIn[a] + k) % params.capacity] = absTd[t];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn selectQuantile(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.n) { return; }
  let a = t / params.n;
  flags[t] = select(0u, 1u, absTd[t] > threshold[a]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn selectGaussian(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.n) { return; }
  let a = t / params.n;
  let mean = moments[2u * a];
  let variance = max(moments[2u * a + 1u], 0.0);
  let scale = select(variance, sqrt(variance), params.useStd != 0u);
  let tau = mean + params.c * scale;
  let keep = (absTd[t] > tau || params.mode == 1u) && params.mode != 2u;
  flags[t] = select(0u, 1u, keep);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn selectStochastic(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.n) { return; }
  let a = t / params.n;
  let k = t % params.n;
  let total = sums[a];
  let filled = f32(min(countIn[a], params.capacity));
  let m = select(f32(params.n), filled, params.normaliser == 1u);
  let ratio = (params.beta * m) * priority(absTd[t]) / max(total, TINY);
  let p = select(0.0, min(1.0, ratio), total > 0.0 && total <= F32_MAX);
  let h = rngU32(params.seed + a % params.seeds, params.purpose, a / params.seeds, k, clock[0], 0u);
  flags[t] = rngBernoulli(h, p);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn snapshot(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flatIndex(gid, nwg);
  if (a >= params.numAgents) { return; }
  startOut[a] = countersIn[a * COUNTER_STRIDE + 2u];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn windowCount(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flatIndex(gid, nwg);
  if (a >= params.numAgents) { return; }
  count[a] = count[a] + params.n;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn advance(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flatIndex(gid, nwg);
  if (a >= params.numAgents) { return; }
  metrics[3u * a] = metrics[3u * a] + f32(sharedCount[a]);
  metrics[3u * a + 1u] = metrics[3u * a + 1u] + f32(params.n);
  metrics[3u * a + 2u] = metrics[3u * a + 2u] + sums[a];
  if (a == 0u) { clockOut[0] = clockOut[0] + 1u; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn batchPriority(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.n) { return; }
  prio[t] = priority(absTd[t]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn windowPriority(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.capacity) { return; }
  let a = t / params.capacity;
  let slot = t % params.capacity;
  let filled = min(countIn[a], params.capacity);
  prio[t] = select(0.0, priority(windowIn[t]), slot < filled);
}
