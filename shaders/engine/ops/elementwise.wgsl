// Elementwise utilities. Owner: engine/ops/elementwise.ts.
// fill:     one thread per out[i]; out[i] = value.                        writes out
// iota:     one thread per idx[i]; idx[i] = start + i·step.               writes idx
// axpy:     one thread per out[i]; out[i] = alpha·x[i] + beta·out[i].     writes out
// unpackU8: one thread per out[i]; out[i] = f32(byte i of packed words).  writes out
struct Params { n: u32, value: f32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> idx: array<u32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> packed: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  out[t] = params.value;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn iota(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  idx[t] = u32(params.value) + t * u32(params.alpha);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn axpy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  out[t] = params.alpha * x[t] + params.beta * out[t];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn unpackU8(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  out[t] = f32((packed[t / 4u] >> (8u * (t % 4u))) & 0xffu);
}
