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
import { createEpisodeStats, type EpisodeStats, type EpisodeSummary } from "../episode_stats.ts";
import { envSeedLayouts, interleaveBlocks, seedMajor, seedMinorBlocks } from "../seeds.ts";
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
  type SeedLayout,
  type Trainer,
} from "../trainer.ts";

/** The parts of independent PPO bound to one env. */
export interface PpoAgents {
  readonly env: VecEnv;
  /**
   * Seeds batched (docs/statistics.md §8): envs `[k·n, (k+1)·n)` and parameter blocks
   * `a·seeds + k` are seed k's.
   */
  readonly seeds: number;
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
 *   0's initial draw); `seeds` batched in `env` (default 1; independent only): seed k's blocks
 *   are its own initial draw (seed `seed + k`), interleaved seed-minor.
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
    seeds?: number;
  },
): Promise<PpoAgents> {
  const { algo, label } = o;
  const spec0 = env.spec, N = spec0.numAgents, E = env.numEnvs, seeds = o.seeds ?? 1;
  if (seeds > 1 && o.shared) {
    throw new RangeError(
      `Cannot build "${label}": seed batching needs independent policies (gsPolicy "independent"); a shared policy runs its seeds one after another`,
    );
  }
  const D = spec0.obsShape.reduce((a, b) => a * b, 1);
  const kind = policyKind(algo, spec0.family);
  const spec = ppoPolicySpec(kind, D, spec0.numActions, {
    hidden: algo.hidden,
    hidden2: algo.hidden2,
  });
  const blocks = o.shared ? 1 : N, stride = trunkLayout(spec).stride;
  const init = (k: number) => trunkInitParams(blocks, spec, o.seed + k);
  const net = o.net ?? createNet(engine, {
    numAgents: blocks * seeds,
    stride,
    label: `${label}.net`,
    init: seeds === 1
      ? init(0)
      : interleaveBlocks(Array.from({ length: seeds }, (_, k) => init(k)), stride),
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
      numEnvs: E / seeds,
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
    seeds,
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
    seeds,
    label: `${label}.stats`,
  });
  const statsState = stats.stateTensors();
  return { env, seeds, spec, net, actor, rollout, learner, stats, statsState };
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

/**
 * How the entries of {@linkcode ppoStateTensors} hold the seeds of a batch: network, Adam and GRU
 * state seed-minor blocks, metric sums `[seeds, 5]`, statistics seed-major, the counter shared.
 */
export function ppoSeedLayouts(a: PpoAgents, prefix: string): Record<string, SeedLayout> {
  const N = a.env.spec.numAgents, seeds = a.seeds;
  const blocks = (t: Tensor) => seedMinorBlocks(t.shape, N);
  const out: Record<string, SeedLayout> = {
    [`${prefix}.net.params`]: blocks(a.net.params),
    [`${prefix}.rollout.counter`]: "shared",
    [`${prefix}.metrics.acc`]: seedMajor(a.learner.metricsAcc.shape, 0, seeds),
    [`${prefix}.adam.m`]: blocks(a.learner.adam.m),
    [`${prefix}.adam.v`]: blocks(a.learner.adam.v),
    [`${prefix}.adam.count`]: blocks(a.learner.adam.count),
  };
  if (a.actor.h) out[`${prefix}.actor.h`] = blocks(a.actor.h);
  for (const [k, t] of Object.entries(a.statsState)) {
    out[`${prefix}.${k}`] = seedMajor(t.shape, 1, seeds);
  }
  return out;
}

class PpoGsTrainer implements Trainer {
  readonly env: VecEnv;
  readonly stepsPerIteration: number;
  readonly agents: PpoAgents;
  readonly seeds: number;
  readonly #engine: Engine;
  readonly #algo: DialsConfig;
  #iterations = 0;

  constructor(engine: Engine, agents: PpoAgents, algo: DialsConfig) {
    this.#engine = engine;
    this.agents = agents;
    this.#algo = algo;
    this.env = agents.env;
    this.seeds = agents.seeds;
    this.stepsPerIteration = (agents.env.numEnvs / agents.seeds) * algo.rolloutSteps;
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
    return (await this.readSeedMetrics())[0];
  }

  /** Each seed's metrics (one readback). */
  async readSeedMetrics(): Promise<Metrics[]> {
    const { stats, learner } = this.agents;
    const enc = this.#engine.encoder("ppo_gs.metrics");
    stats.summarise(enc);
    learner.encodeSummarise(enc);
    this.#engine.submit(enc);
    const [out, m] = await readTensors(this.#engine, [stats.out, learner.metricsOut] as const);
    const W = m.length / this.seeds;
    return stats.decodeSeeds(out).map((s: EpisodeSummary, k) => {
      const mk = m.subarray(k * W, (k + 1) * W);
      const scalars = ppoScalars(mk, this.env.spec.numAgents, learner.agentsPerStep);
      return episodeMetrics(s, { envSteps: this.envSteps, scalars });
    });
  }

  stateTensors(): Record<string, Tensor> {
    return { ...ppoStateTensors(this.agents, "ppo"), ...envStateTensors(this.env) };
  }

  seedLayouts(): Record<string, SeedLayout> {
    return { ...ppoSeedLayouts(this.agents, "ppo"), ...envSeedLayouts(this.env, this.seeds) };
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
  o: { algo: DialsConfig; seed: number; totalSteps: number; seeds?: number },
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
  /**
   * Seeds batched in one trainer (docs/statistics.md §8); gsPolicy "shared" is refused with a
   * RangeError ("seed batching needs …": the product runs those seeds one after another).
   */
  async createSeeds(
    engine: Engine,
    run: RunConfig,
    algo: DialsConfig,
    seeds: number,
  ): Promise<Trainer> {
    if (algo.gsPolicy === "shared") {
      throw new RangeError(
        `Cannot batch seeds of "ppo_gs": seed batching needs gsPolicy "independent" (the shared policy chains its GRU through the agents)`,
      );
    }
    const { def, spec } = findTask(run.env);
    const numEnvs = run.numEnvs * seeds;
    const env = await def.create(engine, spec, { numEnvs, seed: run.seed, seeds });
    const o = { algo, seed: run.seed, totalSteps: run.totalSteps, seeds };
    return createPpoGsTrainer(engine, env, o);
  },
});
