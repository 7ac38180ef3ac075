// Prefix sums per segment of x [numSegments, n] (u32, or f32 stored as bits when FLOAT = 1).
// Owner: engine/ops/scan.ts. A block is WORKGROUP_SIZE · ITEMS consecutive elements of a segment;
// numBlocks = ceil(n / block). Multi-level: scanBlocks on x, the same on the block sums (exclusive)
// until one block remains, then addOffsets back down. The order of additions is fixed.
// scanBlocks: one workgroup per (segment, block) (flattened 2-D grid); each thread scans ITEMS
//             consecutive elements serially, a Hillis–Steele scan over thread totals gives their
//             offsets. writes y (inclusive or exclusive within the block) and blockSums [numSegments,
//             numBlocks] (block totals).
// addOffsets: one thread per y[s, i]; y[s, i] += offsets[s, i / block]. writes y
override FLOAT: u32 = 0u;
override ITEMS: u32 = 4u;

struct Params { numSegments: u32, n: u32, numBlocks: u32, exclusive: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
@group(0) @binding(3) var<storage, read_write> blockSums: array<u32>;
@group(0) @binding(4) var<storage, read> offsets: array<u32>;

var<workgroup> partial: array<u32, WORKGROUP_SIZE>;

fn combine(a: u32, b: u32) -> u32 {
  if (FLOAT == 1u) { return bitcast<u32>(bitcast<f32>(a) + bitcast<f32>(b)); }
  return a + b;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scanBlocks(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= params.numSegments * params.numBlocks) { return; }
  let s = w / params.numBlocks;
  let blk = w % params.numBlocks;
  let rowBase = s * params.n;
  let first = blk * WORKGROUP_SIZE * ITEMS + lid * ITEMS;
  let last = min(first + ITEMS, params.n);

  var total = 0u;
  for (var i = first; i < last; i++) { total = combine(total, x[rowBase + i]); }
  partial[lid] = total;
  workgroupBarrier();
  for (var off = 1u; off < WORKGROUP_SIZE; off <<= 1u) {
    var v = partial[lid];
    if (lid >= off) { v = combine(partial[lid - off], v); }
    workgroupBarrier();
    partial[lid] = v;
    workgroupBarrier();
  }
  var acc = 0u;
  if (lid > 0u) { acc = partial[lid - 1u]; }
  for (var i = first; i < last; i++) {
    let v = x[rowBase + i];
    let incl = combine(acc, v);
    y[rowBase + i] = select(incl, acc, params.exclusive != 0u);
    acc = incl;
  }
  if (lid == WORKGROUP_SIZE - 1u) { blockSums[w] = partial[lid]; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn addOffsets(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numSegments * params.n) { return; }
  let s = t / params.n;
  let blk = (t % params.n) / (WORKGROUP_SIZE * ITEMS);
  y[t] = combine(offsets[s * params.numBlocks + blk], y[t]);
}
