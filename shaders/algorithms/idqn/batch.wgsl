// Minibatch assembly of the IDQN family. Owner: algorithms/idqn/batch.ts.
// replicate: one thread per dst word i of [copies, n]: dst[i] = src[i % n] (32-bit words, so f32
//            and u32 tensors alike). SEQL gives every learner the same pooled rows.  writes dst
// tileSeeds: one thread per dst word i of [copies, blocks, n] (copies = learners l of all seeds,
//            blocks per seed, n words per block of src [blocks·seeds, n] in seed-minor order):
//            dst[l, j, x] = src[j·seeds + l mod seeds, x], learner l's seed's blocks in order
//            (seeds = 1: replicate of src). LBS gives every learner its seed's pool. writes dst
struct Params { n: u32, copies: u32, seeds: u32, blocks: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn replicate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= params.n * params.copies) { return; }
  dst[i] = src[i % params.n];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tileSeeds(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  let per = params.blocks * params.n;
  if (i >= params.copies * per) { return; }
  let l = i / per;
  let j = (i % per) / params.n;
  dst[i] = src[(j * params.seeds + l % params.seeds) * params.n + i % params.n];
}
