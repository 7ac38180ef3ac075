// Quantiles with linear interpolation (NumPy's default) of each agent's sliding window.
// Owner: engine/ops/quantile.ts. window [numAgents, capacity] f32; the filled part is the first
// filled = min(countIn[a], capacity) slots. sortSize is a power of two ≥ capacity.
// windowQuantile: one workgroup per agent. Copies the filled part into sorted [numAgents, sortSize],
//                 pads it with the largest f32, bitonic-sorts it ascending in place (a fixed
//                 network; storageBarrier between stages), then thread j < numQ interpolates qs[j]:
//                 h = qs[j]·(filled − 1), lo = floor(h), v[lo] + (v[min(lo + 1, filled − 1)] −
//                 v[lo])·(h − lo); 0 when filled = 0. writes sorted and out [numAgents, numQ]
// The network runs in storage memory: llvmpipe compiles a workgroup array of 2048 f32 in a minute.
struct Params { numAgents: u32, capacity: u32, numQ: u32, sortSize: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> window: array<f32>;
@group(0) @binding(2) var<storage, read> countIn: array<u32>;
@group(0) @binding(3) var<storage, read> qs: array<f32>;
@group(0) @binding(4) var<storage, read_write> sorted: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const PAD: f32 = 3.40282347e38;

@compute @workgroup_size(WORKGROUP_SIZE)
fn windowQuantile(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let a = wid.x;
  if (a >= params.numAgents) { return; }
  let base = a * params.sortSize;
  let filled = min(countIn[a], params.capacity);
  for (var i = lid; i < params.sortSize; i += WORKGROUP_SIZE) {
    sorted[base + i] = select(PAD, window[a * params.capacity + min(i, params.capacity - 1u)], i < filled);
  }
  for (var k = 2u; k <= params.sortSize; k <<= 1u) {
    for (var j = k >> 1u; j > 0u; j >>= 1u) {
      storageBarrier();
      for (var p = lid; p < params.sortSize / 2u; p += WORKGROUP_SIZE) {
        let i = 2u * j * (p / j) + p % j;
        let l = i + j;
        let ascending = (i & k) == 0u;
        let x = sorted[base + i];
        let y = sorted[base + l];
        if ((x > y) == ascending) {
          sorted[base + i] = y;
          sorted[base + l] = x;
        }
      }
    }
  }
  storageBarrier();
  for (var q = lid; q < params.numQ; q += WORKGROUP_SIZE) {
    var v = 0.0;
    if (filled > 0u) {
      let h = clamp(qs[q], 0.0, 1.0) * f32(filled - 1u);
      let lo = min(u32(floor(h)), filled - 1u);
      let hi = min(lo + 1u, filled - 1u);
      v = sorted[base + lo] + (sorted[base + hi] - sorted[base + lo]) * (h - f32(lo));
    }
    out[a * params.numQ + q] = v;
  }
}
