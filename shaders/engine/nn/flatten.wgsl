// Channels-first flatten of NHWC maps, as PyTorch's x.permute(0, 3, 1, 2).flatten(1).
// Owner: engine/nn/flatten.ts.
// Shapes: x, dx [numAgents, batch, height, width, channels]; y, dy [numAgents, batch, C·H·W] with
//   y[a, b, c·H·W + h·W + w] = x[a, b, h, w, c].
// forward:  one thread per y element (gather from x).          writes y
// backward: one thread per dx element (gather from dy; the inverse permutation).  writes dx
struct Params { numAgents: u32, batch: u32, height: u32, width: u32, channels: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let hw = params.height * params.width;
  let features = hw * params.channels;
  if (t >= params.numAgents * params.batch * features) { return; }
  let row = t / features;
  let f = t % features;
  let c = f / hw;
  let pixel = f % hw;
  y[t] = x[row * features + pixel * params.channels + c];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let hw = params.height * params.width;
  let features = hw * params.channels;
  if (t >= params.numAgents * params.batch * features) { return; }
  let row = t / features;
  let f = t % features;
  let pixel = f / params.channels;
  let c = f % params.channels;
  dx[t] = dy[row * features + c * hw + pixel];
}
