// Minibatch assembly of the IDQN family. Owner: algorithms/idqn/batch.ts.
// replicate: one thread per dst word i of [copies, n]: dst[i] = src[i % n] (32-bit words, so f32
//            and u32 tensors alike). SEQL gives every learner the same pooled rows.  writes dst
struct Params { n: u32, copies: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn replicate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= params.n * params.copies) { return; }
  dst[i] = src[i % params.n];
}
