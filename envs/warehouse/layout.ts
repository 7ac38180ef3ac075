/**
 * Warehouse commissioning (DIALS, spec `docs/envs/warehouse.md`): task
 * parameters, the registry parse, geometry (regions, shelf cells, learning robots) and the
 * plain-JS states with their packed GPU layouts, shared by the global simulator
 * (`envs/warehouse/env.ts`), the local simulator (`envs/warehouse/local.ts`), the baseline policy and
 * the CPU reference (`envs/warehouse/reference.ts`).
 *
 * GS state per env (u32 words, see `shaders/envs/warehouse/env.wgsl`): `step, episode, counter`,
 * robot local cells (5r + c) × K², closest-item targets (row-major shelf slot, 12 = none) × K²,
 * item ages × shelf cells in spawn-scan order (0xffffffff = no item).
 * LS state per lane: `step, episode, counter, cell`, item ages × 12 row-major shelf slots.
 *
 * ```ts ignore
 * const cfg = parseWarehouseTask("warehouse-4")!;   // 4 × 4 robots, learners 5, 6, 9, 10
 * warehouseLearningRobot(cfg, 3);                    // 10
 * ```
 *
 * @module
 */
import type { EnvSpec } from "../env.ts";

/** Hand-coded policy variants (§8): A "oldest item" (paper runs), B "closest item, sticky" (HEAD). */
export type WarehouseScripted = "oldest" | "closest";

/** Parameters of one warehouse task. */
export interface WarehouseConfig {
  /** Robots per side K (K × K robots, grid 4K + 1). */
  readonly robotsPerSide: number;
  /** Learning robots per side (K − 2: the interior block). */
  readonly learningPerSide: number;
  /** Policy of the non-learning ring. */
  readonly scripted: WarehouseScripted;
  /** Spawn probability per free shelf cell and step. */
  readonly probItem: number;
  /** Episode length (truncation). */
  readonly maxSteps: number;
}

/** Observation length: 25 position bits + 12 item bits (§6). */
export const WAREHOUSE_OBS = 37;
/** Influence sources per agent (E, S, W, N), each a class 0..3 (3 = not on the shared edge). */
export const WAREHOUSE_SOURCES = 4;
/** Classes per influence source. */
export const WAREHOUSE_CLASSES = 4;
/** Actions: 0 UP, 1 DOWN, 2 LEFT, 3 RIGHT. */
export const WAREHOUSE_ACTIONS = 4;
/** "No item" age and "no target" marker in packed states. */
export const WAREHOUSE_NONE = 0xffffffff;
/** Packed "no remembered target" slot. */
export const WAREHOUSE_NO_SLOT = 12;
/** Header words of a GS / LS state. */
export const WAREHOUSE_HEADER = 3;
/** Words per LS lane. */
export const WAREHOUSE_LOCAL_STRIDE = 16;
/** Centre cell of a region (local (2, 2)). */
export const WAREHOUSE_CENTRE = 12;

/** Learning agents → robots per side (§1 table). */
const SIZES: Readonly<Record<string, number>> = { "4": 4, "25": 7, "49": 9, "100": 12 };
const TASK_RE = /^warehouse-(4|25|49|100)(-closest)?$/;

/**
 * The config of `warehouse-{4,25,49,100}` (ring robots use variant A, as in the paper runs) or
 * `warehouse-{…}-closest` (ring uses variant B, as at the reference's HEAD). Null otherwise.
 *
 * @param name Task name.
 * @returns The task's parameters or null.
 */
export function parseWarehouseTask(name: string): WarehouseConfig | null {
  const m = TASK_RE.exec(name);
  if (!m) return null;
  const k = SIZES[m[1]];
  return {
    robotsPerSide: k,
    learningPerSide: k - 2,
    scripted: m[2] ? "closest" : "oldest",
    probItem: 0.02,
    maxSteps: 100,
  };
}

/**
 * The spec of a warehouse config.
 *
 * @param cfg Task parameters.
 * @param name Registry name (derived from the config when absent).
 * @returns The spec: `numAgents = (K − 2)²`, obs [37] f32, 4 actions.
 */
export function warehouseSpec(cfg: WarehouseConfig, name?: string): EnvSpec {
  const n = cfg.learningPerSide ** 2;
  return Object.freeze({
    name: name ?? `warehouse-${n}${cfg.scripted === "closest" ? "-closest" : ""}`,
    family: "warehouse",
    numAgents: n,
    obsShape: Object.freeze([WAREHOUSE_OBS]),
    obsDType: "f32" as const,
    numActions: WAREHOUSE_ACTIONS,
    maxSteps: cfg.maxSteps,
    config: Object.freeze({ ...cfg }),
  });
}

/** Checks a config; throws naming the field. */
export function checkWarehouseConfig(cfg: WarehouseConfig, what: string): void {
  const k = cfg.robotsPerSide;
  if (!Number.isInteger(k) || k < 3 || k > 64) {
    throw new RangeError(`Cannot build ${what}: robotsPerSide is ${k}, must be 3..64`);
  }
  if (cfg.learningPerSide !== k - 2) {
    throw new RangeError(
      `Cannot build ${what}: learningPerSide is ${cfg.learningPerSide}, must be robotsPerSide − 2 = ${
        k - 2
      }`,
    );
  }
  if (!(cfg.maxSteps >= 1) || !Number.isInteger(cfg.maxSteps)) {
    throw new RangeError(`Cannot build ${what}: maxSteps is ${cfg.maxSteps}`);
  }
  if (cfg.scripted !== "oldest" && cfg.scripted !== "closest") {
    throw new TypeError(`Cannot build ${what}: scripted is "${cfg.scripted}"`);
  }
}

/** Number of learning agents. */
export function warehouseAgents(cfg: WarehouseConfig): number {
  return cfg.learningPerSide ** 2;
}

/** Number of robots K². */
export function warehouseRobots(cfg: WarehouseConfig): number {
  return cfg.robotsPerSide ** 2;
}

/** Grid side 4K + 1. */
export function warehouseGridSize(cfg: WarehouseConfig): number {
  return 4 * cfg.robotsPerSide + 1;
}

/** Shelf cells of the grid, 6K(K + 1). */
export function warehouseShelfCount(cfg: WarehouseConfig): number {
  return 6 * cfg.robotsPerSide * (cfg.robotsPerSide + 1);
}

/** Robot id of learning agent `agent` (row-major over the interior block). */
export function warehouseLearningRobot(cfg: WarehouseConfig, agent: number): number {
  const l = cfg.learningPerSide, k = cfg.robotsPerSide;
  return (1 + Math.floor(agent / l)) * k + 1 + (agent % l);
}

/** Words per GS env. */
export function warehouseStateStride(cfg: WarehouseConfig): number {
  return WAREHOUSE_HEADER + 2 * warehouseRobots(cfg) + warehouseShelfCount(cfg);
}

/** A grid cell (global or region-local coordinates, as stated where used). */
export interface WarehouseCell {
  row: number;
  col: number;
}

/** An item: global (GS) or region-local (LS) cell and age (`waiting_time`). */
export interface WarehouseItem extends WarehouseCell {
  age: number;
}

/** One GS env, as the reference holds it. */
export interface WarehouseState {
  /** Steps taken in the current episode. */
  step: number;
  /** Episode index of this env (reset stream key). */
  episode: number;
  /** Steps taken since the env was built (in-step random stream key). */
  counter: number;
  /** Robot positions (global), by robot id. */
  robots: WarehouseCell[];
  /** Variant-B remembered target per robot (region-local cell 5r + c), −1 for none. */
  targets: number[];
  /** Items in creation order (global cells). */
  items: WarehouseItem[];
}

/** One LS lane (one agent's region), as the reference holds it. */
export interface WarehouseLocalState {
  step: number;
  episode: number;
  counter: number;
  /** Robot position (region-local). */
  pos: WarehouseCell;
  /** Items in creation order (region-local cells). */
  items: WarehouseItem[];
}

// Packing. Items are packed as ages per cell; unpacking lists them oldest first and, within one
// age (one spawn event), in spawn-scan order, which is their creation order.

/** Row-major region-local shelf cells (5r + c), the packed target slots. */
export const WAREHOUSE_SLOT_CELLS: readonly number[] = Object.freeze(
  [1, 2, 3, 5, 9, 10, 14, 15, 19, 21, 22, 23],
);

/** Spawn-scan index of every global shelf cell, keyed by `row * (4K + 1) + col`. */
function scanIndexMap(cfg: WarehouseConfig): Map<number, number> {
  const n = warehouseGridSize(cfg), out = new Map<number, number>();
  let s = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const shelf = (r % 4 === 0) !== (c % 4 === 0);
      if (shelf) out.set(r * n + c, s++);
    }
  }
  return out;
}

/**
 * Packs GS states into words.
 *
 * @param cfg Task parameters.
 * @param states One per env.
 * @returns [numEnvs, stride] words.
 */
export function packWarehouseStates(
  cfg: WarehouseConfig,
  states: readonly WarehouseState[],
): Uint32Array {
  const stride = warehouseStateStride(cfg), k = cfg.robotsPerSide, robots = k * k;
  const n = warehouseGridSize(cfg), scan = scanIndexMap(cfg);
  const out = new Uint32Array(states.length * stride);
  states.forEach((s, e) => {
    const b = e * stride;
    out[b] = s.step;
    out[b + 1] = s.episode;
    out[b + 2] = s.counter;
    for (let g = 0; g < robots; g++) {
      const i = Math.floor(g / k), j = g % k, p = s.robots[g];
      out[b + 3 + g] = 5 * (p.row - 4 * i) + (p.col - 4 * j);
      const slot = WAREHOUSE_SLOT_CELLS.indexOf(s.targets[g]);
      out[b + 3 + robots + g] = slot < 0 ? WAREHOUSE_NO_SLOT : slot;
    }
    out.fill(WAREHOUSE_NONE, b + 3 + 2 * robots, b + stride);
    for (const it of s.items) out[b + 3 + 2 * robots + scan.get(it.row * n + it.col)!] = it.age;
  });
  return out;
}

/**
 * Unpacks GS words (read from the GPU state) into states.
 *
 * @param cfg Task parameters.
 * @param words [numEnvs, stride] words.
 * @returns One state per env.
 */
export function unpackWarehouseStates(cfg: WarehouseConfig, words: Uint32Array): WarehouseState[] {
  const stride = warehouseStateStride(cfg), k = cfg.robotsPerSide, robots = k * k;
  const n = warehouseGridSize(cfg);
  const cells = [...scanIndexMap(cfg).keys()];
  const out: WarehouseState[] = [];
  for (let b = 0; b + stride <= words.length; b += stride) {
    const items: (WarehouseItem & { s: number })[] = [];
    cells.forEach((key, s) => {
      const age = words[b + 3 + 2 * robots + s];
      if (age !== WAREHOUSE_NONE) items.push({ row: Math.floor(key / n), col: key % n, age, s });
    });
    items.sort((x, y) => y.age - x.age || x.s - y.s);
    out.push({
      step: words[b],
      episode: words[b + 1],
      counter: words[b + 2],
      robots: Array.from({ length: robots }, (_, g) => {
        const cell = words[b + 3 + g];
        return {
          row: 4 * Math.floor(g / k) + Math.floor(cell / 5),
          col: 4 * (g % k) + (cell % 5),
        };
      }),
      targets: Array.from({ length: robots }, (_, g) => {
        const slot = words[b + 3 + robots + g];
        return slot < 12 ? WAREHOUSE_SLOT_CELLS[slot] : -1;
      }),
      items: items.map(({ row, col, age }) => ({ row, col, age })),
    });
  }
  return out;
}

/** Packs LS lanes ([numAgents, numEnvs] order) into words. */
export function packWarehouseLocalStates(states: readonly WarehouseLocalState[]): Uint32Array {
  const out = new Uint32Array(states.length * WAREHOUSE_LOCAL_STRIDE);
  states.forEach((s, l) => {
    const b = l * WAREHOUSE_LOCAL_STRIDE;
    out[b] = s.step;
    out[b + 1] = s.episode;
    out[b + 2] = s.counter;
    out[b + 3] = 5 * s.pos.row + s.pos.col;
    out.fill(WAREHOUSE_NONE, b + 4, b + WAREHOUSE_LOCAL_STRIDE);
    for (const it of s.items) {
      out[b + 4 + WAREHOUSE_SLOT_CELLS.indexOf(5 * it.row + it.col)] = it.age;
    }
  });
  return out;
}

/** Unpacks LS words into lanes (items oldest first, then row-major: their creation order). */
export function unpackWarehouseLocalStates(words: Uint32Array): WarehouseLocalState[] {
  const out: WarehouseLocalState[] = [];
  for (let b = 0; b + WAREHOUSE_LOCAL_STRIDE <= words.length; b += WAREHOUSE_LOCAL_STRIDE) {
    const items: WarehouseItem[] = [];
    WAREHOUSE_SLOT_CELLS.forEach((cell, s) => {
      const age = words[b + 4 + s];
      if (age !== WAREHOUSE_NONE) items.push({ row: Math.floor(cell / 5), col: cell % 5, age });
    });
    items.sort((x, y) => y.age - x.age || (5 * x.row + x.col) - (5 * y.row + y.col));
    out.push({
      step: words[b],
      episode: words[b + 1],
      counter: words[b + 2],
      pos: { row: Math.floor(words[b + 3] / 5), col: words[b + 3] % 5 },
      items,
    });
  }
  return out;
}
