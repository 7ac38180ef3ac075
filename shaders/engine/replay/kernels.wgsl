// Replay ring buffers on the GPU. Owner: engine/replay/buffer.ts (layout and design notes there).
// A ring r holds `capacity` slots. Per slot: obs words (u8 packed 4 per word when OBS_U8 = 1,
// else f32 bits) in the ring's chunk buffer `obs [ringCount, capacity, words]`; an explicit next
// observation in `nextObs` (same layout, written only where next cannot be derived); and
// slotMeta [numRings, capacity, 4] u32 = (action, reward bits, done, next) where next is the slot
// whose obs is this row's next observation, or NEXT_EXPLICIT (then nextObs holds it).
// counters [numRings, 8] u32 = (ptr, fill, pendingStart, pendingCount, completedStart,
// completedCount, inserts, 0). Pending rows hold o_t only; the next insert completes them.
// history [numRings, fragment] u32: first slot completed by each of the last `fragment` inserts
// (insert i at i mod fragment), so a relay can address rows j = step·numEnvs + env of a fragment.
// Seed batching (seeds > 1, algorithms/seeds.ts): ring b·seeds + k is seed k's ring b, env arrays
// hold [numAgents, seeds·numEnvs] with seed k's envs at [k·numEnvs, (k+1)·numEnvs), and a relay
// moves rows only between the rings of one seed (seeds = 1: one seed, as before).
// Chunked kernels handle rings [ringBase, ringBase + ringCount); tree writes happen only when
// leafCount > 0 (sum/minTree heaps [numRings, 2·leafCount], leaves at leafCount + slot).
//
// An episode ends on terminated or truncated (next obs = envTerminal, auto-reset obs starts the
// new pending row); the stored done is terminated, or also truncated when truncationDone = 1.
// Writes to one slot are split into an obs kernel (per chunk) and a meta kernel (all rings in one
// dispatch), and a relay's staged rows share one buffer `stage` (per row: obs words, next obs
// words, meta; see stageObsAt / stageNextAt / stageMetaAt), so that no entry point binds more than
// 8 storage buffers (the WebGPU minimum of maxStorageBuffersPerShaderStage).
// insertObs:    one thread per (chunk ring, row j < rows, word).  writes obs, nextObs,
//               changed [numRings, 2·rows] (completed slots, then new slots; at word 0, PER only)
// insertMeta:   one thread per (ring, row j < rows).            writes slotMeta, sum/minTree leaves
// insertAdvance: one thread per ring.                            writes counters, history
// crossStage:   one thread per (chunk sender, k < fragment·numEnvs, word). writes stage
// crossAppendObs: one thread per (chunk receiver, q < maxIncoming, word). writes obs, nextObs
// crossAppendMeta: one thread per (receiver, q < maxIncoming). writes slotMeta, leaves,
//               changed [numRings, maxIncoming]
// crossAdvance: one thread per ring.                            writes counters
// gather:       one thread per (chunk ring, b < batch, d < obsDim). writes outObs, outNext
// gatherMeta:   one thread per (ring, b < batch).  writes outAction, outReward, outDone
override OBS_U8: u32 = 1u;
const NEXT_EXPLICIT: u32 = 0xffffffffu;
const NO_SLOT: u32 = 0xffffffffu;
const EMPTY_MIN: f32 = 3.0e38;
const COUNTER_STRIDE: u32 = 8u;

struct Params { numRings: u32, rows: u32, numEnvs: u32, numAgents: u32, capacity: u32, words: u32, obsDim: u32, ringBase: u32, ringCount: u32, leafCount: u32, arrival: f32, batch: u32, sharedRing: u32, maxIncoming: u32, truncationDone: u32, fragment: u32, seeds: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> obs: array<u32>;
@group(0) @binding(2) var<storage, read_write> nextObs: array<u32>;
@group(0) @binding(3) var<storage, read_write> slotMeta: array<u32>;
@group(0) @binding(4) var<storage, read_write> counters: array<u32>;
@group(0) @binding(5) var<storage, read> countersIn: array<u32>;
@group(0) @binding(6) var<storage, read> obsIn: array<u32>;
@group(0) @binding(7) var<storage, read> nextIn: array<u32>;
@group(0) @binding(8) var<storage, read> slotMetaIn: array<u32>;
@group(0) @binding(9) var<storage, read> envObs: array<u32>;
@group(0) @binding(10) var<storage, read> envTerminal: array<u32>;
@group(0) @binding(11) var<storage, read> envAction: array<u32>;
@group(0) @binding(12) var<storage, read> envReward: array<f32>;
@group(0) @binding(13) var<storage, read> envTerminated: array<u32>;
@group(0) @binding(14) var<storage, read> envTruncated: array<u32>;
@group(0) @binding(15) var<storage, read_write> sum: array<f32>;
@group(0) @binding(16) var<storage, read_write> minTree: array<f32>;
@group(0) @binding(17) var<storage, read_write> changed: array<u32>;
@group(0) @binding(18) var<storage, read> sel: array<u32>;
@group(0) @binding(19) var<storage, read> selCount: array<u32>;
@group(0) @binding(20) var<storage, read_write> stage: array<u32>;
@group(0) @binding(21) var<storage, read> stageIn: array<u32>;
@group(0) @binding(22) var<storage, read> indices: array<u32>;
@group(0) @binding(23) var<storage, read_write> outObs: array<f32>;
@group(0) @binding(24) var<storage, read_write> outNext: array<f32>;
@group(0) @binding(25) var<storage, read_write> outAction: array<u32>;
@group(0) @binding(26) var<storage, read_write> outReward: array<f32>;
@group(0) @binding(27) var<storage, read_write> outDone: array<f32>;
@group(0) @binding(28) var<storage, read_write> history: array<u32>;
@group(0) @binding(29) var<storage, read> historyIn: array<u32>;

// Word w of env row `row` of envObs [numAgents, numEnvs, obsDim] (u8 rows are not word aligned).
fn envObsWord(row: u32, w: u32) -> u32 {
  if (OBS_U8 == 0u) { return envObs[row * params.obsDim + w]; }
  var word = 0u;
  for (var i = 0u; i < 4u; i++) {
    let d = 4u * w + i;
    if (d < params.obsDim) {
      let k = row * params.obsDim + d;
      word |= ((envObs[k >> 2u] >> ((k & 3u) * 8u)) & 0xffu) << (8u * i);
    }
  }
  return word;
}

fn envTerminalWord(row: u32, w: u32) -> u32 {
  if (OBS_U8 == 0u) { return envTerminal[row * params.obsDim + w]; }
  var word = 0u;
  for (var i = 0u; i < 4u; i++) {
    let d = 4u * w + i;
    if (d < params.obsDim) {
      let k = row * params.obsDim + d;
      word |= ((envTerminal[k >> 2u] >> ((k & 3u) * 8u)) & 0xffu) << (8u * i);
    }
  }
  return word;
}

fn setLeaf(r: u32, slot: u32, leaf: f32) {
  let node = r * 2u * params.leafCount + params.leafCount + slot;
  sum[node] = leaf;
  minTree[node] = select(EMPTY_MIN, leaf, leaf > 0.0);
}

// Slots of ring r that insert row j writes: its new pending slot `fresh`, and the previous pending
// slot `prev` that it completes when `completes` (the previous insert had a row j).
struct InsertSlots { fresh: u32, prev: u32, completes: bool }

fn insertSlots(r: u32, j: u32) -> InsertSlots {
  let c = r * COUNTER_STRIDE;
  let cap = params.capacity;
  let fresh = (countersIn[c] + j) % cap;
  return InsertSlots(fresh, (countersIn[c + 2u] + j) % cap, j < countersIn[c + 3u]);
}

// Env row of envObs [numAgents, seeds·numEnvs] that insert row j of ring r reads: ring r is seed
// k = r mod seeds's ring of agent r / seeds (or, shared, of agent j / numEnvs), its env j mod numEnvs
// is env k·numEnvs + j mod numEnvs of the batch (seeds = 1: agent · numEnvs + env).
fn insertEnvRow(r: u32, j: u32) -> u32 {
  let a = select(r / params.seeds, j / params.numEnvs, params.sharedRing != 0u);
  return (a * params.seeds + r % params.seeds) * params.numEnvs + j % params.numEnvs;
}

// Env (index into envTerminated / envTruncated) of insert row j of ring r.
fn insertEnv(r: u32, j: u32) -> u32 {
  return (r % params.seeds) * params.numEnvs + j % params.numEnvs;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn insertObs(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let words = params.words;
  if (t >= params.ringCount * params.rows * words) { return; }
  let lr = t / (params.rows * words);
  let j = (t / words) % params.rows;
  let w = t % words;
  let r = params.ringBase + lr;
  let row = insertEnvRow(r, j);
  let e = insertEnv(r, j);
  let s = insertSlots(r, j);
  let cap = params.capacity;
  let ended = envTerminated[e] != 0u || envTruncated[e] != 0u;
  obs[(lr * cap + s.fresh) * words + w] = envObsWord(row, w);
  if (s.completes && ended) { nextObs[(lr * cap + s.prev) * words + w] = envTerminalWord(row, w); }
  if (w != 0u || params.leafCount == 0u) { return; }
  changed[r * 2u * params.rows + j] = select(NO_SLOT, s.prev, s.completes);
  changed[r * 2u * params.rows + params.rows + j] = s.fresh;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn insertMeta(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.ringCount * params.rows) { return; }
  let r = params.ringBase + t / params.rows;
  let j = t % params.rows;
  let row = insertEnvRow(r, j);
  let e = insertEnv(r, j);
  let s = insertSlots(r, j);
  let terminated = envTerminated[e] != 0u;
  let truncated = envTruncated[e] != 0u;
  if (s.completes) {
    let m = (r * params.capacity + s.prev) * 4u;
    slotMeta[m] = envAction[row];
    slotMeta[m + 1u] = bitcast<u32>(envReward[row]);
    slotMeta[m + 2u] = select(0u, 1u, terminated || (truncated && params.truncationDone != 0u));
    slotMeta[m + 3u] = select(s.fresh, NEXT_EXPLICIT, terminated || truncated);
  }
  if (params.leafCount == 0u) { return; }
  if (s.completes) { setLeaf(r, s.prev, params.arrival); }
  setLeaf(r, s.fresh, 0.0);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn insertAdvance(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg);
  if (r >= params.numRings) { return; }
  let c = r * COUNTER_STRIDE;
  let ptr = counters[c];
  let inserts = counters[c + 6u];
  history[r * params.fragment + inserts % params.fragment] = counters[c + 2u];
  counters[c + 6u] = inserts + 1u;
  counters[c + 4u] = counters[c + 2u];
  counters[c + 5u] = counters[c + 3u];
  counters[c + 2u] = ptr;
  counters[c + 3u] = params.rows;
  counters[c] = (ptr + params.rows) % params.capacity;
  counters[c + 1u] = min(counters[c + 1u] + params.rows, params.capacity);
}

// Word w of staged row s (s = sender ring · fragment·numEnvs + k) in `stage` [numRings,
// fragment·numEnvs, 2·words + 4]: per row its obs words, next obs words, then meta (action, reward
// bits, done, unused), so that each sender ring's rows are one contiguous block.
fn stageObsAt(s: u32, w: u32) -> u32 { return s * (2u * params.words + 4u) + w; }
fn stageNextAt(s: u32, w: u32) -> u32 { return s * (2u * params.words + 4u) + params.words + w; }
fn stageMetaAt(s: u32, f: u32) -> u32 { return s * (2u * params.words + 4u) + 2u * params.words + f; }

@compute @workgroup_size(WORKGROUP_SIZE)
fn crossStage(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let words = params.words;
  let n = params.fragment * params.numEnvs;
  if (t >= params.ringCount * n * words) { return; }
  let la = t / (n * words);
  let k = (t / words) % n;
  let w = t % words;
  let a = params.ringBase + la;
  if (k >= min(selCount[a], n)) { return; }
  let j = min(sel[a * n + k], n - 1u);
  let cap = params.capacity;
  // Row j = step·numEnvs + env of the fragment; step 0 is insert number (inserts − fragment).
  let step = j / params.numEnvs;
  let inserts = countersIn[a * COUNTER_STRIDE + 6u];
  let first = historyIn[a * params.fragment + (inserts + step) % params.fragment];
  let slot = (first + j % params.numEnvs) % cap;
  let dst = a * n + k;
  stage[stageObsAt(dst, w)] = obsIn[(la * cap + slot) * words + w];
  let m = (a * cap + slot) * 4u;
  let nx = slotMetaIn[m + 3u];
  if (nx == NEXT_EXPLICIT) {
    stage[stageNextAt(dst, w)] = nextIn[(la * cap + slot) * words + w];
  } else {
    stage[stageNextAt(dst, w)] = obsIn[(la * cap + min(nx, cap - 1u)) * words + w];
  }
  if (w == 0u) {
    stage[stageMetaAt(dst, 0u)] = slotMetaIn[m];
    stage[stageMetaAt(dst, 1u)] = slotMetaIn[m + 1u];
    stage[stageMetaAt(dst, 2u)] = slotMetaIn[m + 2u];
  }
}

// Incoming row q of receiver r: the selections of the other rings of its seed (rings
// a·seeds + r mod seeds) concatenated in agent order, skipping r itself. Returns (sender ring,
// k < its count), or (NO_SLOT, 0) past the end.
fn incomingSource(r: u32, q: u32) -> vec2u {
  var off = 0u;
  for (var i = 0u; i < params.numAgents; i++) {
    let a = i * params.seeds + r % params.seeds;
    if (a == r) { continue; }
    let n = min(selCount[a], params.fragment * params.numEnvs);
    if (q < off + n) { return vec2u(a, q - off); }
    off += n;
  }
  return vec2u(NO_SLOT, 0u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn crossAppendObs(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let words = params.words;
  if (t >= params.ringCount * params.maxIncoming * words) { return; }
  let lr = t / (params.maxIncoming * words);
  let q = (t / words) % params.maxIncoming;
  let w = t % words;
  let r = params.ringBase + lr;
  let src = incomingSource(r, q);
  if (src.x == NO_SLOT) { return; }
  let cap = params.capacity;
  let slot = (countersIn[r * COUNTER_STRIDE] + q) % cap;
  let s = src.x * params.fragment * params.numEnvs + src.y;
  obs[(lr * cap + slot) * words + w] = stageIn[stageObsAt(s, w)];
  nextObs[(lr * cap + slot) * words + w] = stageIn[stageNextAt(s, w)];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn crossAppendMeta(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.ringCount * params.maxIncoming) { return; }
  let r = params.ringBase + t / params.maxIncoming;
  let q = t % params.maxIncoming;
  let src = incomingSource(r, q);
  if (src.x == NO_SLOT) {
    if (params.leafCount > 0u) { changed[r * params.maxIncoming + q] = NO_SLOT; }
    return;
  }
  let cap = params.capacity;
  let slot = (countersIn[r * COUNTER_STRIDE] + q) % cap;
  let s = src.x * params.fragment * params.numEnvs + src.y;
  let m = (r * cap + slot) * 4u;
  slotMeta[m] = stageIn[stageMetaAt(s, 0u)];
  slotMeta[m + 1u] = stageIn[stageMetaAt(s, 1u)];
  slotMeta[m + 2u] = stageIn[stageMetaAt(s, 2u)];
  slotMeta[m + 3u] = NEXT_EXPLICIT;
  if (params.leafCount == 0u) { return; }
  setLeaf(r, slot, params.arrival);
  changed[r * params.maxIncoming + q] = slot;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn crossAdvance(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg);
  if (r >= params.numRings) { return; }
  var total = 0u;
  for (var i = 0u; i < params.numAgents; i++) {
    let a = i * params.seeds + r % params.seeds;
    total += select(min(selCount[a], params.fragment * params.numEnvs), 0u, a == r);
  }
  let c = r * COUNTER_STRIDE;
  counters[c] = (counters[c] + total) % params.capacity;
  counters[c + 1u] = min(counters[c + 1u] + total, params.capacity);
}

fn storedValue(lr: u32, slot: u32, d: u32) -> f32 {
  let base = (lr * params.capacity + slot) * params.words;
  if (OBS_U8 == 0u) { return bitcast<f32>(obsIn[base + d]); }
  return f32((obsIn[base + (d >> 2u)] >> ((d & 3u) * 8u)) & 0xffu);
}

fn explicitValue(lr: u32, slot: u32, d: u32) -> f32 {
  let base = (lr * params.capacity + slot) * params.words;
  if (OBS_U8 == 0u) { return bitcast<f32>(nextIn[base + d]); }
  return f32((nextIn[base + (d >> 2u)] >> ((d & 3u) * 8u)) & 0xffu);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.ringCount * params.batch * params.obsDim) { return; }
  let lr = t / (params.batch * params.obsDim);
  let b = (t / params.obsDim) % params.batch;
  let d = t % params.obsDim;
  let r = params.ringBase + lr;
  let i = r * params.batch + b;
  let slot = min(indices[i], params.capacity - 1u);
  let m = (r * params.capacity + slot) * 4u;
  let nx = slotMetaIn[m + 3u];
  let o = i * params.obsDim + d;
  outObs[o] = storedValue(lr, slot, d);
  if (nx == NEXT_EXPLICIT) {
    outNext[o] = explicitValue(lr, slot, d);
  } else {
    outNext[o] = storedValue(lr, min(nx, params.capacity - 1u), d);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gatherMeta(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i >= params.numRings * params.batch) { return; }
  let r = i / params.batch;
  let slot = min(indices[i], params.capacity - 1u);
  let m = (r * params.capacity + slot) * 4u;
  outAction[i] = slotMetaIn[m];
  outReward[i] = bitcast<f32>(slotMetaIn[m + 1u]);
  outDone[i] = f32(slotMetaIn[m + 2u]);
}
