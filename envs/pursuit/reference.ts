/**
 * CPU reference of Pursuit (PettingZoo SISL `pursuit_v5`, spec `docs/envs/pursuit.md`),
 * written from the spec in plain TypeScript, one env at a time. A cycle is played as the reference
 * plays it: eight sub-steps, each moving one pursuer and computing the tag-reward vector of all
 * pursuers, the capture and evader moves in the last one, and the parallel wrapper's float64 sum
 * of the sub-step vectors. It is the ground truth the GPU kernels (`envs/pursuit/env.ts`) are tested
 * against and it replays the golden files of the original Python env.
 *
 * Randomness: the draws follow the reference's order (§4, §6 step 4b) but come from the project's
 * counter-based RNG (`engine/rng.ts`), so that GPU and CPU agree bit for bit:
 * - reset of episode `ep` of env `env`: agent `b` (pursuers 0…N−1, then evader `j` as N + j),
 *   attempt `k` draws x = below(xSize) from draw 2k and y = below(ySize) from draw 2k + 1 of
 *   `rngU32(seed, RNG_PURPOSE.envReset, env, b, ep, ·)`. After 1000 rejected attempts (the
 *   reference would go on forever) the agent takes the first open cell in x-major order.
 * - evader `id`'s move in a cycle: below(5) of `rngU32(seed, RNG_PURPOSE.envStep, env, id,
 *   cycles, 0)`, `cycles` counting all cycles the env has played. Replays inject recorded moves.
 * `constraint_window` must be 1 (the whole map; its two uniform draws are not needed).
 *
 * @module
 */
import { RNG_PURPOSE, rngBelow, rngU32 } from "../../engine/rng.ts";
import type { PursuitCell, PursuitConfig, PursuitEvader, PursuitState } from "./env.ts";
import { ReferenceVec, type SingleEnvReference } from "../reference_vec.ts";

/** Displacement (dx, dy) of each action (spec §5). */
export const PURSUIT_MOVES: readonly (readonly [number, number])[] = Object.freeze([
  [-1, 0],
  [1, 0],
  [0, 1],
  [0, -1],
  [0, 0],
]);

/** Rejected placement attempts after which the first open cell is taken. */
const ATTEMPTS = 1000;

/** What one reference cycle returns. */
export interface PursuitStepResult {
  /** State after the cycle (before any reset). */
  state: PursuitState;
  /** Per-pursuer reward, float64, summed over the sub-steps as the parallel wrapper does. */
  rewards: number[];
  terminated: boolean;
  truncated: boolean;
  /** Ids of the evaders caught in this cycle. */
  caught: number[];
  /** Per pursuer: took part in a capture. */
  catchers: boolean[];
  /** The move of each evader that survived the capture (ids of `state.evaders`, same order). */
  evaderActions: number[];
}

/** Chooses the move of a surviving evader (its id and position among the survivors). */
export type EvaderPolicy = (id: number, index: number) => number;

/**
 * The obstacle grid of `rectangle_map(x_size, y_size)` (spec §3), indexed [x][y].
 *
 * @param cfg Task parameters.
 * @returns true where the cell is a building.
 */
export function pursuitMapReference(cfg: PursuitConfig): boolean[][] {
  const xb = 0.3, yb = 0.2;
  return Array.from({ length: cfg.xSize }, (_, x) =>
    Array.from({ length: cfg.ySize }, (_, y) => {
      const rx = x / cfg.xSize, ry = y / cfg.ySize;
      return xb < rx && rx < 1 - xb && yb < ry && ry < 1 - yb;
    }));
}

function isOpen(cfg: PursuitConfig, map: boolean[][], x: number, y: number): boolean {
  return x >= 0 && x < cfg.xSize && y >= 0 && y < cfg.ySize && !map[x][y];
}

function move(cfg: PursuitConfig, map: boolean[][], c: PursuitCell, action: number): PursuitCell {
  const d = PURSUIT_MOVES[action] ?? [0, 0];
  const x = c.x + d[0], y = c.y + d[1];
  return isOpen(cfg, map, x, y) ? { x, y } : { x: c.x, y: c.y };
}

function countGrid(cfg: PursuitConfig, cells: readonly PursuitCell[]): number[][] {
  const g = Array.from({ length: cfg.xSize }, () => new Array<number>(cfg.ySize).fill(0));
  for (const c of cells) g[c.x][c.y] += 1;
  return g;
}

function clip(v: number, hi: number): number {
  return Math.min(Math.max(v, 0), hi);
}

/** Tag count of a pursuer at `c` (§7.1): evaders on the clamped 4-neighbourhood. */
function tagCount(cfg: PursuitConfig, evaderGrid: number[][], c: PursuitCell): number {
  const xm = cfg.xSize - 1, ym = cfg.ySize - 1;
  return evaderGrid[clip(c.x - 1, xm)][c.y] + evaderGrid[clip(c.x + 1, xm)][c.y] +
    evaderGrid[c.x][clip(c.y + 1, ym)] + evaderGrid[c.x][clip(c.y - 1, ym)];
}

/** Open neighbours an evader at (x, y) needs surrounded (§6.1, with quirk Q5). */
function needToSurround(cfg: PursuitConfig, map: boolean[][], x: number, y: number): number {
  let need = 4;
  if (x === 0 || x === cfg.xSize - 1) need -= 1;
  if (y === 0 || y === cfg.ySize - 1) need -= 1;
  for (const [dx, dy] of PURSUIT_MOVES.slice(0, 4)) {
    const nx = x + dx, ny = y + dy;
    if (!(0 < nx && nx < cfg.xSize) || !(0 < ny && ny < cfg.ySize)) continue;
    if (map[nx][ny]) need -= 1;
  }
  return need;
}

/**
 * One cycle (§6) of one env: pursuers move one by one, each sub-step's tag vector is added to the
 * rewards; after the last move, capture, evader moves, catch and urgency rewards, `frames + 1`.
 *
 * @param cfg Task parameters.
 * @param state State before the cycle (not modified).
 * @param actions One action per pursuer.
 * @param evaderPolicy Move of each surviving evader.
 * @returns The state after the cycle, rewards, flags and what happened.
 */
export function pursuitStepReference(
  cfg: PursuitConfig,
  state: PursuitState,
  actions: readonly number[],
  evaderPolicy: EvaderPolicy,
): PursuitStepResult {
  const N = cfg.numPursuers;
  const map = pursuitMapReference(cfg);
  const pursuers = state.pursuers.map((p) => ({ ...p }));
  let evaders = state.evaders.map((v) => ({ ...v }));
  const evaderGrid = countGrid(cfg, evaders);
  const rewards = new Array<number>(N).fill(0);
  const catchers = new Array<boolean>(N).fill(false);
  const caught: number[] = [];
  const evaderActions: number[] = [];
  const localRatio = 1 - Number(cfg.sharedReward);
  for (let k = 0; k < N; k++) {
    pursuers[k] = move(cfg, map, pursuers[k], actions[k]);
    const vec = pursuers.map((p) => (cfg.tagReward * tagCount(cfg, evaderGrid, p)) / N);
    if (k === N - 1) {
      const pursuerGrid = countGrid(cfg, pursuers);
      const survivors: PursuitEvader[] = [];
      for (const v of evaders) {
        let isCaught: boolean;
        let takesPart: (p: PursuitCell) => boolean;
        if (cfg.surround) {
          let have = 0;
          for (const [dx, dy] of PURSUIT_MOVES.slice(0, 4)) {
            const nx = v.x + dx, ny = v.y + dy;
            if (nx >= 0 && nx < cfg.xSize && ny >= 0 && ny < cfg.ySize && pursuerGrid[nx][ny] > 0) {
              have += 1;
            }
          }
          isCaught = have === needToSurround(cfg, map, v.x, v.y);
          takesPart = (p) => Math.abs(p.x - v.x) + Math.abs(p.y - v.y) === 1;
        } else {
          isCaught = pursuerGrid[v.x][v.y] >= cfg.numCatch;
          takesPart = (p) => p.x === v.x && p.y === v.y;
        }
        if (isCaught) {
          caught.push(v.id);
          pursuers.forEach((p, i) => (catchers[i] ||= takesPart(p)));
        } else {
          survivors.push(v);
        }
      }
      evaders = survivors.map((v, index) => {
        const a = cfg.freezeEvaders ? 4 : evaderPolicy(v.id, index);
        evaderActions.push(a);
        return { id: v.id, ...move(cfg, map, v, a) };
      });
      for (let i = 0; i < N; i++) {
        vec[i] += cfg.catchReward * (catchers[i] ? 1 : 0);
        vec[i] += cfg.urgencyReward;
      }
    }
    const mean = vec.reduce((s, r) => s + r, 0) / N;
    for (let i = 0; i < N; i++) rewards[i] += localRatio * vec[i] + (1 - localRatio) * mean;
  }
  const frames = state.frames + 1;
  const truncated = frames >= cfg.maxCycles;
  const terminated = !truncated && evaders.length === 0;
  return {
    state: {
      frames,
      episode: state.episode,
      cycles: state.cycles + 1,
      pursuers,
      evaders,
    },
    rewards,
    terminated,
    truncated,
    caught,
    catchers,
    evaderActions,
  };
}

/**
 * Observations (§8) of every pursuer: `obsRange × obsRange × 3` counts, index
 * `(Y·R + X)·3 + c` for cell (x_p + X − R/2, y_p + Y − R/2).
 *
 * @param cfg Task parameters.
 * @param state Current state.
 * @returns One array per pursuer.
 */
export function pursuitObsReference(cfg: PursuitConfig, state: PursuitState): Uint8Array[] {
  const map = pursuitMapReference(cfg);
  const pg = countGrid(cfg, state.pursuers), eg = countGrid(cfg, state.evaders);
  const R = cfg.obsRange, off = (R - 1) / 2;
  return state.pursuers.map((p) => {
    const o = new Uint8Array(R * R * 3);
    for (let Y = 0; Y < R; Y++) {
      for (let X = 0; X < R; X++) {
        const x = p.x - off + X, y = p.y - off + Y, at = (Y * R + X) * 3;
        const inside = x >= 0 && x < cfg.xSize && y >= 0 && y < cfg.ySize;
        o[at] = !inside || map[x][y] ? 1 : 0;
        o[at + 1] = inside ? pg[x][y] : 0;
        o[at + 2] = inside ? eg[x][y] : 0;
      }
    }
    return o;
  });
}

/**
 * A reset (§4): pursuers, then evaders, each rejection-sampled onto an open cell that is neither
 * on nor 4-adjacent to an agent of its own kind placed before it.
 *
 * @param cfg Task parameters.
 * @param at Seed, env index, episode index and the env's cycle counter to keep.
 * @returns The new state (frames 0, all evaders alive).
 */
export function pursuitResetReference(
  cfg: PursuitConfig,
  at: { seed: number; env: number; episode: number; cycles: number },
): PursuitState {
  const map = pursuitMapReference(cfg);
  const place = (agent: number, earlier: PursuitCell[]): PursuitCell => {
    const draw = (d: number) => rngU32(at.seed, RNG_PURPOSE.envReset, at.env, agent, at.episode, d);
    for (let k = 0; k < ATTEMPTS; k++) {
      const x = rngBelow(draw(2 * k), cfg.xSize), y = rngBelow(draw(2 * k + 1), cfg.ySize);
      const clash = earlier.some((c) => Math.abs(c.x - x) + Math.abs(c.y - y) <= 1);
      if (!map[x][y] && !clash) return { x, y };
    }
    for (let x = 0; x < cfg.xSize; x++) {
      for (let y = 0; y < cfg.ySize; y++) if (!map[x][y]) return { x, y };
    }
    throw new RangeError(
      `Cannot reset Pursuit: the ${cfg.xSize}x${cfg.ySize} map has no open cell`,
    );
  };
  const pursuers: PursuitCell[] = [];
  for (let i = 0; i < cfg.numPursuers; i++) pursuers.push(place(i, pursuers));
  const evaders: PursuitEvader[] = [];
  for (let j = 0; j < cfg.numEvaders; j++) {
    evaders.push({ id: j, ...place(cfg.numPursuers + j, evaders) });
  }
  return { frames: 0, episode: at.episode, cycles: at.cycles, pursuers, evaders };
}

/** The drawn move of evader `id` of env `env` in the env's cycle number `cycles`. */
export function pursuitEvaderDraw(seed: number, env: number, id: number, cycles: number): number {
  return rngBelow(rngU32(seed, RNG_PURPOSE.envStep, env, id, cycles, 0), 5);
}

function cloneState(s: PursuitState): PursuitState {
  return {
    ...s,
    pursuers: s.pursuers.map((p) => ({ ...p })),
    evaders: s.evaders.map((v) => ({ ...v })),
  };
}

/**
 * The Pursuit reference as the hooks of a {@linkcode ReferenceVec}: reset of episode 0, auto-reset
 * (episode + 1, the env's cycle count kept) and observations. A step's extra input is optional
 * [numEnvs, numEvaders] evader moves by id (else drawn).
 *
 * @param cfg Task parameters.
 * @param seed Seed of every env's stream.
 * @returns The single-env hooks.
 */
export function pursuitReference(
  cfg: PursuitConfig,
  seed: number,
): SingleEnvReference<PursuitState, PursuitStepResult, ArrayLike<number> | undefined> {
  const E = cfg.numEvaders;
  return {
    numAgents: cfg.numPursuers,
    obsDim: cfg.obsRange * cfg.obsRange * 3,
    reset: (env) => pursuitResetReference(cfg, { seed, env, episode: 0, cycles: 0 }),
    next: (env, ended) =>
      pursuitResetReference(cfg, {
        seed,
        env,
        episode: ended.episode + 1,
        cycles: ended.cycles,
      }),
    step(env, state, actions, evaderActions) {
      const policy: EvaderPolicy = evaderActions
        ? (id) => evaderActions[env * E + id]
        : (id) => pursuitEvaderDraw(seed, env, id, state.cycles);
      return pursuitStepReference(cfg, state, actions, policy);
    },
    observe: (state) => pursuitObsReference(cfg, state),
    episodeStep: (state) => state.frames,
    clone: cloneState,
  };
}

/**
 * `numEnvs` reference envs stepped with the GPU env's semantics: agent-major actions, rewards as
 * f32, auto-reset (episode + 1) and terminal observations; `step(actions, evaderActions?)`.
 */
export class PursuitReferenceVec extends ReferenceVec<
  PursuitState,
  Uint8Array,
  PursuitStepResult,
  ArrayLike<number> | undefined
> {
  readonly cfg: PursuitConfig;
  readonly seed: number;

  /**
   * Resets every env to episode 0.
   *
   * @param cfg Task parameters.
   * @param options Number of envs and the seed.
   */
  constructor(cfg: PursuitConfig, options: { numEnvs: number; seed: number }) {
    super(pursuitReference(cfg, options.seed), { numEnvs: options.numEnvs, obsType: Uint8Array });
    this.cfg = cfg;
    this.seed = options.seed;
  }
}
