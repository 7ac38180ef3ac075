/**
 * CPU reference of Level-Based Foraging (`Foraging-*-v3`, spec `docs/envs/lbf.md`),
 * written from the spec in plain TypeScript: objects, maps and sets, one env at a time. It is the
 * ground truth the GPU kernel (`envs/lbf/env.ts`, `shaders/envs/lbf/env.wgsl`) is tested against and
 * it replays the golden files of the original Python env.
 *
 * Randomness exists only at reset. The draw order follows the reference (§3), but the numbers
 * come from the project's counter-based RNG (`engine/rng.ts`) so that GPU and CPU resets agree
 * bit for bit: draw `d` of a reset is `rngU32(seed, RNG_PURPOSE.envReset, env, stream, episode, d)`
 * with these streams and draw indices:
 * - player `p` (stream `p`): attempt `k` uses draw `2k` for the row and `2k + 1` for the column;
 *   its level uses draw 2000.
 * - food placement (stream `numPlayers`): attempt `k` uses draws `2k` (row) and `2k + 1` (col).
 * - food levels (stream `numPlayers + 1`): the `j`-th placed food uses draw `j` (only when its
 *   level range has more than one value; either way no other draw moves).
 * The reference's permutations of scalar level bounds have no effect and are not drawn. With
 * `foodLevels: "v0"` the levels follow lbforaging v0 (docs/envs/lbf.md §10): cap = sum of all
 * player levels, and a non-cooperative food's level is `randint(1, cap)`, i.e. uniform in
 * [1, cap − 1] (exactly 1 when cap = 1), drawn as above. With `timeLimit: "truncate"` an episode
 * that reaches the step limit with food left is truncated, not terminated.
 * Rewards and scores are float32 values (`Math.fround`), as the GPU stores them.
 *
 * @module
 */
import { RNG_PURPOSE, rngBelow, rngU32 } from "../../engine/rng.ts";
import { checkLbfConfig, type LbfConfig, type LbfState } from "./state.ts";
import { ReferenceVec, type SingleEnvReference } from "../reference_vec.ts";

/** Action ids of LBF. */
export const LBF_ACTIONS = Object.freeze({
  none: 0,
  north: 1,
  south: 2,
  west: 3,
  east: 4,
  load: 5,
});

const MOVES: Readonly<Record<number, readonly [number, number]>> = {
  [LBF_ACTIONS.north]: [-1, 0],
  [LBF_ACTIONS.south]: [1, 0],
  [LBF_ACTIONS.west]: [0, -1],
  [LBF_ACTIONS.east]: [0, 1],
};

/** Reset attempts per player and in total for foods (the reference's 1000). */
const ATTEMPTS = 1000;

/** What one reference step returns. */
export interface LbfStepResult {
  /** State after the step (before any reset). */
  state: LbfState;
  /** Actions after invalid → NONE. */
  effectiveActions: number[];
  /** Per-player reward (float32 values). */
  rewards: number[];
  /**
   * The episode ended by the rules (no food left) or, with `timeLimit: "terminate"` (the
   * reference, quirk L4), by the time limit.
   */
  terminated: boolean;
  /** With `timeLimit: "truncate"`: the time limit ended an episode that still has food. */
  truncated: boolean;
}

function key(row: number, col: number): string {
  return `${row},${col}`;
}

function foodMap(state: LbfState): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of state.food) if (f.level > 0) m.set(key(f.row, f.col), f.level);
  return m;
}

/**
 * The valid action sets (§4), ascending ids, per player, from the positions in `state`.
 *
 * @param cfg Task parameters.
 * @param state Current state.
 * @returns One ascending list of action ids per player.
 */
export function lbfValidActionsReference(cfg: LbfConfig, state: LbfState): number[][] {
  const food = foodMap(state);
  const at = (r: number, c: number) => food.get(key(r, c)) ?? 0;
  return state.players.map(({ row, col }) => {
    const valid: number[] = [LBF_ACTIONS.none];
    for (const a of [LBF_ACTIONS.north, LBF_ACTIONS.south, LBF_ACTIONS.west, LBF_ACTIONS.east]) {
      const [dr, dc] = MOVES[a];
      const r = row + dr, c = col + dc;
      const inside = r >= 0 && r < cfg.rows && c >= 0 && c < cfg.cols;
      if (inside && at(r, c) === 0) valid.push(a);
    }
    // LOAD: any food among the four neighbours, indices clamped at the border.
    const around = at(Math.max(row - 1, 0), col) + at(Math.min(row + 1, cfg.rows - 1), col) +
      at(row, Math.max(col - 1, 0)) + at(row, Math.min(col + 1, cfg.cols - 1));
    if (around > 0) valid.push(LBF_ACTIONS.load);
    return valid;
  });
}

function cloneState(s: LbfState): LbfState {
  return {
    step: s.step,
    episode: s.episode,
    players: s.players.map((p) => ({ ...p })),
    food: s.food.map((f) => ({ ...f })),
    foodSpawned: s.foodSpawned,
    scores: [...s.scores],
  };
}

/**
 * One step of one env (§5): validity, movement with collision rules, loading, rewards, scores,
 * game over. Does not reset.
 *
 * @param cfg Task parameters.
 * @param state State before the step (not modified).
 * @param actions One action id per player.
 * @returns The state after, effective actions, rewards and flags.
 */
export function lbfStepReference(
  cfg: LbfConfig,
  state: LbfState,
  actions: readonly number[],
): LbfStepResult {
  if (actions.length !== cfg.numPlayers) {
    throw new TypeError(
      `Cannot step LBF reference: got ${actions.length} actions, task has ${cfg.numPlayers} players`,
    );
  }
  const next = cloneState(state);
  next.step += 1;
  const rewards = next.players.map(() => 0);

  // Invalid actions become NONE.
  const valid = lbfValidActionsReference(cfg, state);
  const eff = actions.map((a, i) => (valid[i].includes(a) ? a : LBF_ACTIONS.none));

  // Every player claims a cell; cells with a single claimant are taken.
  const claims = new Map<string, number[]>();
  const targets = next.players.map((p, i) => {
    const [dr, dc] = MOVES[eff[i]] ?? [0, 0];
    const t = { row: p.row + dr, col: p.col + dc };
    const k = key(t.row, t.col);
    claims.set(k, [...(claims.get(k) ?? []), i]);
    return t;
  });
  for (const who of claims.values()) {
    if (who.length !== 1) continue;
    const i = who[0];
    next.players[i].row = targets[i].row;
    next.players[i].col = targets[i].col;
  }

  // Loading: groups of LOAD players around the same food.
  const field = foodMap(next);
  const loading = new Set<number>();
  eff.forEach((a, i) => {
    if (a === LBF_ACTIONS.load) loading.add(i);
  });
  const adjacent = (a: { row: number; col: number }, b: { row: number; col: number }) =>
    Math.abs(a.row - b.row) + Math.abs(a.col - b.col) === 1;
  while (loading.size > 0) {
    const i = loading.values().next().value as number;
    const p = next.players[i];
    // The food next to p: north, south, west, east.
    const spot = [[-1, 0], [1, 0], [0, -1], [0, 1]]
      .map(([dr, dc]) => ({ row: p.row + dr, col: p.col + dc }))
      .find((c) => (field.get(key(c.row, c.col)) ?? 0) > 0);
    if (!spot) { // cannot happen for a validated LOAD; drop the player
      loading.delete(i);
      continue;
    }
    const level = field.get(key(spot.row, spot.col))!;
    const group = [...loading].filter((j) => j === i || adjacent(next.players[j], spot));
    for (const j of group) loading.delete(j);
    const groupLevel = group.reduce((s, j) => s + next.players[j].level, 0);
    if (groupLevel < level) {
      for (const j of group) rewards[j] = Math.fround(rewards[j] - cfg.penalty);
      continue;
    }
    for (const j of group) {
      const raw = next.players[j].level * level;
      rewards[j] = cfg.normalizeReward
        ? Math.fround(raw / (groupLevel * next.foodSpawned))
        : Math.fround(raw);
    }
    field.delete(key(spot.row, spot.col));
  }
  next.food = next.food.filter((f) => field.has(key(f.row, f.col)));

  const cleared = next.food.length === 0, timeUp = next.step >= cfg.maxEpisodeSteps;
  const truncated = timeUp && !cleared && cfg.timeLimit === "truncate";
  const terminated = cleared || (timeUp && !truncated);
  next.scores = next.scores.map((s, i) => Math.fround(s + rewards[i]));
  return { state: next, effectiveActions: eff, rewards, terminated, truncated };
}

/**
 * Observations (§7, vector mode) of every player: `[3·numFood + 3·numPlayers]` each, food
 * triples then player triples (self first), coordinates relative to the view window.
 *
 * @param cfg Task parameters.
 * @param state Current state.
 * @returns One Float32Array per player.
 */
export function lbfObsReference(cfg: LbfConfig, state: LbfState): Float32Array[] {
  const s = cfg.sight;
  const foodsRowMajor = [...state.food].filter((f) => f.level > 0)
    .sort((a, b) => a.row - b.row || a.col - b.col);
  return state.players.map((me, i) => {
    const out = new Float32Array(3 * cfg.numFood + 3 * cfg.numPlayers);
    const top = Math.max(me.row - s, 0), left = Math.max(me.col - s, 0);
    const bottom = Math.min(me.row + s + 1, cfg.rows), right = Math.min(me.col + s + 1, cfg.cols);
    const seenFood = foodsRowMajor.filter((f) =>
      f.row >= top && f.row < bottom && f.col >= left && f.col < right
    );
    const rel = (p: { row: number; col: number; level: number }) => [
      p.row - top,
      p.col - left,
      p.level,
    ];
    const inSquare = (r: number, c: number) => r >= 0 && c >= 0 && r <= 2 * s && c <= 2 * s;
    const others = state.players.filter((_, j) => j !== i).map(rel)
      .filter(([r, c]) => inSquare(r, c));
    const foodTriples = seenFood.map(rel);
    const playerTriples = [rel(me), ...others];
    const put = (base: number, count: number, triples: number[][]) => {
      for (let k = 0; k < count; k++) {
        const t = triples[k] ?? [-1, -1, 0];
        out.set(t, base + 3 * k);
      }
    };
    put(0, cfg.numFood, foodTriples);
    put(3 * cfg.numFood, cfg.numPlayers, playerTriples);
    return out;
  });
}

/**
 * Resets one env (§3) with the project RNG (see the module doc for the draws).
 *
 * @param cfg Task parameters.
 * @param options `seed`, env index `env`, `episode` index (the RNG step), and `previous`: the
 *   final state of the episode that just ended (its player positions block spawning until each
 *   player is re-placed; a player that finds no free cell keeps position, level and score), or
 *   null for a fresh env.
 * @returns The new state (step 0, scores 0).
 */
export function lbfResetReference(
  cfg: LbfConfig,
  options: {
    seed: number;
    env: number;
    episode: number;
    previous: LbfState | null;
  },
): LbfState {
  checkLbfConfig(cfg, "LBF reference");
  const { seed, env, episode } = options;
  const draw = (stream: number, d: number) =>
    rngU32(seed >>> 0, RNG_PURPOSE.envReset, env, stream, episode, d);
  const P = cfg.numPlayers;
  // Positions currently held: stale ones from the last episode until each player is re-placed.
  const prev = options.previous;
  const held: ({ row: number; col: number } | null)[] = prev
    ? prev.players.map((p) => ({ row: p.row, col: p.col }))
    : new Array(P).fill(null);
  const players = prev
    ? prev.players.map((p) => ({ ...p }))
    : Array.from({ length: P }, () => ({ row: 0, col: 0, level: 0 }));
  const scores: number[] = prev ? [...prev.scores] : new Array(P).fill(0);
  for (let p = 0; p < P; p++) {
    for (let k = 0; k < ATTEMPTS; k++) {
      const row = rngBelow(draw(p, 2 * k), cfg.rows);
      const col = rngBelow(draw(p, 2 * k + 1), cfg.cols);
      if (held.some((h) => h !== null && h.row === row && h.col === col)) continue;
      const span = cfg.maxPlayerLevel - cfg.minPlayerLevel + 1;
      const level = cfg.minPlayerLevel + rngBelow(draw(p, 2 * ATTEMPTS), span);
      players[p] = { row, col, level };
      held[p] = { row, col };
      scores[p] = 0;
      break;
    }
  }

  // Food levels. v3: up to the sum of the three lowest player levels, exactly that with
  // force_coop. v0: cap is the sum of all levels, a non-coop level is randint(1, cap) (exclusive
  // upper bound) unless cap = 1, a coop level is cap.
  const v0 = cfg.foodLevels === "v0";
  const cap = players.map((p) => p.level).sort((a, b) => a - b).slice(0, v0 ? P : 3)
    .reduce((s, l) => s + l, 0);
  const lo = cfg.forceCoop ? cap : cfg.minFoodLevel;
  const hi = v0 && lo !== cap ? cap - 1 : cap;
  const food: { row: number; col: number; level: number }[] = [];
  const taken = new Set(players.map((p) => key(p.row, p.col)));
  for (let k = 0; k < ATTEMPTS && food.length < cfg.numFood; k++) {
    const row = 1 + rngBelow(draw(P, 2 * k), cfg.rows - 2);
    const col = 1 + rngBelow(draw(P, 2 * k + 1), cfg.cols - 2);
    const crowded = food.some((f) => {
      const dr = Math.abs(f.row - row), dc = Math.abs(f.col - col);
      return (dr <= 1 && dc <= 1) || (dr === 0 && dc <= 2) || (dc === 0 && dr <= 2);
    });
    if (crowded || taken.has(key(row, col))) continue;
    const level = lo === hi ? lo : lo + rngBelow(draw(P + 1, food.length), hi - lo + 1);
    food.push({ row, col, level });
  }
  food.sort((a, b) => a.row - b.row || a.col - b.col);
  return {
    step: 0,
    episode,
    players,
    food,
    foodSpawned: food.reduce((s, f) => s + f.level, 0),
    scores,
  };
}

/**
 * The LBF reference as the hooks of a {@linkcode ReferenceVec}: reset of episode 0, auto-reset
 * (episode + 1, the ended episode's positions stale) and observations.
 *
 * @param cfg Task parameters.
 * @param seed Seed of every env's stream.
 * @returns The single-env hooks.
 */
export function lbfReference(
  cfg: LbfConfig,
  seed: number,
): SingleEnvReference<LbfState, LbfStepResult> {
  return {
    numAgents: cfg.numPlayers,
    obsDim: 3 * cfg.numFood + 3 * cfg.numPlayers,
    reset: (env) => lbfResetReference(cfg, { seed, env, episode: 0, previous: null }),
    next: (env, ended) =>
      lbfResetReference(cfg, { seed, env, episode: ended.episode + 1, previous: ended }),
    step: (_env, state, actions) => lbfStepReference(cfg, state, actions),
    observe: (state) => lbfObsReference(cfg, state),
    episodeStep: (state) => state.step,
    clone: cloneState,
  };
}

/**
 * `numEnvs` reference envs stepped together with the GPU env's semantics: agent-major actions,
 * auto-reset (episode + 1, stale positions) and terminal observations.
 */
export class LbfReferenceVec extends ReferenceVec<LbfState, Float32Array, LbfStepResult> {
  readonly cfg: LbfConfig;
  readonly seed: number;

  /**
   * Resets every env to episode 0.
   *
   * @param cfg Task parameters.
   * @param options Number of envs and the seed.
   */
  constructor(cfg: LbfConfig, options: { numEnvs: number; seed: number }) {
    super(lbfReference(cfg, options.seed), { numEnvs: options.numEnvs, obsType: Float32Array });
    this.cfg = cfg;
    this.seed = options.seed;
  }
}
