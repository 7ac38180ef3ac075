// Traffic grid global simulator (spec docs/envs/traffic.md Part B). Owner: envs/traffic/env.ts.
// Includes common/_index.wgsl, common/_rng.wgsl, envs/traffic/_lane.wgsl (lane rules, constants),
// envs/common/_episode.wgsl (flags, terminal obs).
// State per env: N² junction records (JUNCTION_WORDS words), 4N² lane segments of SEG_CELLS cells
// (lane id = 4·junction + approach, approaches W, S, E, N) and one entry backlog per lane.
// A step is two dispatches:
// motion:  one thread per (env, lane): applies the junction's action to a copy of its signal and
//          moves the lane's vehicles; a vehicle that leaves the lane's box joins the backlog of
//          the downstream lane (each inner lane has exactly one upstream lane, so one thread
//          writes each backlog word; vehicles leaving the grid are dropped). The thread of the
//          junction's approach 0 stores the action in the junction record (J_ACTION); the thread
//          of lane 0 also writes the env's flags from junction 0's step count (done = step
//          count + 1 >= maxSteps). Writes cells, backlog, junctions (J_ACTION only), terminated,
//          truncated, episodeStep.
// observe: one thread per (env, junction): applies the stored action to the signal for good,
//          feeds each boundary lane's backlog (Bernoulli(pArrive)), inserts at most one vehicle
//          per lane (sources = 1 when it did), writes obs and reward; on done copies obs to
//          terminalObs and resets the junction's part of the env (clear, signals, one arrival
//          step: resetSources), writing the new obs. Writes cells, backlog, junctions, obs,
//          terminalObs, reward, sources, resetSources.
// reset:   one thread per (env, junction): episode 0 of the env's stream. Writes cells, backlog,
//          junctions, obs, reward, sources, resetSources.
// resetFlags: one thread per env, after reset: writes terminated, truncated, episodeStep (0).

struct Params {
  numEnvs: u32,
  gridSize: u32,
  maxSteps: u32,
  persistSignals: u32,
  pSlow: f32,
  pArrive: f32,
  seed: u32,
  stepPurpose: u32,
  resetPurpose: u32,
  envsPerSeed: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Seed batching: env e draws as env e mod envsPerSeed of a run seeded seed + e / envsPerSeed.
fn envSeed(e: u32) -> u32 { return seedOfEnv(params.seed, e, params.envsPerSeed); }
fn envOfSeed(e: u32) -> u32 { return e % params.envsPerSeed; }
@group(0) @binding(1) var<storage, read_write> cells: array<u32>;
@group(0) @binding(2) var<storage, read_write> backlog: array<u32>;
@group(0) @binding(3) var<storage, read_write> junctions: array<u32>;
@group(0) @binding(4) var<storage, read> actions: array<u32>;
@group(0) @binding(5) var<storage, read_write> obs: array<f32>;
@group(0) @binding(6) var<storage, read_write> terminalObs: array<f32>;
@group(0) @binding(7) var<storage, read_write> reward: array<f32>;
@group(0) @binding(8) var<storage, read_write> terminated: array<u32>;
@group(0) @binding(9) var<storage, read_write> truncated: array<u32>;
@group(0) @binding(10) var<storage, read_write> episodeStep: array<u32>;
@group(0) @binding(11) var<storage, read_write> sources: array<u32>;
@group(0) @binding(12) var<storage, read_write> resetSources: array<u32>;

const NO_LANE: u32 = 0xffffffffu;
// Junction record word (one of the 2 unused by the lane rules) holding the action of the step
// between motion and observe; never read across steps.
const J_ACTION: u32 = 6u;

fn numJunctions() -> u32 { return params.gridSize * params.gridSize; }

// Lane feeding approach a of junction k (same approach one junction upstream), or NO_LANE on the
// boundary. Row 0 is the south row; W traffic drives east, S north, E west, N south.
fn upstreamLane(k: u32, a: u32) -> u32 {
  let n = params.gridSize;
  let row = k / n;
  let col = k % n;
  if (a == 0u) { return select((k - 1u) * 4u, NO_LANE, col == 0u); }
  if (a == 1u) { return select((k - n) * 4u + 1u, NO_LANE, row == 0u); }
  if (a == 2u) { return select((k + 1u) * 4u + 2u, NO_LANE, col == n - 1u); }
  return select((k + n) * 4u + 3u, NO_LANE, row == n - 1u);
}

// Lane that approach a of junction k feeds (same approach one junction downstream), or NO_LANE
// where its traffic leaves the grid: the inverse of upstreamLane.
fn downstreamLane(k: u32, a: u32) -> u32 {
  let n = params.gridSize;
  let row = k / n;
  let col = k % n;
  if (a == 0u) { return select((k + 1u) * 4u, NO_LANE, col == n - 1u); }
  if (a == 1u) { return select((k + n) * 4u + 1u, NO_LANE, row == n - 1u); }
  if (a == 2u) { return select((k - 1u) * 4u + 2u, NO_LANE, col == 0u); }
  return select((k - n) * 4u + 3u, NO_LANE, row == 0u);
}

fn segBase(e: u32, lane: u32) -> u32 { return (e * 4u * numJunctions() + lane) * SEG_CELLS; }

fn loadSignal(j: u32) -> Signal {
  return Signal(junctions[j + J_DIR], junctions[j + J_YELLOW], junctions[j + J_TIMER]);
}

fn storeSignal(j: u32, s: Signal) {
  junctions[j + J_DIR] = s.dir;
  junctions[j + J_YELLOW] = s.yellow;
  junctions[j + J_TIMER] = s.timer;
}

// Writes obs row `row` of junction k in env e from the current cells and signal; returns the reward.
fn observeJunction(e: u32, k: u32, row: u32, s: Signal) -> f32 {
  var bins = vec4u(0u);
  var count = 0u;
  var speedSum = 0u;
  for (var a = 0u; a < 4u; a++) {
    let lv = laneView(segBase(e, k * 4u + a));
    bins[a] = lv.bins;
    count += lv.count;
    speedSum += lv.speedSum;
  }
  let hot = signalOneHot(s);
  for (var i = 0u; i < OBS_DIM; i++) { obs[row * OBS_DIM + i] = obsValue(bins, hot, i); }
  return junctionReward(count, speedSum);
}

// Clears junction k's lanes and backlogs, sets its signal (fresh or persisted, then one step with
// no action), runs the reset arrival step on its boundary lanes and writes its obs.
fn resetJunction(e: u32, k: u32, episode: u32, globalStep: u32, s: Signal) {
  let n = params.numEnvs;
  let j = (e * numJunctions() + k) * JUNCTION_WORDS;
  let sig = signalAfterReset(s, params.persistSignals != 0u);
  for (var a = 0u; a < 4u; a++) {
    let lane = k * 4u + a;
    let base = segBase(e, lane);
    laneClear(base);
    backlog[e * 4u * numJunctions() + lane] = 0u;
    var inserted = 0u;
    if (upstreamLane(k, a) == NO_LANE) {
      let h = rngU32(envSeed(e), params.resetPurpose, envOfSeed(e), lane, episode, 0u);
      if (rngUnit(h) < params.pArrive) { inserted = laneInsert(base); }
    }
    resetSources[(k * n + e) * 4u + a] = inserted;
  }
  storeSignal(j, sig);
  junctions[j + J_T] = 0u;
  junctions[j + J_EPISODE] = episode;
  junctions[j + J_GSTEP] = globalStep;
  observeJunction(e, k, k * n + e, sig);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn motion(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let lanes = 4u * numJunctions();
  if (t >= params.numEnvs * lanes) { return; }
  let e = t / lanes;
  let lane = t % lanes;
  let k = lane / 4u;
  let j = (e * numJunctions() + k) * JUNCTION_WORDS;
  let action = actions[k * params.numEnvs + e];
  let next = signalNext(loadSignal(j), action);
  let exited = laneMotion(e * lanes * SEG_CELLS + lane * SEG_CELLS, signalPasses(next, lane % 4u),
    params.pSlow, envSeed(e), params.stepPurpose, envOfSeed(e), lane, junctions[j + J_GSTEP]);
  let down = downstreamLane(k, lane % 4u);
  if (down != NO_LANE) {
    backlog[e * lanes + down] += exited;
  }
  if (lane % 4u == 0u) {
    junctions[j + J_ACTION] = action;
  }
  if (lane == 0u) {
    // Junction 0 decides the flags (every junction of an env counts the same steps); observe
    // resets a junction on the same test.
    let steps = junctions[j + J_T] + 1u;
    episodeAdvance(e, steps, false, episodeTimeUp(steps, params.maxSteps));
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn observe(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let n = params.numEnvs;
  if (t >= n * numJunctions()) { return; }
  let e = t / numJunctions();
  let k = t % numJunctions();
  let j = t * JUNCTION_WORDS;
  let row = k * n + e;
  let next = signalNext(loadSignal(j), junctions[j + J_ACTION]);
  let globalStep = junctions[j + J_GSTEP];
  let lanes = 4u * numJunctions();
  for (var a = 0u; a < 4u; a++) {
    let lane = k * 4u + a;
    let up = upstreamLane(k, a);
    // Inner lanes: motion already added the upstream lane's exit to the backlog.
    var arrived = 0u;
    if (up == NO_LANE) {
      let h = rngU32(envSeed(e), params.stepPurpose, envOfSeed(e), lane, globalStep, 0u);
      arrived = select(0u, 1u, rngUnit(h) < params.pArrive);
    }
    let b = e * lanes + lane;
    var waiting = backlog[b] + arrived;
    var inserted = 0u;
    if (waiting > 0u) {
      inserted = laneInsert(segBase(e, lane));
      waiting -= inserted;
    }
    backlog[b] = waiting;
    sources[row * 4u + a] = inserted;
    resetSources[row * 4u + a] = 0u;
  }
  let r = observeJunction(e, k, row, next);
  reward[row] = r;
  let steps = junctions[j + J_T] + 1u;
  storeSignal(j, next);
  junctions[j + J_T] = steps;
  junctions[j + J_GSTEP] = globalStep + 1u;
  if (episodeTimeUp(steps, params.maxSteps)) {
    episodeKeepObs(row * OBS_DIM, OBS_DIM);
    resetJunction(e, k, junctions[j + J_EPISODE] + 1u, globalStep + 1u, next);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn reset(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let n = params.numEnvs;
  if (t >= n * numJunctions()) { return; }
  let e = t / numJunctions();
  let k = t % numJunctions();
  resetJunction(e, k, 0u, 0u, Signal(0u, 0u, 0u));
  reward[k * n + e] = 0.0;
  for (var a = 0u; a < 4u; a++) { sources[(k * n + e) * 4u + a] = 0u; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn resetFlags(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  if (e >= params.numEnvs) { return; }
  episodeBegin(e);
}
