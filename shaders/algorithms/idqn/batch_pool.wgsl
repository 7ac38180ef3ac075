// Pooled minibatches ("IDQN same RB"). Owner: algorithms/idqn/batch.ts.
// p = pick[l, b] indexes the pool [poolRows, …]. Two kernels so that each binds at most 8
// storage buffers (portable WebGPU limit).
// pickRows:    one thread per (learner l, row b, feature k) of out [numLearners, batch, obsDim]:
//              outObs/outNext[l, b, k] = pool rows p; the thread with k == 0 also copies action.
//                                                          writes outObs, outNext, outAction
// pickScalars: one thread per (learner l, row b): reward and done of pool row p.
//                                                          writes outReward, outDone
// Seed batching (seeds > 1): learner l = a·seeds + k is seed k's agent a and draws from seed k's
// pool: its pool row p is row p mod batch of ring (p / batch)·seeds + k of the pooled draws
// [numLearners, batch] (poolRow; seeds = 1: row p).
struct Params { numLearners: u32, batch: u32, obsDim: u32, poolRows: u32, seeds: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pick: array<u32>;
@group(0) @binding(2) var<storage, read> poolObs: array<f32>;
@group(0) @binding(3) var<storage, read> poolNext: array<f32>;
@group(0) @binding(4) var<storage, read> poolAction: array<u32>;
@group(0) @binding(5) var<storage, read> poolReward: array<f32>;
@group(0) @binding(6) var<storage, read> poolDone: array<f32>;
@group(0) @binding(7) var<storage, read_write> outObs: array<f32>;
@group(0) @binding(8) var<storage, read_write> outNext: array<f32>;
@group(0) @binding(9) var<storage, read_write> outAction: array<u32>;
@group(0) @binding(10) var<storage, read_write> outReward: array<f32>;
@group(0) @binding(11) var<storage, read_write> outDone: array<f32>;

fn poolRow(l: u32, p: u32) -> u32 {
  return ((p / params.batch) * params.seeds + l % params.seeds) * params.batch + p % params.batch;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn pickRows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let d = params.obsDim;
  if (t >= params.numLearners * params.batch * d) { return; }
  let row = t / d;
  let k = t % d;
  let p = poolRow(row / params.batch, min(pick[row], params.poolRows - 1u));
  outObs[t] = poolObs[p * d + k];
  outNext[t] = poolNext[p * d + k];
  if (k == 0u) { outAction[row] = poolAction[p]; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn pickScalars(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flatIndex(gid, nwg);
  if (row >= params.numLearners * params.batch) { return; }
  let p = poolRow(row / params.batch, min(pick[row], params.poolRows - 1u));
  outReward[row] = poolReward[p];
  outDone[row] = poolDone[p];
}
