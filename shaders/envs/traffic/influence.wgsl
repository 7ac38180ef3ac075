// Traffic grid helpers on the GPU. Owners: envs/traffic/baseline.ts (act), envs/traffic/env.ts
// (record, advance). Includes common/_index.wgsl.
// act:     one thread per (agent, env): the actuated (or fixed-time) signal program of spec B11 from
//          the agent's observation; writes actions and the controller counters ctrl [A, n, 2]
//          (green steps, steps without a vehicle in bins 0..1 of the green approaches).
// record:  one thread per (agent, env): appends the step's AIP sample of every agent to the
//          influence dataset at slot cursorIn[0] mod slots (row = slot · numEnvs + env; with seeds
//          batched, per seed block, see `record`): dset = the
//          36 0/1 bitmap values of the post-step observation (terminalObs where the episode ended)
//          bit-packed into DSET_WORDS = 2 u32 (value i at bit i % 32 of word i / 32, the layout of
//          envs/bits.ts; the thread writes the whole row), targets = the 4 influence sources
//          (vehicle inserted on W, S, E, N). Writes dset, targets.
// advance: one thread: cursor[0] += 1.

struct Params {
  numEnvs: u32,
  numAgents: u32,
  minGreen: u32,
  maxGreen: u32,
  gapSteps: u32,
  fixedGreen: u32,
  slots: u32,
  envsPerSeed: u32,
}

const DIM: u32 = 40u;
const DSET_DIM: u32 = 36u;
const DSET_WORDS: u32 = (DSET_DIM + 31u) / 32u;
const BINS: u32 = 9u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> obs: array<f32>;
@group(0) @binding(2) var<storage, read> episodeStep: array<u32>;
@group(0) @binding(3) var<storage, read_write> ctrl: array<u32>;
@group(0) @binding(4) var<storage, read_write> actions: array<u32>;
@group(0) @binding(5) var<storage, read> terminalObs: array<f32>;
@group(0) @binding(6) var<storage, read> terminated: array<u32>;
@group(0) @binding(7) var<storage, read> truncated: array<u32>;
@group(0) @binding(8) var<storage, read> sources: array<u32>;
@group(0) @binding(9) var<storage, read> cursorIn: array<u32>;
@group(0) @binding(10) var<storage, read_write> dset: array<u32>;
@group(0) @binding(11) var<storage, read_write> targets: array<f32>;
@group(0) @binding(12) var<storage, read_write> cursor: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn act(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg);
  if (r >= params.numEnvs * params.numAgents) { return; }
  let e = r % params.numEnvs;
  let o = r * DIM;
  var green = select(ctrl[r * 2u], 0u, episodeStep[e] == 0u);
  var gap = select(ctrl[r * 2u + 1u], 0u, episodeStep[e] == 0u);
  var action = 0u;
  let yellow = obs[o + 37u] > 0.5 || obs[o + 38u] > 0.5;
  if (yellow) {
    green = 0u;
    gap = 0u;
  } else {
    green += 1u;
    let first = select(0u, 1u, obs[o + 39u] > 0.5);
    let occupied = obs[o + first * BINS] + obs[o + first * BINS + 1u] +
      obs[o + (first + 2u) * BINS] + obs[o + (first + 2u) * BINS + 1u] > 0.5;
    gap = select(gap + 1u, 0u, occupied);
    var change = green >= params.maxGreen || (green >= params.minGreen && gap >= params.gapSteps);
    if (params.fixedGreen > 0u) { change = green >= params.fixedGreen; }
    if (change) {
      action = 1u;
      green = 0u;
      gap = 0u;
    }
  }
  ctrl[r * 2u] = green;
  ctrl[r * 2u + 1u] = gap;
  actions[r] = action;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn record(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg);
  if (r >= params.numEnvs * params.numAgents) { return; }
  let k = r / params.numEnvs;
  let e = r % params.numEnvs;
  // Seeds batched: env e is env e mod g of seed e / g (g = envsPerSeed), whose rows are block
  // k·seeds + e / g of [A·seeds, slots·g] (one seed: row = (k·slots + slot)·numEnvs + e).
  let g = params.envsPerSeed;
  let block = k * (params.numEnvs / g) + e / g;
  let row = (block * params.slots + cursorIn[0] % params.slots) * g + e % g;
  let done = terminated[e] != 0u || truncated[e] != 0u;
  for (var w = 0u; w < DSET_WORDS; w++) {
    var word = 0u;
    for (var b = 0u; b < 32u && w * 32u + b < DSET_DIM; b++) {
      let i = r * DIM + w * 32u + b;
      word |= select(0u, 1u << b, select(obs[i], terminalObs[i], done) > 0.5);
    }
    dset[row * DSET_WORDS + w] = word;
  }
  for (var a = 0u; a < 4u; a++) { targets[row * 4u + a] = f32(sources[r * 4u + a]); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn advance(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  if (flatIndex(gid, nwg) > 0u) { return; }
  cursor[0] += 1u;
}
