/**
 * Acting with a SEAC-family trainer's current actors on another env (evaluation): each agent's
 * actor (or the shared one) reads the env's observations through the trainer's parameters (no
 * copy), then the rollout's act kernel samples (Gumbel-max, own RNG stream) or takes the argmax,
 * storing nothing. Used through `Trainer.createEvalActor` (algorithms/evaluation.ts).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import { compileKernel } from "../../engine/kernel.ts";
import type { Net } from "../../engine/nn/net.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { VecEnv } from "../../envs/env.ts";
import type { EvalActor } from "../trainer.ts";
import { seacSpecs } from "./config.ts";
import { createSeacMlp } from "./net.ts";
import { seacAct, seacAdvance } from "./rollout.ts";

/** Options of {@linkcode createSeacEvalActor}. */
export interface SeacEvalActorOptions {
  /** The trainer's parameters: one block per agent, or one shared block (SNAC). */
  net: Net;
  /** Hidden width of the actor (the config's `hidden`). */
  hidden: number;
  /** The env to act on (same task as training, any numEnvs). */
  env: VecEnv;
  /** Seed of the actor's RNG stream (purpose `action`). */
  seed: number;
  label: string;
}

/**
 * Builds the actor on `o.env`'s observations: `encodeAct(enc, greedy)` records the actor forward,
 * a categorical sample (argmax when `greedy`) into `env.buffers.actions` and the advance of the
 * actor's own step counter (`counter[1]`, the RNG step).
 *
 * @param engine Engine of the trainer.
 * @param o The trainer's Net, the hidden width, the env, the seed and a label.
 * @returns The {@linkcode EvalActor}; its state is the counter.
 */
export async function createSeacEvalActor(
  engine: Engine,
  o: SeacEvalActorOptions,
): Promise<EvalActor> {
  const { env, net, label } = o;
  const spec = env.spec;
  if (spec.obsDType !== "f32" || spec.obsShape.length !== 1) {
    throw new TypeError(
      `Cannot build "${label}": needs flat f32 observations, "${spec.name}" has ${spec.obsDType} [${
        spec.obsShape.join(", ")
      }]`,
    );
  }
  const N = spec.numAgents, E = env.numEnvs, D = spec.obsShape[0], K = spec.numActions;
  const specs = seacSpecs(D, K, o.hidden);
  const actor = await createSeacMlp(engine, {
    net,
    offset: 0,
    spec: specs.actor,
    x: env.buffers.obs,
    batch: (N * E) / net.numAgents,
    label: `${label}.actor`,
  });
  const scratch = (name: string) =>
    engine.tensor({ dtype: "f32", shape: [1], label: `${label}.${name}` });
  const counter = engine.tensor({ dtype: "u32", shape: [2], label: `${label}.counter` });
  const base = {
    numAgents: N,
    numEnvs: E,
    obsDim: D,
    numActions: K,
    nSteps: 1,
    slot: 0,
    sample: 1,
    greedy: 0,
    store: 0,
    seed: o.seed >>> 0,
    envsPerSeed: E,
    purpose: RNG_PURPOSE.action,
    which: 1,
    gamma: 0,
  };
  const [ka, kv] = await Promise.all([
    compileKernel(engine, seacAct),
    compileKernel(engine, seacAdvance),
  ]);
  // `store` is 0: the rollout slots are never written, so small scratch tensors stand in for them.
  const tensors = {
    obs: env.buffers.obs,
    logits: actor.y,
    value: actor.y,
    counterIn: counter,
    actions: env.buffers.actions,
    obsStore: scratch("obsStore"),
    valueStore: scratch("valueStore"),
    logpStore: scratch("logpStore"),
  };
  const sample = ka.bind(tensors, base, `${label}.act`);
  const greedy = ka.bind(tensors, { ...base, greedy: 1 }, `${label}.actGreedy`);
  const advance = kv.bind({ counter }, base, `${label}.advance`);
  return {
    encodeAct(enc, isGreedy) {
      actor.forward(enc);
      (isGreedy ? greedy : sample).encode(enc);
      advance.encode(enc);
    },
    stateTensors: () => ({ counter }),
  };
}
