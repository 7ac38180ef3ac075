// Stream compaction per segment of flags [numSegments, n] (u32, each 0 or 1). Owner:
// engine/ops/compact.ts. pos is the exclusive prefix sum of flags per segment (engine/ops/scan.wgsl).
// scatter: one thread per (s, i). Stable partition of the row indices i: kept rows go to
//          indices[s, pos[s, i]], the others to indices[s, count + i − pos[s, i]], where count =
//          pos[s, n−1] + flags[s, n−1]. Thread i = n−1 writes counts[s] and args[s] = (ceil(count /
//          GROUP), 1, 1). writes indices, counts, args
// totals:  one thread. writes total[0] = Σ counts, args[numSegments] = (ceil(total / GROUP), 1, 1)
//          and args[numSegments + 1] = (ceil(max count / GROUP), numSegments, 1). With seeds
//          batched (segment b·seeds + k is seed k's segment b): per seed k over its segments in
//          b order, total[k], args[numSegments + k] and args[numSegments + seeds + k] (with
//          numSegments / seeds segments in the grid row).
// gather:  dispatched indirectly with args[numSegments + 1] and workgroup size GROUP; thread
//          (x, y = segment) copies values[s, indices[s, j]] to gathered[s, j] for j < counts[s].
//          writes gathered (4-byte words of any dtype)
struct Params { numSegments: u32, n: u32, group: u32, seeds: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> flags: array<u32>;
@group(0) @binding(2) var<storage, read> pos: array<u32>;
@group(0) @binding(3) var<storage, read_write> indices: array<u32>;
@group(0) @binding(4) var<storage, read_write> counts: array<u32>;
@group(0) @binding(5) var<storage, read_write> args: array<u32>;
@group(0) @binding(6) var<storage, read> countsIn: array<u32>;
@group(0) @binding(7) var<storage, read_write> total: array<u32>;
@group(0) @binding(8) var<storage, read> indicesIn: array<u32>;
@group(0) @binding(9) var<storage, read> values: array<u32>;
@group(0) @binding(10) var<storage, read_write> gathered: array<u32>;

fn groupsFor(count: u32) -> u32 {
  return (count + params.group - 1u) / params.group;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numSegments * params.n) { return; }
  let s = t / params.n;
  let i = t % params.n;
  let lastIdx = s * params.n + params.n - 1u;
  let count = pos[lastIdx] + flags[lastIdx];
  let p = pos[t];
  let dst = select(count + i - p, p, flags[t] != 0u);
  indices[s * params.n + dst] = i;
  if (i == params.n - 1u) {
    counts[s] = count;
    args[3u * s] = groupsFor(count);
    args[3u * s + 1u] = 1u;
    args[3u * s + 2u] = 1u;
  }
}

@compute @workgroup_size(1)
fn totals() {
  let S = params.seeds;
  let per = params.numSegments / S;
  for (var k = 0u; k < S; k++) {
    var sum = 0u;
    var most = 0u;
    for (var b = 0u; b < per; b++) {
      let c = countsIn[b * S + k];
      sum += c;
      most = max(most, c);
    }
    total[k] = sum;
    let t = 3u * (params.numSegments + k);
    args[t] = groupsFor(sum);
    args[t + 1u] = 1u;
    args[t + 2u] = 1u;
    let g = 3u * (params.numSegments + S + k);
    args[g] = groupsFor(most);
    args[g + 1u] = per;
    args[g + 2u] = 1u;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = wid.y;
  let j = wid.x * WORKGROUP_SIZE + lid;
  if (s >= params.numSegments || j >= countsIn[s]) { return; }
  gathered[s * params.n + j] = values[s * params.n + indicesIn[s * params.n + j]];
}
