// Warehouse commissioning rules shared by the GS, LS and baseline kernels (include only, no
// bindings). Owner: envs/warehouse/env.ts. Spec: docs/envs/warehouse.md.
// Region-local cells are 5r + c. A region's 12 shelf cells are numbered by row-major "slots"
// 0..11: (0,1) (0,2) (0,3) (1,0) (1,4) (2,0) (2,4) (3,0) (3,4) (4,1) (4,2) (4,3).
// Global shelf cells are numbered in the spawn-scan order of §2 ("scan index").

const WH_NONE: u32 = 0xffffffffu;
const WH_NO_SLOT: u32 = 12u;
const WH_SLOTS: u32 = 12u;
const WH_CELLS: u32 = 25u;
const WH_OBS: u32 = 37u;
const WH_CENTRE: u32 = 12u;
const WH_UP: u32 = 0u;
const WH_DOWN: u32 = 1u;
const WH_LEFT: u32 = 2u;
const WH_RIGHT: u32 = 3u;

// Local cell of slot s.
fn whSlotCell(s: u32) -> u32 {
  if (s < 3u) {
    return s + 1u;
  }
  if (s >= 9u) {
    return 20u + s - 8u;
  }
  let m = s - 3u;
  return 5u * (1u + m / 2u) + 4u * (m % 2u);
}

// Observation index (25 + k) of slot s: top row, bottom row, then rows 1..3 left/right (§6).
fn whSlotObs(s: u32) -> u32 {
  if (s < 3u) {
    return 25u + s;
  }
  if (s >= 9u) {
    return 25u + s - 6u;
  }
  return 25u + s + 3u;
}

// Slot of a local cell, or WH_NO_SLOT when it is not a shelf cell.
fn whCellSlot(cell: u32) -> u32 {
  var slot = WH_NO_SLOT;
  for (var s = 0u; s < WH_SLOTS; s++) {
    slot = select(slot, s, whSlotCell(s) == cell);
  }
  return slot;
}

// Scan index of global shelf cell (row, col) in a grid of K regions per side.
fn whScanIndex(k: u32, row: u32, col: u32) -> u32 {
  let block = (row / 4u) * (6u * k + 3u);
  if (row % 4u == 0u) {
    return block + col - col / 4u - 1u;
  }
  return block + 3u * k + (row % 4u - 1u) * (k + 1u) + col / 4u;
}

// Global row / column of scan index i.
fn whScanCell(k: u32, i: u32) -> vec2u {
  let b = i / (6u * k + 3u);
  let rem = i % (6u * k + 3u);
  if (rem < 3u * k) {
    return vec2u(4u * b, 4u * (rem / 3u) + 1u + rem % 3u);
  }
  let m = rem - 3u * k;
  return vec2u(4u * b + 1u + m / (k + 1u), 4u * (m % (k + 1u)));
}

// Scan index of slot s of region (i, j).
fn whRegionScan(k: u32, i: u32, j: u32, s: u32) -> u32 {
  let cell = whSlotCell(s);
  return whScanIndex(k, 4u * i + cell / 5u, 4u * j + cell % 5u);
}

fn whIsBoundary(x: u32) -> bool {
  return x == 0u || x == 4u;
}

// The region-local move of §3: UP/DOWN ignored in columns 0 and 4, LEFT/RIGHT in rows 0 and 4,
// moves off the region or onto a corner ignored, other actions ignored.
fn whMove(cell: u32, action: u32) -> u32 {
  let r = i32(cell / 5u);
  let c = i32(cell % 5u);
  var nr = r;
  var nc = c;
  let vertical = (action == WH_UP || action == WH_DOWN) && !whIsBoundary(u32(c));
  let horizontal = (action == WH_LEFT || action == WH_RIGHT) && !whIsBoundary(u32(r));
  nr += select(0, select(1, -1, action == WH_UP), vertical);
  nc += select(0, select(1, -1, action == WH_LEFT), horizontal);
  let outside = nr < 0 || nr > 4 || nc < 0 || nc > 4;
  let corner = (nr == 0 || nr == 4) && (nc == 0 || nc == 4);
  return select(u32(5 * nr + nc), cell, outside || corner);
}

// The interior cell next to shelf cell t.
fn whInward(t: u32) -> vec2u {
  let r = t / 5u;
  let c = t % 5u;
  return vec2u(clamp(r, 1u, 3u), clamp(c, 1u, 3u));
}

// Shortest path length from cell to shelf cell t on the 21-cell graph (§8).
fn whPathLength(cell: u32, t: u32) -> u32 {
  let tp = whInward(t);
  let here = whInward(cell);
  let onShelf = whIsBoundary(cell / 5u) || whIsBoundary(cell % 5u);
  let dr = max(here.x, tp.x) - min(here.x, tp.x);
  let dc = max(here.y, tp.y) - min(here.y, tp.y);
  return dr + dc + 1u + select(0u, 1u, onShelf);
}

// First action of the reference's shortest path from cell to shelf cell t (§8).
fn whFirstStep(cell: u32, t: u32) -> u32 {
  let r = cell / 5u;
  let c = cell % 5u;
  if (r == 0u) {
    return WH_DOWN;
  }
  if (r == 4u) {
    return WH_UP;
  }
  if (c == 0u) {
    return WH_RIGHT;
  }
  if (c == 4u) {
    return WH_LEFT;
  }
  let tp = whInward(t);
  if (tp.x == r && tp.y == c) {
    let tr = t / 5u;
    let tc = t % 5u;
    return select(select(select(WH_RIGHT, WH_LEFT, tc == 0u), WH_DOWN, tr == 4u), WH_UP, tr == 0u);
  }
  if (tp.x < r) {
    return WH_UP;
  }
  if (tp.y < c) {
    return WH_LEFT;
  }
  if (tp.y > c) {
    return WH_RIGHT;
  }
  return WH_DOWN;
}

// Variant A "oldest item": ages by slot (WH_NONE = no item); equal ages come from one spawn
// event, whose creation order is row-major, so the first slot wins ties. Returns the action, or
// `random` when there is no item or the oldest is under the robot.
fn whOldest(cell: u32, ages: array<u32, 12>, random: u32) -> u32 {
  var best = WH_NO_SLOT;
  var bestAge = 0u;
  for (var s = 0u; s < WH_SLOTS; s++) {
    let better = ages[s] != WH_NONE && (best == WH_NO_SLOT || ages[s] > bestAge);
    best = select(best, s, better);
    bestAge = select(bestAge, ages[s], better);
  }
  if (best == WH_NO_SLOT || whSlotCell(best) == cell) {
    return random;
  }
  return whFirstStep(cell, whSlotCell(best));
}

// Variant B "closest item, sticky": the item under the robot is invisible; keep the remembered
// slot while it holds a visible item, else the nearest visible item (first row-major slot on
// ties). Returns (action or `random` when nothing is visible, new remembered slot).
fn whClosest(cell: u32, ages: array<u32, 12>, remembered: u32, random: u32) -> vec2u {
  var goal = WH_NO_SLOT;
  var best = 10u;
  for (var s = 0u; s < WH_SLOTS; s++) {
    let visible = ages[s] != WH_NONE && whSlotCell(s) != cell;
    let d = whPathLength(cell, whSlotCell(s));
    let closer = visible && d < best;
    goal = select(goal, s, closer);
    best = select(best, d, closer);
  }
  if (remembered < WH_SLOTS) {
    let keep = ages[remembered] != WH_NONE && whSlotCell(remembered) != cell;
    goal = select(goal, remembered, keep);
  }
  if (goal == WH_NO_SLOT) {
    return vec2u(random, WH_NO_SLOT);
  }
  return vec2u(whFirstStep(cell, whSlotCell(goal)), goal);
}

// Influence class of a neighbour at local cell `cell` of its own region, seen across edge `n`
// (0 east, 1 south, 2 west, 3 north): 0..2 the shared edge cell, 3 not on the shared edge.
fn whInfluence(n: u32, cell: u32) -> u32 {
  let r = cell / 5u;
  let c = cell % 5u;
  let mid = r >= 1u && r <= 3u;
  let midC = c >= 1u && c <= 3u;
  switch (n) {
    case 0u: {
      return select(3u, r - 1u, c == 0u && mid);
    }
    case 1u: {
      return select(3u, c - 1u, r == 0u && midC);
    }
    case 2u: {
      return select(3u, r - 1u, c == 4u && mid);
    }
    default: {
      return select(3u, c - 1u, r == 4u && midC);
    }
  }
}

// Slot of this region's shelf cell that a neighbour across edge n removes for class k < 3:
// east (k+1, 4), south (4, k+1), west (k+1, 0), north (0, k+1).
fn whInfluenceSlot(n: u32, k: u32) -> u32 {
  switch (n) {
    case 0u: {
      return 4u + 2u * k;
    }
    case 1u: {
      return 9u + k;
    }
    case 2u: {
      return 3u + 2u * k;
    }
    default: {
      return k;
    }
  }
}

// Observation (§6) of a robot at `cell` with item ages by slot, as 37 bits (x: bits 0..31,
// y: bits 32..36).
fn whObsBits(cell: u32, ages: array<u32, 12>) -> vec2u {
  var lo = 1u << cell;
  var hi = 0u;
  for (var s = 0u; s < WH_SLOTS; s++) {
    let b = whSlotObs(s);
    let on = ages[s] != WH_NONE;
    lo |= select(0u, 1u << (b % 32u), on && b < 32u);
    hi |= select(0u, 1u << (b % 32u), on && b >= 32u);
  }
  return vec2u(lo, hi);
}

// Observation value q (0 or 1) of whObsBits() output.
fn whObsBit(bits: vec2u, q: u32) -> f32 {
  let w = select(bits.x, bits.y, q >= 32u);
  return f32((w >> (q % 32u)) & 1u);
}
