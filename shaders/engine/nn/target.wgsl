// Target-network updates over a Net's flat parameters. Owner: engine/nn/target.ts.
// Shapes: theta (online), thetaTarget [numAgents, stride], flattened to n = numAgents · stride.
// hard:   one thread per parameter: θ' ← θ.                      writes thetaTarget
// polyak: one thread per parameter: θ' ← τ·θ + (1 − τ)·θ'.       writes thetaTarget
// (1 − τ) arrives as `keep`, computed on the host in float64.
struct Params { n: u32, tau: f32, keep: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> theta: array<f32>;
@group(0) @binding(2) var<storage, read_write> thetaTarget: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn hard(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  thetaTarget[t] = theta[t];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn polyak(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.n) { return; }
  thetaTarget[t] = params.tau * theta[t] + params.keep * thetaTarget[t];
}
