// Dense layer batched over agents, PyTorch layout. Owner: engine/nn/linear.ts.
// Shapes: x [numAgents, batch, inDim]; y, dy [numAgents, batch, outDim]; dx like x.
// Weights live in a per-agent flat parameter buffer w [numAgents, stride]:
//   W[a, o, i] = w[a·stride + wOff + o·inDim + i],  bias[a, o] = w[a·stride + bOff + o].
// y = act(x Wᵀ + bias), act chosen by the ACT override (0 identity, 1 ReLU, 2 tanh).
// dy is the gradient w.r.t. y (post-activation) and dz = dy · act'(y) the one w.r.t. the
// pre-activation. The naive kernels recompute dz from dy and yIn where needed; the blocked and
// tiled ones read it from dzIn, written once by activationGrad (or dy itself for identity).
// backwardWeight treats the bias as column i = inDim of W with input 1.
//
// activationGrad: one thread per dz[a, b, o] = dy · act'(yIn).                  writes dz
//
// Three variants of each of forward, backwardInput and backwardWeight (the TS side picks one per
// adapter; they agree up to f32 rounding; each thread sums in increasing index order):
// naive    one thread per output element, one loop over the reduced axis.
//            forward: y[a, b, o]; backwardInput: dx[a, b, i]; backwardWeight: (a, o, i ≤ inDim).
// blocked  one thread per BLOCK × BLOCK block of outputs, accumulated in registers, no barriers
//          (fastest on CPU adapters such as llvmpipe). Loads use clamped indices so they stay in
//          range at ragged edges; only in-range results are stored.
//            forwardBlocked: rows b × outputs o;  backwardInputBlocked: rows b × inputs i;
//            backwardWeightBlocked: outputs o × columns i ≤ inDim.
// tiled    one TILE × TILE workgroup per output tile, one thread per element; operands are staged
//          through workgroup memory TILE values of the reduced axis at a time (real GPUs).
//          Workgroups: (column tiles, row tiles, numAgents); out-of-range lanes load zeros.
// Writes: forward* write y; backwardInput* write dx; backwardWeight* write dw (= or += by
// params.accumulate).
override TILE: u32 = 16u;
const BLOCK: u32 = 4u;
const LANES = vec4u(0u, 1u, 2u, 3u);

struct Params { numAgents: u32, batch: u32, inDim: u32, outDim: u32, stride: u32, wOff: u32, bOff: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> yIn: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dw: array<f32>;
@group(0) @binding(8) var<storage, read_write> dz: array<f32>;
@group(0) @binding(9) var<storage, read> dzIn: array<f32>;

var<workgroup> tileA: array<f32, TILE * TILE>;
var<workgroup> tileB: array<f32, TILE * TILE>;

// dz at flat index k of y / dy.
fn gradZ(k: u32) -> f32 {
  return dy[k] * activateGrad(yIn[k]);
}

// Flat index into the parameter buffer of W[a, o, i] (i < inDim) or, for i == inDim, bias[a, o].
fn paramIndex(a: u32, o: u32, i: u32) -> u32 {
  let base = a * params.stride;
  return select(base + params.wOff + o * params.inDim + i, base + params.bOff + o, i == params.inDim);
}

fn blocks(n: u32) -> u32 {
  return (n + BLOCK - 1u) / BLOCK;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn activationGrad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.batch * params.outDim) { return; }
  dz[t] = gradZ(t);
}

// ---------------------------------------------------------------------------------------- naive

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
    acc += gradZ(yBase + o) * w[wBase + o * params.inDim];
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
    let dz = gradZ((a * params.batch + b) * params.outDim + o);
    let xv = select(x[(a * params.batch + b) * params.inDim + min(i, params.inDim - 1u)], 1.0, i == params.inDim);
    acc += dz * xv;
  }
  let dst = paramIndex(a, o, i);
  dw[dst] = select(acc, dw[dst] + acc, params.accumulate != 0u);
}

// -------------------------------------------------------------------------------------- blocked

// Stores the in-range lanes of one block row: y[base + c0 + j] = act(v[j]) for c0 + j < n.
fn storeY(base: u32, c0: u32, n: u32, v: vec4f) {
  for (var j = 0u; j < BLOCK; j++) {
    if (c0 + j < n) { y[base + c0 + j] = activate(v[j]); }
  }
}

fn storeDx(base: u32, c0: u32, v: vec4f) {
  for (var j = 0u; j < BLOCK; j++) {
    if (c0 + j < params.inDim) { dx[base + c0 + j] = v[j]; }
  }
}

// Row o of a dW block: columns i0 + j ≤ inDim (the last one is the bias).
fn storeDw(a: u32, o: u32, i0: u32, v: vec4f) {
  if (o >= params.outDim) { return; }
  for (var j = 0u; j < BLOCK; j++) {
    let i = i0 + j;
    if (i <= params.inDim) {
      let dst = paramIndex(a, o, i);
      dw[dst] = select(v[j], dw[dst] + v[j], params.accumulate != 0u);
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forwardBlocked(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let colBlocks = blocks(params.outDim);
  let perAgent = blocks(params.batch) * colBlocks;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let b0 = ((t % perAgent) / colBlocks) * BLOCK;
  let o0 = (t % colBlocks) * BLOCK;
  let rows = min(vec4u(b0) + LANES, vec4u(params.batch - 1u));
  let outs = min(vec4u(o0) + LANES, vec4u(params.outDim - 1u));
  let xRow = (vec4u(a * params.batch) + rows) * params.inDim;
  let wRow = vec4u(a * params.stride + params.wOff) + outs * params.inDim;
  let bias = a * params.stride + params.bOff;
  let b4 = vec4f(w[bias + outs.x], w[bias + outs.y], w[bias + outs.z], w[bias + outs.w]);
  var acc0 = b4;
  var acc1 = b4;
  var acc2 = b4;
  var acc3 = b4;
  for (var i = 0u; i < params.inDim; i++) {
    let wv = vec4f(w[wRow.x + i], w[wRow.y + i], w[wRow.z + i], w[wRow.w + i]);
    acc0 += x[xRow.x + i] * wv;
    acc1 += x[xRow.y + i] * wv;
    acc2 += x[xRow.z + i] * wv;
    acc3 += x[xRow.w + i] * wv;
  }
  let yRow = (a * params.batch + b0) * params.outDim;
  storeY(yRow, o0, params.outDim, acc0);
  if (b0 + 1u < params.batch) { storeY(yRow + params.outDim, o0, params.outDim, acc1); }
  if (b0 + 2u < params.batch) { storeY(yRow + 2u * params.outDim, o0, params.outDim, acc2); }
  if (b0 + 3u < params.batch) { storeY(yRow + 3u * params.outDim, o0, params.outDim, acc3); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardInputBlocked(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let colBlocks = blocks(params.inDim);
  let perAgent = blocks(params.batch) * colBlocks;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let b0 = ((t % perAgent) / colBlocks) * BLOCK;
  let i0 = (t % colBlocks) * BLOCK;
  let rows = min(vec4u(b0) + LANES, vec4u(params.batch - 1u));
  let ins = min(vec4u(i0) + LANES, vec4u(params.inDim - 1u));
  let yRow = (vec4u(a * params.batch) + rows) * params.outDim;
  let wCol = vec4u(a * params.stride + params.wOff) + ins;
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var o = 0u; o < params.outDim; o++) {
    let k = o * params.inDim;
    let wv = vec4f(w[wCol.x + k], w[wCol.y + k], w[wCol.z + k], w[wCol.w + k]);
    acc0 += dzIn[yRow.x + o] * wv;
    acc1 += dzIn[yRow.y + o] * wv;
    acc2 += dzIn[yRow.z + o] * wv;
    acc3 += dzIn[yRow.w + o] * wv;
  }
  let xRow = (a * params.batch + b0) * params.inDim;
  storeDx(xRow, i0, acc0);
  if (b0 + 1u < params.batch) { storeDx(xRow + params.inDim, i0, acc1); }
  if (b0 + 2u < params.batch) { storeDx(xRow + 2u * params.inDim, i0, acc2); }
  if (b0 + 3u < params.batch) { storeDx(xRow + 3u * params.inDim, i0, acc3); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardWeightBlocked(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let colBlocks = blocks(params.inDim + 1u);
  let perAgent = blocks(params.outDim) * colBlocks;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let o0 = ((t % perAgent) / colBlocks) * BLOCK;
  let i0 = (t % colBlocks) * BLOCK;
  let outs = min(vec4u(o0) + LANES, vec4u(params.outDim - 1u));
  let ins = min(vec4u(i0) + LANES, vec4u(params.inDim - 1u));
  let isBias = (vec4u(i0) + LANES) == vec4u(params.inDim);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var b = 0u; b < params.batch; b++) {
    let xr = (a * params.batch + b) * params.inDim;
    let yr = (a * params.batch + b) * params.outDim;
    let xv = select(vec4f(x[xr + ins.x], x[xr + ins.y], x[xr + ins.z], x[xr + ins.w]), vec4f(1.0), isBias);
    acc0 += dzIn[yr + outs.x] * xv;
    acc1 += dzIn[yr + outs.y] * xv;
    acc2 += dzIn[yr + outs.z] * xv;
    acc3 += dzIn[yr + outs.w] * xv;
  }
  storeDw(a, o0, i0, acc0);
  storeDw(a, o0 + 1u, i0, acc1);
  storeDw(a, o0 + 2u, i0, acc2);
  storeDw(a, o0 + 3u, i0, acc3);
}

// ---------------------------------------------------------------------------------------- tiled

@compute @workgroup_size(TILE, TILE)
fn forwardTiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let a = wid.z;
  let b = wid.y * TILE + lid.y;
  let o = wid.x * TILE + lid.x;
  let oLoad = wid.x * TILE + lid.y;
  let xBase = (a * params.batch + min(b, params.batch - 1u)) * params.inDim;
  let wBase = a * params.stride + params.wOff + min(oLoad, params.outDim - 1u) * params.inDim;
  var acc = 0.0;
  for (var k0 = 0u; k0 < params.inDim; k0 += TILE) {
    let k = k0 + lid.x;
    let kc = min(k, params.inDim - 1u);
    // tileA[b][k] = x[b, k];  tileB[k][o] = W[o, k] (stored transposed).
    tileA[lid.y * TILE + lid.x] = select(0.0, x[xBase + kc], b < params.batch && k < params.inDim);
    tileB[lid.x * TILE + lid.y] = select(0.0, w[wBase + kc], oLoad < params.outDim && k < params.inDim);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      acc += tileA[lid.y * TILE + kk] * tileB[kk * TILE + lid.x];
    }
    workgroupBarrier();
  }
  if (b < params.batch && o < params.outDim) {
    y[(a * params.batch + b) * params.outDim + o] = activate(acc + w[a * params.stride + params.bOff + o]);
  }
}

@compute @workgroup_size(TILE, TILE)
fn backwardInputTiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let a = wid.z;
  let b = wid.y * TILE + lid.y;
  let i = wid.x * TILE + lid.x;
  let yBase = (a * params.batch + min(b, params.batch - 1u)) * params.outDim;
  let wBase = a * params.stride + params.wOff + min(i, params.inDim - 1u);
  var acc = 0.0;
  for (var k0 = 0u; k0 < params.outDim; k0 += TILE) {
    let ka = k0 + lid.x;
    let kb = k0 + lid.y;
    // tileA[b][o] = dz[b, o];  tileB[o][i] = W[o, i].
    tileA[lid.y * TILE + lid.x] =
      select(0.0, dzIn[yBase + min(ka, params.outDim - 1u)], b < params.batch && ka < params.outDim);
    tileB[lid.y * TILE + lid.x] =
      select(0.0, w[wBase + min(kb, params.outDim - 1u) * params.inDim], i < params.inDim && kb < params.outDim);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      acc += tileA[lid.y * TILE + kk] * tileB[kk * TILE + lid.x];
    }
    workgroupBarrier();
  }
  if (b < params.batch && i < params.inDim) {
    dx[(a * params.batch + b) * params.inDim + i] = acc;
  }
}

@compute @workgroup_size(TILE, TILE)
fn backwardWeightTiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let a = wid.z;
  let o = wid.y * TILE + lid.y;
  let i = wid.x * TILE + lid.x;
  let oLoad = wid.y * TILE + lid.x;
  let oc = min(oLoad, params.outDim - 1u);
  let ic = min(i, params.inDim - 1u);
  var acc = 0.0;
  for (var k0 = 0u; k0 < params.batch; k0 += TILE) {
    let bk = k0 + lid.y;
    let row = a * params.batch + min(bk, params.batch - 1u);
    // tileA[b][o] = dz[b, o];  tileB[b][i] = x[b, i], or 1 in the bias column i = inDim.
    tileA[lid.y * TILE + lid.x] =
      select(0.0, dzIn[row * params.outDim + oc], bk < params.batch && oLoad < params.outDim);
    let xv = select(x[row * params.inDim + ic], 1.0, i == params.inDim);
    tileB[lid.y * TILE + lid.x] = select(0.0, xv, bk < params.batch && i <= params.inDim);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      acc += tileA[kk * TILE + lid.y] * tileB[kk * TILE + lid.x];
    }
    workgroupBarrier();
  }
  if (o < params.outDim && i <= params.inDim) {
    let dst = paramIndex(a, o, i);
    dw[dst] = select(acc, dw[dst] + acc, params.accumulate != 0u);
  }
}
