// Bench-only probes of an adapter's arithmetic and load rates. Owner: bench/adapter_bench.ts.
// alu:     8 independent vec4 multiply-add chains per thread for `iters` steps (64 FLOP a step).
//                                                                                  writes out
// gather:  one f32 load a step at an address that differs per thread (a different cache line per
//          lane), summed.                                                          writes out
// gather4: the same with one vec4 load a step.                                     writes out
struct Params { n: u32, iters: u32, mask: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read> src4: array<vec4f>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn alu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  // Multiplier and addend come from params so that nothing folds at compile time.
  let m = vec4f(0.999 + f32(params.mask) * 1e-12);
  let c = vec4f(f32(t) * 1e-6);
  var a0 = c;
  var a1 = c + 1.0;
  var a2 = c + 2.0;
  var a3 = c + 3.0;
  var a4 = c + 4.0;
  var a5 = c + 5.0;
  var a6 = c + 6.0;
  var a7 = c + 7.0;
  for (var i = 0u; i < params.iters; i++) {
    a0 = a0 * m + c;
    a1 = a1 * m + c;
    a2 = a2 * m + c;
    a3 = a3 * m + c;
    a4 = a4 * m + c;
    a5 = a5 * m + c;
    a6 = a6 * m + c;
    a7 = a7 * m + c;
  }
  out[t] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  var s = 0.0;
  for (var i = 0u; i < params.iters; i++) { s += src[(t * 16u + i) & params.mask]; }
  out[t] = vec4f(s);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  var s = vec4f(0.0);
  for (var i = 0u; i < params.iters; i++) { s += src4[(t * 4u + i) & (params.mask / 4u)]; }
  out[t] = s;
}
