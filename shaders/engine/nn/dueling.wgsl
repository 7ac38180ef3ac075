// Dueling combine: Q = V + A − mean_a(A). Owner: engine/nn/dueling.ts.
// Shapes: v, dv [numAgents, batch, 1]; adv, dAdv, q, dq [numAgents, batch, numActions].
// forward:  one thread per q[a, b, k]; recomputes the row mean of adv.      writes q
// backward: one thread per row (a, b): dv = Σ_k dq[k],
//           dAdv[k] = dq[k] − mean_k(dq).                                   writes dv, dAdv
struct Params { numAgents: u32, batch: u32, numActions: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> adv: array<f32>;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read> dq: array<f32>;
@group(0) @binding(5) var<storage, read_write> dv: array<f32>;
@group(0) @binding(6) var<storage, read_write> dAdv: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let n = params.numActions;
  if (t >= params.numAgents * params.batch * n) { return; }
  let row = t / n;
  var sum = 0.0;
  for (var k = 0u; k < n; k++) { sum += adv[row * n + k]; }
  q[t] = v[row] + adv[t] - sum / f32(n);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flatIndex(gid, nwg);
  let n = params.numActions;
  if (row >= params.numAgents * params.batch) { return; }
  var sum = 0.0;
  for (var k = 0u; k < n; k++) { sum += dq[row * n + k]; }
  dv[row] = sum;
  let mean = sum / f32(n);
  for (var k = 0u; k < n; k++) { dAdv[row * n + k] = dq[row * n + k] - mean; }
}
