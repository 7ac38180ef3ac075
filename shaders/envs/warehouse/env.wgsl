// Warehouse commissioning, global simulator (spec docs/envs/warehouse.md).
// Owner: envs/warehouse/env.ts. reset/step: one workgroup per env; its threads stride over robots,
// shelf cells and learning agents, with barriers between the phases of §4. resetSerial/
// stepSerial: one thread per env runs the same phase functions in order (CPU adapters).
// A step is two dispatches: flags, then step (or stepSerial). Flags: envs/common/_episode.wgsl.
// reset(Serial): writes state (episode 0, counter 0), obs, reward (0), terminated, truncated,
//        episodeStep (0).
// flags: one thread per env; from the header before the step, the flags the step ends with.
//        writes terminated (0), truncated, episodeStep.
// step(Serial):  1. robots: dset (obs before the step) and the given action for learning robots, the
//           hand-coded action (§8) for the ring; move; reward of learning robots (ages + 1,
//           before removal);  2. shelf cells: age, remove under any robot, spawn; influence
//           classes of learning robots;  3. obs (terminalObs when the episode ends);
//        4./5. when the episode ends: reset cells and robots, then obs of the new episode.
//        writes state, obs, terminalObs (ended envs), reward, dset, influence.
// State per env (u32): step, episode, counter, robot cells (5r + c) × K², remembered slots × K²,
// item ages × 6K(K + 1) in scan order (WH_NONE = no item).
// Random keys: spawn rngU32(seed, purpose, env, scanIndex, episode | counter, 0); ring-robot random
// actions rngU32(seed, stepPurpose, env, robotId, counter, 1); with seeds batched, seed and env
// are per seed (seedOfEnv in common/_rng.wgsl: seed + e / envsPerSeed, e % envsPerSeed). With
// params.inject == 1 a step takes its in-step draws from `injected` instead (replays of recorded
// trajectories): per env, the random action of every robot (by id, K² words), then the spawn
// outcome of every shelf cell (scan order, 6K(K + 1) words, 1 = the draw is below probItem); the
// reset after a time limit still draws.

struct Params {
  numEnvs: u32,
  robotsPerSide: u32,
  learningPerSide: u32,
  scripted: u32,
  maxSteps: u32,
  probItem: f32,
  seed: u32,
  resetPurpose: u32,
  stepPurpose: u32,
  inject: u32,
  envsPerSeed: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Seed batching: env e draws as env e mod envsPerSeed of a run seeded seed + e / envsPerSeed.
fn envSeed(e: u32) -> u32 { return seedOfEnv(params.seed, e, params.envsPerSeed); }
fn envOfSeed(e: u32) -> u32 { return e % params.envsPerSeed; }
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read> actions: array<u32>;
@group(0) @binding(3) var<storage, read_write> obs: array<f32>;
@group(0) @binding(4) var<storage, read_write> terminalObs: array<f32>;
@group(0) @binding(5) var<storage, read_write> reward: array<f32>;
@group(0) @binding(6) var<storage, read_write> terminated: array<u32>;
@group(0) @binding(7) var<storage, read_write> truncated: array<u32>;
@group(0) @binding(8) var<storage, read_write> episodeStep: array<u32>;
@group(0) @binding(9) var<storage, read_write> dset: array<f32>;
@group(0) @binding(10) var<storage, read_write> influence: array<u32>;
@group(0) @binding(11) var<storage, read> stateIn: array<u32>;
@group(0) @binding(12) var<storage, read> injected: array<u32>;

fn stride() -> u32 {
  let k = params.robotsPerSide;
  return 3u + 2u * k * k + 6u * k * (k + 1u);
}

// Whether the step from episode step t0 ends the episode (by the time limit).
fn endsEpisode(t0: u32) -> bool {
  return episodeTimeUp(t0 + 1u, params.maxSteps);
}

fn posBase(e: u32) -> u32 {
  return e * stride() + 3u;
}

fn memBase(e: u32) -> u32 {
  return posBase(e) + params.robotsPerSide * params.robotsPerSide;
}

fn itemBase(e: u32) -> u32 {
  return memBase(e) + params.robotsPerSide * params.robotsPerSide;
}

// Start of env e's injected draws: K² random actions, then 6K(K + 1) spawn outcomes.
fn injectedBase(e: u32) -> u32 {
  let k = params.robotsPerSide;
  return e * (k * k + 6u * k * (k + 1u));
}

// Item ages of region (i, j) by slot.
fn regionAges(e: u32, i: u32, j: u32) -> array<u32, 12> {
  var ages: array<u32, 12>;
  let ib = itemBase(e);
  for (var s = 0u; s < WH_SLOTS; s++) {
    ages[s] = state[ib + whRegionScan(params.robotsPerSide, i, j, s)];
  }
  return ages;
}

// Robot id of learning agent a.
fn agentRobot(a: u32) -> u32 {
  let l = params.learningPerSide;
  return (1u + a / l) * params.robotsPerSide + 1u + a % l;
}

// Learning agent of region (i, j), WH_NONE for the ring.
fn robotAgent(i: u32, j: u32) -> u32 {
  let l = params.learningPerSide;
  let inside = i >= 1u && i <= l && j >= 1u && j <= l;
  return select(WH_NONE, (i - 1u) * l + j - 1u, inside);
}

fn envIndex(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn allBarrier() {
  storageBarrier();
  workgroupBarrier();
}

// Phase functions: thread `lid` of `span` threads working on env e (span 1: one thread does all).

// Reset items and robots of env e for `episode`.
fn resetWorld(e: u32, lid: u32, span: u32, episode: u32) {
  let k = params.robotsPerSide;
  let ib = itemBase(e);
  for (var c = lid; c < 6u * k * (k + 1u); c += span) {
    let u = rngUnit(rngU32(envSeed(e), params.resetPurpose, envOfSeed(e), c, episode, 0u));
    state[ib + c] = select(WH_NONE, 0u, u < params.probItem);
  }
  for (var g = lid; g < k * k; g += span) {
    state[posBase(e) + g] = WH_CENTRE;
    state[memBase(e) + g] = WH_NO_SLOT;
  }
}

// Writes the observations of env e into obs.
fn writeObs(e: u32, lid: u32, span: u32) {
  let k = params.robotsPerSide;
  let l = params.learningPerSide;
  for (var a = lid; a < l * l; a += span) {
    let g = agentRobot(a);
    let bits = whObsBits(state[posBase(e) + g], regionAges(e, g / k, g % k));
    let o = (a * params.numEnvs + e) * WH_OBS;
    for (var q = 0u; q < WH_OBS; q++) {
      obs[o + q] = whObsBit(bits, q);
    }
  }
}

// Writes the observations of env e into terminalObs.
fn writeTerminalObs(e: u32, lid: u32, span: u32) {
  let k = params.robotsPerSide;
  let l = params.learningPerSide;
  for (var a = lid; a < l * l; a += span) {
    let g = agentRobot(a);
    let bits = whObsBits(state[posBase(e) + g], regionAges(e, g / k, g % k));
    let o = (a * params.numEnvs + e) * WH_OBS;
    for (var q = 0u; q < WH_OBS; q++) {
      terminalObs[o + q] = whObsBit(bits, q);
    }
  }
}

// Reset, part 1: items, robots, rewards, header and flags.
fn resetStart(e: u32, lid: u32, span: u32) {
  resetWorld(e, lid, span, 0u);
  let l = params.learningPerSide;
  for (var a = lid; a < l * l; a += span) {
    reward[a * params.numEnvs + e] = 0.0;
  }
  if (lid == 0u) {
    let base = e * stride();
    state[base] = 0u;
    state[base + 1u] = 0u;
    state[base + 2u] = 0u;
    episodeBegin(e);
  }
}

// Step phase 1: robots decide, move, and learning robots get their reward and dset.
fn stepRobots(e: u32, lid: u32, span: u32, counter: u32) {
  let k = params.robotsPerSide;
  let n = params.numEnvs;
  let pb = posBase(e);
  for (var g = lid; g < k * k; g += span) {
    let ages = regionAges(e, g / k, g % k);
    let cell = state[pb + g];
    let a = robotAgent(g / k, g % k);
    var action = 0u;
    if (a != WH_NONE) {
      let bits = whObsBits(cell, ages);
      let o = (a * n + e) * WH_OBS;
      for (var q = 0u; q < WH_OBS; q++) {
        dset[o + q] = whObsBit(bits, q);
      }
      action = actions[a * n + e];
    } else {
      var random = rngBelow(rngU32(envSeed(e), params.stepPurpose, envOfSeed(e), g, counter, 1u), 4u);
      if (params.inject == 1u) {
        random = injected[injectedBase(e) + g];
      }
      if (params.scripted == 0u) {
        action = whOldest(cell, ages, random);
      } else {
        let r = whClosest(cell, ages, state[memBase(e) + g], random);
        action = r.x;
        state[memBase(e) + g] = r.y;
      }
    }
    let moved = whMove(cell, action);
    state[pb + g] = moved;
    if (a != WH_NONE) {
      let slot = whCellSlot(moved);
      var r = 0.0;
      if (slot != WH_NO_SLOT && ages[slot] != WH_NONE) {
        var oldest = 0u;
        for (var s = 0u; s < WH_SLOTS; s++) {
          oldest = select(oldest, max(oldest, ages[s]), ages[s] != WH_NONE);
        }
        r = ratioF32(ages[slot] + 1u, oldest + 1u);
      }
      reward[a * n + e] = r;
    }
  }
}

// Step phase 2: shelf cells age, lose items under robots, spawn; influence classes.
fn stepCells(e: u32, lid: u32, span: u32, counter: u32) {
  let k = params.robotsPerSide;
  let n = params.numEnvs;
  let pb = posBase(e);
  let ib = itemBase(e);
  for (var c = lid; c < 6u * k * (k + 1u); c += span) {
    let at = whScanCell(k, c);
    let old = state[ib + c];
    var taken = false;
    if (at.x % 4u == 0u) {
      let bi = at.x / 4u;
      let j = at.y / 4u;
      let lc = at.y % 4u;
      if (bi >= 1u) {
        taken = taken || state[pb + (bi - 1u) * k + j] == 20u + lc;
      }
      if (bi < k) {
        taken = taken || state[pb + bi * k + j] == lc;
      }
    } else {
      let i = at.x / 4u;
      let bj = at.y / 4u;
      let lr = at.x % 4u;
      if (bj >= 1u) {
        taken = taken || state[pb + i * k + bj - 1u] == 5u * lr + 4u;
      }
      if (bj < k) {
        taken = taken || state[pb + i * k + bj] == 5u * lr;
      }
    }
    var age = select(old + 1u, WH_NONE, old == WH_NONE || taken);
    let u = rngUnit(rngU32(envSeed(e), params.stepPurpose, envOfSeed(e), c, counter, 0u));
    var hit = u < params.probItem;
    if (params.inject == 1u) {
      hit = injected[injectedBase(e) + k * k + c] != 0u;
    }
    age = select(age, 0u, age == WH_NONE && hit);
    state[ib + c] = age;
  }
  let l = params.learningPerSide;
  for (var a = lid; a < l * l; a += span) {
    let g = agentRobot(a);
    let o = (a * n + e) * 4u;
    influence[o] = whInfluence(0u, state[pb + g + 1u]);
    influence[o + 1u] = whInfluence(1u, state[pb + g + k]);
    influence[o + 2u] = whInfluence(2u, state[pb + g - 1u]);
    influence[o + 3u] = whInfluence(3u, state[pb + g - k]);
  }
}

// Step phase 3: observations after the step (terminalObs when ending).
fn stepObserve(e: u32, lid: u32, span: u32, ending: bool) {
  if (ending) {
    writeTerminalObs(e, lid, span);
  } else {
    writeObs(e, lid, span);
  }
}

// Step phase 5: the new episode's observations and the header.
fn stepFinish(e: u32, lid: u32, span: u32, header: vec3u, ending: bool) {
  if (ending) {
    writeObs(e, lid, span);
  }
  if (lid == 0u) {
    let base = e * stride();
    state[base] = select(header.x + 1u, 0u, ending);
    state[base + 1u] = select(header.y, header.y + 1u, ending);
    state[base + 2u] = header.z + 1u;
  }
}

// Header (step, episode, counter) of env e.
fn readHeader(e: u32) -> vec3u {
  let base = e * stride();
  return vec3u(state[base], state[base + 1u], state[base + 2u]);
}

// The env flags of a step, from the header before it (dispatched before step / stepSerial, which
// rewrite the header): episodes end only by the time limit.
@compute @workgroup_size(WORKGROUP_SIZE)
fn flags(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  if (e >= params.numEnvs) {
    return;
  }
  let t0 = stateIn[e * stride()];
  episodeAdvance(e, t0 + 1u, false, endsEpisode(t0));
}

// Parallel variants: one workgroup per env, barriers between the phases.

@compute @workgroup_size(WORKGROUP_SIZE)
fn reset(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let e = envIndex(wid, nwg);
  if (e >= params.numEnvs) {
    return;
  }
  resetStart(e, lid, WORKGROUP_SIZE);
  allBarrier();
  writeObs(e, lid, WORKGROUP_SIZE);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn step(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let e = envIndex(wid, nwg);
  if (e >= params.numEnvs) {
    return;
  }
  let h = readHeader(e);
  let ending = endsEpisode(h.x);
  stepRobots(e, lid, WORKGROUP_SIZE, h.z);
  allBarrier();
  stepCells(e, lid, WORKGROUP_SIZE, h.z);
  allBarrier();
  stepObserve(e, lid, WORKGROUP_SIZE, ending);
  allBarrier();
  if (ending) {
    resetWorld(e, lid, WORKGROUP_SIZE, h.y + 1u);
  }
  allBarrier();
  stepFinish(e, lid, WORKGROUP_SIZE, h, ending);
}

// Serial variants: one thread per env runs the same phases in order (no barriers; for CPU
// adapters, where workgroup barriers are expensive).

@compute @workgroup_size(WORKGROUP_SIZE)
fn resetSerial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  if (e >= params.numEnvs) {
    return;
  }
  resetStart(e, 0u, 1u);
  writeObs(e, 0u, 1u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn stepSerial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  if (e >= params.numEnvs) {
    return;
  }
  let h = readHeader(e);
  let ending = endsEpisode(h.x);
  stepRobots(e, 0u, 1u, h.z);
  stepCells(e, 0u, 1u, h.z);
  stepObserve(e, 0u, 1u, ending);
  if (ending) {
    resetWorld(e, 0u, 1u, h.y + 1u);
  }
  stepFinish(e, 0u, 1u, h, ending);
}
