// Warehouse commissioning, local simulator (IALS/DIALS §9 of
// docs/envs/warehouse.md). Owner: envs/warehouse/local.ts.
// One thread per lane (agent a, env e), lane = a · numEnvs + e: one learning robot's 5 × 5 region.
// reset: writes state (episode 0, counter 0), obs, reward (0), flags (lanes of agent 0).
// step:  age; move by actions[lane]; reward (ages after ageing, before removal); remove the item
//        under the robot; for each neighbour n (E, S, W, N) with class k = influence[lane, n] < 3
//        remove the item on edge cell k + 1; spawn; obs (terminalObs when the episode ends, then
//        auto-reset). writes state, obs, terminalObs, reward, truncated, episodeStep (flags from
//        the lanes of agent 0); not terminated: episodes end only by the time limit, so it keeps
//        the 0 that reset wrote (and the step binds 8 storage buffers).
// State per lane (u32 × 16): step, episode, counter, cell (5r + c), ages × 12 slots.
// Spawn keys are the GS's: rngU32(seed, purpose, env, scan index of the cell in the agent's GS
// region, episode | counter, 0), so an LS fed with a GS run's actions and influence sources
// replays that agent's trajectory exactly. With seeds batched, seed and env are per seed
// (seedOfEnv in common/_rng.wgsl: seed + e / envsPerSeed, e % envsPerSeed).

const LANE: u32 = 16u;

struct Params {
  numEnvs: u32,
  numAgents: u32,
  robotsPerSide: u32,
  learningPerSide: u32,
  maxSteps: u32,
  probItem: f32,
  seed: u32,
  resetPurpose: u32,
  stepPurpose: u32,
  envsPerSeed: u32,
  seedMix: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Seed batching: env e draws as env e mod envsPerSeed of a run seeded seed + e / envsPerSeed
// (then XOR seedMix: DIALS keys its local simulators apart from the GS).
fn envSeed(e: u32) -> u32 { return seedOfEnv(params.seed, e, params.envsPerSeed) ^ params.seedMix; }
fn envOfSeed(e: u32) -> u32 { return e % params.envsPerSeed; }
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read> actions: array<u32>;
@group(0) @binding(3) var<storage, read> influence: array<u32>;
@group(0) @binding(4) var<storage, read_write> obs: array<f32>;
@group(0) @binding(5) var<storage, read_write> terminalObs: array<f32>;
@group(0) @binding(6) var<storage, read_write> reward: array<f32>;
@group(0) @binding(7) var<storage, read_write> terminated: array<u32>;
@group(0) @binding(8) var<storage, read_write> truncated: array<u32>;
@group(0) @binding(9) var<storage, read_write> episodeStep: array<u32>;

// Scan index (GS key) of slot s of agent a's region.
fn scanOf(a: u32, s: u32) -> u32 {
  let l = params.learningPerSide;
  return whRegionScan(params.robotsPerSide, 1u + a / l, 1u + a % l, s);
}

fn resetAges(a: u32, e: u32, episode: u32) -> array<u32, 12> {
  var ages: array<u32, 12>;
  for (var s = 0u; s < WH_SLOTS; s++) {
    let u = rngUnit(rngU32(envSeed(e), params.resetPurpose, envOfSeed(e), scanOf(a, s), episode, 0u));
    ages[s] = select(WH_NONE, 0u, u < params.probItem);
  }
  return ages;
}

fn store(lane: u32, header: vec4u, ages: array<u32, 12>) {
  let b = lane * LANE;
  state[b] = header.x;
  state[b + 1u] = header.y;
  state[b + 2u] = header.z;
  state[b + 3u] = header.w;
  for (var s = 0u; s < WH_SLOTS; s++) {
    state[b + 4u + s] = ages[s];
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn reset(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let lane = flatIndex(gid, nwg);
  if (lane >= params.numAgents * params.numEnvs) {
    return;
  }
  let a = lane / params.numEnvs;
  let e = lane % params.numEnvs;
  let ages = resetAges(a, e, 0u);
  store(lane, vec4u(0u, 0u, 0u, WH_CENTRE), ages);
  let bits = whObsBits(WH_CENTRE, ages);
  for (var q = 0u; q < WH_OBS; q++) {
    obs[lane * WH_OBS + q] = whObsBit(bits, q);
  }
  reward[lane] = 0.0;
  if (a == 0u) {
    episodeBegin(e);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let lane = flatIndex(gid, nwg);
  if (lane >= params.numAgents * params.numEnvs) {
    return;
  }
  let a = lane / params.numEnvs;
  let e = lane % params.numEnvs;
  let b = lane * LANE;
  let t0 = state[b];
  let episode = state[b + 1u];
  let counter = state[b + 2u];
  var ages: array<u32, 12>;
  var oldest = 0u;
  for (var s = 0u; s < WH_SLOTS; s++) {
    let old = state[b + 4u + s];
    ages[s] = select(old + 1u, WH_NONE, old == WH_NONE);
    oldest = select(oldest, max(oldest, ages[s]), old != WH_NONE);
  }
  let cell = whMove(state[b + 3u], actions[lane]);
  let slot = whCellSlot(cell);
  var r = 0.0;
  if (slot != WH_NO_SLOT && ages[slot] != WH_NONE) {
    r = ratioF32(ages[slot], oldest);
    ages[slot] = WH_NONE;
  }
  reward[lane] = r;
  for (var n = 0u; n < 4u; n++) {
    let k = influence[lane * 4u + n];
    if (k < 3u) {
      ages[whInfluenceSlot(n, k)] = WH_NONE;
    }
  }
  for (var s = 0u; s < WH_SLOTS; s++) {
    let u = rngUnit(rngU32(envSeed(e), params.stepPurpose, envOfSeed(e), scanOf(a, s), counter, 0u));
    ages[s] = select(ages[s], 0u, ages[s] == WH_NONE && u < params.probItem);
  }
  let ending = episodeTimeUp(t0 + 1u, params.maxSteps);
  let bits = whObsBits(cell, ages);
  for (var q = 0u; q < WH_OBS; q++) {
    obs[lane * WH_OBS + q] = whObsBit(bits, q);
  }
  if (ending) {
    episodeKeepObs(lane * WH_OBS, WH_OBS);
    let fresh = resetAges(a, e, episode + 1u);
    store(lane, vec4u(0u, episode + 1u, counter + 1u, WH_CENTRE), fresh);
    let rb = whObsBits(WH_CENTRE, fresh);
    for (var q = 0u; q < WH_OBS; q++) {
      obs[lane * WH_OBS + q] = whObsBit(rb, q);
    }
  } else {
    store(lane, vec4u(t0 + 1u, episode, counter + 1u, cell), ages);
  }
  if (a == 0u) {
    // episodeAdvance without terminated, which this kernel does not bind (see the header).
    truncated[e] = select(0u, 1u, ending);
    episodeStep[e] = select(t0 + 1u, 0u, ending);
  }
}
