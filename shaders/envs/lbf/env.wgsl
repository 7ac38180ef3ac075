// Level-Based Foraging (Foraging-*-v3 with the options of docs/envs/lbf.md §2.1, spec
// docs/envs/lbf.md). Owner: envs/lbf/env.ts.
// One thread per env does all players, so each env is a short sequential program.
// reset: one thread per env: episode 0 of the env's reset stream (no stale positions).
//        writes state, obs, reward (0), terminated (0), truncated (0), episodeStep (0).
// step:  one thread per env: invalid actions -> NONE, claims and moves, loading, rewards and
//        scores, game over; on game over keeps the final obs in terminalObs and resets the env
//        (episode + 1, the last positions block spawning until re-placed). Flags and terminalObs
//        follow envs/common/_episode.wgsl.
//        writes state, obs, terminalObs (ended envs only), reward, terminated, truncated
//        (time-up with food left when timeLimitTruncates, else 0 as in the reference), episodeStep.
// Params: timeLimitTruncates 1 = the step limit reports truncated (gym TimeLimit), 0 = terminated;
// foodLevelsV0 1 = lbforaging v0 food levels (cap = sum of all levels, non-coop [1, cap − 1]).
// State per env (u32 words): step, episode, foodSpawned, players (row, col, level) × numPlayers,
// foods (row, col, level) × numFood in row-major order (level 0 = eaten or never placed),
// scores (f32 bits) × numPlayers. Obs layout: [numPlayers, numEnvs, 3·numFood + 3·numPlayers].

const MAX_PLAYERS: u32 = 9u;
const MAX_FOOD: u32 = 9u;
const MAX_OBS: u32 = 54u;
const ATTEMPTS: u32 = 1000u;
const HEADER: u32 = 3u;
const ACT_LOAD: u32 = 5u;

struct Params {
  numEnvs: u32,
  rows: u32,
  cols: u32,
  numPlayers: u32,
  numFood: u32,
  sight: u32,
  maxSteps: u32,
  forceCoop: u32,
  minPlayerLevel: u32,
  maxPlayerLevel: u32,
  minFoodLevel: u32,
  normalizeReward: u32,
  penalty: f32,
  seed: u32,
  envsPerSeed: u32,
  resetPurpose: u32,
  timeLimitTruncates: u32,
  foodLevelsV0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read> actions: array<u32>;
@group(0) @binding(3) var<storage, read_write> obs: array<f32>;
@group(0) @binding(4) var<storage, read_write> terminalObs: array<f32>;
@group(0) @binding(5) var<storage, read_write> reward: array<f32>;
@group(0) @binding(6) var<storage, read_write> terminated: array<u32>;
@group(0) @binding(7) var<storage, read_write> truncated: array<u32>;
@group(0) @binding(8) var<storage, read_write> episodeStep: array<u32>;

var<private> stepCount: u32;
var<private> episode: u32;
var<private> foodSpawned: u32;
var<private> pRow: array<u32, MAX_PLAYERS>;
var<private> pCol: array<u32, MAX_PLAYERS>;
var<private> pLevel: array<u32, MAX_PLAYERS>;
var<private> pScore: array<f32, MAX_PLAYERS>;
var<private> pReward: array<f32, MAX_PLAYERS>;
var<private> pAction: array<u32, MAX_PLAYERS>;
var<private> fRow: array<u32, MAX_FOOD>;
var<private> fCol: array<u32, MAX_FOOD>;
var<private> fLevel: array<u32, MAX_FOOD>;
var<private> ob: array<f32, MAX_OBS>;

fn stride() -> u32 {
  return HEADER + 4u * params.numPlayers + 3u * params.numFood;
}

fn loadState(e: u32) {
  let base = e * stride();
  stepCount = state[base];
  episode = state[base + 1u];
  foodSpawned = state[base + 2u];
  let pb = base + HEADER;
  for (var p = 0u; p < params.numPlayers; p++) {
    pRow[p] = state[pb + 3u * p];
    pCol[p] = state[pb + 3u * p + 1u];
    pLevel[p] = state[pb + 3u * p + 2u];
  }
  let fb = pb + 3u * params.numPlayers;
  for (var j = 0u; j < params.numFood; j++) {
    fRow[j] = state[fb + 3u * j];
    fCol[j] = state[fb + 3u * j + 1u];
    fLevel[j] = state[fb + 3u * j + 2u];
  }
  let sb = fb + 3u * params.numFood;
  for (var p = 0u; p < params.numPlayers; p++) {
    pScore[p] = bitcast<f32>(state[sb + p]);
  }
}

fn storeState(e: u32) {
  let base = e * stride();
  state[base] = stepCount;
  state[base + 1u] = episode;
  state[base + 2u] = foodSpawned;
  let pb = base + HEADER;
  for (var p = 0u; p < params.numPlayers; p++) {
    state[pb + 3u * p] = pRow[p];
    state[pb + 3u * p + 1u] = pCol[p];
    state[pb + 3u * p + 2u] = pLevel[p];
  }
  let fb = pb + 3u * params.numPlayers;
  for (var j = 0u; j < params.numFood; j++) {
    state[fb + 3u * j] = fRow[j];
    state[fb + 3u * j + 1u] = fCol[j];
    state[fb + 3u * j + 2u] = fLevel[j];
  }
  let sb = fb + 3u * params.numFood;
  for (var p = 0u; p < params.numPlayers; p++) {
    state[sb + p] = bitcast<u32>(pScore[p]);
  }
}

// Level of the food at (r, c), 0 if none (or outside the grid).
fn foodAt(r: i32, c: i32) -> u32 {
  var level = 0u;
  for (var j = 0u; j < params.numFood; j++) {
    let hit = fLevel[j] > 0u && i32(fRow[j]) == r && i32(fCol[j]) == c;
    level = select(level, fLevel[j], hit);
  }
  return level;
}

fn inGrid(r: i32, c: i32) -> bool {
  return r >= 0 && c >= 0 && r < i32(params.rows) && c < i32(params.cols);
}

// Row / column offset of action a (NONE and LOAD stay).
fn moveRow(a: u32) -> i32 {
  return select(0, select(-1, 1, a == 2u), a == 1u || a == 2u);
}

fn moveCol(a: u32) -> i32 {
  return select(0, select(-1, 1, a == 4u), a == 3u || a == 4u);
}

// Validity (§4) of action a for player p at the current positions.
fn isValid(p: u32, a: u32) -> bool {
  let r = i32(pRow[p]);
  let c = i32(pCol[p]);
  if (a == 0u) {
    return true;
  }
  if (a == ACT_LOAD) {
    let rMax = i32(params.rows) - 1;
    let cMax = i32(params.cols) - 1;
    let around = foodAt(max(r - 1, 0), c) + foodAt(min(r + 1, rMax), c) +
      foodAt(r, max(c - 1, 0)) + foodAt(r, min(c + 1, cMax));
    return around > 0u;
  }
  if (a > ACT_LOAD) {
    return false;
  }
  let tr = r + moveRow(a);
  let tc = c + moveCol(a);
  return inGrid(tr, tc) && foodAt(tr, tc) == 0u;
}

fn resetDraw(e: u32, stream: u32, d: u32) -> u32 {
  return rngU32(
    seedOfEnv(params.seed, e, params.envsPerSeed),
    params.resetPurpose, e % params.envsPerSeed, stream, episode, d);
}

// Reset (§3) of env e for episode `episode`. With `stale`, the players' current positions (the
// last episode's) block spawning until each player is re-placed.
fn resetEnv(e: u32, stale: bool) {
  let P = params.numPlayers;
  for (var p = 0u; p < P; p++) {
    for (var k = 0u; k < ATTEMPTS; k++) {
      let row = rngBelow(resetDraw(e, p, 2u * k), params.rows);
      let col = rngBelow(resetDraw(e, p, 2u * k + 1u), params.cols);
      var free = true;
      for (var q = 0u; q < P; q++) {
        let held = q < p || stale;
        free = free && !(held && pRow[q] == row && pCol[q] == col);
      }
      if (free) {
        let span = params.maxPlayerLevel - params.minPlayerLevel + 1u;
        pRow[p] = row;
        pCol[p] = col;
        pLevel[p] = params.minPlayerLevel + rngBelow(resetDraw(e, p, 2u * ATTEMPTS), span);
        pScore[p] = 0.0;
        break;
      }
    }
  }
  // cap = sum of the three lowest player levels (selection of the minimum three times); with v0
  // food levels, of all levels.
  let v0 = params.foodLevelsV0 == 1u;
  var used = 0u;
  var cap = 0u;
  for (var t = 0u; t < select(min(3u, P), P, v0); t++) {
    var best = 0u;
    var bestLevel = 0xffffffffu;
    for (var p = 0u; p < P; p++) {
      let better = (used & (1u << p)) == 0u && pLevel[p] < bestLevel;
      best = select(best, p, better);
      bestLevel = select(bestLevel, pLevel[p], better);
    }
    used |= 1u << best;
    cap += bestLevel;
  }
  // v3: uniform in [lo, cap]. v0: randint(lo, cap), i.e. [lo, cap − 1], unless lo = cap.
  let lo = select(params.minFoodLevel, cap, params.forceCoop == 1u);
  let hi = select(cap, cap - 1u, v0 && lo != cap);
  var count = 0u;
  for (var k = 0u; k < ATTEMPTS && count < params.numFood; k++) {
    let row = 1u + rngBelow(resetDraw(e, P, 2u * k), params.rows - 2u);
    let col = 1u + rngBelow(resetDraw(e, P, 2u * k + 1u), params.cols - 2u);
    var ok = true;
    for (var j = 0u; j < count; j++) {
      let dr = abs(i32(fRow[j]) - i32(row));
      let dc = abs(i32(fCol[j]) - i32(col));
      let near = (dr <= 1 && dc <= 1) || (dr == 0 && dc <= 2) || (dc == 0 && dr <= 2);
      ok = ok && !near;
    }
    for (var q = 0u; q < P; q++) {
      ok = ok && !(pRow[q] == row && pCol[q] == col);
    }
    if (!ok) {
      continue;
    }
    var level = lo;
    if (lo != hi) {
      level = lo + rngBelow(resetDraw(e, P + 1u, count), hi - lo + 1u);
    }
    fRow[count] = row;
    fCol[count] = col;
    fLevel[count] = level;
    count += 1u;
  }
  // Row-major order of the placed foods: each goes to its rank (cells are distinct); the rest
  // of the slots are empty.
  var sortedRow: array<u32, MAX_FOOD>;
  var sortedCol: array<u32, MAX_FOOD>;
  var sortedLevel: array<u32, MAX_FOOD>;
  for (var i = 0u; i < count; i++) {
    var rank = 0u;
    for (var j = 0u; j < count; j++) {
      let before = fRow[j] < fRow[i] || (fRow[j] == fRow[i] && fCol[j] < fCol[i]);
      rank += select(0u, 1u, before);
    }
    sortedRow[rank] = fRow[i];
    sortedCol[rank] = fCol[i];
    sortedLevel[rank] = fLevel[i];
  }
  foodSpawned = 0u;
  for (var j = 0u; j < params.numFood; j++) {
    fRow[j] = sortedRow[j];
    fCol[j] = sortedCol[j];
    fLevel[j] = sortedLevel[j];
    foodSpawned += fLevel[j];
  }
  stepCount = 0u;
}

// Observation of player p (§7) into `ob`.
fn buildObs(p: u32) {
  let s = params.sight;
  let r = pRow[p];
  let c = pCol[p];
  let top = select(0u, r - s, r > s);
  let left = select(0u, c - s, c > s);
  let bottom = min(r + s + 1u, params.rows);
  let right = min(c + s + 1u, params.cols);
  var k = 0u;
  for (var j = 0u; j < params.numFood; j++) {
    let seen = fLevel[j] > 0u && fRow[j] >= top && fRow[j] < bottom && fCol[j] >= left &&
      fCol[j] < right;
    if (seen) {
      ob[3u * k] = f32(fRow[j] - top);
      ob[3u * k + 1u] = f32(fCol[j] - left);
      ob[3u * k + 2u] = f32(fLevel[j]);
      k += 1u;
    }
  }
  for (; k < params.numFood; k++) {
    ob[3u * k] = -1.0;
    ob[3u * k + 1u] = -1.0;
    ob[3u * k + 2u] = 0.0;
  }
  let pb = 3u * params.numFood;
  ob[pb] = f32(r - top);
  ob[pb + 1u] = f32(c - left);
  ob[pb + 2u] = f32(pLevel[p]);
  k = 1u;
  let side = i32(2u * s);
  for (var q = 0u; q < params.numPlayers; q++) {
    let rr = i32(pRow[q]) - i32(top);
    let cc = i32(pCol[q]) - i32(left);
    if (q != p && rr >= 0 && cc >= 0 && rr <= side && cc <= side) {
      ob[pb + 3u * k] = f32(rr);
      ob[pb + 3u * k + 1u] = f32(cc);
      ob[pb + 3u * k + 2u] = f32(pLevel[q]);
      k += 1u;
    }
  }
  for (; k < params.numPlayers; k++) {
    ob[pb + 3u * k] = -1.0;
    ob[pb + 3u * k + 1u] = -1.0;
    ob[pb + 3u * k + 2u] = 0.0;
  }
}

fn obsDim() -> u32 {
  return 3u * params.numFood + 3u * params.numPlayers;
}

fn writeObs(e: u32) {
  let dim = obsDim();
  for (var p = 0u; p < params.numPlayers; p++) {
    buildObs(p);
    let base = (p * params.numEnvs + e) * dim;
    for (var i = 0u; i < dim; i++) {
      obs[base + i] = ob[i];
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
  resetEnv(e, false);
  storeState(e);
  writeObs(e);
  for (var p = 0u; p < params.numPlayers; p++) {
    reward[p * params.numEnvs + e] = 0.0;
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
  let P = params.numPlayers;
  stepCount += 1u;

  // Invalid actions become NONE (validity from the positions before the step).
  for (var p = 0u; p < P; p++) {
    let a = actions[p * params.numEnvs + e];
    pAction[p] = select(0u, a, isValid(p, a));
    pReward[p] = 0.0;
  }

  // Claims: a player moves iff no other player claims the same cell.
  var newRow: array<u32, MAX_PLAYERS>;
  var newCol: array<u32, MAX_PLAYERS>;
  for (var p = 0u; p < P; p++) {
    let tr = i32(pRow[p]) + moveRow(pAction[p]);
    let tc = i32(pCol[p]) + moveCol(pAction[p]);
    var alone = true;
    for (var q = 0u; q < P; q++) {
      let qr = i32(pRow[q]) + moveRow(pAction[q]);
      let qc = i32(pCol[q]) + moveCol(pAction[q]);
      alone = alone && (q == p || qr != tr || qc != tc);
    }
    newRow[p] = select(pRow[p], u32(tr), alone);
    newCol[p] = select(pCol[p], u32(tc), alone);
  }
  for (var p = 0u; p < P; p++) {
    pRow[p] = newRow[p];
    pCol[p] = newCol[p];
  }

  // Loading: per food, the LOAD players 4-adjacent to it (a player touches at most one food).
  var foodLeft = 0u;
  for (var j = 0u; j < params.numFood; j++) {
    if (fLevel[j] == 0u) {
      continue;
    }
    var groupLevel = 0u;
    var loaders = 0u;
    for (var p = 0u; p < P; p++) {
      let dr = abs(i32(pRow[p]) - i32(fRow[j]));
      let dc = abs(i32(pCol[p]) - i32(fCol[j]));
      let loads = pAction[p] == ACT_LOAD && dr + dc == 1;
      groupLevel += select(0u, pLevel[p], loads);
      loaders |= select(0u, 1u << p, loads);
    }
    if (loaders == 0u) {
      foodLeft += 1u;
      continue;
    }
    let eaten = groupLevel >= fLevel[j];
    for (var p = 0u; p < P; p++) {
      if ((loaders & (1u << p)) == 0u) {
        continue;
      }
      let raw = pLevel[p] * fLevel[j];
      var got = f32(raw);
      if (params.normalizeReward == 1u) {
        got = ratioF32(raw, groupLevel * foodSpawned);
      }
      pReward[p] = select(0.0 - params.penalty, got, eaten);
    }
    fLevel[j] = select(fLevel[j], 0u, eaten);
    foodLeft += select(1u, 0u, eaten);
  }

  for (var p = 0u; p < P; p++) {
    pScore[p] = pScore[p] + pReward[p];
    reward[p * params.numEnvs + e] = pReward[p];
  }
  // The time limit ends the episode as a termination (as the reference does) or a truncation.
  let ends = episodeTimeLimitEnds(
    foodLeft == 0u,
    episodeTimeUp(stepCount, params.maxSteps),
    params.timeLimitTruncates == 1u,
  );
  writeObs(e);
  if (episodeAdvance(e, stepCount, ends.x, ends.y)) {
    episodeKeepEnvObs(e, params.numEnvs, P, obsDim());
    episode += 1u;
    resetEnv(e, true);
    writeObs(e);
  }
  storeState(e);
}
