// GRU layer batched over agents, PyTorch semantics (gate order r, z, n). Owner: engine/nn/gru.ts.
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)      z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))      h' = (1 − z) ⊙ n + z ⊙ h
// Weights per agent block w[a·stride + wOff + …], PyTorch layout, rows r|z|n:
//   W_ih [3H, inDim] at 0, W_hh [3H, H] at 3H·inDim, b_ih [3H] at 3H·(inDim + H), b_hh [3H] after it.
// A "row" is (a, t, b) → (a·steps + t)·batch + b. Shapes (H = hidden):
//   x [numAgents, steps, batch, inDim]; h0, hLast, dhLast, dh0 [numAgents, batch, H];
//   hs, dy [numAgents, steps, batch, H]; gates [rows, 4H] = (r, z, n, W_hn h + b_hn);
//   reset [numAgents, steps, batch]; one work buffer: gi [rows, 3H] in forward, in backward
//   dG [rows, 3H] followed by dhTot [rows, H] (dhTotAt), so backwardStep binds ≤ 8 storage buffers.
// reset[row] set (u32 ≠ 0, or f32 ≠ 0 when MASK_F32 = 1) zeroes the previous hidden state before step t.
// forwardInput:   one thread per gi[row, g] = b_ih[g] + Σ_i W_ih[g, i] x[row, i].          writes gi
// forwardStep:    dispatched for t = 0 … steps − 1; one thread per (a, b, j).
//                 writes hs[t], gates[t], and hLast at t = steps − 1
// actStep:        acting step (steps = 1, input projection fused); one thread per (a, b, j). writes hOut
// backwardStep:   dispatched for t = steps − 1 … 0; one thread per (a, b, j).
//                 writes dG[t] = dL/d(gate pre-activations of the input side), dhTot[t] = dL/dh_t
// backwardState:  dispatched after backwardStep t = 0; one thread per (a, b, j).     writes dh0
// backwardWeight: one thread per (a, parameter p); Σ over rows in fixed order.        writes dw (= or +=)
// backwardInput:  one thread per dx[row, i] = Σ_g W_ih[g, i] dG[row, g].             writes dx
override MASK_F32: u32 = 0u;
// tanh saturates to ±1 in f32 beyond this; clamping keeps backends that compute tanh via exp finite.
const TANH_CLAMP: f32 = 15.0;

struct Params { numAgents: u32, steps: u32, batch: u32, inDim: u32, hidden: u32, stride: u32, wOff: u32, t: i32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> reset: array<u32>;
@group(0) @binding(4) var<storage, read> h0: array<f32>;
@group(0) @binding(5) var<storage, read_write> gi: array<f32>;
@group(0) @binding(6) var<storage, read> giIn: array<f32>;
@group(0) @binding(7) var<storage, read_write> hs: array<f32>;
@group(0) @binding(8) var<storage, read_write> gates: array<f32>;
@group(0) @binding(9) var<storage, read_write> hLast: array<f32>;
@group(0) @binding(10) var<storage, read> hIn: array<f32>;
@group(0) @binding(11) var<storage, read_write> hOut: array<f32>;
@group(0) @binding(12) var<storage, read> hsIn: array<f32>;
@group(0) @binding(13) var<storage, read> gatesIn: array<f32>;
@group(0) @binding(14) var<storage, read> dy: array<f32>;
@group(0) @binding(15) var<storage, read> dhLast: array<f32>;
@group(0) @binding(16) var<storage, read_write> dG: array<f32>;
@group(0) @binding(17) var<storage, read_write> dh0: array<f32>;
@group(0) @binding(18) var<storage, read> dGIn: array<f32>;
@group(0) @binding(19) var<storage, read_write> dw: array<f32>;
@group(0) @binding(20) var<storage, read_write> dx: array<f32>;

fn sigmoid(v: f32) -> f32 {
  let e = exp(-abs(v));                      // in (0, 1]: never overflows
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}

fn tanhSafe(v: f32) -> f32 {
  return tanh(clamp(v, -TANH_CLAMP, TANH_CLAMP));
}

fn rowOf(a: u32, t: u32, b: u32) -> u32 {
  return (a * params.steps + t) * params.batch + b;
}

fn isReset(row: u32) -> bool {
  let bits = reset[row];
  return select(bits != 0u, bitcast<f32>(bits) != 0.0, MASK_F32 != 0u);
}

// Index of dhTot[row, j] in the backward work buffer (dG / dGIn): after dG [rows, 3H].
fn dhTotAt(row: u32, j: u32) -> u32 {
  return (params.numAgents * params.steps * params.batch * 3u + row) * params.hidden + j;
}

// Offsets inside agent a's parameter block.
fn wIhBase(a: u32) -> u32 { return a * params.stride + params.wOff; }
fn wHhBase(a: u32) -> u32 { return wIhBase(a) + 3u * params.hidden * params.inDim; }
fn bIhBase(a: u32) -> u32 { return wHhBase(a) + 3u * params.hidden * params.hidden; }
fn bHhBase(a: u32) -> u32 { return bIhBase(a) + 3u * params.hidden; }

// h_{t−1}[k] before the reset mask, in the backward kernels: h0 at t = 0, else hs[t − 1].
fn hPrevSaved(a: u32, t: u32, b: u32, k: u32) -> f32 {
  if (t == 0u) { return h0[(a * params.batch + b) * params.hidden + k]; }
  return hsIn[rowOf(a, t - 1u, b) * params.hidden + k];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forwardInput(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flatIndex(gid, nwg);
  let g3 = 3u * params.hidden;
  let rowsPerAgent = params.steps * params.batch;
  if (idx >= params.numAgents * rowsPerAgent * g3) { return; }
  let row = idx / g3;
  let g = idx % g3;
  let a = row / rowsPerAgent;
  let wRow = wIhBase(a) + g * params.inDim;
  var acc = w[bIhBase(a) + g];
  for (var i = 0u; i < params.inDim; i++) {
    acc += w[wRow + i] * x[row * params.inDim + i];
  }
  gi[idx] = acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forwardStep(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flatIndex(gid, nwg);
  let hid = params.hidden;
  if (idx >= params.numAgents * params.batch * hid) { return; }
  let a = idx / (params.batch * hid);
  let b = (idx / hid) % params.batch;
  let j = idx % hid;
  let t = u32(params.t);
  let row = rowOf(a, t, b);
  let keep = !isReset(row);
  let wHh = wHhBase(a);
  let bHh = bHhBase(a);
  var ghr = w[bHh + j];
  var ghz = w[bHh + hid + j];
  var ghn = w[bHh + 2u * hid + j];
  var hpj = 0.0;
  for (var k = 0u; k < hid; k++) {
    var prev: f32;
    if (t == 0u) {
      prev = h0[(a * params.batch + b) * hid + k];
    } else {
      prev = hs[rowOf(a, t - 1u, b) * hid + k];
    }
    let hk = select(0.0, prev, keep);
    ghr += w[wHh + j * hid + k] * hk;
    ghz += w[wHh + (hid + j) * hid + k] * hk;
    ghn += w[wHh + (2u * hid + j) * hid + k] * hk;
    hpj = select(hpj, hk, k == j);
  }
  let gBase = row * 3u * hid;
  let r = sigmoid(giIn[gBase + j] + ghr);
  let z = sigmoid(giIn[gBase + hid + j] + ghz);
  let n = tanhSafe(giIn[gBase + 2u * hid + j] + r * ghn);
  let h = (1.0 - z) * n + z * hpj;
  hs[row * hid + j] = h;
  let sBase = row * 4u * hid;
  gates[sBase + j] = r;
  gates[sBase + hid + j] = z;
  gates[sBase + 2u * hid + j] = n;
  gates[sBase + 3u * hid + j] = ghn;
  if (t + 1u == params.steps) { hLast[idx] = h; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn actStep(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flatIndex(gid, nwg);
  let hid = params.hidden;
  if (idx >= params.numAgents * params.batch * hid) { return; }
  let a = idx / (params.batch * hid);
  let row = idx / hid;                       // steps = 1: row = a·batch + b
  let j = idx % hid;
  let keep = !isReset(row);
  let wIh = wIhBase(a);
  let bIh = bIhBase(a);
  var gir = w[bIh + j];
  var giz = w[bIh + hid + j];
  var gin = w[bIh + 2u * hid + j];
  for (var i = 0u; i < params.inDim; i++) {
    let xi = x[row * params.inDim + i];
    gir += w[wIh + j * params.inDim + i] * xi;
    giz += w[wIh + (hid + j) * params.inDim + i] * xi;
    gin += w[wIh + (2u * hid + j) * params.inDim + i] * xi;
  }
  let wHh = wHhBase(a);
  let bHh = bHhBase(a);
  var ghr = w[bHh + j];
  var ghz = w[bHh + hid + j];
  var ghn = w[bHh + 2u * hid + j];
  var hpj = 0.0;
  for (var k = 0u; k < hid; k++) {
    let hk = select(0.0, hIn[row * hid + k], keep);
    ghr += w[wHh + j * hid + k] * hk;
    ghz += w[wHh + (hid + j) * hid + k] * hk;
    ghn += w[wHh + (2u * hid + j) * hid + k] * hk;
    hpj = select(hpj, hk, k == j);
  }
  let r = sigmoid(gir + ghr);
  let z = sigmoid(giz + ghz);
  let n = tanhSafe(gin + r * ghn);
  hOut[idx] = (1.0 - z) * n + z * hpj;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardStep(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flatIndex(gid, nwg);
  let hid = params.hidden;
  if (idx >= params.numAgents * params.batch * hid) { return; }
  let a = idx / (params.batch * hid);
  let b = (idx / hid) % params.batch;
  let j = idx % hid;
  let t = u32(params.t);
  // Gradient reaching h_t from later: dhLast at the last step, else through step t + 1's
  // (masked) previous-state input: W_hhᵀ dgh_{t+1} + dh_{t+1} ⊙ z_{t+1}.
  var dh = 0.0;
  if (t + 1u == params.steps) {
    dh = dhLast[idx];
  } else {
    let rowN = rowOf(a, t + 1u, b);
    let wHh = wHhBase(a);
    let dBase = rowN * 3u * hid;
    let sBase = rowN * 4u * hid;
    var acc = dG[dhTotAt(rowN, j)] * gatesIn[sBase + hid + j];
    for (var g = 0u; g < 2u * hid; g++) {
      acc += w[wHh + g * hid + j] * dG[dBase + g];
    }
    for (var k = 0u; k < hid; k++) {
      acc += w[wHh + (2u * hid + k) * hid + j] * dG[dBase + 2u * hid + k] * gatesIn[sBase + k];
    }
    dh = select(acc, 0.0, isReset(rowN));
  }
  let row = rowOf(a, t, b);
  dh += dy[row * hid + j];
  dG[dhTotAt(row, j)] = dh;
  let sBase = row * 4u * hid;
  let r = gatesIn[sBase + j];
  let z = gatesIn[sBase + hid + j];
  let n = gatesIn[sBase + 2u * hid + j];
  let ghn = gatesIn[sBase + 3u * hid + j];
  let hp = select(hPrevSaved(a, t, b, j), 0.0, isReset(row));
  let dan = dh * (1.0 - z) * (1.0 - n * n);
  let dBase = row * 3u * hid;
  dG[dBase + j] = dan * ghn * r * (1.0 - r);
  dG[dBase + hid + j] = dh * (hp - n) * z * (1.0 - z);
  dG[dBase + 2u * hid + j] = dan;
}

// dL/dh0 through step 0's (masked) previous-state input, as in backwardStep but reading dGIn.
@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardState(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flatIndex(gid, nwg);
  let hid = params.hidden;
  if (idx >= params.numAgents * params.batch * hid) { return; }
  let a = idx / (params.batch * hid);
  let b = (idx / hid) % params.batch;
  let j = idx % hid;
  let row0 = rowOf(a, 0u, b);
  let wHh = wHhBase(a);
  let dBase = row0 * 3u * hid;
  let sBase = row0 * 4u * hid;
  var acc = dGIn[dhTotAt(row0, j)] * gatesIn[sBase + hid + j];
  for (var g = 0u; g < 2u * hid; g++) {
    acc += w[wHh + g * hid + j] * dGIn[dBase + g];
  }
  for (var k = 0u; k < hid; k++) {
    acc += w[wHh + (2u * hid + k) * hid + j] * dGIn[dBase + 2u * hid + k] * gatesIn[sBase + k];
  }
  dh0[idx] = select(acc, 0.0, isReset(row0));
}

// dL/d(hidden-side pre-activation g) at a row: dG for r and z, dG ⊙ r for n.
fn dGateHidden(row: u32, g: u32) -> f32 {
  let hid = params.hidden;
  let d = dGIn[row * 3u * hid + g];
  if (g < 2u * hid) { return d; }
  return d * gatesIn[row * 4u * hid + g - 2u * hid];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardWeight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flatIndex(gid, nwg);
  let hid = params.hidden;
  let g3 = 3u * hid;
  let perAgent = g3 * (params.inDim + hid + 2u);
  if (idx >= params.numAgents * perAgent) { return; }
  let a = idx / perAgent;
  let p = idx % perAgent;
  let rows = params.steps * params.batch;
  let row0 = a * rows;
  var acc = 0.0;
  if (p < g3 * params.inDim) {                              // W_ih[g, i]
    let g = p / params.inDim;
    let i = p % params.inDim;
    for (var q = 0u; q < rows; q++) {
      let row = row0 + q;
      acc += dGIn[row * g3 + g] * x[row * params.inDim + i];
    }
  } else if (p < g3 * (params.inDim + hid)) {               // W_hh[g, k]
    let g = (p - g3 * params.inDim) / hid;
    let k = (p - g3 * params.inDim) % hid;
    for (var q = 0u; q < rows; q++) {
      let row = row0 + q;
      let t = q / params.batch;
      let hk = select(hPrevSaved(a, t, q % params.batch, k), 0.0, isReset(row));
      acc += dGateHidden(row, g) * hk;
    }
  } else if (p < g3 * (params.inDim + hid + 1u)) {          // b_ih[g]
    let g = p - g3 * (params.inDim + hid);
    for (var q = 0u; q < rows; q++) {
      acc += dGIn[(row0 + q) * g3 + g];
    }
  } else {                                                  // b_hh[g]
    let g = p - g3 * (params.inDim + hid + 1u);
    for (var q = 0u; q < rows; q++) {
      acc += dGateHidden(row0 + q, g);
    }
  }
  let dst = wIhBase(a) + p;
  dw[dst] = select(acc, dw[dst] + acc, params.accumulate != 0u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardInput(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flatIndex(gid, nwg);
  let rowsPerAgent = params.steps * params.batch;
  if (idx >= params.numAgents * rowsPerAgent * params.inDim) { return; }
  let row = idx / params.inDim;
  let i = idx % params.inDim;
  let a = row / rowsPerAgent;
  let g3 = 3u * params.hidden;
  let wIh = wIhBase(a);
  var acc = 0.0;
  for (var g = 0u; g < g3; g++) {
    acc += w[wIh + g * params.inDim + i] * dGIn[row * g3 + g];
  }
  dx[idx] = acc;
}
