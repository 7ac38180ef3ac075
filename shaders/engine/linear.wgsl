// Dense layer batched over agents, PyTorch layout. Owner: engine/ops/linear.ts.
// Shapes: x [numAgents, batch, inDim]; y, dy [numAgents, batch, outDim]; dx like x.
// Weights live in a per-agent flat parameter buffer w [numAgents, stride]:
//   W[a, o, i] = w[a·stride + wOff + o·inDim + i],  bias[a, o] = w[a·stride + bOff + o].
// y = act(x Wᵀ + bias), act chosen by the ACT override (0 identity, 1 ReLU, 2 tanh).
// dy is the gradient w.r.t. y (post-activation); dz = dy · act'(y) is recomputed where needed.
// forward:        one thread per y[a, b, o].                 writes y
// backwardInput:  one thread per dx[a, b, i].                writes dx
// backwardWeight: one thread per (a, o, i ≤ inDim); i = inDim is the bias.  writes dw (= or +=)
override ACT: u32 = 0u;

struct Params { numAgents: u32, batch: u32, inDim: u32, outDim: u32, stride: u32, wOff: u32, bOff: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> yIn: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dw: array<f32>;

fn activate(z: f32) -> f32 {
  if (ACT == 1u) { return max(z, 0.0); }
  if (ACT == 2u) { return tanh(z); }
  return z;
}

// d act / dz expressed through the activation's output.
fn activateGrad(out: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, 1.0, out > 0.0); }
  if (ACT == 2u) { return 1.0 - out * out; }
  return 1.0;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let perAgent = params.batch * params.outDim;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let b = (t % perAgent) / params.outDim;
  let o = t % params.outDim;
  let xBase = (a * params.batch + b) * params.inDim;
  let wBase = a * params.stride + params.wOff + o * params.inDim;
  var acc = w[a * params.stride + params.bOff + o];
  for (var i = 0u; i < params.inDim; i++) {
    acc += x[xBase + i] * w[wBase + i];
  }
  y[t] = activate(acc);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardInput(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let perAgent = params.batch * params.inDim;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let b = (t % perAgent) / params.inDim;
  let i = t % params.inDim;
  let yBase = (a * params.batch + b) * params.outDim;
  let wBase = a * params.stride + params.wOff + i;
  var acc = 0.0;
  for (var o = 0u; o < params.outDim; o++) {
    acc += dy[yBase + o] * activateGrad(yIn[yBase + o]) * w[wBase + o * params.inDim];
  }
  dx[t] = acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardWeight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let cols = params.inDim + 1u;
  let perAgent = params.outDim * cols;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let o = (t % perAgent) / cols;
  let i = t % cols;
  var acc = 0.0;
  for (var b = 0u; b < params.batch; b++) {
    let r = (a * params.batch + b) * params.outDim + o;
    let dz = dy[r] * activateGrad(yIn[r]);
    let xv = select(x[(a * params.batch + b) * params.inDim + min(i, params.inDim - 1u)], 1.0, i == params.inDim);
    acc += dz * xv;
  }
  let dst = select(a * params.stride + params.wOff + o * params.inDim + i, a * params.stride + params.bOff + o, i == params.inDim);
  dw[dst] = select(acc, dw[dst] + acc, params.accumulate != 0u);
}
