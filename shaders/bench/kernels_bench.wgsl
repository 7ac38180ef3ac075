// Bench-only: the smallest useful kernel, to measure per-dispatch overhead. Owner:
// bench/kernels_bench.ts.
// empty: one thread per item; writes out[t] = t for t < n (n = 1 in the bench).   writes out
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn empty(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  out[t] = t;
}
