/**
 * Independent CPU reference of the warehouse global simulator (GS), the local simulator (LS) and
 * the hand-coded robots, written from `docs/envs/warehouse.md` in the
 * reference's own terms: global coordinates, an item list in creation order, shortest paths by
 * breadth-first search. Random draws use `engine/rng.ts` with the keys the GPU kernels use:
 * spawns `rngU32(seed, purpose, env, scanIndex, step, 0)` (reset: envReset and the episode index;
 * in-step: envStep and the env's step counter), ring-robot random actions
 * `rngU32(seed, envStep, env, robotId, counter, 1)`, baseline random actions
 * `rngU32(seed, action, env, robotId, counter, 0)`.
 *
 * @module
 */
import { RNG_PURPOSE, rngBelow, rngU32, rngUnit } from "../../engine/rng.ts";
import {
  WAREHOUSE_OBS,
  WAREHOUSE_SOURCES,
  type WarehouseCell,
  type WarehouseConfig,
  type WarehouseItem,
  warehouseLearningRobot,
  type WarehouseLocalState,
  type WarehouseScripted,
  type WarehouseState,
} from "./layout.ts";

const f32 = Math.fround;
const UP = 0, DOWN = 1, LEFT = 2, RIGHT = 3;

/** Global shelf cells in the spawn scan order of §2 (the index is the random-stream key). */
export function warehouseScanCells(cfg: WarehouseConfig): WarehouseCell[] {
  const n = 4 * cfg.robotsPerSide + 1, out: WarehouseCell[] = [];
  for (let row = 0; row < n; row++) {
    if (row % 4 === 0) {
      for (let col = 1; col < n; col++) if (col % 4 !== 0) out.push({ row, col });
    } else {
      for (let col = 0; col < n; col += 4) out.push({ row, col });
    }
  }
  return out;
}

const scanCache = new Map<number, Map<string, number>>();
function scanIndexOf(cfg: WarehouseConfig, row: number, col: number): number {
  let m = scanCache.get(cfg.robotsPerSide);
  if (!m) {
    m = new Map(warehouseScanCells(cfg).map((c, i) => [`${c.row},${c.col}`, i]));
    scanCache.set(cfg.robotsPerSide, m);
  }
  return m.get(`${row},${col}`)!;
}

/** Random-stream keys of one env. */
export interface WarehouseKeys {
  seed: number;
  env: number;
}

/**
 * Recorded draws that replace the generator's in one GS step (replays of recorded trajectories,
 * e.g. the golden file of the original): the outcome of every spawn draw and the random actions
 * of the hand-coded robots.
 */
export interface WarehouseDraws {
  /** Whether the spawn draw of shelf cell `scanIndex` is below `probItem` (a hit). */
  spawn(scanIndex: number): boolean;
  /** The random action (0..3) of robot `robotId`; asked only where its policy acts randomly. */
  random(robotId: number): number;
}

function spawnItems(
  cells: readonly WarehouseCell[],
  items: WarehouseItem[],
  hit: (scanIndex: number) => boolean,
  toScan: (c: WarehouseCell) => number,
): void {
  for (const cell of cells) {
    const u = hit(toScan(cell));
    const taken = items.some((it) => it.row === cell.row && it.col === cell.col);
    if (u && !taken) items.push({ row: cell.row, col: cell.col, age: 0 });
  }
}

/** Spawn outcomes from the generator's words: `u < probItem` in f32, as the kernels compare. */
function drawnHits(cfg: WarehouseConfig, draw: (i: number) => number): (i: number) => boolean {
  return (i) => rngUnit(draw(i)) < f32(cfg.probItem);
}

/** The region (top-left corner, global) of robot `id`. */
function regionOf(cfg: WarehouseConfig, id: number): WarehouseCell {
  return { row: 4 * Math.floor(id / cfg.robotsPerSide), col: 4 * (id % cfg.robotsPerSide) };
}

function inRegion(origin: WarehouseCell, c: WarehouseCell): boolean {
  return c.row >= origin.row && c.row <= origin.row + 4 && c.col >= origin.col &&
    c.col <= origin.col + 4;
}

const isCorner = (r: number, c: number) => (r === 0 || r === 4) && (c === 0 || c === 4);

/** Region-local move of §3 (actions outside 0..3 do nothing). */
export function warehouseMoveReference(pos: WarehouseCell, action: number): WarehouseCell {
  const { row: r, col: c } = pos;
  let nr = r, nc = c;
  if ((action === UP || action === DOWN) && c !== 0 && c !== 4) nr += action === UP ? -1 : 1;
  if ((action === LEFT || action === RIGHT) && r !== 0 && r !== 4) nc += action === LEFT ? -1 : 1;
  if (nr < 0 || nr > 4 || nc < 0 || nc > 4 || isCorner(nr, nc)) return { row: r, col: c };
  return { row: nr, col: nc };
}

/** Shortest path lengths on the 21-cell region graph (BFS), from `src` to every cell. */
function bfs(src: WarehouseCell): number[] {
  const dist = new Array<number>(25).fill(-1);
  const neighbours = (r: number, c: number): [number, number][] => {
    if (r > 0 && r < 4 && c > 0 && c < 4) return [[r - 1, c], [r + 1, c], [r, c - 1], [r, c + 1]];
    return [[r === 0 ? 1 : r === 4 ? 3 : r, c === 0 ? 1 : c === 4 ? 3 : c]];
  };
  dist[5 * src.row + src.col] = 0;
  const queue = [[src.row, src.col]];
  while (queue.length) {
    const [r, c] = queue.shift()!;
    for (const [nr, nc] of neighbours(r, c)) {
      if (isCorner(nr, nc) || dist[5 * nr + nc] >= 0) continue;
      dist[5 * nr + nc] = dist[5 * r + c] + 1;
      queue.push([nr, nc]);
    }
  }
  return dist;
}

/** Path length between two region-local cells (§8). */
export function warehousePathLength(from: WarehouseCell, to: WarehouseCell): number {
  return bfs(from)[5 * to.row + to.col];
}

/** First action on the reference's shortest path from `pos` to shelf cell `t` (§8). */
export function warehouseFirstStep(pos: WarehouseCell, t: WarehouseCell): number {
  const { row: r, col: c } = pos;
  if (r === 0) return DOWN;
  if (r === 4) return UP;
  if (c === 0) return RIGHT;
  if (c === 4) return LEFT;
  const ir = t.row === 0 ? 1 : t.row === 4 ? 3 : t.row;
  const ic = t.col === 0 ? 1 : t.col === 4 ? 3 : t.col;
  if (r === ir && c === ic) {
    return t.row === 0 ? UP : t.row === 4 ? DOWN : t.col === 0 ? LEFT : RIGHT;
  }
  if (ir < r) return UP;
  if (ic < c) return LEFT;
  if (ic > c) return RIGHT;
  return DOWN;
}

/**
 * The hand-coded action (§8) of a robot at region-local `pos` seeing `items` (region-local, in
 * creation order). Variant "closest" reads and returns the remembered target (local 5r + c, −1).
 *
 * @returns The action (−1 when the robot acts randomly) and the new remembered target.
 */
export function warehouseScriptedReference(
  variant: WarehouseScripted,
  pos: WarehouseCell,
  items: readonly WarehouseItem[],
  target: number,
): { action: number; target: number } {
  if (variant === "oldest") {
    let best: WarehouseItem | null = null;
    for (const it of items) if (!best || it.age > best.age) best = it;
    if (!best || (best.row === pos.row && best.col === pos.col)) return { action: -1, target };
    return { action: warehouseFirstStep(pos, best), target };
  }
  const visible = new Set(
    items.filter((it) => it.row !== pos.row || it.col !== pos.col).map((it) => 5 * it.row + it.col),
  );
  let goal = visible.has(target) ? target : -1;
  if (goal < 0) {
    const dist = bfs(pos);
    let min = 10;
    for (let cell = 0; cell < 25; cell++) {
      if (visible.has(cell) && dist[cell] < min) {
        min = dist[cell];
        goal = cell;
      }
    }
  }
  if (goal < 0) return { action: -1, target: -1 };
  return {
    action: warehouseFirstStep(pos, { row: Math.floor(goal / 5), col: goal % 5 }),
    target: goal,
  };
}

/** Region-local items of robot `id` (shared cells included), in creation order. */
function regionItems(cfg: WarehouseConfig, s: WarehouseState, id: number): WarehouseItem[] {
  const o = regionOf(cfg, id);
  return s.items.filter((it) => inRegion(o, it)).map((it) => ({
    row: it.row - o.row,
    col: it.col - o.col,
    age: it.age,
  }));
}

/** The 37-value observation (§6) of a robot at local `pos` with local `items`. */
export function warehouseObsOf(pos: WarehouseCell, items: readonly WarehouseItem[]): number[] {
  const o = new Array<number>(WAREHOUSE_OBS).fill(0);
  o[5 * pos.row + pos.col] = 1;
  const order = [[0, 1], [0, 2], [0, 3], [4, 1], [4, 2], [4, 3], [1, 0], [1, 4], [2, 0], [2, 4], [
    3,
    0,
  ], [3, 4]];
  order.forEach(([r, c], k) => {
    if (items.some((it) => it.row === r && it.col === c)) o[25 + k] = 1;
  });
  return o;
}

function localPos(cfg: WarehouseConfig, s: WarehouseState, id: number): WarehouseCell {
  const o = regionOf(cfg, id);
  return { row: s.robots[id].row - o.row, col: s.robots[id].col - o.col };
}

/** Observations of every learning agent. */
export function warehouseObsReference(cfg: WarehouseConfig, s: WarehouseState): number[][] {
  const out: number[][] = [];
  for (let a = 0; a < cfg.learningPerSide ** 2; a++) {
    const id = warehouseLearningRobot(cfg, a);
    out.push(warehouseObsOf(localPos(cfg, s, id), regionItems(cfg, s, id)));
  }
  return out;
}

/** The reset state of episode `episode` (§4 Reset). */
export function warehouseResetReference(
  cfg: WarehouseConfig,
  keys: WarehouseKeys,
  episode: number,
  counter = 0,
): WarehouseState {
  const k = cfg.robotsPerSide;
  const robots = Array.from({ length: k * k }, (_, id) => {
    const o = regionOf(cfg, id);
    return { row: o.row + 2, col: o.col + 2 };
  });
  const s: WarehouseState = {
    step: 0,
    episode,
    counter,
    robots,
    targets: robots.map(() => -1),
    items: [],
  };
  const draw = (i: number) => rngU32(keys.seed, RNG_PURPOSE.envReset, keys.env, i, episode, 0);
  spawnItems(
    warehouseScanCells(cfg),
    s.items,
    drawnHits(cfg, draw),
    (c) => scanIndexOf(cfg, c.row, c.col),
  );
  return s;
}

/** Result of one GS step of one env. */
export interface WarehouseStepResult {
  /** State after the step (after auto-reset when the episode ended). */
  state: WarehouseState;
  /** State after the step, before any reset (equals `state` unless the episode ended). */
  final: WarehouseState;
  /** Observations before the step (`dset`), per agent. */
  dset: number[][];
  /** Influence classes per agent: [E, S, W, N], 0..2 edge cell, 3 off the edge. */
  influence: number[][];
  rewards: number[];
  /** True when the step reached the time limit (the env then auto-reset). */
  truncated: boolean;
  /** Observations after the step (before any reset). */
  obs: number[][];
  /** The action every robot took, by robot id (learning robots: the given action). */
  robotActions: number[];
  /** Ids of the hand-coded robots that acted randomly (no target, or the target under them). */
  randomRobots: number[];
  /** Items collected at the end of the step (ages after this step's ageing), in list order. */
  removed: WarehouseItem[];
}

function influenceOf(cfg: WarehouseConfig, s: WarehouseState, id: number): number[] {
  const k = cfg.robotsPerSide;
  const pos = (g: number) => localPos(cfg, s, g);
  const out: number[] = [];
  const e = pos(id + 1), so = pos(id + k), w = pos(id - 1), n = pos(id - k);
  // Each neighbour's cell seen from this robot's region.
  out.push(e.col === 0 && e.row >= 1 && e.row <= 3 ? e.row - 1 : 3);
  out.push(so.row === 0 && so.col >= 1 && so.col <= 3 ? so.col - 1 : 3);
  out.push(w.col === 4 && w.row >= 1 && w.row <= 3 ? w.row - 1 : 3);
  out.push(n.row === 4 && n.col >= 1 && n.col <= 3 ? n.col - 1 : 3);
  return out;
}

/** The generator's draws of one GS step: spawns and random actions keyed by the step counter. */
function generatorDraws(
  cfg: WarehouseConfig,
  keys: WarehouseKeys,
  counter: number,
): WarehouseDraws {
  const word = (i: number, d: number) =>
    rngU32(keys.seed, RNG_PURPOSE.envStep, keys.env, i, counter, d);
  return {
    spawn: drawnHits(cfg, (i) => word(i, 0)),
    random: (id) => rngBelow(word(id, 1), 4),
  };
}

/**
 * One GS step (§4) of one env with auto-reset. Learning robots take `actions` (agent order); the
 * ring takes its hand-coded actions. Returns a new state; `s` is not modified.
 *
 * @param cfg Task parameters.
 * @param s0 State before the step.
 * @param actions One action per learning agent.
 * @param keys Random-stream keys of the env (spawns, random actions and the next reset).
 * @param options `draws` replaces the generator's in-step draws (the reset after a time limit
 *   still uses the generator).
 * @returns The state after the step, outputs and what the robots did.
 */
export function warehouseStepReference(
  cfg: WarehouseConfig,
  s0: WarehouseState,
  actions: ArrayLike<number>,
  keys: WarehouseKeys,
  options: { draws?: WarehouseDraws } = {},
): WarehouseStepResult {
  const s: WarehouseState = structuredClone(s0);
  const k = cfg.robotsPerSide, agents = cfg.learningPerSide ** 2;
  const draws = options.draws ?? generatorDraws(cfg, keys, s.counter);
  const learners = Array.from({ length: agents }, (_, a) => warehouseLearningRobot(cfg, a));
  const dset = warehouseObsReference(cfg, s);
  for (const it of s.items) it.age += 1;
  const chosen: number[] = [], randomRobots: number[] = [];
  for (let id = 0; id < k * k; id++) {
    const a = learners.indexOf(id);
    if (a >= 0) {
      chosen.push(actions[a]);
      continue;
    }
    const r = warehouseScriptedReference(
      cfg.scripted,
      localPos(cfg, s, id),
      regionItems(cfg, s, id),
      s.targets[id],
    );
    s.targets[id] = r.target;
    if (r.action < 0) randomRobots.push(id);
    chosen.push(r.action >= 0 ? r.action : draws.random(id));
  }
  for (let id = 0; id < k * k; id++) {
    const o = regionOf(cfg, id);
    const p = warehouseMoveReference(localPos(cfg, s, id), chosen[id]);
    s.robots[id] = { row: o.row + p.row, col: o.col + p.col };
  }
  const influence = learners.map((id) => influenceOf(cfg, s, id));
  const rewards = learners.map((id) => {
    const here = s.robots[id];
    const mine = s.items.find((it) => it.row === here.row && it.col === here.col);
    if (!mine) return 0;
    const oldest = Math.max(...regionItems(cfg, s, id).map((it) => it.age));
    return f32(mine.age / oldest);
  });
  const collected = (it: WarehouseItem) =>
    s.robots.some((p) => p.row === it.row && p.col === it.col);
  const removed = s.items.filter(collected);
  s.items = s.items.filter((it) => !collected(it));
  spawnItems(
    warehouseScanCells(cfg),
    s.items,
    draws.spawn,
    (c) => scanIndexOf(cfg, c.row, c.col),
  );
  s.step += 1;
  s.counter += 1;
  const obs = warehouseObsReference(cfg, s);
  const truncated = s.step >= cfg.maxSteps;
  const state = truncated ? warehouseResetReference(cfg, keys, s.episode + 1, s.counter) : s;
  return {
    state,
    final: s,
    dset,
    influence,
    rewards,
    truncated,
    obs,
    robotActions: chosen,
    randomRobots,
    removed,
  };
}

// ---------------------------------------------------------------------------------------------
// Local simulator (§9): one learning robot's region; the neighbours enter only through the
// influence classes given per step.

/** The reset lane of agent `agent` for episode `episode` (spawn keys of the agent's GS cells). */
export function warehouseLocalResetReference(
  cfg: WarehouseConfig,
  keys: WarehouseKeys & { agent: number },
  episode: number,
  counter = 0,
): WarehouseLocalState {
  const s: WarehouseLocalState = { step: 0, episode, counter, pos: { row: 2, col: 2 }, items: [] };
  const o = regionOf(cfg, warehouseLearningRobot(cfg, keys.agent));
  const draw = (i: number) => rngU32(keys.seed, RNG_PURPOSE.envReset, keys.env, i, episode, 0);
  spawnItems(
    localShelves(),
    s.items,
    drawnHits(cfg, draw),
    (c) => scanIndexOf(cfg, o.row + c.row, o.col + c.col),
  );
  return s;
}

function localShelves(): WarehouseCell[] {
  const out: WarehouseCell[] = [];
  for (let r = 0; r < 5; r++) {
    for (let c = 0; c < 5; c++) {
      if ((r === 0 || r === 4) !== (c === 0 || c === 4)) out.push({ row: r, col: c });
    }
  }
  return out;
}

/** Result of one LS step of one lane. */
export interface WarehouseLocalStepResult {
  state: WarehouseLocalState;
  reward: number;
  truncated: boolean;
  obs: number[];
}

/**
 * One LS step of one lane with auto-reset: age, move, reward, collect, the neighbours' removals
 * given by `influence` ([E, S, W, N] classes), spawn.
 */
export function warehouseLocalStepReference(
  cfg: WarehouseConfig,
  s0: WarehouseLocalState,
  action: number,
  influence: ArrayLike<number>,
  keys: WarehouseKeys & { agent: number },
): WarehouseLocalStepResult {
  const s: WarehouseLocalState = structuredClone(s0);
  for (const it of s.items) it.age += 1;
  s.pos = warehouseMoveReference(s.pos, action);
  const mine = s.items.find((it) => it.row === s.pos.row && it.col === s.pos.col);
  const reward = mine ? f32(mine.age / Math.max(...s.items.map((it) => it.age))) : 0;
  const gone: WarehouseCell[] = [s.pos];
  for (let n = 0; n < WAREHOUSE_SOURCES; n++) {
    const k = influence[n];
    if (k > 2) continue;
    gone.push(
      [{ row: k + 1, col: 4 }, { row: 4, col: k + 1 }, { row: k + 1, col: 0 }, {
        row: 0,
        col: k + 1,
      }][n],
    );
  }
  s.items = s.items.filter((it) => !gone.some((g) => g.row === it.row && g.col === it.col));
  const o = regionOf(cfg, warehouseLearningRobot(cfg, keys.agent));
  const draw = (i: number) => rngU32(keys.seed, RNG_PURPOSE.envStep, keys.env, i, s.counter, 0);
  spawnItems(
    localShelves(),
    s.items,
    drawnHits(cfg, draw),
    (c) => scanIndexOf(cfg, o.row + c.row, o.col + c.col),
  );
  s.step += 1;
  s.counter += 1;
  const obs = warehouseObsOf(s.pos, s.items);
  const truncated = s.step >= cfg.maxSteps;
  const state = truncated ? warehouseLocalResetReference(cfg, keys, s.episode + 1, s.counter) : s;
  return { state, reward, truncated, obs };
}

/**
 * The baseline (hand-coded) actions of every learning agent in GS state `s` (§8): `targets` are the
 * agents' remembered targets (variant "closest"; updated in place, cleared at episode start).
 */
export function warehouseBaselineReference(
  cfg: WarehouseConfig,
  s: WarehouseState,
  variant: WarehouseScripted,
  targets: number[],
  keys: WarehouseKeys,
): number[] {
  const out: number[] = [];
  for (let a = 0; a < cfg.learningPerSide ** 2; a++) {
    const id = warehouseLearningRobot(cfg, a);
    if (s.step === 0) targets[a] = -1;
    const r = warehouseScriptedReference(
      variant,
      localPos(cfg, s, id),
      regionItems(cfg, s, id).map((it) => ({ ...it, age: it.age + 1 })),
      targets[a],
    );
    targets[a] = r.target;
    out.push(
      r.action >= 0
        ? r.action
        : rngBelow(rngU32(keys.seed, RNG_PURPOSE.action, keys.env, id, s.counter, 0), 4),
    );
  }
  return out;
}
