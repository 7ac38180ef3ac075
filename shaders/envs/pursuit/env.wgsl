// Pursuit (SISL pursuit_v4/v5, spec docs/envs/pursuit.md). Owner: envs/pursuit/env.ts.
// One thread per env plays one whole cycle (all pursuers, capture, evader moves), so each env is
// a short sequential program; observations come from pursuit_observe.wgsl (u8 words are shared
// between envs, so they are written by a second dispatch with one thread per word, which also
// copies `ends` into the env's terminated, truncated and episodeStep buffers).
// reset: one thread per env: episode 0 of the env's reset stream.
//        writes state, scene, reward (0), ends (0, 0).
// step:  one thread per env: moves, tag counts before/after, capture (surround or n_catch),
//        catchers, evader moves (injected or drawn), rewards from the reward table, flags; an
//        env whose episode ended copies its scene into terminalScene and is reset.
//        writes state, scene, terminalScene (ended envs only), reward, ends.
// ends per env (2 u32 words): terminated | truncated << 1, episode step after the cycle.
// State per env (u32 words): frames, episode, cycles (all cycles of this env: the RNG step of
// in-step draws), pursuers (x, y) × numPursuers, evaders (x, y, alive) × numEvaders (slot = id;
// caught evaders are (0, 0, 0)).
// Scene per env (u32 words): per cell (index x·ySize + y) pursuer count (bits 0-7) | evader
// count (bits 8-15) | obstacle (bit 16), then each pursuer's cell as x | y << 16.
// tables (constant u32 words, one buffer so that step binds at most 8 storage buffers): the
// obstacle map [xSize·ySize], 1 = obstacle, index x·ySize + y; then the f32 bits of the reward
// table [numPursuers, tagMax + 1, tagMax + 1, 2]: the reward of pursuer i with tag counts
// T(old cell), T(new cell) and catcher flag (computed on the host, envs/pursuit/env.ts).

const MAX_PURSUERS: u32 = 16u;
const MAX_EVADERS: u32 = 64u;
const ATTEMPTS: u32 = 1000u;
const HEADER: u32 = 3u;
const STAY: u32 = 4u;

struct Params {
  numEnvs: u32,
  xSize: u32,
  ySize: u32,
  numPursuers: u32,
  numEvaders: u32,
  maxCycles: u32,
  tagMax: u32,
  surround: u32,
  numCatch: u32,
  freezeEvaders: u32,
  injectEvaderActions: u32,
  seed: u32,
  envsPerSeed: u32,
  resetPurpose: u32,
  stepPurpose: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> tables: array<u32>;
@group(0) @binding(2) var<storage, read_write> state: array<u32>;
@group(0) @binding(3) var<storage, read> actions: array<u32>;
@group(0) @binding(4) var<storage, read> evaderActions: array<u32>;
@group(0) @binding(5) var<storage, read_write> scene: array<u32>;
@group(0) @binding(6) var<storage, read_write> terminalScene: array<u32>;
@group(0) @binding(7) var<storage, read_write> reward: array<f32>;
@group(0) @binding(8) var<storage, read_write> ends: array<u32>;

var<private> frames: u32;
var<private> episode: u32;
var<private> cycles: u32;
var<private> px: array<u32, MAX_PURSUERS>;
var<private> py: array<u32, MAX_PURSUERS>;
var<private> ex: array<u32, MAX_EVADERS>;
var<private> ey: array<u32, MAX_EVADERS>;
var<private> alive: array<u32, MAX_EVADERS>;

fn stride() -> u32 {
  return HEADER + 2u * params.numPursuers + 3u * params.numEvaders;
}

fn cells() -> u32 {
  return params.xSize * params.ySize;
}

fn sceneBase(e: u32) -> u32 {
  return e * (cells() + params.numPursuers);
}

fn loadState(e: u32) {
  let base = e * stride();
  frames = state[base];
  episode = state[base + 1u];
  cycles = state[base + 2u];
  let pb = base + HEADER;
  for (var i = 0u; i < params.numPursuers; i++) {
    px[i] = state[pb + 2u * i];
    py[i] = state[pb + 2u * i + 1u];
  }
  let eb = pb + 2u * params.numPursuers;
  for (var j = 0u; j < params.numEvaders; j++) {
    ex[j] = state[eb + 3u * j];
    ey[j] = state[eb + 3u * j + 1u];
    alive[j] = state[eb + 3u * j + 2u];
  }
}

fn storeState(e: u32) {
  let base = e * stride();
  state[base] = frames;
  state[base + 1u] = episode;
  state[base + 2u] = cycles;
  let pb = base + HEADER;
  for (var i = 0u; i < params.numPursuers; i++) {
    state[pb + 2u * i] = px[i];
    state[pb + 2u * i + 1u] = py[i];
  }
  let eb = pb + 2u * params.numPursuers;
  for (var j = 0u; j < params.numEvaders; j++) {
    state[eb + 3u * j] = ex[j];
    state[eb + 3u * j + 1u] = ey[j];
    state[eb + 3u * j + 2u] = alive[j];
  }
}

fn inMap(x: i32, y: i32) -> bool {
  return x >= 0 && y >= 0 && x < i32(params.xSize) && y < i32(params.ySize);
}

fn isObstacle(x: u32, y: u32) -> bool {
  return tables[x * params.ySize + y] != 0u;
}

fn dx(a: u32) -> i32 {
  return select(0, select(-1, 1, a == 1u), a <= 1u);
}

fn dy(a: u32) -> i32 {
  return select(0, select(-1, 1, a == 2u), a == 2u || a == 3u);
}

// Target of a move from (x, y) by action a: the cell if it is open, else (x, y). Actions >= 5
// stay.
fn moved(x: u32, y: u32, a: u32) -> vec2u {
  let tx = i32(x) + dx(a);
  let ty = i32(y) + dy(a);
  if (a >= STAY || !inMap(tx, ty)) {
    return vec2u(x, y);
  }
  if (isObstacle(u32(tx), u32(ty))) {
    return vec2u(x, y);
  }
  return vec2u(u32(tx), u32(ty));
}

// Scene of the loaded state (counts, obstacles, pursuer cells) for env e.
fn writeScene(e: u32) {
  let b = sceneBase(e);
  let n = cells();
  for (var c = 0u; c < n; c++) {
    scene[b + c] = tables[c] << 16u;
  }
  for (var j = 0u; j < params.numEvaders; j++) {
    if (alive[j] == 1u) {
      scene[b + ex[j] * params.ySize + ey[j]] += 256u;
    }
  }
  for (var i = 0u; i < params.numPursuers; i++) {
    scene[b + px[i] * params.ySize + py[i]] += 1u;
    scene[b + n + i] = px[i] | (py[i] << 16u);
  }
}

fn evadersAt(b: u32, x: u32, y: u32) -> u32 {
  return (scene[b + x * params.ySize + y] >> 8u) & 255u;
}

fn pursuersAt(b: u32, x: u32, y: u32) -> u32 {
  return scene[b + x * params.ySize + y] & 255u;
}

// Tag count (§7.1): evaders on the four neighbours of (x, y), each coordinate clamped to the map.
fn tagCount(b: u32, x: u32, y: u32) -> u32 {
  let xl = select(x - 1u, 0u, x == 0u);
  let xh = min(x + 1u, params.xSize - 1u);
  let yl = select(y - 1u, 0u, y == 0u);
  let yh = min(y + 1u, params.ySize - 1u);
  return evadersAt(b, xl, y) + evadersAt(b, xh, y) + evadersAt(b, x, yh) + evadersAt(b, x, yl);
}

// Whether the alive evader j is caught (§6.1) by the pursuer counts of the scene: surround
// (every open neighbour occupied, as have == need) or at least numCatch pursuers on its cell.
fn isCaught(b: u32, j: u32) -> bool {
  let x = ex[j];
  let y = ey[j];
  if (params.surround == 0u) {
    return pursuersAt(b, x, y) >= params.numCatch;
  }
  var need = 4;
  need -= select(0, 1, x == 0u || x == params.xSize - 1u);
  need -= select(0, 1, y == 0u || y == params.ySize - 1u);
  var have = 0;
  for (var a = 0u; a < 4u; a++) {
    let nx = i32(x) + dx(a);
    let ny = i32(y) + dy(a);
    // Quirk Q5: obstacles are only looked at for 0 < x' < xSize and 0 < y' < ySize.
    let looked = nx > 0 && ny > 0 && nx < i32(params.xSize) && ny < i32(params.ySize);
    if (looked && isObstacle(u32(nx), u32(ny))) {
      need -= 1;
    }
    if (inMap(nx, ny) && pursuersAt(b, u32(nx), u32(ny)) > 0u) {
      have += 1;
    }
  }
  return have == need;
}

// Whether pursuer i takes part in catching an evader at (x, y): on a 4-neighbour (surround) or on
// its cell (n_catch).
fn catches(i: u32, x: u32, y: u32) -> bool {
  let d = abs(i32(px[i]) - i32(x)) + abs(i32(py[i]) - i32(y));
  return select(d == 1, d == 0, params.surround == 0u);
}

fn resetDraw(e: u32, agent: u32, d: u32) -> u32 {
  return rngU32(
    seedOfEnv(params.seed, e, params.envsPerSeed),
    params.resetPurpose, e % params.envsPerSeed, agent, episode, d);
}

// Spawn cell of pursuer i (RNG stream b = i) or evader j (b = numPursuers + j): not an obstacle
// and neither on nor 4-adjacent to an agent of the same kind placed before it; rejection sampling
// (draws 2k, 2k + 1 give x, y of attempt k) with ATTEMPTS tries, then the first open cell in
// x-major order.
fn placePursuer(e: u32, i: u32) -> vec2u {
  for (var k = 0u; k < ATTEMPTS; k++) {
    let x = rngBelow(resetDraw(e, i, 2u * k), params.xSize);
    let y = rngBelow(resetDraw(e, i, 2u * k + 1u), params.ySize);
    var ok = !isObstacle(x, y);
    for (var q = 0u; q < i; q++) {
      ok = ok && abs(i32(px[q]) - i32(x)) + abs(i32(py[q]) - i32(y)) > 1;
    }
    if (ok) {
      return vec2u(x, y);
    }
  }
  return firstOpenCell();
}

fn placeEvader(e: u32, j: u32) -> vec2u {
  let agent = params.numPursuers + j;
  for (var k = 0u; k < ATTEMPTS; k++) {
    let x = rngBelow(resetDraw(e, agent, 2u * k), params.xSize);
    let y = rngBelow(resetDraw(e, agent, 2u * k + 1u), params.ySize);
    var ok = !isObstacle(x, y);
    for (var q = 0u; q < j; q++) {
      ok = ok && abs(i32(ex[q]) - i32(x)) + abs(i32(ey[q]) - i32(y)) > 1;
    }
    if (ok) {
      return vec2u(x, y);
    }
  }
  return firstOpenCell();
}

fn firstOpenCell() -> vec2u {
  for (var c = 0u; c < cells(); c++) {
    if (tables[c] == 0u) {
      return vec2u(c / params.ySize, c % params.ySize);
    }
  }
  return vec2u(0u, 0u);
}

// Reset (§4) of env e for episode `episode`: pursuers, then evaders, in index order.
fn resetEnv(e: u32) {
  for (var i = 0u; i < params.numPursuers; i++) {
    let c = placePursuer(e, i);
    px[i] = c.x;
    py[i] = c.y;
  }
  for (var j = 0u; j < params.numEvaders; j++) {
    let c = placeEvader(e, j);
    ex[j] = c.x;
    ey[j] = c.y;
    alive[j] = 1u;
  }
  frames = 0u;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn reset(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  if (e >= params.numEnvs) {
    return;
  }
  episode = 0u;
  cycles = 0u;
  resetEnv(e);
  storeState(e);
  writeScene(e);
  for (var i = 0u; i < params.numPursuers; i++) {
    reward[i * params.numEnvs + e] = 0.0;
  }
  ends[2u * e] = 0u;
  ends[2u * e + 1u] = 0u;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  if (e >= params.numEnvs) {
    return;
  }
  loadState(e);
  writeScene(e);
  let b = sceneBase(e);
  let N = params.numPursuers;
  let E = params.numEvaders;

  // Pursuers move (their order does not matter for the end positions); tag counts before and
  // after, on the evader cells of the start of the cycle.
  var tagOld: array<u32, MAX_PURSUERS>;
  var tagNew: array<u32, MAX_PURSUERS>;
  for (var i = 0u; i < N; i++) {
    tagOld[i] = tagCount(b, px[i], py[i]);
    scene[b + px[i] * params.ySize + py[i]] -= 1u;
    let c = moved(px[i], py[i], actions[i * params.numEnvs + e]);
    px[i] = c.x;
    py[i] = c.y;
    scene[b + c.x * params.ySize + c.y] += 1u;
    tagNew[i] = tagCount(b, c.x, c.y);
  }

  // Capture with the new pursuer cells; every evader is checked before any is removed.
  var caught: array<bool, MAX_EVADERS>;
  for (var j = 0u; j < E; j++) {
    caught[j] = alive[j] == 1u && isCaught(b, j);
  }
  var catcher: array<u32, MAX_PURSUERS>;
  var left = 0u;
  for (var j = 0u; j < E; j++) {
    if (caught[j]) {
      for (var i = 0u; i < N; i++) {
        catcher[i] |= select(0u, 1u, catches(i, ex[j], ey[j]));
      }
      scene[b + ex[j] * params.ySize + ey[j]] -= 256u;
      ex[j] = 0u;
      ey[j] = 0u;
      alive[j] = 0u;
    }
    left += alive[j];
  }

  // The remaining evaders move in id order: injected actions or draw 0 of (env, id, cycles).
  for (var j = 0u; j < E; j++) {
    if (alive[j] == 0u) {
      continue;
    }
    var a = rngBelow(rngU32(
    seedOfEnv(params.seed, e, params.envsPerSeed),
    params.stepPurpose, e % params.envsPerSeed, j, cycles, 0u), 5u);
    if (params.injectEvaderActions == 1u) {
      a = evaderActions[e * E + j];
    }
    if (params.freezeEvaders == 1u) {
      a = STAY;
    }
    let c = moved(ex[j], ey[j], a);
    scene[b + ex[j] * params.ySize + ey[j]] -= 256u;
    scene[b + c.x * params.ySize + c.y] += 256u;
    ex[j] = c.x;
    ey[j] = c.y;
  }
  for (var i = 0u; i < N; i++) {
    scene[b + params.xSize * params.ySize + i] = px[i] | (py[i] << 16u);
  }

  let side = params.tagMax + 1u;
  for (var i = 0u; i < N; i++) {
    let k = ((i * side + tagOld[i]) * side + tagNew[i]) * 2u + catcher[i];
    reward[i * params.numEnvs + e] = bitcast<f32>(tables[cells() + k]);
  }
  frames += 1u;
  cycles += 1u;
  let trunc = frames >= params.maxCycles;
  let term = !trunc && left == 0u;
  ends[2u * e] = select(0u, 1u, term) | select(0u, 2u, trunc);
  if (trunc || term) {
    let n = cells() + N;
    for (var c = 0u; c < n; c++) {
      terminalScene[b + c] = scene[b + c];
    }
    episode += 1u;
    resetEnv(e);
    writeScene(e);
  }
  storeState(e);
  ends[2u * e + 1u] = frames;
}
