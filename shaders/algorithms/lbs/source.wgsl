// Large Batch Sharing (docs/algorithms/lbs.md §2). Owner: algorithms/lbs/source.ts.
// The pool is the p1 draws of every agent in agent order: item k = j·batch + b is draw b of agent
// j's ring (K = numAgents·batch items, rows of the gathered p1 batch [numAgents, batch, obsDim]).
//
// ownTd:   one thread per (agent j, b < batch): ownAbsTd[j, b] = absTd[j, j·batch + b], learner j's
//          |δ| on its own draws (its ring's PER priority update).                writes ownAbsTd
// pickRows: one thread per (learner i, b < batch, d < obsDim): the learner's resampled item
//          k = pick[i, b] of the pool: obs, nextObs and (d = 0) action.
//          writes outObs, outNext, outAction
// pickScalars: one thread per (learner i, b < batch): reward and done of item k = pick[i, b] and
//          the loss weight w2[i, b]·w1[k] (w1: the p1 IS weight of the item, or 1 when
//          `usePoolWeight` = 0). Split from pickRows so that each binds at most 8 storage buffers
//          (portable WebGPU limit).                         writes outReward, outDone, outWeight
// metrics: one thread per learner: acc[i] += (Σ_pool |δ|, K, draws of foreign items, batch).
//          writes acc
// Seed batching (seeds > 1, algorithms/seeds.ts): numAgents = M·seeds learners and rings, learner
// and ring a·seeds + k are seed k's agent a; seed k's pool is its own rings' draws, item
// k' = j·batch + b of it is row b of p1 ring j·seeds + k (poolRow), K = M·batch per seed.
struct Params { numAgents: u32, batch: u32, obsDim: u32, usePoolWeight: u32, seeds: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> absTd: array<f32>;
@group(0) @binding(2) var<storage, read_write> ownAbsTd: array<f32>;
@group(0) @binding(3) var<storage, read> pick: array<u32>;
@group(0) @binding(4) var<storage, read> pickWeight: array<f32>;
@group(0) @binding(5) var<storage, read> poolWeight: array<f32>;
@group(0) @binding(6) var<storage, read> poolObs: array<f32>;
@group(0) @binding(7) var<storage, read> poolNext: array<f32>;
@group(0) @binding(8) var<storage, read> poolAction: array<u32>;
@group(0) @binding(9) var<storage, read> poolReward: array<f32>;
@group(0) @binding(10) var<storage, read> poolDone: array<f32>;
@group(0) @binding(11) var<storage, read_write> outObs: array<f32>;
@group(0) @binding(12) var<storage, read_write> outNext: array<f32>;
@group(0) @binding(13) var<storage, read_write> outAction: array<u32>;
@group(0) @binding(14) var<storage, read_write> outReward: array<f32>;
@group(0) @binding(15) var<storage, read_write> outDone: array<f32>;
@group(0) @binding(16) var<storage, read_write> outWeight: array<f32>;
@group(0) @binding(17) var<storage, read> poolSum: array<f32>;
@group(0) @binding(18) var<storage, read_write> acc: array<f32>;

// Items of one seed's pool.
fn poolSize() -> u32 { return (params.numAgents / params.seeds) * params.batch; }

// Row of the gathered p1 batch [numAgents·batch] that learner i's pool item k is.
fn poolRow(i: u32, k: u32) -> u32 {
  return ((k / params.batch) * params.seeds + i % params.seeds) * params.batch + k % params.batch;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn ownTd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.batch) { return; }
  let j = t / params.batch;
  let b = t % params.batch;
  ownAbsTd[t] = absTd[j * poolSize() + (j / params.seeds) * params.batch + b];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn pickRows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.batch * params.obsDim) { return; }
  let row = t / params.obsDim;
  let d = t % params.obsDim;
  let k = poolRow(row / params.batch, min(pick[row], poolSize() - 1u));
  outObs[t] = poolObs[k * params.obsDim + d];
  outNext[t] = poolNext[k * params.obsDim + d];
  if (d == 0u) { outAction[row] = poolAction[k]; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn pickScalars(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flatIndex(gid, nwg);
  if (row >= params.numAgents * params.batch) { return; }
  let k = poolRow(row / params.batch, min(pick[row], poolSize() - 1u));
  outReward[row] = poolReward[k];
  outDone[row] = poolDone[k];
  outWeight[row] = pickWeight[row] * select(1.0, poolWeight[k], params.usePoolWeight != 0u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn metrics(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= params.numAgents) { return; }
  var foreign = 0u;
  for (var b = 0u; b < params.batch; b++) {
    foreign += select(0u, 1u, pick[i * params.batch + b] / params.batch != i / params.seeds);
  }
  let K = poolSize();
  acc[4u * i] = acc[4u * i] + poolSum[i];
  acc[4u * i + 1u] = acc[4u * i + 1u] + f32(K);
  acc[4u * i + 2u] = acc[4u * i + 2u] + f32(foreign);
  acc[4u * i + 3u] = acc[4u * i + 3u] + f32(params.batch);
}
