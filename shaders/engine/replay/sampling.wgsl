// Sampling primitives over per-ring ("ring" = one agent's buffer, or the one shared buffer) data.
// Owner: engine/replay/sampling.ts. Randomness: rngU32(seed, purpose, ring, item, clock[0], 0), one
// draw per (ring, item, call); `clock` is a GPU counter advanced by `tick` after each call.
// Seed batching (algorithms/seeds.ts): ring r = b·seeds + k is seed k's ring b and draws as ring b of
// a sampler seeded (seed + k) ⊕ salt (seeds = 1, salt = 0: rngU32(seed, purpose, ring, …) as above).
//
// Sum/min tree (PER): per ring a heap of 2·L f32 (L = leafCount, a power of two): node 1 is the
// root, leaves are L + slot, node k has children 2k and 2k + 1. `sum` holds p^α sums; `minTree`
// holds minima over non-empty leaves (empty leaves hold EMPTY_MIN). Updates are path updates:
// leaves are written first, then one workgroup per ring recomputes the ancestors of every changed
// slot level by level from their two children (threads that share an ancestor write the same
// value; a storage barrier separates the levels).
//
// treeSetLeaves:   one thread per (ring, j < count). writes sum, minTree leaves (last j wins)
// treeUpdatePaths: one workgroup per ring.          writes sum, minTree ancestors (levels 1..level)
// perSample:       one thread per (ring, b < count). writes indices, weights
// uniformSample:   one thread per (ring, b < count). writes indices
// topK:            one thread per ring.               writes indices (k = count)
// lbsPrefix:       one thread per ring.               writes mass, cdf
// lbsDraw:         one thread per (ring, b < count).  writes indices, weights
// tick:            one thread.                        writes clockOut
const EMPTY_MIN: f32 = 3.0e38;
const NO_SLOT: u32 = 0xffffffffu;
const MAX_TOP_K: u32 = 32u;

struct Params { numRings: u32, count: u32, size: u32, level: u32, alpha: f32, eps: f32, beta: f32, clip: f32, seed: u32, purpose: u32, stride: u32, fillField: u32, windowField: u32, seeds: u32, salt: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> slots: array<u32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;
@group(0) @binding(3) var<storage, read_write> sum: array<f32>;
@group(0) @binding(4) var<storage, read_write> minTree: array<f32>;
@group(0) @binding(5) var<storage, read> sumIn: array<f32>;
@group(0) @binding(6) var<storage, read> minIn: array<f32>;
@group(0) @binding(7) var<storage, read> clock: array<u32>;
@group(0) @binding(8) var<storage, read_write> clockOut: array<u32>;
@group(0) @binding(9) var<storage, read_write> indices: array<u32>;
@group(0) @binding(10) var<storage, read_write> weights: array<f32>;
@group(0) @binding(11) var<storage, read> counters: array<u32>;
@group(0) @binding(12) var<storage, read> score: array<f32>;
@group(0) @binding(13) var<storage, read_write> mass: array<f32>;
@group(0) @binding(14) var<storage, read_write> cdf: array<f32>;
@group(0) @binding(15) var<storage, read> massIn: array<f32>;
@group(0) @binding(16) var<storage, read> cdfIn: array<f32>;

fn draw(ring: u32, item: u32) -> u32 {
  let s = (params.seed + ring % params.seeds) ^ params.salt;
  return rngU32(s, params.purpose, ring / params.seeds, item, clock[0], 0u);
}

// PER priority update: leaf = (|δ| + ε)^α; a slot drawn twice takes the value of its last draw.
@compute @workgroup_size(WORKGROUP_SIZE)
fn treeSetLeaves(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numRings * params.count) { return; }
  let r = t / params.count;
  let j = t % params.count;
  let s = slots[t];
  if (s >= params.size) { return; }
  for (var k = j + 1u; k < params.count; k++) {
    if (slots[r * params.count + k] == s) { return; }
  }
  let base = max(abs(values[t]) + params.eps, 1e-30);
  let leaf = pow(base, params.alpha);
  let node = r * 2u * params.size + params.size + s;
  sum[node] = leaf;
  minTree[node] = leaf;
}

// One workgroup per ring walks the levels bottom-up; at each level its threads recompute the
// ancestors of the changed slots (strided over j), then all wait at a storage barrier before
// the next level reads them. Threads sharing an ancestor write the same value.
@compute @workgroup_size(WORKGROUP_SIZE)
fn treeUpdatePaths(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  let base = r * 2u * params.size;
  for (var level = 1u; level <= params.level; level++) {
    for (var j = lid; j < params.count; j += WORKGROUP_SIZE) {
      let s = slots[r * params.count + j];
      if (s < params.size) {
        let node = (params.size + s) >> level;
        sum[base + node] = sum[base + 2u * node] + sum[base + 2u * node + 1u];
        minTree[base + node] = min(minTree[base + 2u * node], minTree[base + 2u * node + 1u]);
      }
    }
    storageBarrier();
  }
}

// Proportional draw with replacement: mass = u·total, prefix descent from the root; a zero-mass
// right subtree is never entered (f32 rounding cannot land on an empty leaf). IS weight
// (N·P(i))^−β / (N·P_min)^−β = (p_min / p_i)^β; 0 for an empty tree.
@compute @workgroup_size(WORKGROUP_SIZE)
fn perSample(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numRings * params.count) { return; }
  let r = t / params.count;
  let b = t % params.count;
  let base = r * 2u * params.size;
  let total = sumIn[base + 1u];
  var u = rngUnit(draw(r, b)) * total;
  var node = 1u;
  for (var l = 0u; l < params.level; l++) {
    let left = sumIn[base + 2u * node];
    let right = sumIn[base + 2u * node + 1u];
    let goLeft = u < left || right <= 0.0;
    u = select(u - left, u, goLeft);
    node = select(2u * node + 1u, 2u * node, goLeft);
  }
  let leaf = sumIn[base + node];
  let ok = leaf > 0.0 && total > 0.0;
  indices[t] = node - params.size;
  weights[t] = select(0.0, pow(minIn[base + 1u] / max(leaf, 1e-30), params.beta), ok);
}

// Uniform with replacement over the ring's filled slots minus an excluded window (start, count)
// read from counters[ring·stride + windowField + 0/1]: k ∈ [0, fill − count),
// slot = (start + count + k) mod fill. Empty → slot 0.
@compute @workgroup_size(WORKGROUP_SIZE)
fn uniformSample(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numRings * params.count) { return; }
  let r = t / params.count;
  let b = t % params.count;
  let c = r * params.stride;
  let fill = counters[c + params.fillField];
  let start = counters[c + params.windowField];
  let skip = min(counters[c + params.windowField + 1u], fill);
  let n = fill - skip;
  let k = rngBelow(draw(r, b), n);
  indices[t] = select(0u, (start + skip + k) % max(fill, 1u), n > 0u);
}

// Without replacement: the k items with the smallest exponential race key E_i / w_i,
// E_i = −log(u_i), u_i ∈ (0, 1) — the same order as Gumbel-top-k on log w_i + G_i. Items with
// w ≤ 0 never qualify; missing entries are NO_SLOT. Ties go to the lower index.
@compute @workgroup_size(WORKGROUP_SIZE)
fn topK(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg);
  if (r >= params.numRings) { return; }
  var keys: array<f32, MAX_TOP_K>;
  var ids: array<u32, MAX_TOP_K>;
  let k = min(params.count, MAX_TOP_K);
  var have = 0u;
  for (var i = 0u; i < params.size; i++) {
    let w = score[r * params.size + i];
    if (!(w > 0.0)) { continue; }
    let u = (f32(draw(r, i) >> 8u) + 0.5) * (1.0 / 16777216.0);
    let key = -log(u) / w;
    if (have == k && !(key < keys[k - 1u])) { continue; }
    var p = select(have, k - 1u, have == k);
    have = min(have + 1u, k);
    while (p > 0u && key < keys[p - 1u]) {
      keys[p] = keys[p - 1u];
      ids[p] = ids[p - 1u];
      p--;
    }
    keys[p] = key;
    ids[p] = i;
  }
  for (var j = 0u; j < params.count; j++) {
    indices[r * params.count + j] = select(NO_SLOT, ids[min(j, MAX_TOP_K - 1u)], j < have);
  }
}

// LBS p2 over a pool of K = size items: g = max(min(|td|, clip), eps), sequential inclusive
// prefix sum in item order (one thread per ring: K is a few hundred; fixed order, deterministic).
@compute @workgroup_size(WORKGROUP_SIZE)
fn lbsPrefix(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg);
  if (r >= params.numRings) { return; }
  var acc = 0.0;
  for (var i = 0u; i < params.size; i++) {
    let g = max(min(abs(score[r * params.size + i]), params.clip), params.eps);
    mass[r * params.size + i] = g;
    acc += g;
    cdf[r * params.size + i] = acc;
  }
}

// LBS draw with replacement: smallest i with cdf[i] > u·total; weight 1/(K·p_i) = total/(K·g_i).
@compute @workgroup_size(WORKGROUP_SIZE)
fn lbsDraw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numRings * params.count) { return; }
  let r = t / params.count;
  let b = t % params.count;
  let base = r * params.size;
  let total = cdfIn[base + params.size - 1u];
  let u = rngUnit(draw(r, b)) * total;
  var lo = 0u;
  var hi = params.size - 1u;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (cdfIn[base + mid] > u) { hi = mid; } else { lo = mid + 1u; }
  }
  indices[t] = lo;
  weights[t] = total / (f32(params.size) * massIn[base + lo]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tick(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  if (flatIndex(gid, nwg) != 0u) { return; }
  clockOut[0] = clockOut[0] + 1u;
}
