// Multi-Robot Warehouse (rware-*-v2, spec docs/envs/rware.md). Owner: envs/rware/env.ts.
// reset and step run one thread per env for all its agents (n <= 19): a short sequential program.
// reset: one thread per env: episode 0 of the env's reset stream.
//        writes state, obs, reward (0), terminated (0), truncated (0), episodeStep (0).
// step:  one thread per env: carrying restriction (§6.1), move-graph conflicts (§6.2, ties to the
//        lowest agent id), execution (§6.3), deliveries with refills (§6.4: the k-th delivery
//        of the step takes injected[e, k] when it is non-zero, else a draw; injected is cleared),
//        counters and done (§6.5). On done copies the final obs into terminalObs and resets the
//        env (episode + 1). writes state, injected (zeroed), terminalObs (ended envs only),
//        reward, terminated, truncated (always 0, R5). Flags: envs/common/_episode.wgsl.
// observe: one thread per (agent, env), after step: reads state. writes obs, episodeStep (the
//        thread of agent 0).
// State per env (u32 words): steps, inactiveSteps, episode, totalSteps, agents (x, y, dir,
// carried shelf id, hasDelivered) × numAgents, request queue × queueSize, shelf grid (shelf id
// per cell, row-major, 0 = none; a carried shelf sits on its carrier's cell) × rows·cols.
// warehouse: home shelf id per cell (0 = highway) × rows·cols, then goals (x, y) × numGoals.
// Obs layout: [numAgents, numEnvs, obsDim].
// Draw keys (see envs/rware/reference.ts): reset: (e, agent i, episode, 0 = cell / 1 = direction),
// (e, numAgents + slot, episode, 0) per request; refill at goal g: (e, g, totalSteps, 0).

const MAX_AGENTS: u32 = 19u;
const MAX_QUEUE: u32 = 38u;
const MAX_OBS: u32 = 183u;
const CELL_WORDS: u32 = 16u;
const SHELF_WORDS: u32 = 8u;
const HEADER: u32 = 4u;
const NONE: u32 = 0xffffffffu;
const ACT_NOOP: u32 = 0u;
const ACT_FORWARD: u32 = 1u;
const ACT_LEFT: u32 = 2u;
const ACT_RIGHT: u32 = 3u;
const ACT_TOGGLE: u32 = 4u;
const KIND_TREE: u32 = 0u;
const KIND_LOOP: u32 = 1u;
const KIND_CYCLE: u32 = 2u;
const REWARD_INDIVIDUAL: u32 = 0u;
const REWARD_GLOBAL: u32 = 1u;

struct Params {
  numEnvs: u32,
  rows: u32,
  cols: u32,
  numAgents: u32,
  numShelves: u32,
  queueSize: u32,
  numGoals: u32,
  sensorRange: u32,
  maxSteps: u32,
  maxInactivitySteps: u32,
  rewardType: u32,
  seed: u32,
  envsPerSeed: u32,
  resetPurpose: u32,
  stepPurpose: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read> warehouse: array<u32>;
@group(0) @binding(3) var<storage, read> actions: array<u32>;
@group(0) @binding(4) var<storage, read_write> injected: array<u32>;
@group(0) @binding(5) var<storage, read_write> obs: array<f32>;
@group(0) @binding(6) var<storage, read_write> terminalObs: array<f32>;
@group(0) @binding(7) var<storage, read_write> reward: array<f32>;
@group(0) @binding(8) var<storage, read_write> terminated: array<u32>;
@group(0) @binding(9) var<storage, read_write> truncated: array<u32>;
@group(0) @binding(10) var<storage, read_write> episodeStep: array<u32>;

var<private> steps: u32;
var<private> inactiveSteps: u32;
var<private> episode: u32;
var<private> totalSteps: u32;
var<private> ax: array<u32, MAX_AGENTS>;
var<private> ay: array<u32, MAX_AGENTS>;
var<private> adir: array<u32, MAX_AGENTS>;
var<private> acarry: array<u32, MAX_AGENTS>;
var<private> adeliv: array<u32, MAX_AGENTS>;
var<private> queue: array<u32, MAX_QUEUE>;
var<private> requested: array<u32, SHELF_WORDS>;
var<private> taken: array<u32, CELL_WORDS>;
var<private> areward: array<f32, MAX_AGENTS>;
var<private> ob: array<f32, MAX_OBS>;

fn numCells() -> u32 {
  return params.rows * params.cols;
}

fn stride() -> u32 {
  return HEADER + 5u * params.numAgents + params.queueSize + numCells();
}

fn gridBase(e: u32) -> u32 {
  return e * stride() + HEADER + 5u * params.numAgents + params.queueSize;
}

fn obsDim() -> u32 {
  let side = 2u * params.sensorRange + 1u;
  return 8u + side * side * 7u;
}

fn isRequested(id: u32) -> bool {
  return id != 0u && (requested[id >> 5u] & (1u << (id & 31u))) != 0u;
}

fn setRequested(id: u32, on: bool) {
  let bit = 1u << (id & 31u);
  requested[id >> 5u] = select(requested[id >> 5u] & ~bit, requested[id >> 5u] | bit, on);
}

// The r-th shelf id (ascending) that is not requested.
fn nthFreeShelf(r0: u32) -> u32 {
  var r = r0;
  for (var id = 1u; id <= params.numShelves; id++) {
    if (!isRequested(id)) {
      if (r == 0u) {
        return id;
      }
      r -= 1u;
    }
  }
  return 0u;
}

// The r-th cell (row-major) not in `taken`.
fn nthFreeCell(r0: u32) -> u32 {
  var r = r0;
  for (var c = 0u; c < numCells(); c++) {
    if ((taken[c >> 5u] & (1u << (c & 31u))) == 0u) {
      if (r == 0u) {
        return c;
      }
      r -= 1u;
    }
  }
  return 0u;
}

fn loadState(e: u32) {
  let base = e * stride();
  steps = state[base];
  inactiveSteps = state[base + 1u];
  episode = state[base + 2u];
  totalSteps = state[base + 3u];
  for (var i = 0u; i < params.numAgents; i++) {
    let o = base + HEADER + 5u * i;
    ax[i] = state[o];
    ay[i] = state[o + 1u];
    adir[i] = state[o + 2u];
    acarry[i] = state[o + 3u];
    adeliv[i] = state[o + 4u];
  }
  for (var w = 0u; w < SHELF_WORDS; w++) {
    requested[w] = 0u;
  }
  let qb = base + HEADER + 5u * params.numAgents;
  for (var j = 0u; j < params.queueSize; j++) {
    queue[j] = state[qb + j];
    setRequested(queue[j], true);
  }
}

// Stores everything but the grid (kept in place in `state`).
fn storeState(e: u32) {
  let base = e * stride();
  state[base] = steps;
  state[base + 1u] = inactiveSteps;
  state[base + 2u] = episode;
  state[base + 3u] = totalSteps;
  for (var i = 0u; i < params.numAgents; i++) {
    let o = base + HEADER + 5u * i;
    state[o] = ax[i];
    state[o + 1u] = ay[i];
    state[o + 2u] = adir[i];
    state[o + 3u] = acarry[i];
    state[o + 4u] = adeliv[i];
  }
  let qb = base + HEADER + 5u * params.numAgents;
  for (var j = 0u; j < params.queueSize; j++) {
    state[qb + j] = queue[j];
  }
}

fn resetDraw(e: u32, b: u32, d: u32) -> u32 {
  return rngU32(
    seedOfEnv(params.seed, e, params.envsPerSeed),
    params.resetPurpose, e % params.envsPerSeed, b, episode, d);
}

// Reset (§4) of env e for episode `episode`: agents on distinct random cells with random
// directions, distinct random requests, shelves at home; totalSteps carries on.
fn resetEnv(e: u32) {
  let n = params.numAgents;
  for (var w = 0u; w < CELL_WORDS; w++) {
    taken[w] = 0u;
  }
  for (var i = 0u; i < n; i++) {
    let c = nthFreeCell(rngBelow(resetDraw(e, i, 0u), numCells() - i));
    taken[c >> 5u] |= 1u << (c & 31u);
    ax[i] = c % params.cols;
    ay[i] = c / params.cols;
    adir[i] = rngBelow(resetDraw(e, i, 1u), 4u);
    acarry[i] = 0u;
    adeliv[i] = 0u;
  }
  for (var w = 0u; w < SHELF_WORDS; w++) {
    requested[w] = 0u;
  }
  for (var j = 0u; j < params.queueSize; j++) {
    queue[j] = nthFreeShelf(rngBelow(resetDraw(e, n + j, 0u), params.numShelves - j));
    setRequested(queue[j], true);
  }
  let gb = gridBase(e);
  for (var c = 0u; c < numCells(); c++) {
    state[gb + c] = warehouse[c];
  }
  steps = 0u;
  inactiveSteps = 0u;
}

// Index of the agent on cell c, NONE if empty.
fn agentOn(c: u32) -> u32 {
  var found = NONE;
  for (var j = 0u; j < params.numAgents; j++) {
    found = select(found, j, ay[j] * params.cols + ax[j] == c);
  }
  return found;
}

fn clockwise(d: u32) -> u32 {
  // UP → RIGHT → DOWN → LEFT → UP
  return select(select(select(1u, 0u, d == 2u), 2u, d == 1u), 3u, d == 0u);
}

fn counterClockwise(d: u32) -> u32 {
  // UP → LEFT → DOWN → RIGHT → UP
  return select(select(select(0u, 1u, d == 2u), 3u, d == 1u), 2u, d == 0u);
}

// Observation of agent i (§7) into `ob`; the grid of env e gives the shelves.
fn buildObs(e: u32, i: u32) {
  let gb = gridBase(e);
  let s = i32(params.sensorRange);
  ob[0] = f32(ax[i]);
  ob[1] = f32(ay[i]);
  ob[2] = select(0.0, 1.0, acarry[i] != 0u);
  for (var d = 0u; d < 4u; d++) {
    ob[3u + d] = select(0.0, 1.0, adir[i] == d);
  }
  ob[7] = select(0.0, 1.0, warehouse[ay[i] * params.cols + ax[i]] == 0u);
  var k = 8u;
  for (var dy = -s; dy <= s; dy++) {
    for (var dx = -s; dx <= s; dx++) {
      let x = i32(ax[i]) + dx;
      let y = i32(ay[i]) + dy;
      let inside = x >= 0 && y >= 0 && x < i32(params.cols) && y < i32(params.rows);
      var other = NONE;
      var shelf = 0u;
      if (inside) {
        let c = u32(y) * params.cols + u32(x);
        other = agentOn(c);
        shelf = state[gb + c];
      }
      let dir = select(adir[min(other, MAX_AGENTS - 1u)], 0u, other == NONE);
      ob[k] = select(1.0, 0.0, other == NONE);
      for (var d = 0u; d < 4u; d++) {
        ob[k + 1u + d] = select(0.0, 1.0, dir == d);
      }
      ob[k + 5u] = select(0.0, 1.0, shelf != 0u);
      ob[k + 6u] = select(0.0, 1.0, isRequested(shelf));
      k += 7u;
    }
  }
}

fn writeObs(e: u32) {
  let dim = obsDim();
  for (var i = 0u; i < params.numAgents; i++) {
    buildObs(e, i);
    let base = (i * params.numEnvs + e) * dim;
    for (var k = 0u; k < dim; k++) {
      obs[base + k] = ob[k];
    }
  }
}

fn writeTerminalObs(e: u32) {
  let dim = obsDim();
  for (var i = 0u; i < params.numAgents; i++) {
    buildObs(e, i);
    let base = (i * params.numEnvs + e) * dim;
    for (var k = 0u; k < dim; k++) {
      terminalObs[base + k] = ob[k];
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn reset(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  if (e >= params.numEnvs) {
    return;
  }
  episode = 0u;
  totalSteps = 0u;
  resetEnv(e);
  storeState(e);
  writeObs(e);
  for (var i = 0u; i < params.numAgents; i++) {
    reward[i * params.numEnvs + e] = 0.0;
  }
  episodeBegin(e);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  if (e >= params.numEnvs) {
    return;
  }
  loadState(e);
  let n = params.numAgents;
  let W = params.cols;
  let gb = gridBase(e);

  // §6.1 targets, the carrying restriction, and each agent's successor in the move graph:
  // itself when it stays (self-loop), the agent on its target cell, or NONE for a free target.
  var act: array<u32, MAX_AGENTS>;
  var start: array<u32, MAX_AGENTS>;
  var dest: array<u32, MAX_AGENTS>;
  var moving: array<bool, MAX_AGENTS>;
  var next: array<u32, MAX_AGENTS>;
  for (var i = 0u; i < n; i++) {
    let a = actions[i * params.numEnvs + e];
    act[i] = select(ACT_NOOP, a, a <= ACT_TOGGLE);
    start[i] = ay[i] * W + ax[i];
    var tx = i32(ax[i]);
    var ty = i32(ay[i]);
    if (act[i] == ACT_FORWARD) {
      let d = adir[i];
      tx = clamp(tx + select(0, select(-1, 1, d == 3u), d >= 2u), 0, i32(W) - 1);
      ty = clamp(ty + select(select(1, -1, d == 0u), 0, d >= 2u), 0, i32(params.rows) - 1);
    }
    dest[i] = u32(ty) * W + u32(tx);
  }
  for (var i = 0u; i < n; i++) {
    var occ = agentOn(dest[i]);
    if (dest[i] != start[i] && acarry[i] != 0u && state[gb + dest[i]] != 0u) {
      let loadedThere = occ != NONE && acarry[min(occ, MAX_AGENTS - 1u)] != 0u;
      if (!loadedThere) {
        act[i] = ACT_NOOP;
        dest[i] = start[i];
      }
    }
    moving[i] = dest[i] != start[i];
    next[i] = select(i, occ, moving[i]);
  }

  // §6.2 classify each agent's component by following successors: a free cell (tree), a
  // stationary agent (self-loop), or neither within n hops (a cycle of length >= 2).
  var kind: array<u32, MAX_AGENTS>;
  var committed: array<bool, MAX_AGENTS>;
  var depth: array<u32, MAX_AGENTS>;
  for (var i = 0u; i < n; i++) {
    var cur = i;
    var k = KIND_CYCLE;
    for (var h = 0u; h < n; h++) {
      if (!moving[cur]) {
        k = KIND_LOOP;
        break;
      }
      if (next[cur] == NONE) {
        k = KIND_TREE;
        break;
      }
      cur = next[cur];
    }
    kind[i] = k;
    committed[i] = false;
    depth[i] = 0u;
  }
  for (var i = 0u; i < n; i++) {
    if (kind[i] == KIND_LOOP) {
      committed[i] = !moving[i];
    } else if (kind[i] == KIND_CYCLE) {
      var cur = next[i];
      var len = 1u;
      for (var h = 0u; h < n && cur != i; h++) {
        cur = next[cur];
        len += 1u;
      }
      committed[i] = cur == i && len != 2u;
    } else {
      // depth[b] = agents on the longest chain ending at b: walk forward from every agent.
      var cur = i;
      var d = 1u;
      for (var h = 0u; h < n; h++) {
        depth[cur] = max(depth[cur], d);
        if (next[cur] == NONE) {
          break;
        }
        cur = next[cur];
        d += 1u;
      }
    }
  }
  // Trees: the deepest agent entering each free cell wins (ties: lowest id); from it, backwards,
  // the deepest predecessor (ties: lowest id) each time.
  for (var i = 0u; i < n; i++) {
    if (kind[i] != KIND_TREE || next[i] != NONE) {
      continue;
    }
    var wins = true;
    for (var j = 0u; j < n; j++) {
      let rival = j != i && kind[j] == KIND_TREE && next[j] == NONE && dest[j] == dest[i];
      let beats = depth[j] > depth[i] || (depth[j] == depth[i] && j < i);
      wins = wins && !(rival && beats);
    }
    if (!wins) {
      continue;
    }
    committed[i] = true;
    var cur = i;
    for (var h = 0u; h < n; h++) {
      var best = NONE;
      for (var j = 0u; j < n; j++) {
        if (moving[j] && next[j] == cur && (best == NONE || depth[j] > depth[best])) {
          best = j;
        }
      }
      if (best == NONE) {
        break;
      }
      committed[best] = true;
      cur = best;
    }
  }

  // §6.3 execution. Carried shelves leave their cells first, then land on the new ones.
  for (var i = 0u; i < n; i++) {
    act[i] = select(ACT_NOOP, act[i], committed[i]);
    areward[i] = 0.0;
    if (act[i] == ACT_FORWARD && acarry[i] != 0u) {
      state[gb + start[i]] = 0u;
    }
  }
  for (var i = 0u; i < n; i++) {
    if (act[i] == ACT_FORWARD) {
      ax[i] = dest[i] % W;
      ay[i] = dest[i] / W;
      if (acarry[i] != 0u) {
        state[gb + dest[i]] = acarry[i];
      }
    } else if (act[i] == ACT_LEFT) {
      adir[i] = counterClockwise(adir[i]);
    } else if (act[i] == ACT_RIGHT) {
      adir[i] = clockwise(adir[i]);
    } else if (act[i] == ACT_TOGGLE) {
      if (acarry[i] == 0u) {
        acarry[i] = state[gb + start[i]];
      } else if (warehouse[start[i]] != 0u) {
        let bonus = adeliv[i] != 0u && params.rewardType != REWARD_INDIVIDUAL &&
          params.rewardType != REWARD_GLOBAL;
        areward[i] += select(0.0, 0.5, bonus);
        acarry[i] = 0u;
        adeliv[i] = 0u;
      }
    }
  }

  // §6.4 deliveries in goal order; refills from injected[e, k] or a draw.
  let cells = numCells();
  var delivered = 0u;
  for (var g = 0u; g < params.numGoals; g++) {
    let cell = warehouse[cells + 2u * g + 1u] * W + warehouse[cells + 2u * g];
    let shelf = state[gb + cell];
    if (!isRequested(shelf)) {
      continue;
    }
    var fresh = injected[e * params.numGoals + delivered];
    if (fresh == 0u) {
      let h = rngU32(
    seedOfEnv(params.seed, e, params.envsPerSeed),
    params.stepPurpose, e % params.envsPerSeed, g, totalSteps, 0u);
      fresh = nthFreeShelf(rngBelow(h, params.numShelves - params.queueSize));
    }
    for (var j = 0u; j < params.queueSize; j++) {
      queue[j] = select(queue[j], fresh, queue[j] == shelf);
    }
    setRequested(fresh, true);
    setRequested(shelf, false);
    delivered += 1u;
    let carrier = agentOn(cell);
    for (var i = 0u; i < n; i++) {
      let mine = i == carrier;
      if (params.rewardType == REWARD_GLOBAL) {
        areward[i] += 1.0;
      } else if (params.rewardType == REWARD_INDIVIDUAL) {
        areward[i] += select(0.0, 1.0, mine);
      } else {
        areward[i] += select(0.0, 0.5, mine);
        adeliv[i] = select(adeliv[i], 1u, mine);
      }
    }
  }
  for (var g = 0u; g < params.numGoals; g++) {
    injected[e * params.numGoals + g] = 0u;
  }

  // §6.5 counters and the end of the episode (time-outs are terminations, R5).
  inactiveSteps = select(inactiveSteps + 1u, 0u, delivered > 0u);
  steps += 1u;
  totalSteps += 1u;
  let done = (params.maxInactivitySteps > 0u && inactiveSteps >= params.maxInactivitySteps) ||
    (params.maxSteps > 0u && episodeTimeUp(steps, params.maxSteps));
  for (var i = 0u; i < n; i++) {
    reward[i * params.numEnvs + e] = areward[i];
  }
  // episodeStep is written by observe (the step binds 8 storage buffers without obs and it).
  episodeSetEnds(e, done, false);
  if (done) {
    writeTerminalObs(e);
    episode += 1u;
    resetEnv(e);
  }
  storeState(e);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn observe(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.numEnvs) {
    return;
  }
  let i = t / params.numEnvs;
  let e = t % params.numEnvs;
  loadState(e);
  buildObs(e, i);
  let dim = obsDim();
  for (var k = 0u; k < dim; k++) {
    obs[t * dim + k] = ob[k];
  }
  if (i == 0u) {
    episodeStep[e] = steps;
  }
}
