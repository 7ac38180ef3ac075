// Helpers of the LBF tests: a GPU env paired with the CPU reference, the comparison of everything
// the GPU env holds with the reference, random actions and random states, and task configs.
import { createLbfEnv, type LbfEnv } from "../../../envs/lbf/env.ts";
import { type LbfConfig, lbfSpec, type LbfState, parseLbfTask } from "../../../envs/lbf/state.ts";
import { LbfReferenceVec, lbfResetReference } from "../../../envs/lbf/reference.ts";
import type { Engine } from "../../../engine/device.ts";
import type { HostRng } from "../../../engine/rng.ts";
import { assertExact } from "../../_testing.ts";
import {
  assertEndedRows,
  assertEq,
  assertSameOutputs,
  biasedActions,
  type EnvPair,
  readEnv,
  resetWithStates,
  stepEnv,
} from "../_env_testing.ts";

/** A reference vec and a GPU env with the same config, seed and states. */
export interface Pair extends EnvPair<LbfReferenceVec, GpuResult> {
  cfg: LbfConfig;
}

export type GpuResult = Awaited<ReturnType<typeof readEnv<LbfState, LbfEnv["buffers"]>>>;

export async function makePair(
  engine: Engine,
  cfg: LbfConfig,
  options: { numEnvs: number; seed: number; states?: LbfState[] },
): Promise<Pair> {
  const env = await createLbfEnv(engine, lbfSpec(cfg), options);
  const ref = new LbfReferenceVec(cfg, options);
  resetWithStates(engine, env, ref, options.states);
  return {
    cfg,
    ref,
    read: () => readEnv(engine, env),
    step(actions) {
      stepEnv(engine, env, actions);
      ref.step(actions);
    },
  };
}

/** Compares everything the GPU env holds with the reference (obs only if `withObs`). */
export function assertSame(
  got: GpuResult,
  ref: LbfReferenceVec,
  what: string,
  withObs = true,
): void {
  const n = ref.numEnvs;
  for (let e = 0; e < n; e++) {
    const g = got.states[e], w = ref.states[e];
    assertEq(
      [g.step, g.episode, g.foodSpawned, g.players, g.food],
      [w.step, w.episode, w.foodSpawned, w.players, w.food],
      `${what} env ${e} state`,
    );
    assertExact(g.scores, w.scores, `${what} env ${e} scores`);
  }
  assertSameOutputs(got, ref, what, withObs);
  if (!withObs) return;
  // terminalObs is defined only for envs that ended at the last step.
  const ended = ref.terminated.map((t, e) => t | ref.truncated[e]);
  assertEndedRows(got.terminalObs, ref.terminalObs, ended, ref.cfg.numPlayers, what);
}

/** Agent-major random actions, LOAD drawn with probability `pLoad`. */
export function randomActions(
  rng: HostRng,
  cfg: LbfConfig,
  numEnvs: number,
  pLoad = 0.3,
): Uint32Array {
  return biasedActions(rng, cfg.numPlayers * numEnvs, { numActions: 6, favoured: 5, p: pLoad });
}

/**
 * A random state reachable by the rules or close to it: a reset, then players moved anywhere off
 * food (overlaps included, half of them next to a food), random levels, some foods eaten, a
 * random step count, normaliser and scores.
 */
export function randomState(cfg: LbfConfig, rng: HostRng, env: number): LbfState {
  const s = lbfResetReference(cfg, {
    seed: rng.u32(),
    env,
    episode: rng.below(1000),
    previous: null,
  });
  const food = s.food.filter(() => rng.unit() < 0.8);
  const onFood = (r: number, c: number) => food.some((f) => f.row === r && f.col === c);
  const players = s.players.map(() => {
    for (;;) {
      let row = rng.below(cfg.rows), col = rng.below(cfg.cols);
      if (food.length > 0 && rng.unit() < 0.5) {
        const f = food[rng.below(food.length)];
        const [dr, dc] = [[-1, 0], [1, 0], [0, -1], [0, 1]][rng.below(4)];
        row = f.row + dr;
        col = f.col + dc;
      }
      const inside = row >= 0 && row < cfg.rows && col >= 0 && col < cfg.cols;
      if (inside && !onFood(row, col)) {
        const level = cfg.minPlayerLevel + rng.below(cfg.maxPlayerLevel - cfg.minPlayerLevel + 1);
        return { row, col, level };
      }
    }
  });
  // Overlap some players (the reference's overlap bug can produce this).
  if (rng.unit() < 0.3) players[1] = { ...players[0], level: players[1].level };
  const remaining = food.reduce((t, f) => t + f.level, 0);
  return {
    step: rng.below(cfg.maxEpisodeSteps),
    episode: rng.below(1000),
    players,
    food,
    foodSpawned: Math.max(1, remaining + rng.below(40)),
    scores: players.map(() => Math.fround(rng.unit())),
  };
}

export function task(name: string, extra: Partial<LbfConfig> = {}): LbfConfig {
  const cfg = parseLbfTask(name);
  if (!cfg) throw new Error(`unknown task ${name}`);
  return { ...cfg, ...extra };
}
