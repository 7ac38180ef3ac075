// 2-D convolution batched over agents: k×k kernel, stride 1, no padding. Owner: engine/nn/conv2d.ts.
// Shapes (NHWC, as the envs emit them): x, dx [numAgents, batch, height, width, cin];
// y, dy, dz [numAgents, batch, outH, outW, cout] with outH = height − k + 1, outW = width − k + 1.
// Weights follow PyTorch's Conv2d inside a per-agent flat parameter buffer w [numAgents, stride]:
//   W[a, co, ci, ky, kx] = w[a·stride + wOff + ((co·cin + ci)·k + ky)·k + kx],
//   bias[a, co]          = w[a·stride + bOff + co].
// y[a, n, oy, ox, co] = act(bias[a, co] + Σ_{ci, ky, kx} x[a, n, oy + ky, ox + kx, ci]·W[a, co, ci, ky, kx]),
// act chosen by the ACT override (0 identity, 1 ReLU, 2 tanh). dy is the gradient w.r.t. y
// (post-activation); the backward kernels read dz = dy · act'(y) (gradZ, or dy itself for identity).
// Register tiling, no workgroup memory and no barriers: each thread accumulates a vec4 over
// TILE = 4 consecutive channels, so one load of the shared operand feeds four multiply-adds.
// Lanes past the last channel of a ragged tile read a clamped (valid) index and do not write.
// gradZ:          one thread per dz[a, n, oy, ox, co].                                 writes dz
// forward:        one thread per (a, n, oy, ox, 4 output channels).                    writes y
// backwardInput:  one thread per (a, n, iy, ix, 4 input channels); gathers the ≤ k²
//                 outputs that read it (transposed convolution), no atomics.          writes dx
// backwardWeight: one thread per (a, 4 output channels, j ≤ cin·k²); j = cin·k² is the bias;
//                 sums over batch and output positions in a fixed order.              writes dw (= or +=)
const TILE: u32 = 4u;

struct Params { numAgents: u32, batch: u32, height: u32, width: u32, cin: u32, cout: u32, k: u32, stride: u32, wOff: u32, bOff: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> yIn: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dz: array<f32>;
@group(0) @binding(7) var<storage, read> dzIn: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<f32>;
@group(0) @binding(9) var<storage, read_write> dw: array<f32>;

// Channel c0 + i of a tile, clamped to the last channel n − 1 (for reads only).
fn tileChannels(c0: u32, n: u32) -> vec4u {
  return min(vec4u(c0, c0 + 1u, c0 + 2u, c0 + 3u), vec4u(n - 1u));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gradZ(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let outPix = (params.height - params.k + 1u) * (params.width - params.k + 1u);
  if (t >= params.numAgents * params.batch * outPix * params.cout) { return; }
  dz[t] = dy[t] * activateGrad(yIn[t]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let k = params.k;
  let outH = params.height - k + 1u;
  let outW = params.width - k + 1u;
  let tiles = (params.cout + TILE - 1u) / TILE;
  let perAgent = params.batch * outH * outW * tiles;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let co0 = (t % tiles) * TILE;
  let pix = t / tiles;                   // (a, n, oy, ox) flattened
  let ox = pix % outW;
  let oy = (pix / outW) % outH;
  let img = pix / (outW * outH);         // a · batch + n
  let co = tileChannels(co0, params.cout);
  let rowLen = params.width * params.cin;
  let xBase = ((img * params.height + oy) * params.width + ox) * params.cin;
  let kk = k * k;
  let agentW = a * params.stride;
  let wBase = vec4u(agentW + params.wOff) + co * (params.cin * kk);
  let bBase = agentW + params.bOff;
  var acc = vec4f(w[bBase + co.x], w[bBase + co.y], w[bBase + co.z], w[bBase + co.w]);
  for (var ky = 0u; ky < k; ky++) {
    for (var kx = 0u; kx < k; kx++) {
      let xRow = xBase + ky * rowLen + kx * params.cin;
      var wi = wBase + vec4u(ky * k + kx);
      for (var ci = 0u; ci < params.cin; ci++) {
        acc += x[xRow + ci] * vec4f(w[wi.x], w[wi.y], w[wi.z], w[wi.w]);
        wi += vec4u(kk);
      }
    }
  }
  let yBase = pix * params.cout + co0;
  let n = params.cout - co0;
  y[yBase] = activate(acc.x);
  if (n > 1u) { y[yBase + 1u] = activate(acc.y); }
  if (n > 2u) { y[yBase + 2u] = activate(acc.z); }
  if (n > 3u) { y[yBase + 3u] = activate(acc.w); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardInput(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let k = params.k;
  let outH = params.height - k + 1u;
  let outW = params.width - k + 1u;
  let tiles = (params.cin + TILE - 1u) / TILE;
  let perAgent = params.batch * params.height * params.width * tiles;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let ci0 = (t % tiles) * TILE;
  let pix = t / tiles;                   // (a, n, iy, ix) flattened
  let ix = pix % params.width;
  let iy = (pix / params.width) % params.height;
  let img = pix / (params.width * params.height);
  let kk = k * k;
  let wBase = vec4u(a * params.stride + params.wOff) + tileChannels(ci0, params.cin) * kk;
  let wPerCout = params.cin * kk;
  // Output rows oy = iy − ky in [0, outH) ⇔ ky in [kyLo, kyHi); likewise for columns.
  let kyLo = select(0u, iy + 1u - outH, iy + 1u > outH);
  let kyHi = min(k, iy + 1u);
  let kxLo = select(0u, ix + 1u - outW, ix + 1u > outW);
  let kxHi = min(k, ix + 1u);
  var acc = vec4f(0.0);
  for (var ky = kyLo; ky < kyHi; ky++) {
    for (var kx = kxLo; kx < kxHi; kx++) {
      let yBase = ((img * outH + iy - ky) * outW + ix - kx) * params.cout;
      var wi = wBase + vec4u(ky * k + kx);
      for (var co = 0u; co < params.cout; co++) {
        acc += dzIn[yBase + co] * vec4f(w[wi.x], w[wi.y], w[wi.z], w[wi.w]);
        wi += vec4u(wPerCout);
      }
    }
  }
  let dxBase = pix * params.cin + ci0;
  let n = params.cin - ci0;
  dx[dxBase] = acc.x;
  if (n > 1u) { dx[dxBase + 1u] = acc.y; }
  if (n > 2u) { dx[dxBase + 2u] = acc.z; }
  if (n > 3u) { dx[dxBase + 3u] = acc.w; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backwardWeight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let k = params.k;
  let outH = params.height - k + 1u;
  let outW = params.width - k + 1u;
  let kk = k * k;
  let taps = params.cin * kk;
  let cols = taps + 1u;
  let tiles = (params.cout + TILE - 1u) / TILE;
  let perAgent = tiles * cols;
  if (t >= params.numAgents * perAgent) { return; }
  let a = t / perAgent;
  let co0 = ((t % perAgent) / cols) * TILE;
  let j = t % cols;
  let isBias = j == taps;
  let jj = min(j, taps - 1u);            // in-bounds tap for the bias thread (its x is replaced by 1)
  let ci = jj / kk;
  let ky = (jj % kk) / k;
  let kx = jj % k;
  let co = tileChannels(co0, params.cout);
  var acc = vec4f(0.0);
  for (var n = 0u; n < params.batch; n++) {
    let img = a * params.batch + n;
    for (var oy = 0u; oy < outH; oy++) {
      let xRow = ((img * params.height + oy + ky) * params.width + kx) * params.cin + ci;
      var r = vec4u((img * outH + oy) * outW * params.cout) + co;
      for (var ox = 0u; ox < outW; ox++) {
        let xv = select(x[xRow + ox * params.cin], 1.0, isBias);
        acc += xv * vec4f(dzIn[r.x], dzIn[r.y], dzIn[r.z], dzIn[r.w]);
        r += vec4u(params.cout);
      }
    }
  }
  let agentW = a * params.stride;
  let dst = select(agentW + params.wOff + co0 * taps + j, agentW + params.bOff + co0, isBias);
  let step = select(taps, 1u, isBias);   // distance between consecutive channels' slots
  let m = params.cout - co0;
  let add = params.accumulate != 0u;
  dw[dst] = select(acc.x, dw[dst] + acc.x, add);
  if (m > 1u) { dw[dst + step] = select(acc.y, dw[dst + step] + acc.y, add); }
  if (m > 2u) { dw[dst + 2u * step] = select(acc.z, dw[dst + 2u * step] + acc.z, add); }
  if (m > 3u) { dw[dst + 3u * step] = select(acc.w, dw[dst + 3u * step] + acc.w, add); }
}
