/**
 * Acting with independent PPO agents' current policies on another env (evaluation): the trunk
 * (GRU or MLP; the shared policy's chained GRU when the net has one block for several agents)
 * reads the env's observations through the agents' parameters (no copy) with its own recurrent
 * state, and the rollout's acting kernels sample (own RNG stream) or take the argmax,
 * storing nothing; after each env step the recurrent state is carried, or zeroed where an episode
 * ended. Used through `Trainer.createEvalActor` (algorithms/evaluation.ts).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Net } from "../../engine/nn/net.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { VecEnv } from "../../envs/env.ts";
import type { EvalActor } from "../trainer.ts";
import { createSharedActor, createTrunkActor, type TrunkSpec } from "./policy.ts";
import { createPpoRollout } from "./rollout.ts";

/**
 * Builds the actor on `o.env`'s observations: `encodeBegin` zeroes its recurrent state,
 * `encodeAct` records the trunk forward and the actions, `encodeAfterStep` the state commit.
 *
 * @param engine Engine of the trainer.
 * @param o The agents' Net and trunk spec, the env (same task, any numEnvs), the seed of the
 *   actor's RNG stream and a label.
 * @returns The {@linkcode EvalActor}; its state is the rollout's counter (the RNG step).
 */
export async function createPpoEvalActor(
  engine: Engine,
  o: { net: Net; spec: TrunkSpec; env: VecEnv; seed: number; label: string },
): Promise<EvalActor> {
  const b = o.env.buffers, N = o.env.spec.numAgents, E = o.env.numEnvs;
  // One parameter block for several agents: the GS baseline's shared policy (gsPolicy "shared").
  const actor = o.net.numAgents === 1 && N > 1
    ? await createSharedActor(engine, {
      net: o.net,
      spec: o.spec,
      x: b.obs,
      numAgents: N,
      numEnvs: E,
      terminated: b.terminated,
      truncated: b.truncated,
      label: `${o.label}.actor`,
    })
    : await createTrunkActor(engine, {
      net: o.net,
      spec: o.spec,
      x: b.obs,
      numEnvs: E,
      label: `${o.label}.actor`,
    });
  const rollout = await createPpoRollout(engine, {
    env: o.env,
    actor,
    numActions: o.env.spec.numActions,
    steps: 1,
    seqLen: 1,
    horizon: 1,
    gamma: 0,
    lambda: 0,
    seed: o.seed,
    purpose: RNG_PURPOSE.action,
    schedule: { totalSteps: 1, lr0: 0, lrEnd: 0, clip0: 0, clipEnd: 0 },
    label: `${o.label}.rollout`,
  });
  return {
    encodeBegin: (enc) => rollout.encodeResetState(enc),
    encodeAct: (enc, greedy) => rollout.encodeAct(enc, greedy),
    encodeAfterStep: (enc) => rollout.encodeActCommit(enc),
    stateTensors: () => ({ counter: rollout.counter }),
  };
}
