/**
 * Level-Based Foraging task data shared by the GPU env (`envs/lbf/env.ts`) and the CPU reference
 * (`envs/lbf/reference.ts`): task parameters and the registry parse of `Foraging-*` names, the
 * state of one env, conversion from golden-file states, and the packed GPU state layout.
 *
 * @module
 */
import type { EnvOptionDef, EnvOptions, EnvSpec } from "../env.ts";
import type { GoldenHeader } from "../golden.ts";
import { resolveEnvOptions } from "../options.ts";

/**
 * What the step limit reports when it ends an episode that still has food: `terminate` sets
 * `terminated` (the `-v3` env's single done flag), `truncate` sets `truncated` instead (gym's
 * TimeLimit wrapper, as the SEAC code wraps LBF). An episode whose last food is eaten at the limit
 * is terminated in both.
 */
export type LbfTimeLimit = "truncate" | "terminate";

/**
 * The food-level rule of reset (docs/envs/lbf.md §3.2): `v3`, the `-v3` env's (levels in
 * [1, cap], cap = sum of the three lowest player levels), or `v0`, lbforaging v0's used by SEAC
 * (levels in [1, cap − 1], cap = sum of all player levels). Cooperative foods have level cap in
 * both.
 */
export type LbfFoodLevels = "v0" | "v3";

/** Parameters of one LBF task (the reference's constructor arguments, renamed). */
export interface LbfConfig {
  readonly rows: number;
  readonly cols: number;
  readonly numPlayers: number;
  /** `max_num_food`: an upper bound, placement may fit fewer. */
  readonly numFood: number;
  /** View radius; `sight >= field size` is full view. */
  readonly sight: number;
  /** Every food needs the summed level of the three lowest players. */
  readonly forceCoop: boolean;
  /** Steps after which an episode ends (50 in the registered tasks). */
  readonly maxEpisodeSteps: number;
  /** What reaching `maxEpisodeSteps` reports ({@linkcode LbfTimeLimit}). */
  readonly timeLimit: LbfTimeLimit;
  /** The food-level rule of reset ({@linkcode LbfFoodLevels}). */
  readonly foodLevels: LbfFoodLevels;
  readonly minPlayerLevel: number;
  readonly maxPlayerLevel: number;
  readonly minFoodLevel: number;
  /** Reward subtracted from each player of a failed load. */
  readonly penalty: number;
  readonly normalizeReward: boolean;
}

/** A player: cell and level. */
export interface LbfPlayer {
  row: number;
  col: number;
  level: number;
}

/** A food item on the field (level > 0). */
export interface LbfFood {
  row: number;
  col: number;
  level: number;
}

/** The full state of one env. */
export interface LbfState {
  /** `current_step`: steps taken in this episode. */
  step: number;
  /** Episode index of this env's reset stream (the RNG step of the next reset is `episode + 1`). */
  episode: number;
  players: LbfPlayer[];
  /** Remaining foods, row-major. */
  food: LbfFood[];
  /** Sum of the food levels at reset (reward normaliser). */
  foodSpawned: number;
  /** Cumulative reward per player since the reset (float32 values). */
  scores: number[];
}

/** State as the golden files write it. */
export interface LbfGoldenState {
  step: number;
  players: number[][];
  food: number[][];
  food_spawned: number;
  valid_actions: number[][];
  scores: number[];
  game_over: boolean;
}

/** Largest player and food counts the kernel holds (the reference registers up to 9 of each). */
export const LBF_MAX_PLAYERS = 9;
/** Largest food count the kernel holds. */
export const LBF_MAX_FOOD = 9;
/** Words of the per-env state header: step, episode, foodSpawned. */
export const LBF_STATE_HEADER = 3;

/**
 * The options of LBF tasks (a config's `env` map): their defaults keep the registered `-v3` task
 * as it is (50 steps, time-outs terminate, `v3` food levels); SEAC's setting is
 * `{ maxEpisodeSteps: 25, timeLimit: "truncate", foodLevels: "v0" }`.
 */
export const LBF_OPTIONS: Readonly<Record<string, EnvOptionDef>> = Object.freeze({
  maxEpisodeSteps: Object.freeze({
    default: 50,
    integer: Object.freeze([1, 2 ** 32 - 1] as const),
    doc: "steps after which an episode ends",
  }),
  timeLimit: Object.freeze({
    default: "terminate",
    values: Object.freeze(["truncate", "terminate"]),
    doc: "what the step limit reports: truncated (gym TimeLimit, SEAC) or terminated (-v3)",
  }),
  foodLevels: Object.freeze({
    default: "v3",
    values: Object.freeze(["v0", "v3"]),
    doc: "food-level rule of reset: lbforaging v0 (SEAC) or v3",
  }),
});

const TASK_RE = /^Foraging(?:-(\d+)s)?-(\d+)x(\d+)-(\d+)p-(\d+)f(-coop)?(?:-v3)?$/;

/**
 * The config of a registered task name, `Foraging[-{sight}s]-{S}x{S}-{P}p-{F}f[-coop]` (an
 * optional `-v3` suffix is accepted), with the reference's ranges S 5..19, P 2..9, F 1..9 and
 * sight 1..S−1 (the reference registers sight 2 only); null for any other name. `options` sets
 * {@linkcode LBF_OPTIONS} (the rest take their defaults).
 *
 * @param name Task name.
 * @param options Values of LBF options, e.g. `{ maxEpisodeSteps: 25, timeLimit: "truncate" }`.
 * @returns The task's parameters or null.
 * @throws TypeError or RangeError naming every unknown option and bad value.
 */
export function parseLbfTask(name: string, options: EnvOptions = {}): LbfConfig | null {
  const m = TASK_RE.exec(name);
  if (!m) return null;
  const [sight, rows, cols, players, food] = [m[1], m[2], m[3], m[4], m[5]].map((x) =>
    x === undefined ? undefined : Number(x)
  );
  if (rows !== cols || rows! < 5 || rows! > 19) return null;
  if (players! < 2 || players! > 9 || food! < 1 || food! > 9) return null;
  if (sight !== undefined && (sight < 1 || sight >= rows!)) return null;
  const o = resolveEnvOptions(LBF_OPTIONS, options, name);
  return {
    rows: rows!,
    cols: cols!,
    numPlayers: players!,
    numFood: food!,
    sight: sight ?? rows!,
    forceCoop: m[6] !== undefined,
    maxEpisodeSteps: o.maxEpisodeSteps as number,
    timeLimit: o.timeLimit as LbfTimeLimit,
    foodLevels: o.foodLevels as LbfFoodLevels,
    minPlayerLevel: 1,
    maxPlayerLevel: 2,
    minFoodLevel: 1,
    penalty: 0,
    normalizeReward: true,
  };
}

/**
 * Checks the parts of a config the registry parse does not guarantee: a step limit of at least 1,
 * known `timeLimit` and `foodLevels`, and `minFoodLevel` 1 with `v0` food levels (lbforaging v0
 * has no minimum food level: it is always 1).
 *
 * @param cfg Task parameters.
 * @param what What is being built, for the error (e.g. `LBF env "Foraging-8x8-2p-2f-coop"`).
 * @throws RangeError naming the first bad field.
 */
export function checkLbfConfig(cfg: LbfConfig, what: string): void {
  const bad = (msg: string) => new RangeError(`Cannot build ${what}: ${msg}`);
  if (!Number.isInteger(cfg.maxEpisodeSteps) || cfg.maxEpisodeSteps < 1) {
    throw bad(`maxEpisodeSteps must be an integer >= 1, got ${cfg.maxEpisodeSteps}`);
  }
  if (cfg.timeLimit !== "truncate" && cfg.timeLimit !== "terminate") {
    throw bad(`timeLimit must be "truncate" or "terminate", got ${JSON.stringify(cfg.timeLimit)}`);
  }
  if (cfg.foodLevels !== "v0" && cfg.foodLevels !== "v3") {
    throw bad(`foodLevels must be "v0" or "v3", got ${JSON.stringify(cfg.foodLevels)}`);
  }
  if (cfg.foodLevels === "v0" && cfg.minFoodLevel !== 1) {
    throw bad(`foodLevels "v0" needs minFoodLevel 1, got ${cfg.minFoodLevel}`);
  }
}

/** The canonical task name of a config (no version suffix). */
export function lbfTaskName(cfg: LbfConfig): string {
  const sight = cfg.sight < Math.max(cfg.rows, cfg.cols) ? `-${cfg.sight}s` : "";
  return `Foraging${sight}-${cfg.rows}x${cfg.cols}-${cfg.numPlayers}p-${cfg.numFood}f${
    cfg.forceCoop ? "-coop" : ""
  }`;
}

/**
 * The {@linkcode EnvSpec} of a config: obs `[3·numFood + 3·numPlayers]` f32, 6 actions.
 *
 * @param cfg Task parameters.
 * @param name Registry name (default: the canonical name of `cfg`).
 * @returns The spec; its `config` is `cfg`.
 */
export function lbfSpec(cfg: LbfConfig, name = lbfTaskName(cfg)): EnvSpec {
  return Object.freeze({
    name,
    family: "lbf",
    numAgents: cfg.numPlayers,
    obsShape: Object.freeze([3 * cfg.numFood + 3 * cfg.numPlayers]),
    obsDType: "f32",
    numActions: 6,
    maxSteps: cfg.maxEpisodeSteps,
    config: Object.freeze({ ...cfg }),
  });
}

/**
 * The config a golden file was recorded with (from its header's `config`).
 *
 * @param header Header line of an LBF golden file.
 * @returns The task parameters.
 */
export function lbfConfigFromGolden(header: GoldenHeader): LbfConfig {
  const c = header.config as Record<string, unknown>;
  const [rows, cols] = c.field_size as [number, number];
  const num = (k: string, d: number) => (typeof c[k] === "number" ? c[k] as number : d);
  if (c.max_food_level !== null && c.max_food_level !== undefined) {
    throw new TypeError(
      `Cannot build LBF config from "${header.env}": max_food_level is ${c.max_food_level}, only null is supported`,
    );
  }
  return {
    rows,
    cols,
    numPlayers: c.players as number,
    numFood: c.max_num_food as number,
    sight: c.sight as number,
    forceCoop: Boolean(c.force_coop),
    maxEpisodeSteps: c.max_episode_steps as number,
    timeLimit: "terminate",
    foodLevels: "v3",
    minPlayerLevel: num("min_player_level", 1),
    maxPlayerLevel: num("max_player_level", 2),
    minFoodLevel: num("min_food_level", 1),
    penalty: num("penalty", 0),
    normalizeReward: c.normalize_reward === undefined ? true : Boolean(c.normalize_reward),
  };
}

/**
 * Converts a golden state into an {@linkcode LbfState}.
 *
 * @param g State object of a golden line.
 * @param episode Episode index to give the state (the RNG step of its next reset is one more).
 * @returns The state (scores rounded to float32).
 */
export function lbfStateFromGolden(g: LbfGoldenState, episode = 0): LbfState {
  return {
    step: g.step,
    episode,
    players: g.players.map(([row, col, level]) => ({ row, col, level })),
    food: g.food.map(([row, col, level]) => ({ row, col, level }))
      .sort((a, b) => a.row - b.row || a.col - b.col),
    foodSpawned: g.food_spawned,
    scores: g.scores.map(Math.fround),
  };
}

/** u32 words of one env's GPU state. */
export function lbfStateStride(cfg: LbfConfig): number {
  return LBF_STATE_HEADER + 4 * cfg.numPlayers + 3 * cfg.numFood;
}

/**
 * Packs states into the GPU layout (see `shaders/envs/lbf/env.wgsl`).
 *
 * @param cfg Task parameters.
 * @param states One state per env.
 * @returns [numEnvs, stride] u32 words.
 */
export function packLbfStates(cfg: LbfConfig, states: readonly LbfState[]): Uint32Array {
  const stride = lbfStateStride(cfg);
  const out = new Uint32Array(states.length * stride);
  const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
  states.forEach((s, e) => {
    if (s.players.length !== cfg.numPlayers || s.food.length > cfg.numFood) {
      throw new TypeError(
        `Cannot pack LBF state ${e}: ${s.players.length} players and ${s.food.length} foods, task has ${cfg.numPlayers} and at most ${cfg.numFood}`,
      );
    }
    const base = e * stride;
    out.set([s.step, s.episode, s.foodSpawned], base);
    s.players.forEach((p, i) => out.set([p.row, p.col, p.level], base + LBF_STATE_HEADER + 3 * i));
    const fb = base + LBF_STATE_HEADER + 3 * cfg.numPlayers;
    [...s.food].sort((a, b) => a.row - b.row || a.col - b.col)
      .forEach((f, j) => out.set([f.row, f.col, f.level], fb + 3 * j));
    const sb = fb + 3 * cfg.numFood;
    s.scores.forEach((v, i) => {
      f32[0] = v;
      out[sb + i] = u32[0];
    });
  });
  return out;
}

/**
 * Unpacks GPU state words into states (eaten food slots dropped).
 *
 * @param cfg Task parameters.
 * @param words [numEnvs, stride] u32 words, as read from {@linkcode LbfEnv.state}.
 * @returns One state per env.
 */
export function unpackLbfStates(cfg: LbfConfig, words: Uint32Array): LbfState[] {
  const stride = lbfStateStride(cfg);
  const scores = new Float32Array(words.buffer, words.byteOffset, words.length);
  const out: LbfState[] = [];
  for (let base = 0; base + stride <= words.length; base += stride) {
    const players: LbfPlayer[] = [];
    for (let i = 0; i < cfg.numPlayers; i++) {
      const o = base + LBF_STATE_HEADER + 3 * i;
      players.push({ row: words[o], col: words[o + 1], level: words[o + 2] });
    }
    const food: LbfFood[] = [];
    const fb = base + LBF_STATE_HEADER + 3 * cfg.numPlayers;
    for (let j = 0; j < cfg.numFood; j++) {
      const o = fb + 3 * j;
      if (words[o + 2] > 0) food.push({ row: words[o], col: words[o + 1], level: words[o + 2] });
    }
    const sb = fb + 3 * cfg.numFood;
    out.push({
      step: words[base],
      episode: words[base + 1],
      players,
      food,
      foodSpawned: words[base + 2],
      scores: Array.from(scores.subarray(sb, sb + cfg.numPlayers)),
    });
  }
  return out;
}
