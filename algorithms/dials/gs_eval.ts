/**
 * The GS baseline with DIALS's evaluation protocol: {@linkcode PPO_GS_EVALUATED} is `PPO_GS`
 * (`gs.ts`) whose trainers also act on separate evaluation envs of the global simulator with the
 * agents' current policies (`ppo/eval_actor.ts`), so the GS curve is evaluated as DIALS's is:
 * every `evalFreq` agent steps, `evalEpisodes` episodes on each of `gsEnvs` copies, stochastic
 * policy, mean per agent ("mean episodic return").
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import { createPpoEvalActor } from "../ppo/eval_actor.ts";
import type { AlgorithmDef, EvalActor, EvalProtocol, RunConfig, Trainer } from "../trainer.ts";
import type { DialsConfig } from "./config.ts";
import { PPO_GS, type PpoAgents } from "./gs.ts";

/**
 * The GS baseline's protocol: DIALS's GS evaluation (`dialsEvalProtocol` in `mod.ts`) on separate
 * evaluation envs seeded with the run seed + 1.
 *
 * @param _run The run (unused).
 * @param algo The hyper-parameters.
 * @returns The protocol, `runner: "evaluator"`.
 */
export function ppoGsEvalProtocol(_run: RunConfig, algo: Readonly<DialsConfig>): EvalProtocol {
  return Object.freeze({
    name: "mean episodic return",
    bestName: "best mean episodic return",
    runner: "evaluator",
    source: "Suau et al. 2022 (DIALS), GS evaluation of the GS baseline (algo.evalFreq, …)",
    interval: algo.evalFreq,
    intervalFraction: 0,
    episodes: algo.evalEpisodes * algo.gsEnvs,
    policy: "stochastic",
    returns: "agent",
    envs: algo.gsEnvs,
    seed: 1,
    best: false,
  });
}

/** `PPO_GS` with its evaluation (see the module doc). */
export const PPO_GS_EVALUATED: AlgorithmDef<DialsConfig> = Object.freeze({
  ...PPO_GS,
  evalProtocol: ppoGsEvalProtocol,
  async create(engine: Engine, run: RunConfig, algo: DialsConfig): Promise<Trainer> {
    return evaluated(engine, await PPO_GS.create(engine, run, algo));
  },
  /**
   * Seeds batched (`PPO_GS.createSeeds`): the product evaluates each seed on a one-seed trainer
   * into which it copies the seed's `policyTensors` (docs/statistics.md §8).
   */
  async createSeeds(
    engine: Engine,
    run: RunConfig,
    algo: DialsConfig,
    seeds: number,
  ): Promise<Trainer> {
    return evaluated(engine, await PPO_GS.createSeeds!(engine, run, algo, seeds));
  },
});

/** The trainer with its evaluation actor (one seed only) and policy tensors. */
function evaluated(engine: Engine, t: Trainer): Trainer {
  const trainer = t as Trainer & { agents: PpoAgents };
  const { net, spec } = trainer.agents;
  return Object.assign(trainer, {
    createEvalActor: (env: VecEnv, o: { seed: number }): Promise<EvalActor> => {
      if ((trainer.seeds ?? 1) > 1) {
        throw new TypeError(
          `Cannot evaluate "ppo_gs" with ${trainer.seeds} seeds batched: evaluate each seed's weights on a one-seed trainer`,
        );
      }
      return createPpoEvalActor(engine, { net, spec, env, seed: o.seed, label: "ppo_gs.eval" });
    },
    policyTensors: (): Record<string, Tensor> => ({ "ppo.net.params": net.params }),
  });
}
