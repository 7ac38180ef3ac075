// Deterministic per-agent mean. Owner: engine/ops/agent_mean.ts.
// Shapes: values [numAgents, count]; out [numAgents].
// reduce: one workgroup per agent (WORKGROUP_SIZE a power of two). out[a] = coef·Σ_{i<count} values[a, i]:
//         thread l sums items l, l + WORKGROUP_SIZE, … in order, then a fixed binary tree (no atomics,
//         so the result does not depend on scheduling).  writes out
struct Params { numAgents: u32, count: u32, coef: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn reduce(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) l: u32) {
  let a = wid.x;  // the dispatch has exactly numAgents workgroups
  let base = a * params.count;
  var acc = 0.0;
  for (var i = l; i < params.count; i += WORKGROUP_SIZE) { acc += values[base + i]; }
  partial[l] = acc;
  workgroupBarrier();
  for (var s = WORKGROUP_SIZE / 2u; s > 0u; s >>= 1u) {
    if (l < s) { partial[l] += partial[l + s]; }
    workgroupBarrier();
  }
  if (l == 0u) { out[a] = params.coef * partial[0]; }
}
