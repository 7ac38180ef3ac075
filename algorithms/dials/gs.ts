/**
 * Independent PPO on the GPU (docs/algorithms/dials.md §6): one actor-critic per agent (GRU for the warehouse, MLP
 * for traffic), batched over agents, trained from on-policy rollouts of a vectorised env. This
 * module builds the parts ({@linkcode buildPpoAgents}, shared with DIALS, which trains them on the
 * local simulators) and the GS baseline {@linkcode PPO_GS}: all agents trained simultaneously in
 * the global simulator (`trainer.py train_multi_agent`, with the bootstrap bug of docs/algorithms/dials.md §8.1
 * fixed: each agent bootstraps from its own observation).
 *
 * `gsPolicy` (docs/algorithms/dials.md §8.6): "independent" (default) gives every agent its own network and Adam;
 * "shared" reproduces the reference, which passes one policy object to every agent: one parameter
 * block acting for all agents (its GRU state chained through the agents each step,
 * `createSharedActor`), updated by each agent's own Adam in turn (`createPpoLearner` on a
 * one-block net).
 *
 * One iteration, recorded without readbacks: T steps of every env lane (act, step, store) →
 * bootstrap and GAE → epochs × minibatches of (gather, forward, loss, backward, Adam).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { createNet, type Net } from "../../engine/nn/net.ts";
import { readTensors } from "../../engine/readback.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import { findTask } from "../../envs/registry.ts";
import { checkDialsConfig, DIALS_DEFAULTS, type DialsConfig, policyKind } from "./config.ts";
import { createEpisodeStats, type EpisodeStats } from "../episode_stats.ts";
import { createPpoLearner, type PpoLearner } from "../ppo/learner.ts";
import {
  createSharedActor,
  createTrunkActor,
  ppoPolicySpec,
  type TrunkActor,
  trunkInitParams,
  trunkLayout,
  type TrunkSpec,
} from "../ppo/policy.ts";
import { createPpoRollout, type PpoRollout } from "../ppo/rollout.ts";
import {
  type AlgorithmDef,
  envStateTensors,
  episodeMetrics,
  type Metrics,
  recordIterations,
  restoredCounters,
  type RunConfig,
  type Trainer,
} from "../trainer.ts";

/** The parts of independent PPO bound to one env. */
export interface PpoAgents {
  readonly env: VecEnv;
  readonly spec: TrunkSpec;
  readonly net: Net;
  readonly actor: TrunkActor;
  readonly rollout: PpoRollout;
  readonly learner: PpoLearner;
  readonly stats: EpisodeStats;
  readonly statsState: Record<string, Tensor>;
}

/**
 * Builds the policy network (or binds an existing one), actor, rollout, learner and episode
 * statistics of PPO on `env`: independent (one network and Adam per agent) or, with `shared`, one
 * network for all agents updated by each agent's Adam in turn (the reference's GS baseline,
 * docs/algorithms/dials.md §8.6). Does not reset the env.
 *
 * @param engine Engine that owns the device.
 * @param env The env the agents train on (flat f32 observations).
 * @param o Hyper-parameters, seed, training budget [steps per lane] and label; `net` to share;
 *   `shared` for one policy for all agents (its net, built here, has one parameter block: agent
 *   0's initial draw).
 * @returns The {@linkcode PpoAgents}.
 */
export async function buildPpoAgents(
  engine: Engine,
  env: VecEnv,
  o: {
    algo: DialsConfig;
    seed: number;
    totalSteps: number;
    label: string;
    net?: Net;
    shared?: boolean;
  },
): Promise<PpoAgents> {
  const { algo, label } = o;
  const spec0 = env.spec, N = spec0.numAgents, E = env.numEnvs;
  const D = spec0.obsShape.reduce((a, b) => a * b, 1);
  const kind = policyKind(algo, spec0.family);
  const spec = ppoPolicySpec(kind, D, spec0.numActions, {
    hidden: algo.hidden,
    hidden2: algo.hidden2,
  });
  const blocks = o.shared ? 1 : N;
  const net = o.net ?? createNet(engine, {
    numAgents: blocks,
    stride: trunkLayout(spec).stride,
    label: `${label}.net`,
    init: trunkInitParams(blocks, spec, o.seed),
  });
  const actor = o.shared
    ? await createSharedActor(engine, {
      net,
      spec,
      x: env.buffers.obs,
      numAgents: N,
      numEnvs: E,
      terminated: env.buffers.terminated,
      truncated: env.buffers.truncated,
      label: `${label}.actor`,
    })
    : await createTrunkActor(engine, {
      net,
      spec,
      x: env.buffers.obs,
      numEnvs: E,
      label: `${label}.actor`,
    });
  const seqLen = kind === "gru" ? algo.seqLen : 1;
  const rollout = await createPpoRollout(engine, {
    env,
    actor,
    numActions: spec0.numActions,
    steps: algo.rolloutSteps,
    seqLen,
    horizon: algo.gaeHorizon,
    gamma: algo.gamma,
    lambda: algo.lambda,
    seed: o.seed,
    purpose: RNG_PURPOSE.action,
    schedule: {
      totalSteps: o.totalSteps,
      lr0: algo.lr,
      lrEnd: algo.lrEnd,
      clip0: algo.clip,
      clipEnd: algo.clipEnd,
    },
    label: `${label}.rollout`,
  });
  const learner = await createPpoLearner(engine, {
    net,
    spec,
    rollout,
    numActions: spec0.numActions,
    epochs: algo.epochs,
    numMinibatches: algo.numMinibatches,
    valueCoef: algo.valueCoef,
    entropyCoef: algo.entropyCoef,
    adamEps: algo.adamEps,
    seed: o.seed,
    label: `${label}.learn`,
  });
  const stats = await createEpisodeStats(engine, {
    env: env.buffers,
    numAgents: N,
    numEnvs: E,
    label: `${label}.stats`,
  });
  const statsState = stats.stateTensors();
  return { env, spec, net, actor, rollout, learner, stats, statsState };
}

/**
 * Decodes the learner's metric sums into means over agents and minibatch steps.
 *
 * @param m The learner's `metricsOut`: per-minibatch means summed over the agents of each step,
 *   and the minibatch steps taken.
 * @param numAgents Agents of the rollout.
 * @param agentsPerStep Agents each minibatch step covers (`PpoLearner.agentsPerStep`: all of
 *   them for independent PPO, 1 when the agents update one shared network in turn).
 * @returns policyLoss, valueLoss (before its coefficient), entropy, clipFraction and
 *   minibatchSteps (per agent) — docs/algorithms/ppo.md §5.
 */
export function ppoScalars(
  m: Float32Array,
  numAgents: number,
  agentsPerStep: number = numAgents,
): Record<string, number> {
  const n = m[4] * agentsPerStep;
  const per = (v: number) => (n > 0 ? v / n : NaN);
  return {
    policyLoss: per(m[0]),
    valueLoss: per(m[1]),
    entropy: per(m[2]),
    clipFraction: per(m[3]),
    minibatchSteps: (m[4] * agentsPerStep) / numAgents,
  };
}

/** Checkpoint tensors of a set of PPO agents, under `prefix`. */
export function ppoStateTensors(a: PpoAgents, prefix: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {
    [`${prefix}.net.params`]: a.net.params,
    [`${prefix}.rollout.counter`]: a.rollout.counter,
    [`${prefix}.metrics.acc`]: a.learner.metricsAcc,
  };
  const { adams } = a.learner;
  adams.forEach((adam, i) => {
    // One Adam (independent): the original keys; one per agent on a shared net: numbered.
    const at = adams.length === 1 ? "" : `.${i}`;
    out[`${prefix}.adam${at}.m`] = adam.m;
    out[`${prefix}.adam${at}.v`] = adam.v;
    out[`${prefix}.adam${at}.count`] = adam.count;
  });
  if (a.actor.h) out[`${prefix}.actor.h`] = a.actor.h;
  for (const [k, t] of Object.entries(a.actor.state ?? {})) out[`${prefix}.actor.${k}`] = t;
  for (const [k, t] of Object.entries(a.statsState)) out[`${prefix}.${k}`] = t;
  return out;
}

class PpoGsTrainer implements Trainer {
  readonly env: VecEnv;
  readonly stepsPerIteration: number;
  readonly agents: PpoAgents;
  readonly #engine: Engine;
  readonly #algo: DialsConfig;
  #iterations = 0;

  constructor(engine: Engine, agents: PpoAgents, algo: DialsConfig) {
    this.#engine = engine;
    this.agents = agents;
    this.#algo = algo;
    this.env = agents.env;
    this.stepsPerIteration = agents.env.numEnvs * algo.rolloutSteps;
  }

  get envSteps(): number {
    return this.#iterations * this.stepsPerIteration;
  }

  encodeAct(enc: Encoder, options: { greedy: boolean }): void {
    this.agents.rollout.encodeAct(enc, options.greedy);
  }

  /** Records one iteration: a rollout of T steps and one PPO update. */
  encodeIteration(enc: Encoder): void {
    const { rollout, learner, stats } = this.agents;
    // ACT → STEP → STORE, T steps of every agent in the global simulator, then GAE returns.
    rollout.encodeCollect(enc, (e) => stats.track(e));
    // LOSS → UPDATE: PPO epochs over minibatches (clipped surrogate and value loss, entropy), Adam.
    learner.encodeUpdate(enc);
  }

  run(iterations: number): void {
    recordIterations(this.#engine, iterations, {
      what: '"ppo_gs"',
      label: "ppo_gs.run",
      perSubmit: this.#algo.iterationsPerSubmit,
      encodeIteration: (enc) => {
        this.encodeIteration(enc);
        this.#iterations++;
      },
    });
  }

  async readMetrics(): Promise<Metrics> {
    const { stats, learner } = this.agents;
    const enc = this.#engine.encoder("ppo_gs.metrics");
    stats.summarise(enc);
    learner.encodeSummarise(enc);
    this.#engine.submit(enc);
    const [out, m] = await readTensors(this.#engine, [stats.out, learner.metricsOut] as const);
    const s = stats.decode(out);
    const scalars = ppoScalars(m, this.env.spec.numAgents, learner.agentsPerStep);
    return episodeMetrics(s, { envSteps: this.envSteps, scalars });
  }

  stateTensors(): Record<string, Tensor> {
    return { ...ppoStateTensors(this.agents, "ppo"), ...envStateTensors(this.env) };
  }

  hostState(): Record<string, number> {
    return { iterations: this.#iterations };
  }

  restoreHostState(state: Record<string, number>): void {
    const c = restoredCounters(state, { names: ["iterations"], what: '"ppo_gs"' });
    this.#iterations = c.iterations;
  }
}

/**
 * Builds the GS baseline on an existing env (tests, benches); resets the env.
 *
 * @param engine Engine that owns the device.
 * @param env The global simulator.
 * @param o Hyper-parameters, seed and budget [steps per env].
 * @returns The trainer, with its parts and `encodeIteration`.
 */
export async function createPpoGsTrainer(
  engine: Engine,
  env: VecEnv,
  o: { algo: DialsConfig; seed: number; totalSteps: number },
): Promise<Trainer & { readonly agents: PpoAgents; encodeIteration(enc: Encoder): void }> {
  const agents = await buildPpoAgents(engine, env, {
    ...o,
    label: "ppo",
    shared: o.algo.gsPolicy === "shared",
  });
  const enc = engine.encoder("ppo_gs.reset");
  env.encodeReset(enc);
  engine.submit(enc);
  return new PpoGsTrainer(engine, agents, o.algo);
}

/** PPO on the global simulator: the GS baseline of DIALS. */
export const PPO_GS: AlgorithmDef<DialsConfig> = Object.freeze({
  name: "ppo_gs",
  source: "Suau et al. 2022 (DIALS, NeurIPS), GS baseline; miguelsuau/recurrent_policies PPO",
  defaults: DIALS_DEFAULTS,
  check: checkDialsConfig,
  async create(engine: Engine, run: RunConfig, algo: DialsConfig): Promise<Trainer> {
    const { def, spec } = findTask(run.env);
    const env = await def.create(engine, spec, { numEnvs: run.numEnvs, seed: run.seed });
    return createPpoGsTrainer(engine, env, { algo, seed: run.seed, totalSteps: run.totalSteps });
  },
});
