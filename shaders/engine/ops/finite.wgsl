// Non-finite detection. Owner: engine/ops/finite.ts.
// count: one thread per x[i]; counts[group] += 1 where x[i] is NaN or ±Inf.   writes counts
// The test reads the exponent bits (all ones = Inf or NaN): WGSL does not promise IEEE
// comparisons on NaN, the bit pattern is exact.
struct Params { n: u32, group: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn count(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  if ((bitcast<u32>(x[t]) & 0x7f800000u) == 0x7f800000u) {
    atomicAdd(&counts[params.group], 1u);
  }
}
