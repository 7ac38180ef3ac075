/**
 * Multi-Robot Warehouse (RWARE, `rware-*-v2`, spec `docs/envs/rware.md`): task parameters,
 * the registry parse, the warehouse layout (§3), the plain-JS state and the golden-state
 * conversions shared by the GPU env (`envs/rware/env.ts`) and the CPU reference
 * (`envs/rware/reference.ts`).
 *
 * ```ts ignore
 * const cfg = parseRwareTask("rware-tiny-4ag")!;   // 4 agents, 4 requests, 500 steps
 * const layout = rwareLayout(cfg);                  // 11 × 10 grid, 32 shelves, goals (4,10) (5,10)
 * ```
 *
 * @module
 */
import type { EnvSpec } from "../env.ts";
import type { GoldenHeader } from "../golden.ts";

/** How deliveries are rewarded (§8). */
export type RwareRewardType = "individual" | "global" | "two_stage";

/** Parameters of one RWARE task (the reference's constructor arguments, renamed). */
export interface RwareConfig {
  /** Shelf blocks across (odd). */
  readonly shelfColumns: number;
  /** Shelf blocks down. */
  readonly shelfRows: number;
  /** Shelf cells per block column. */
  readonly columnHeight: number;
  readonly numAgents: number;
  /** Length of the request queue. */
  readonly requestQueueSize: number;
  /** Episode length (done, not truncated, when reached; 0 = no limit). */
  readonly maxSteps: number;
  /** Steps without a delivery that end the episode (0 = never). */
  readonly maxInactivitySteps: number;
  /** Radius of the square sensor window. */
  readonly sensorRange: number;
  readonly rewardType: RwareRewardType;
  /**
   * A custom map, as the reference's `layout` argument takes it: one line per row, `x` a shelf
   * home, `.` a highway, `g` a goal (a highway too; goals in row-major order), spaces ignored.
   * When set, it replaces the layout of `shelfColumns`, `shelfRows` and `columnHeight` (§3).
   */
  readonly layout?: string;
}

/** Directions (§1). */
export const RWARE_DIR = Object.freeze({ up: 0, down: 1, left: 2, right: 3 });
/** Actions (§5). */
export const RWARE_ACTION = Object.freeze({
  noop: 0,
  forward: 1,
  left: 2,
  right: 3,
  toggleLoad: 4,
});
/** Largest agent count the registry and the kernel accept. */
export const RWARE_MAX_AGENTS = 19;

const SIZES: Readonly<Record<string, readonly [rows: number, columns: number]>> = {
  tiny: [1, 3],
  small: [2, 3],
  medium: [2, 5],
  large: [3, 5],
};
const DIFFICULTY: Readonly<Record<string, number>> = { "": 1, "-easy": 2, "-hard": 0.5 };
const TASK_RE = /^rware-(tiny|small|medium|large)-(\d+)ag(-easy|-hard)?(?:-v[12])?$/;

/**
 * The config of a registered task name `rware-{tiny,small,medium,large}-{N}ag[-easy|-hard]`
 * (N 1..19; an optional `-v1`/`-v2` suffix is accepted): column height 8, sensor range 1,
 * 500 steps, individual rewards, `requestQueueSize = floor(N · factor)` with factor 2 (easy),
 * 1 or 0.5 (hard). Null for any other name.
 *
 * @param name Task name.
 * @returns The task's parameters or null.
 */
export function parseRwareTask(name: string): RwareConfig | null {
  const m = TASK_RE.exec(name);
  if (!m) return null;
  const n = Number(m[2]);
  if (!Number.isInteger(n) || n < 1 || n > RWARE_MAX_AGENTS || String(n) !== m[2]) return null;
  const [shelfRows, shelfColumns] = SIZES[m[1]];
  return {
    shelfColumns,
    shelfRows,
    columnHeight: 8,
    numAgents: n,
    requestQueueSize: Math.floor(n * DIFFICULTY[m[3] ?? ""]),
    maxSteps: 500,
    maxInactivitySteps: 0,
    sensorRange: 1,
    rewardType: "individual",
  };
}

/**
 * The config a golden file was recorded with (its header's `config`).
 *
 * @param header Header line of an RWARE golden file.
 * @returns The task parameters.
 */
export function rwareConfigFromGolden(header: GoldenHeader): RwareConfig {
  const c = header.config as Record<string, unknown>;
  const bad = (what: string) =>
    new TypeError(`Cannot build RWARE config from "${header.env}": ${what} is not supported`);
  if (c.layout !== undefined && c.layout !== null && typeof c.layout !== "string") {
    throw bad(`layout ${JSON.stringify(c.layout)}`);
  }
  if ((c.msg_bits ?? 0) !== 0) throw bad(`msg_bits ${c.msg_bits}`);
  if (c.observation_type !== undefined && c.observation_type !== "FLATTENED") {
    throw bad(`observation_type "${c.observation_type}"`);
  }
  if (c.normalised_coordinates === true) throw bad("normalised_coordinates true");
  const reward = String(c.reward_type ?? "INDIVIDUAL").toLowerCase() as RwareRewardType;
  if (!["individual", "global", "two_stage"].includes(reward)) {
    throw bad(`reward_type "${c.reward_type}"`);
  }
  return {
    shelfColumns: c.shelf_columns as number,
    shelfRows: c.shelf_rows as number,
    columnHeight: c.column_height as number,
    numAgents: c.n_agents as number,
    requestQueueSize: c.request_queue_size as number,
    maxSteps: (c.max_steps as number | null) ?? 0,
    maxInactivitySteps: (c.max_inactivity_steps as number | null) ?? 0,
    sensorRange: c.sensor_range as number,
    rewardType: reward,
    ...(typeof c.layout === "string" ? { layout: c.layout } : {}),
  };
}

/** Observation length: 8 + (2s + 1)² · 7 (71 for sensor range 1). */
export function rwareObsDim(cfg: RwareConfig): number {
  const side = 2 * cfg.sensorRange + 1;
  return 8 + side * side * 7;
}

/** The canonical task name of a registered config (others get a descriptive name). */
export function rwareTaskName(cfg: RwareConfig): string {
  const size = Object.keys(SIZES).find((k) =>
    SIZES[k][0] === cfg.shelfRows && SIZES[k][1] === cfg.shelfColumns
  );
  const diff = Object.keys(DIFFICULTY).find((k) =>
    Math.floor(cfg.numAgents * DIFFICULTY[k]) === cfg.requestQueueSize
  );
  if (cfg.layout !== undefined) {
    const l = rwareLayout(cfg);
    return `rware-layout-${l.rows}x${l.cols}-${cfg.numAgents}ag-${cfg.requestQueueSize}req-${cfg.rewardType}`;
  }
  const registered = size !== undefined && diff !== undefined && cfg.columnHeight === 8 &&
    cfg.sensorRange === 1 && cfg.maxSteps === 500 && cfg.maxInactivitySteps === 0 &&
    cfg.rewardType === "individual";
  if (registered) return `rware-${size}-${cfg.numAgents}ag${diff}`;
  return `rware-${cfg.shelfRows}x${cfg.shelfColumns}-${cfg.columnHeight}h-${cfg.numAgents}ag-${cfg.requestQueueSize}req-${cfg.rewardType}`;
}

/**
 * The {@linkcode EnvSpec} of a config: obs `[71]` f32 (sensor range 1), 5 actions.
 *
 * @param cfg Task parameters.
 * @param name Registry name (default: {@linkcode rwareTaskName}).
 * @returns The spec; its `config` is `cfg`.
 */
export function rwareSpec(cfg: RwareConfig, name = rwareTaskName(cfg)): EnvSpec {
  return Object.freeze({
    name,
    family: "rware",
    numAgents: cfg.numAgents,
    obsShape: Object.freeze([rwareObsDim(cfg)]),
    obsDType: "f32",
    numActions: 5,
    maxSteps: cfg.maxSteps,
    config: Object.freeze({ ...cfg }),
  });
}

/** The static warehouse: grid size, shelf homes and goals. */
export interface RwareLayout {
  /** H. */
  readonly rows: number;
  /** W. */
  readonly cols: number;
  /** [rows · cols], row-major: id of the shelf whose home is the cell, 0 on highways. */
  readonly home: Uint32Array;
  /** Home cell of shelf id k at index k − 1. */
  readonly shelfHome: readonly { readonly x: number; readonly y: number }[];
  /** Goal cells, in delivery order. */
  readonly goals: readonly { readonly x: number; readonly y: number }[];
}

/**
 * The layout of §3 for a config: `H = (h + 1)·R + 2`, `W = 3·C + 1`, highways on aisles, the
 * bottom row and the queue column; shelf ids row-major over the other cells. With `cfg.layout`,
 * the map it draws instead ({@linkcode rwareLayoutFromString}).
 *
 * @param cfg Task parameters (`shelfColumns` must be odd).
 * @returns The layout.
 */
export function rwareLayout(cfg: RwareConfig): RwareLayout {
  if (cfg.layout !== undefined) return rwareLayoutFromString(cfg.layout);
  const { shelfColumns: C, shelfRows: R, columnHeight: h } = cfg;
  if (C % 2 !== 1 || C < 1 || R < 1 || h < 1) {
    throw new RangeError(
      `Cannot build RWARE layout: shelf_columns ${C} (must be odd), shelf_rows ${R}, column_height ${h}`,
    );
  }
  const rows = (h + 1) * R + 2, cols = 3 * C + 1;
  const mid = Math.floor(cols / 2);
  const home = new Uint32Array(rows * cols);
  const shelfHome: { x: number; y: number }[] = [];
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const highway = x % 3 === 0 || y % (h + 1) === 0 || y === rows - 1 ||
        (y > rows - (h + 3) && (x === mid - 1 || x === mid));
      if (highway) continue;
      shelfHome.push({ x, y });
      home[y * cols + x] = shelfHome.length;
    }
  }
  return {
    rows,
    cols,
    home,
    shelfHome,
    goals: [{ x: mid - 1, y: rows - 1 }, { x: mid, y: rows - 1 }],
  };
}

/**
 * The layout a map string draws, as the reference's `_make_layout_from_str` reads it: surrounding
 * white space and spaces removed, one row per line, `x` a shelf home, `.` a highway, `g` a goal
 * (a highway), case-insensitive; goals and shelf ids in row-major order.
 *
 * @param map The map, e.g. `"x.x\n...\n.g."`.
 * @returns The layout.
 * @throws RangeError when the map is not rectangular, has another character or no goal.
 */
export function rwareLayoutFromString(map: string): RwareLayout {
  const lines = map.trim().replaceAll(" ", "").split("\n").map((l) => l.replace(/\r$/, ""));
  const rows = lines.length, cols = lines[0].length;
  const fail = (what: string) => new RangeError(`Cannot build RWARE layout from a map: ${what}`);
  if (cols === 0 || lines.some((l) => l.length !== cols)) throw fail("it is not rectangular");
  const home = new Uint32Array(rows * cols);
  const shelfHome: { x: number; y: number }[] = [];
  const goals: { x: number; y: number }[] = [];
  lines.forEach((line, y) =>
    [...line.toLowerCase()].forEach((ch, x) => {
      if (ch === "g") goals.push({ x, y });
      else if (ch === "x") {
        shelfHome.push({ x, y });
        home[y * cols + x] = shelfHome.length;
      } else if (ch !== ".") throw fail(`character ${JSON.stringify(ch)} at (${x}, ${y})`);
    })
  );
  if (goals.length === 0) throw fail("it has no goal (g)");
  return { rows, cols, home, shelfHome, goals };
}

/** The layout as the golden headers draw it (`.` highway, `X` shelf home, `g` goal). */
export function rwareLayoutRows(layout: RwareLayout): string[] {
  const out: string[] = [];
  for (let y = 0; y < layout.rows; y++) {
    let row = "";
    for (let x = 0; x < layout.cols; x++) {
      const goal = layout.goals.some((g) => g.x === x && g.y === y);
      row += goal ? "g" : layout.home[y * layout.cols + x] ? "X" : ".";
    }
    out.push(row);
  }
  return out;
}

/** One robot. */
export interface RwareAgent {
  x: number;
  y: number;
  /** {@linkcode RWARE_DIR}. */
  dir: number;
  /** Id of the carried shelf, 0 when none. */
  carried: number;
  /** TWO_STAGE: delivered since the last drop. */
  hasDelivered: boolean;
}

/** The full state of one env. */
export interface RwareState {
  /** Steps taken in this episode. */
  steps: number;
  /** Steps since the last delivery. */
  inactiveSteps: number;
  /** Episode index of this env's reset stream (the next reset uses `episode + 1`). */
  episode: number;
  /** Steps taken by this env since it was created (the key of in-step draws). */
  totalSteps: number;
  agents: RwareAgent[];
  /** Cell of shelf id k at index k − 1 (a carried shelf is at its carrier's cell). */
  shelves: { x: number; y: number }[];
  /** Requested shelf ids, in slot order. */
  requestQueue: number[];
}

/** State as the golden files write it (§12). */
export interface RwareGoldenState {
  steps: number;
  inactive_steps: number;
  /** [x, y, dir, carried shelf id, has_delivered]. */
  agents: number[][];
  /** [shelf id, x, y] of the shelves away from home. */
  shelves_moved: number[][];
  request_queue: number[];
}

/**
 * Converts a golden state into an {@linkcode RwareState}.
 *
 * @param layout Layout of the golden file's task.
 * @param g State object of a golden line.
 * @param counters `episode` and `totalSteps` to give the state (default 0).
 * @returns The state.
 */
export function rwareStateFromGolden(
  layout: RwareLayout,
  g: RwareGoldenState,
  counters: { episode?: number; totalSteps?: number } = {},
): RwareState {
  const shelves = layout.shelfHome.map(({ x, y }) => ({ x, y }));
  for (const [id, x, y] of g.shelves_moved) shelves[id - 1] = { x, y };
  return {
    steps: g.steps,
    inactiveSteps: g.inactive_steps,
    episode: counters.episode ?? 0,
    totalSteps: counters.totalSteps ?? 0,
    agents: g.agents.map(([x, y, dir, carried, hasDelivered]) => ({
      x,
      y,
      dir,
      carried,
      hasDelivered: Boolean(hasDelivered),
    })),
    shelves,
    requestQueue: [...g.request_queue],
  };
}

/**
 * Converts a state into the golden form (`shelves_moved` in shelf id order).
 *
 * @param layout Layout of the task.
 * @param s The state.
 * @returns The golden state object.
 */
export function rwareStateToGolden(layout: RwareLayout, s: RwareState): RwareGoldenState {
  const moved: number[][] = [];
  s.shelves.forEach(({ x, y }, i) => {
    const h = layout.shelfHome[i];
    if (h.x !== x || h.y !== y) moved.push([i + 1, x, y]);
  });
  return {
    steps: s.steps,
    inactive_steps: s.inactiveSteps,
    agents: s.agents.map((a) => [a.x, a.y, a.dir, a.carried, a.hasDelivered ? 1 : 0]),
    shelves_moved: moved,
    request_queue: [...s.requestQueue],
  };
}

/** A deep copy of a state. */
export function cloneRwareState(s: RwareState): RwareState {
  return {
    ...s,
    agents: s.agents.map((a) => ({ ...a })),
    shelves: s.shelves.map((p) => ({ ...p })),
    requestQueue: [...s.requestQueue],
  };
}
