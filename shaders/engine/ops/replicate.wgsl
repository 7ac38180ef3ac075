// Block replication. Owner: engine/ops/replicate.ts.
// replicate: one thread per dst[b, i] of dst [numBlocks, stride]: dst[b, i] = src[b % srcBlocks, i]
//            (e.g. seed k's shared network, block k, repeated for every agent of seed k in the
//            seed-minor block order a·S + k of algorithms/seeds.ts).                  writes dst
struct Params { numBlocks: u32, srcBlocks: u32, stride: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn replicate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numBlocks * params.stride) { return; }
  let b = t / params.stride;
  dst[t] = src[(b % params.srcBlocks) * params.stride + t % params.stride];
}
