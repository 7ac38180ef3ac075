/**
 * The DIALS warehouse golden-file format (`family: "dials-warehouse"`, recorded from the global
 * simulator of `INFLUENCEorg/DIALS`; the header documents every field): the config a file was
 * recorded with and the conversion of its states, for the replays of
 * `envs/warehouse/golden_replay.ts`.
 *
 * @module
 */
import type { GoldenHeader } from "../golden.ts";
import { requireConfigKeys } from "../golden_replay.ts";
import {
  type WarehouseConfig,
  warehouseLearningRobot,
  type WarehouseScripted,
  type WarehouseState,
} from "./layout.ts";

/** A state as the DIALS golden files write it (see the header's `state_fields`). */
export interface WarehouseGoldenState {
  episode_step: number;
  /** [row, col] of every robot, by id. */
  robots: number[][];
  /** [item_id, row, col, age] in list (creation) order. */
  items: number[][];
  next_item_id: number;
  /** Variant B only: each robot's remembered target as a global [row, col], or null. */
  targets?: (number[] | null)[];
}

/**
 * The scripted robots' policy of the DIALS commits we know: the paper-era commit runs variant A
 * ("oldest item"), HEAD variant B ("closest item, sticky"); `docs/envs/warehouse.md` §8.
 */
const KNOWN_COMMITS: Readonly<Record<string, WarehouseScripted>> = {
  "27d4f10f7a4cc1b4adf4f28419d286efbd7aeba2": "oldest",
  "d08e915065355379bd6b37ac64840548160f9028": "closest",
};

const CONFIG_KEYS = [
  "n_rows",
  "n_columns",
  "n_robots_row",
  "n_robots_column",
  "prob_item_appears",
  "n_steps_episode",
  "learning_robot_ids",
];

/**
 * The config a DIALS warehouse golden file was recorded with: K × K robots on a (4K + 1)² grid
 * with shelves every 4 cells, the interior (K − 2)² block learning (in row-major agent order),
 * `prob_item_appears`, `n_steps_episode`. The scripted robots' variant is `config.heuristic`
 * ("oldest" or "closest") when given, else that of the source commit.
 *
 * @param header Header line of a `dials-warehouse` golden file.
 * @returns The task parameters.
 * @throws TypeError or RangeError naming what our warehouse cannot represent.
 */
export function warehouseConfigFromGolden(header: GoldenHeader): WarehouseConfig {
  requireConfigKeys(header, { keys: CONFIG_KEYS, family: "warehouse" });
  const c = header.config as Record<string, unknown>;
  const fail = (what: string) =>
    new RangeError(`Cannot build warehouse config from "${header.env}": ${what}`);
  const k = c.n_robots_row as number;
  if (c.n_robots_column !== k) {
    throw fail(`${k} × ${c.n_robots_column} robots, only square layouts are supported`);
  }
  if (!Number.isInteger(k) || k < 3 || k > 64) throw fail(`n_robots_row is ${k}, must be 3..64`);
  if (c.n_rows !== 4 * k + 1 || c.n_columns !== 4 * k + 1) {
    throw fail(`grid ${c.n_rows} × ${c.n_columns}, ${k} robots per side need ${4 * k + 1}`);
  }
  if ((c.distance_between_shelves ?? 4) !== 4) {
    throw fail(`distance_between_shelves is ${c.distance_between_shelves}, only 4 is supported`);
  }
  const domain = JSON.stringify(c.robot_domain_size ?? [5, 5]);
  if (domain !== "[5,5]") throw fail(`robot_domain_size is ${domain}, only [5,5] is supported`);
  const cfg: WarehouseConfig = {
    robotsPerSide: k,
    learningPerSide: k - 2,
    scripted: scriptedOf(header),
    probItem: c.prob_item_appears as number,
    maxSteps: c.n_steps_episode as number,
  };
  const interior = Array.from({ length: (k - 2) ** 2 }, (_, a) => warehouseLearningRobot(cfg, a));
  const order = header.agent_order ?? c.learning_robot_ids;
  if (JSON.stringify(order) !== JSON.stringify(interior)) {
    throw fail(
      `learning robots ${JSON.stringify(order)}, only the interior block ${
        JSON.stringify(interior)
      } in row-major order is supported`,
    );
  }
  return cfg;
}

function scriptedOf(header: GoldenHeader): WarehouseScripted {
  const c = header.config as Record<string, unknown>;
  const given = c.heuristic;
  if (given === "oldest" || given === "closest") return given;
  if (given !== undefined) {
    throw new TypeError(
      `Cannot build warehouse config from "${header.env}": config.heuristic is ${
        JSON.stringify(given)
      }, want "oldest" or "closest"`,
    );
  }
  const commit = String((header.source as Record<string, unknown> | undefined)?.commit ?? "");
  const known = Object.entries(KNOWN_COMMITS).find(([sha]) =>
    commit.length >= 7 && sha.startsWith(commit)
  );
  if (known) return known[1];
  throw new TypeError(
    `Cannot build warehouse config from "${header.env}": source commit "${commit}" is not one we know; set config.heuristic to "oldest" or "closest"`,
  );
}

/**
 * Converts a golden state into a {@linkcode WarehouseState}; throws naming the first robot or
 * item our state cannot hold (a robot outside its region or on a corner, an item off the shelves
 * or two on one cell).
 *
 * @param cfg Task parameters.
 * @param g State object of a golden line.
 * @param counters Episode and step counter to give the state.
 * @returns The state.
 */
export function warehouseStateFromGolden(
  cfg: WarehouseConfig,
  g: WarehouseGoldenState,
  counters: { episode: number; counter: number },
): WarehouseState {
  const k = cfg.robotsPerSide;
  if (g.robots.length !== k * k) {
    throw new RangeError(`Cannot read warehouse state: ${g.robots.length} robots, want ${k * k}`);
  }
  const robots = g.robots.map(([row, col], id) => {
    const r = row - 4 * Math.floor(id / k), c = col - 4 * (id % k);
    const inside = r >= 0 && r <= 4 && c >= 0 && c <= 4 && !((r % 4 === 0) && (c % 4 === 0));
    if (!inside) {
      throw new RangeError(
        `Cannot read warehouse state: robot ${id} at (${row}, ${col}) is not a cell of its region`,
      );
    }
    return { row, col };
  });
  const seen = new Set<string>();
  const items = g.items.map(([_id, row, col, age]) => {
    const n = 4 * k + 1;
    const shelf = row >= 0 && col >= 0 && row < n && col < n && (row % 4 === 0) !== (col % 4 === 0);
    if (!shelf || seen.has(`${row},${col}`) || !(Number.isInteger(age) && age >= 0)) {
      throw new RangeError(
        `Cannot read warehouse state: item at (${row}, ${col}) with age ${age} is not on a free shelf cell`,
      );
    }
    seen.add(`${row},${col}`);
    return { row, col, age };
  });
  const targets = robots.map((_, id) => {
    const t = g.targets?.[id];
    if (!t) return -1;
    return 5 * (t[0] - 4 * Math.floor(id / k)) + (t[1] - 4 * (id % k));
  });
  return { step: g.episode_step, ...counters, robots, targets, items };
}
