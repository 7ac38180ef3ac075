// Deterministic reductions per segment of x [numSegments, n] f32 (fixed tree order, no atomics).
// Owner: engine/ops/reduce.ts. OP (override): 0 sum, 1 sum of squares, 2 argmax (max value and
// its lowest index). A block is WORKGROUP_SIZE · ITEMS elements of a segment.
// reduceBlocks:  one workgroup per (segment, block) of the input [numSegments, n] (flattened 2-D
//                grid). Thread l folds elements l, l + WORKGROUP_SIZE, … of the block in order,
//                then a halving tree over threads. writes valOut [numSegments, numBlocks] (and
//                idxOut for argmax). first = 1: input is the raw x (squares for OP 1, indices are
//                positions); else the input is a previous level's partials valIn/idxIn. When
//                numBlocks = 1 the result is final: finalOp 1 divides by count (mean), 2 takes sqrt.
// windowMoments: one workgroup per agent of window [numAgents, capacity]; the filled part is the
//                first min(countIn[a], capacity) slots. Two passes (mean, then Σ(x − mean)²),
//                divisor = filled; 0 when empty. writes moments [numAgents, 2] = (mean, variance)
override OP: u32 = 0u;
override ITEMS: u32 = 32u;

struct Params { numSegments: u32, n: u32, numBlocks: u32, first: u32, finalOp: u32, count: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> valIn: array<f32>;
@group(0) @binding(2) var<storage, read> idxIn: array<u32>;
@group(0) @binding(3) var<storage, read_write> valOut: array<f32>;
@group(0) @binding(4) var<storage, read_write> idxOut: array<u32>;
@group(0) @binding(5) var<storage, read> window: array<f32>;
@group(0) @binding(6) var<storage, read> countIn: array<u32>;
@group(0) @binding(7) var<storage, read_write> moments: array<f32>;

const OP_SUM: u32 = 0u;
const OP_SUM_SQUARES: u32 = 1u;
const OP_ARGMAX: u32 = 2u;
const LOWEST: f32 = -3.40282347e38;
const NO_INDEX: u32 = 0xffffffffu;

var<workgroup> sharedVal: array<f32, WORKGROUP_SIZE>;
var<workgroup> sharedIdx: array<u32, WORKGROUP_SIZE>;

// Argmax order: b beats a when larger, or equal with a lower index.
fn beats(bv: f32, bi: u32, av: f32, ai: u32) -> bool {
  return bv > av || (bv == av && bi < ai);
}

// Halving tree over sharedVal (and sharedIdx for argmax); the result lands in slot 0.
fn treeReduce(lid: u32) {
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (lid < stride) {
      let bv = sharedVal[lid + stride];
      if (OP == OP_ARGMAX) {
        let bi = sharedIdx[lid + stride];
        if (beats(bv, bi, sharedVal[lid], sharedIdx[lid])) {
          sharedVal[lid] = bv;
          sharedIdx[lid] = bi;
        }
      } else {
        sharedVal[lid] = sharedVal[lid] + bv;
      }
    }
  }
  workgroupBarrier();
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn reduceBlocks(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= params.numSegments * params.numBlocks) { return; }
  let s = w / params.numBlocks;
  let blk = w % params.numBlocks;
  let rowBase = s * params.n;
  var acc = select(0.0, LOWEST, OP == OP_ARGMAX);
  var accIdx = NO_INDEX;
  for (var k = 0u; k < ITEMS; k++) {
    let i = blk * WORKGROUP_SIZE * ITEMS + k * WORKGROUP_SIZE + lid;
    if (i < params.n) {
      var v = valIn[rowBase + i];
      if (OP == OP_ARGMAX) {
        var vi = i;
        if (params.first == 0u) { vi = idxIn[rowBase + i]; }
        if (beats(v, vi, acc, accIdx)) {
          acc = v;
          accIdx = vi;
        }
      } else {
        if (OP == OP_SUM_SQUARES && params.first != 0u) { v = v * v; }
        acc += v;
      }
    }
  }
  sharedVal[lid] = acc;
  sharedIdx[lid] = accIdx;
  treeReduce(lid);
  if (lid == 0u) {
    var result = sharedVal[0];
    if (params.numBlocks == 1u && params.finalOp == 1u) { result = result / f32(max(params.count, 1u)); }
    if (params.numBlocks == 1u && params.finalOp == 2u) { result = sqrt(max(result, 0.0)); }
    valOut[w] = result;
    if (OP == OP_ARGMAX) { idxOut[w] = sharedIdx[0]; }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn windowMoments(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let a = wid.x;
  if (a >= params.numSegments) { return; }
  let base = a * params.n;
  let filled = min(countIn[a], params.n);
  var acc = 0.0;
  for (var i = lid; i < filled; i += WORKGROUP_SIZE) { acc += window[base + i]; }
  sharedVal[lid] = acc;
  treeReduce(lid);
  let mean = sharedVal[0] / f32(max(filled, 1u));
  workgroupBarrier();
  var dev = 0.0;
  for (var i = lid; i < filled; i += WORKGROUP_SIZE) {
    let d = window[base + i] - mean;
    dev += d * d;
  }
  sharedVal[lid] = dev;
  treeReduce(lid);
  if (lid == 0u) {
    moments[2u * a] = mean;
    moments[2u * a + 1u] = sharedVal[0] / f32(max(filled, 1u));
  }
}
