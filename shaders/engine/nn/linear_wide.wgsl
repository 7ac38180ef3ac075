// Dense layer batched over agents, PyTorch layout, with wide register blocks for CPU adapters.
// Owner: engine/nn/linear_wide.ts. Same maths and buffer layout as engine/nn/linear.wgsl:
//   W[a, o, i] = w[a·stride + wOff + o·inDim + i],  bias[a, o] = w[a·stride + bOff + o],
//   z = x Wᵀ + bias, y = act(z).
// Backward starts from dz = ∂L/∂z (dzIn), not from ∂L/∂y: dW = dzᵀ x, dbias = Σ_b dz (the bias is
// column i = inDim of W with input 1), and dx = (dz W) ⊙ act_in'(x), the gradient w.r.t. the
// pre-activation of the layer that produced x (act_in = identity gives ∂L/∂x). The ACT override
// is the layer's activation in forwardWide and act_in in backwardInputWide (activateGrad takes the
// activation's output, here x).
// Shapes: x, dx [numAgents, batch, inDim]; y, dzIn [numAgents, batch, outDim].
// Every thread owns an 8 × 8 block of outputs in sixteen vec4 accumulators acc{2r} (columns
// c0..c0+3 of block row r) and acc{2r + 1} (columns c0+4..c0+7): per step of the reduced axis it
// loads 8 + 8 operands for 64 multiply-adds (CPU adapters such as llvmpipe gather every per-lane
// load, so loads, not FLOPs, set the speed; the 4 × 4 blocks of linear.wgsl load 8 per 16). Loads
// use clamped indices so they stay in range at ragged edges; only in-range results are stored.
// Each thread sums in increasing index order.
// forwardWide:        block rows b × outputs o.                                     writes y
// backwardInputWide:  block rows b × inputs i.                                      writes dx
// backwardWeightWide: block outputs o × columns i ≤ inDim; dw = or += (params.accumulate).
//                                                                                  writes dw
const BLOCK: u32 = 8u;
const LANES = vec4u(0u, 1u, 2u, 3u);

struct Params { numAgents: u32, batch: u32, inDim: u32, outDim: u32, stride: u32, wOff: u32, bOff: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> dzIn: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dw: array<f32>;

fn blocks(n: u32) -> u32 {
  return (n + BLOCK - 1u) / BLOCK;
}

// Indices c0 + j (j = 0..3 in the low half, 4..7 in the high half), clamped to n − 1.
fn lowHalf(c0: u32, n: u32) -> vec4u {
  return min(vec4u(c0) + LANES, vec4u(n - 1u));
}

fn highHalf(c0: u32, n: u32) -> vec4u {
  return min(vec4u(c0 + 4u) + LANES, vec4u(n - 1u));
}

// Column j of the block row held in (lo, hi).
fn lane(lo: vec4f, hi: vec4f, j: u32) -> f32 {
  return select(hi[j & 3u], lo[j & 3u], j < 4u);
}

// Block row r of forwardWide: y[a, b0 + r, o0 + j] for in-range rows and columns.
fn storeY(b0: u32, r: u32, a: u32, o0: u32, lo: vec4f, hi: vec4f) {
  if (b0 + r >= params.batch) { return; }
  let base = (a * params.batch + b0 + r) * params.outDim;
  for (var j = 0u; j < BLOCK; j++) {
    if (o0 + j < params.outDim) { y[base + o0 + j] = activate(lane(lo, hi, j)); }
  }
}

// Block row r of backwardInputWide: dx[a, b0 + r, i0 + j] = (dz W) · act_in'(x) there.
fn storeDx(b0: u32, r: u32, a: u32, i0: u32, lo: vec4f, hi: vec4f) {
  if (b0 + r >= params.batch) { return; }
  let base = (a * params.batch + b0 + r) * params.inDim;
  for (var j = 0u; j < BLOCK; j++) {
    let k = base + i0 + j;
    if (i0 + j < params.inDim) { dx[k] = lane(lo, hi, j) * activateGrad(x[k]); }
  }
}

// Block row r of backwardWeightWide: dW[a, o0 + r, i0 + j] (column inDim is the bias).
fn storeDw(o0: u32, r: u32, a: u32, i0: u32, lo: vec4f, hi: vec4f) {
  let o = o0 + r;
  if (o >= params.outDim) { return; }
  let base = a * params.stride;
  for (var j = 0u; j < BLOCK; j++) {
    let i = i0 + j;
    if (i <= params.inDim) {
      let dst = select(base + params.wOff + o * params.inDim + i, base + params.bOff + o, i == params.inDim);
      let v = lane(lo, hi, j);
      dw[dst] = select(v, dw[dst] + v, params.accumulate != 0u);
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forwardWide(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let colBlocks = blocks(params.outDim);
  let perAgent = blocks(params.batch) * colBlocks;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let b0 = ((t % perAgent) / colBlocks) * BLOCK;
  let o0 = (t % colBlocks) * BLOCK;
  let rowBase = vec4u(a * params.batch);
  let xa = (rowBase + lowHalf(b0, params.batch)) * params.inDim;
  let xb = (rowBase + highHalf(b0, params.batch)) * params.inDim;
  let oa = lowHalf(o0, params.outDim);
  let ob = highHalf(o0, params.outDim);
  let wa = vec4u(a * params.stride + params.wOff) + oa * params.inDim;
  let wb = vec4u(a * params.stride + params.wOff) + ob * params.inDim;
  let bias = a * params.stride + params.bOff;
  let bl = vec4f(w[bias + oa.x], w[bias + oa.y], w[bias + oa.z], w[bias + oa.w]);
  let bh = vec4f(w[bias + ob.x], w[bias + ob.y], w[bias + ob.z], w[bias + ob.w]);
  var acc0 = bl;
  var acc1 = bh;
  var acc2 = bl;
  var acc3 = bh;
  var acc4 = bl;
  var acc5 = bh;
  var acc6 = bl;
  var acc7 = bh;
  var acc8 = bl;
  var acc9 = bh;
  var acc10 = bl;
  var acc11 = bh;
  var acc12 = bl;
  var acc13 = bh;
  var acc14 = bl;
  var acc15 = bh;
  for (var i = 0u; i < params.inDim; i++) {
    let wl = vec4f(w[wa.x + i], w[wa.y + i], w[wa.z + i], w[wa.w + i]);
    let wh = vec4f(w[wb.x + i], w[wb.y + i], w[wb.z + i], w[wb.w + i]);
    let x0 = x[xa.x + i];
    let x1 = x[xa.y + i];
    let x2 = x[xa.z + i];
    let x3 = x[xa.w + i];
    let x4 = x[xb.x + i];
    let x5 = x[xb.y + i];
    let x6 = x[xb.z + i];
    let x7 = x[xb.w + i];
    acc0 += x0 * wl; acc1 += x0 * wh;
    acc2 += x1 * wl; acc3 += x1 * wh;
    acc4 += x2 * wl; acc5 += x2 * wh;
    acc6 += x3 * wl; acc7 += x3 * wh;
    acc8 += x4 * wl; acc9 += x4 * wh;
    acc10 += x5 * wl; acc11 += x5 * wh;
    acc12 += x6 * wl; acc13 += x6 * wh;
    acc14 += x7 * wl; acc15 += x7 * wh;
  }
  storeY(b0, 0u, a, o0, acc0, acc1);
  storeY(b0, 1u, a, o0, acc2, acc3);
  storeY(b0, 2u, a, o0, acc4, acc5);
  storeY(b0, 3u, a, o0, acc6, acc7);
  storeY(b0, 4u, a, o0, acc8, acc9);
  storeY(b0, 5u, a, o0, acc10, acc11);
  storeY(b0, 6u, a, o0, acc12, acc13);
  storeY(b0, 7u, a, o0, acc14, acc15);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardInputWide(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let colBlocks = blocks(params.inDim);
  let perAgent = blocks(params.batch) * colBlocks;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let b0 = ((t % perAgent) / colBlocks) * BLOCK;
  let i0 = (t % colBlocks) * BLOCK;
  let rowBase = vec4u(a * params.batch);
  let ya = (rowBase + lowHalf(b0, params.batch)) * params.outDim;
  let yb = (rowBase + highHalf(b0, params.batch)) * params.outDim;
  let wa = vec4u(a * params.stride + params.wOff) + lowHalf(i0, params.inDim);
  let wb = vec4u(a * params.stride + params.wOff) + highHalf(i0, params.inDim);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0);
  var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0);
  var acc7 = vec4f(0.0);
  var acc8 = vec4f(0.0);
  var acc9 = vec4f(0.0);
  var acc10 = vec4f(0.0);
  var acc11 = vec4f(0.0);
  var acc12 = vec4f(0.0);
  var acc13 = vec4f(0.0);
  var acc14 = vec4f(0.0);
  var acc15 = vec4f(0.0);
  for (var o = 0u; o < params.outDim; o++) {
    let k = o * params.inDim;
    let wl = vec4f(w[wa.x + k], w[wa.y + k], w[wa.z + k], w[wa.w + k]);
    let wh = vec4f(w[wb.x + k], w[wb.y + k], w[wb.z + k], w[wb.w + k]);
    let z0 = dzIn[ya.x + o];
    let z1 = dzIn[ya.y + o];
    let z2 = dzIn[ya.z + o];
    let z3 = dzIn[ya.w + o];
    let z4 = dzIn[yb.x + o];
    let z5 = dzIn[yb.y + o];
    let z6 = dzIn[yb.z + o];
    let z7 = dzIn[yb.w + o];
    acc0 += z0 * wl; acc1 += z0 * wh;
    acc2 += z1 * wl; acc3 += z1 * wh;
    acc4 += z2 * wl; acc5 += z2 * wh;
    acc6 += z3 * wl; acc7 += z3 * wh;
    acc8 += z4 * wl; acc9 += z4 * wh;
    acc10 += z5 * wl; acc11 += z5 * wh;
    acc12 += z6 * wl; acc13 += z6 * wh;
    acc14 += z7 * wl; acc15 += z7 * wh;
  }
  storeDx(b0, 0u, a, i0, acc0, acc1);
  storeDx(b0, 1u, a, i0, acc2, acc3);
  storeDx(b0, 2u, a, i0, acc4, acc5);
  storeDx(b0, 3u, a, i0, acc6, acc7);
  storeDx(b0, 4u, a, i0, acc8, acc9);
  storeDx(b0, 5u, a, i0, acc10, acc11);
  storeDx(b0, 6u, a, i0, acc12, acc13);
  storeDx(b0, 7u, a, i0, acc14, acc15);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardWeightWide(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let colBlocks = blocks(params.inDim + 1u);
  let perAgent = blocks(params.outDim) * colBlocks;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let o0 = ((t % perAgent) / colBlocks) * BLOCK;
  let i0 = (t % colBlocks) * BLOCK;
  let oa = lowHalf(o0, params.outDim);
  let ob = highHalf(o0, params.outDim);
  let ia = lowHalf(i0, params.inDim);
  let ib = highHalf(i0, params.inDim);
  let biasA = vec4u(i0) + LANES == vec4u(params.inDim);
  let biasB = vec4u(i0 + 4u) + LANES == vec4u(params.inDim);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0);
  var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0);
  var acc7 = vec4f(0.0);
  var acc8 = vec4f(0.0);
  var acc9 = vec4f(0.0);
  var acc10 = vec4f(0.0);
  var acc11 = vec4f(0.0);
  var acc12 = vec4f(0.0);
  var acc13 = vec4f(0.0);
  var acc14 = vec4f(0.0);
  var acc15 = vec4f(0.0);
  for (var b = 0u; b < params.batch; b++) {
    let xr = (a * params.batch + b) * params.inDim;
    let yr = (a * params.batch + b) * params.outDim;
    let xl = select(vec4f(x[xr + ia.x], x[xr + ia.y], x[xr + ia.z], x[xr + ia.w]), vec4f(1.0), biasA);
    let xh = select(vec4f(x[xr + ib.x], x[xr + ib.y], x[xr + ib.z], x[xr + ib.w]), vec4f(1.0), biasB);
    let z0 = dzIn[yr + oa.x];
    let z1 = dzIn[yr + oa.y];
    let z2 = dzIn[yr + oa.z];
    let z3 = dzIn[yr + oa.w];
    let z4 = dzIn[yr + ob.x];
    let z5 = dzIn[yr + ob.y];
    let z6 = dzIn[yr + ob.z];
    let z7 = dzIn[yr + ob.w];
    acc0 += z0 * xl; acc1 += z0 * xh;
    acc2 += z1 * xl; acc3 += z1 * xh;
    acc4 += z2 * xl; acc5 += z2 * xh;
    acc6 += z3 * xl; acc7 += z3 * xh;
    acc8 += z4 * xl; acc9 += z4 * xh;
    acc10 += z5 * xl; acc11 += z5 * xh;
    acc12 += z6 * xl; acc13 += z6 * xh;
    acc14 += z7 * xl; acc15 += z7 * xh;
  }
  storeDw(o0, 0u, a, i0, acc0, acc1);
  storeDw(o0, 1u, a, i0, acc2, acc3);
  storeDw(o0, 2u, a, i0, acc4, acc5);
  storeDw(o0, 3u, a, i0, acc6, acc7);
  storeDw(o0, 4u, a, i0, acc8, acc9);
  storeDw(o0, 5u, a, i0, acc10, acc11);
  storeDw(o0, 6u, a, i0, acc12, acc13);
  storeDw(o0, 7u, a, i0, acc14, acc15);
}
