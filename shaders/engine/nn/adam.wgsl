// Adam with per-agent global-norm clipping, fused over each agent's flat parameter block.
// Owner: engine/nn/adam.ts.
// Shapes: theta, grads, m, v [numAgents, stride]; partial [numAgents, numChunks];
//         mask (u32), count (u32), lrScale, norm [numAgents]; coef [numAgents, 4].
// Chunk c of agent a covers parameters [c·CHUNK, (c + 1)·CHUNK), CHUNK = WORKGROUP_SIZE · ITEMS.
// normPartial: one workgroup per (chunk, agent): Σ g² over the chunk, summed per thread in a fixed
//              strided order, then a fixed shared-memory tree.                writes partial
// prepare:     one thread per agent: ‖g‖₂ from the partials (chunk order), the clip factor
//              min(1, maxNorm / (‖g‖₂ + 1e-6)), the step count (+1 unless masked), and the
//              bias-corrected step size lr·lrScale[a] / (1 − β1ᵗ) and 1 / √(1 − β2ᵗ).
//                                                                writes norm, count, coef
// step:        one thread per parameter: g ← clip·g; m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²;
//              θ ← θ − lr·m̂ / (√v̂ + eps). Masked agents keep θ, m and v.    writes theta, m, v
// Flat variant (AdamOptions.variant "flat", for CPU adapters: no workgroup barriers, fewer loads):
// normFlat:    one thread per (agent a, chunk c of FLAT_ITEMS parameters): Σ g² over the chunk in
//              index order (chunks of FLAT_ITEMS, not CHUNK; prepare sums them alike). writes partial
// stepFlat:    one thread per STEP_ITEMS consecutive parameters of one agent's block: the update of
//              `step` for each (same arithmetic, so bit-identical), the agent's coef loaded once.
//                                                                            writes theta, m, v
// coef[a] = (clip factor, step size lr / (1 − β1ᵗ), 1 / √(1 − β2ᵗ), 1 if the agent steps else 0).
override ITEMS: u32 = 8u;
const COEF_WIDTH: u32 = 4u;
const NORM_EPS: f32 = 1e-6;
const FLAT_ITEMS: u32 = 64u;
const STEP_ITEMS: u32 = 8u;

struct Params {
  numAgents: u32, stride: u32, numChunks: u32, hasNorm: u32,
  lr: f32, beta1: f32, beta2: f32, eps: f32,
  oneMinusBeta1: f32, oneMinusBeta2: f32, logBeta1: f32, logBeta2: f32, maxNorm: f32
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@group(0) @binding(3) var<storage, read> partialIn: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<u32>;
@group(0) @binding(5) var<storage, read> lrScale: array<f32>;
@group(0) @binding(6) var<storage, read_write> count: array<u32>;
@group(0) @binding(7) var<storage, read_write> norm: array<f32>;
@group(0) @binding(8) var<storage, read_write> coef: array<f32>;
@group(0) @binding(9) var<storage, read> coefIn: array<f32>;
@group(0) @binding(10) var<storage, read_write> theta: array<f32>;
@group(0) @binding(11) var<storage, read_write> m: array<f32>;
@group(0) @binding(12) var<storage, read_write> v: array<f32>;

var<workgroup> scratch: array<f32, WORKGROUP_SIZE>;

// 1 − eˣ for x ≤ 0, without the cancellation of 1 − exp(x) near 0 (Taylor series there).
fn oneMinusExp(x: f32) -> f32 {
  let series = -x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0
    + x / 720.0)))));
  return select(1.0 - exp(x), series, x > -0.25);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn normPartial(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) wid: vec3u) {
  // Dispatched as exactly [numChunks, numAgents] workgroups; lanes past the end add zeros.
  let c = wid.x;
  let a = wid.y;
  let base = a * params.stride;
  var acc = 0.0;
  for (var k = 0u; k < ITEMS; k++) {
    let i = (c * ITEMS + k) * WORKGROUP_SIZE + l;
    let g = grads[base + min(i, params.stride - 1u)];
    acc += select(0.0, g * g, i < params.stride);
  }
  scratch[l] = acc;
  workgroupBarrier();
  for (var s = WORKGROUP_SIZE / 2u; s > 0u; s >>= 1u) {
    if (l < s) {
      scratch[l] += scratch[l + s];
    }
    workgroupBarrier();
  }
  if (l == 0u) {
    partial[a * params.numChunks + c] = scratch[0];
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn prepare(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flatIndex(gid, nwg);
  if (a >= params.numAgents) { return; }
  let chunks = select(0u, params.numChunks, params.hasNorm != 0u);
  var total = 0.0;
  for (var c = 0u; c < chunks; c++) {
    total += partialIn[a * params.numChunks + c];
  }
  let gNorm = sqrt(total);
  norm[a] = gNorm;
  let clipping = params.hasNorm != 0u && params.maxNorm > 0.0;
  let clip = select(1.0, min(1.0, params.maxNorm / (gNorm + NORM_EPS)), clipping);
  let isActive = mask[a] != 0u;
  let t = count[a] + select(0u, 1u, isActive);
  count[a] = t;
  let tf = f32(max(t, 1u));
  let bc1 = oneMinusExp(params.logBeta1 * tf);
  let bc2 = oneMinusExp(params.logBeta2 * tf);
  let o = a * COEF_WIDTH;
  coef[o] = clip;
  coef[o + 1u] = params.lr * lrScale[a] / bc1;
  coef[o + 2u] = inverseSqrt(bc2);
  coef[o + 3u] = select(0.0, 1.0, isActive);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.stride) { return; }
  let o = (t / params.stride) * COEF_WIDTH;
  let isActive = coefIn[o + 3u] != 0.0;
  let g = grads[t] * coefIn[o];
  let m0 = m[t];
  let v0 = v[t];
  let m1 = params.beta1 * m0 + params.oneMinusBeta1 * g;
  let v1 = params.beta2 * v0 + params.oneMinusBeta2 * g * g;
  let update = coefIn[o + 1u] * m1 / (sqrt(v1) * coefIn[o + 2u] + params.eps);
  m[t] = select(m0, m1, isActive);
  v[t] = select(v0, v1, isActive);
  theta[t] = theta[t] - select(0.0, update, isActive);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn normFlat(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.numChunks) { return; }
  let a = t / params.numChunks;
  let begin = (t % params.numChunks) * FLAT_ITEMS;
  let end = min(begin + FLAT_ITEMS, params.stride);
  var acc = 0.0;
  for (var i = begin; i < end; i++) {
    let g = grads[a * params.stride + i];
    acc += g * g;
  }
  partial[t] = acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn stepFlat(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let perAgent = (params.stride + STEP_ITEMS - 1u) / STEP_ITEMS;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let o = a * COEF_WIDTH;
  let clip = coefIn[o];
  let stepSize = coefIn[o + 1u];
  let invBc2 = coefIn[o + 2u];
  let isActive = coefIn[o + 3u] != 0.0;
  let begin = a * params.stride + (t % perAgent) * STEP_ITEMS;
  let end = min(begin + STEP_ITEMS, (a + 1u) * params.stride);
  for (var i = begin; i < end; i++) {
    let g = grads[i] * clip;
    let m0 = m[i];
    let v0 = v[i];
    let m1 = params.beta1 * m0 + params.oneMinusBeta1 * g;
    let v1 = params.beta2 * v0 + params.oneMinusBeta2 * g * g;
    let update = stepSize * m1 / (sqrt(v1) * invBc2 + params.eps);
    m[i] = select(m0, m1, isActive);
    v[i] = select(v0, v1, isActive);
    theta[i] = theta[i] - select(0.0, update, isActive);
  }
}
