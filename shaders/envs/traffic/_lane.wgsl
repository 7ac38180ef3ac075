// Traffic grid (spec docs/envs/traffic.md, Part B): rules of one incoming lane and its
// junction box, shared by the global simulator (traffic_gs.wgsl) and the local simulator
// (traffic_ls.wgsl). Functions and constants only, no bindings: the including shader declares
// `cells: array<u32>` (read_write), one word per cell, 0 = empty, v + 1 = a vehicle front with
// speed v. A lane segment is 44 cells: lane cells 0..39 (0 = entrance, 39 = stop-line cell), then
// the 4 box cells 40..43; a vehicle moving past cell 43 leaves the segment.
// Owners: envs/traffic/env.ts, envs/traffic/local.ts.

const LANE_CELLS: u32 = 40u;
const SEG_CELLS: u32 = 44u;
const STOP_CELL: u32 = 39u;
const VMAX: u32 = 4u;
const GAP: u32 = 3u;
const NO_LEADER: u32 = 0xffffffffu;
const OBS_BINS: u32 = 9u;
const OBS_DIM: u32 = 40u;
const YELLOW_STEPS: u32 = 3u;
// Junction record words: signal direction (0 = N–S, 1 = E–W), yellow flag, yellow timer, episode
// step, episode index, global step (RNG counter), 2 unused here (traffic_gs.wgsl keeps the action
// of the current step in word 6 between its two dispatches).
const JUNCTION_WORDS: u32 = 8u;
const J_DIR: u32 = 0u;
const J_YELLOW: u32 = 1u;
const J_TIMER: u32 = 2u;
const J_T: u32 = 3u;
const J_EPISODE: u32 = 4u;
const J_GSTEP: u32 = 5u;

struct Signal { dir: u32, yellow: u32, timer: u32 }

// Flow's keep/switch logic (spec A5): yellow counts up and ignores the action; a switch starts 3
// steps of yellow and flips the direction.
fn signalNext(s: Signal, action: u32) -> Signal {
  var n = s;
  if (s.yellow != 0u) {
    n.timer = s.timer + 1u;
    if (n.timer >= YELLOW_STEPS) { n.yellow = 0u; }
  } else if (action != 0u) {
    n = Signal(1u - s.dir, 1u, 0u);
  }
  return n;
}

// The signal an episode starts with: N–S green (or the persisted one), then one step, no action.
fn signalAfterReset(s: Signal, persist: bool) -> Signal {
  var start = Signal(0u, 0u, 0u);
  if (persist) { start = s; }
  return signalNext(start, 0u);
}

// Approaches W (0) and E (2) pass in E–W green, S (1) and N (3) in N–S green; yellow is red.
fn signalPasses(s: Signal, approach: u32) -> bool {
  let wantDir = select(0u, 1u, approach % 2u == 0u);
  return s.yellow == 0u && s.dir == wantDir;
}

// Index of the signal one-hot [E–W green, E–W yellow, N–S yellow, N–S green].
fn signalOneHot(s: Signal) -> u32 {
  if (s.yellow != 0u) { return select(1u, 2u, s.dir == 1u); }
  return select(0u, 3u, s.dir == 0u);
}

// Nagel–Schreckenberg motion of the segment at cells[base ..): front to back, in place (a follower
// only needs its leader's old front, kept in `leader`). The slowdown draw of the vehicle with old
// front p is rngU32(seed, purpose, env, lane, step, 1 + p). Returns 1 if a vehicle left the segment.
fn laneMotion(base: u32, passes: bool, pSlow: f32, seed: u32, purpose: u32, env: u32, lane: u32,
              step: u32) -> u32 {
  var leader = NO_LEADER;
  var exited = 0u;
  for (var q = 0u; q < SEG_CELLS; q++) {
    let p = SEG_CELLS - 1u - q;
    let c = cells[base + p];
    if (c == 0u) { continue; }
    var v = min(c, VMAX);
    if (leader != NO_LEADER) { v = min(v, select(0u, leader - p - GAP, leader >= p + GAP)); }
    if (p <= STOP_CELL && !passes) { v = min(v, STOP_CELL - p); }
    let slow = rngUnit(rngU32(seed, purpose, env, lane, step, 1u + p)) < pSlow;
    if (slow && v > 0u) { v -= 1u; }
    cells[base + p] = 0u;
    let np = p + v;
    if (np >= SEG_CELLS) { exited = 1u; } else { cells[base + np] = v + 1u; }
    leader = p;
  }
  return exited;
}

// Entry rule: a vehicle front goes to cell 1 if cells 0..3 hold no front, with speed
// min(4, leader − 4) for the first front in cells 4..8 (4 if none). Returns 1 if inserted.
fn laneInsert(base: u32) -> u32 {
  for (var i = 0u; i <= GAP; i++) {
    if (cells[base + i] != 0u) { return 0u; }
  }
  var v = VMAX;
  for (var i = GAP + 1u; i <= GAP + 1u + VMAX; i++) {
    if (cells[base + i] != 0u) {
      v = min(v, i - GAP - 1u);
      break;
    }
  }
  cells[base + 1u] = v + 1u;
  return 1u;
}

fn laneClear(base: u32) {
  for (var i = 0u; i < SEG_CELLS; i++) { cells[base + i] = 0u; }
}

// What an intersection sees of one incoming lane: occupied distance bins (bit b, b = 0 at the stop
// line, b = 9 the entrance), vehicle count and speed sum over lane cells 0..39 (box excluded).
struct LaneView { bins: u32, count: u32, speedSum: u32 }

fn laneView(base: u32) -> LaneView {
  var lv = LaneView(0u, 0u, 0u);
  for (var i = 0u; i < LANE_CELLS; i++) {
    let c = cells[base + i];
    if (c != 0u) {
      lv.bins |= 1u << ((STOP_CELL - i) / 4u);
      lv.count += 1u;
      lv.speedSum += c - 1u;
    }
  }
  return lv;
}

// Observation entry i of 40: bins 0..8 of W, S, E, N, then the signal one-hot.
fn obsValue(bins: vec4u, oneHot: u32, i: u32) -> f32 {
  if (i >= 4u * OBS_BINS) { return select(0.0, 1.0, i - 4u * OBS_BINS == oneHot); }
  return f32((bins[i / OBS_BINS] >> (i % OBS_BINS)) & 1u);
}

// Mean of v / 4 over the vehicles on the 4 lanes; 0 when there are none.
fn junctionReward(count: u32, speedSum: u32) -> f32 {
  if (count == 0u) { return 0.0; }
  return f32(speedSum) / f32(VMAX * count);
}
