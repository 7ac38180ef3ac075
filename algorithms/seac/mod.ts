/**
 * Shared Experience Actor-Critic (Christianos, Schäfer, Albrecht, NeurIPS 2020) and its
 * baselines on the GPU: {@linkcode SEAC} (each agent's A2C loss plus λ-weighted, importance-
 * sampled terms over every other agent's rollout), {@linkcode IAC} (independent A2C, SEAC with
 * λ = 0) and {@linkcode SNAC} (one actor and critic shared by all agents). Spec:
 * `docs/algorithms/seac.md`.
 *
 * One iteration, recorded without any readback:
 *   act T = nSteps steps in every env (actor/critic forward, sample, env step, store)
 *   → n-step returns per (agent, env) with each agent's own critic
 *   → every learner's batched forward on its gathered batch → fused loss → backward
 *   → Adam with per-learner global-norm clipping → metrics accumulate on the GPU.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { mlpParamCount } from "../../engine/nn/mlp.ts";
import { createNet, type Net } from "../../engine/nn/net.ts";
import { createReplicateBlocks } from "../../engine/ops/replicate.ts";
import { readTensors } from "../../engine/readback.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import { findTask } from "../../envs/registry.ts";
import { createEpisodeStats, type EpisodeStats, type EpisodeSummary } from "../episode_stats.ts";
import { envSeedLayouts, interleaveBlocks, seedMajor, seedMinorBlocks } from "../seeds.ts";
import {
  createSeacLearner,
  type ForeignTarget,
  SEAC_FIELDS,
  type SeacLearner,
  type SeacSharing,
} from "./learner.ts";
import {
  checkSeacConfig,
  SEAC_DEFAULTS,
  type SeacConfig,
  seacInitParams,
  seacSpecs,
} from "./config.ts";
import { createSeacMlp } from "./net.ts";
import { createSeacRollout, type SeacRollout } from "./rollout.ts";
import { createSeacEvalActor } from "./eval_actor.ts";
import {
  type AlgorithmDef,
  envStateTensors,
  episodeMetrics,
  type EvalActor,
  type EvalProtocol,
  type Metrics,
  recordIterations,
  restoredCounters,
  type RunConfig,
  type SeedLayout,
  type Trainer,
} from "../trainer.ts";

export { checkSeacConfig, SEAC_DEFAULTS, type SeacConfig } from "./config.ts";

/** The parts a built SEAC-family pipeline is made of (exposed for tests and benches). */
export interface SeacParts {
  readonly env: VecEnv;
  /** Seeds batched (algorithms/seeds.ts): blocks `a·seeds + k`, envs `[k·n, (k+1)·n)`. */
  readonly seeds: number;
  /** Learner parameter blocks per seed (SNAC 1, else the agent count). */
  readonly blocksPerSeed: number;
  readonly net: Net;
  readonly rollout: SeacRollout;
  readonly learner: SeacLearner;
  readonly stats: EpisodeStats;
  /** Episode-statistics accumulators to checkpoint. */
  readonly statsState: Record<string, Tensor>;
  /**
   * Records what precedes acting: SNAC with several seeds copies each seed's shared network to
   * the acting blocks of its agents (one dispatch); otherwise nothing.
   */
  encodeSync(enc: Encoder): void;
}

/**
 * Builds every part of a SEAC-family pipeline on an existing env (reset is recorded and submitted).
 *
 * @param engine Engine that owns the device.
 * @param env The vectorised env (flat f32 observations; with `seeds`, built with the same `seeds`).
 * @param options Sharing mode, seed, hyper-parameters, and `seeds` batched (default 1: seed k of
 *   a batch is bit-identical to a lone run seeded `seed + k`; algorithms/seeds.ts).
 * @returns The {@linkcode SeacParts}.
 */
export async function buildSeacParts(
  engine: Engine,
  env: VecEnv,
  options: { sharing: SeacSharing; seed: number; algo: SeacConfig; label?: string; seeds?: number },
): Promise<SeacParts> {
  const { sharing, algo } = options;
  const label = options.label ?? sharing;
  const problems = checkSeacConfig({
    seed: options.seed,
    numEnvs: env.numEnvs,
    totalSteps: 0,
    env: env.spec.name,
  }, algo);
  if (problems.length) {
    throw new RangeError(`Cannot build "${label}": ${problems.join("; ")}`);
  }
  const spec = env.spec, N = spec.numAgents, E = env.numEnvs, seeds = options.seeds ?? 1;
  const D = spec.obsShape.reduce((a, b) => a * b, 1);
  const specs = seacSpecs(D, spec.numActions, algo.hidden);
  const blocksPerSeed = sharing === "snac" ? 1 : N;
  const blocks = blocksPerSeed * seeds;
  const actorCount = mlpParamCount(specs.actor);
  const stride = actorCount + mlpParamCount(specs.critic);
  const init = (k: number) => seacInitParams(blocksPerSeed, specs, options.seed + k);
  const net = createNet(engine, {
    numAgents: blocks,
    stride,
    label: `${label}.net`,
    init: seeds === 1
      ? init(0)
      : interleaveBlocks(Array.from({ length: seeds }, (_, k) => init(k)), stride),
  });
  // SNAC with several seeds: seed k's network acts for its agents in blocks a·seeds + k.
  const replicas = sharing === "snac" && seeds > 1
    ? createNet(engine, { numAgents: N * seeds, stride, label: `${label}.actNet` })
    : null;
  const sync = replicas
    ? await createReplicateBlocks(engine, {
      src: net.params,
      dst: replicas.params,
      stride,
      label: `${label}.sync`,
    })
    : null;
  const actNet = replicas ?? net;
  const actRows = (N * E) / actNet.numAgents;
  const obs = env.buffers.obs;
  const actActor = await createSeacMlp(engine, {
    net: actNet,
    offset: 0,
    spec: specs.actor,
    x: obs,
    batch: actRows,
    label: `${label}.act.actor`,
  });
  const actCritic = await createSeacMlp(engine, {
    net: actNet,
    offset: actorCount,
    spec: specs.critic,
    x: obs,
    batch: actRows,
    label: `${label}.act.critic`,
  });
  const rollout = await createSeacRollout(engine, {
    env,
    actor: actActor,
    critic: actCritic,
    nSteps: algo.nSteps,
    gamma: algo.gamma,
    seed: options.seed,
    seeds,
    label: `${label}.rollout`,
  });
  const learner = await createSeacLearner(engine, {
    net,
    actorSpec: specs.actor,
    criticSpec: specs.critic,
    storage: rollout.storage,
    sharing,
    foreignTarget: algo.foreignTarget as ForeignTarget,
    numAgents: N,
    numEnvs: E / seeds,
    seeds,
    nSteps: algo.nSteps,
    lambda: sharing === "seac" ? algo.lambda : 0,
    gamma: algo.gamma,
    entropyCoef: algo.entropyCoef,
    valueCoef: algo.valueCoef,
    lr: algo.lr,
    adamEps: algo.adamEps,
    maxGradNorm: algo.maxGradNorm,
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
  const enc = engine.encoder(`${label}.reset`);
  env.encodeReset(enc);
  engine.submit(enc);
  return {
    env,
    seeds,
    blocksPerSeed,
    net,
    rollout,
    learner,
    stats,
    statsState,
    encodeSync: (enc) => sync?.encode(enc),
  };
}

class SeacTrainer implements Trainer {
  readonly env: VecEnv;
  readonly stepsPerIteration: number;
  readonly seeds: number;
  readonly #engine: Engine;
  readonly #parts: SeacParts;
  readonly #algo: SeacConfig;
  readonly #sharing: SeacSharing;
  readonly #label: string;
  #iterations = 0;

  constructor(
    engine: Engine,
    parts: SeacParts,
    algo: SeacConfig,
    sharing: SeacSharing,
    label: string,
  ) {
    this.#engine = engine;
    this.#parts = parts;
    this.#algo = algo;
    this.#sharing = sharing;
    this.#label = label;
    this.env = parts.env;
    this.seeds = parts.seeds;
    this.stepsPerIteration = (parts.env.numEnvs / parts.seeds) * algo.nSteps;
  }

  get envSteps(): number {
    return this.#iterations * this.stepsPerIteration;
  }

  /** Categorical sample (or argmax when `greedy`) from each agent's actor on the current obs. */
  encodeAct(enc: Encoder, options: { greedy: boolean }): void {
    this.#parts.encodeSync(enc);
    this.#parts.rollout.encodeAct(enc, options.greedy);
  }

  /** The current actors acting on `env` (evaluation; own RNG stream seeded by `options.seed`). */
  createEvalActor(env: VecEnv, options: { seed: number }): Promise<EvalActor> {
    if (this.seeds > 1) {
      throw new TypeError(
        `Cannot evaluate "${this.#label}" with ${this.seeds} seeds batched: evaluate each seed's weights on a one-seed trainer`,
      );
    }
    return createSeacEvalActor(this.#engine, {
      net: this.#parts.net,
      hidden: this.#algo.hidden,
      env,
      seed: options.seed,
      label: `${this.#label}.eval`,
    });
  }

  /** The actor and critic parameters. */
  policyTensors(): Record<string, Tensor> {
    return { "net.params": this.#parts.net.params };
  }

  /**
   * Records one iteration of Algorithm 1 of the SEAC paper, all agents and envs batched in each
   * dispatch (docs/algorithms/seac.md §2–§4).
   */
  encodeIteration(enc: Encoder): void {
    const { env, rollout, learner, stats } = this.#parts;
    // (Seed batching, SNAC: each seed's shared network copied to its agents' acting blocks.)
    this.#parts.encodeSync(enc);
    for (let t = 0; t < this.#algo.nSteps; t++) {
      // ACT: a_t^i ~ π_i(·|o_t^i) and V_i(o_t^i), each agent with its own actor and critic.
      rollout.encodeActStep(enc, t);
      // STEP: o_{t+1}, r_t, done_t ← env.step(a_t), auto-reset at episode ends.
      env.encodeStep(enc);
      // STORE: o_t, a_t, log π_i(a_t^i|o_t^i), r_t and the done/truncation masks in slot t.
      rollout.encodeStore(enc, t);
      stats.track(enc);
    }
    // RETURNS: R_t^i = r_t^i + γ·m_{t+1}·R_{t+1}^i, bootstrapped with V_i(o_T^i) (and with V at
    // truncations); n-step returns per (agent, env) with each agent's own critic.
    rollout.encodeBootstrap(enc);
    // LOSS and SHARE: every learner i evaluated on every agent k's rollout (gathered batch):
    // A2C loss on its own rollout plus λ·Σ_{k≠i} of the importance-weighted (π_i/π_k) policy and
    // value losses on agent k's (IAC: λ = 0; SNAC: one shared network on all data), entropy
    // bonus; then backward through actor and critic (learner.ts, shaders/algorithms/seac/learner.wgsl).
    learner.encodeLoss(enc);
    // UPDATE: per-learner global-norm clipping and Adam; metrics accumulate on the GPU.
    learner.encodeStep(enc);
  }

  run(iterations: number): void {
    recordIterations(this.#engine, iterations, {
      what: `"${this.#label}"`,
      label: `${this.#label}.run`,
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

  async readSeedMetrics(): Promise<Metrics[]> {
    const { stats, learner } = this.#parts;
    const enc = this.#engine.encoder(`${this.#label}.metrics`);
    stats.summarise(enc);
    learner.encodeSummarise(enc);
    this.#engine.submit(enc);
    const [out, m] = await readTensors(this.#engine, [stats.out, learner.metricsOut] as const);
    const width = SEAC_FIELDS + 2;
    return stats.decodeSeeds(out).map((s, k) =>
      this.#metrics(s, m.subarray(k * width, (k + 1) * width))
    );
  }

  #metrics(s: EpisodeSummary, m: Float32Array): Metrics {
    const N = this.env.spec.numAgents, E = this.env.numEnvs / this.seeds, T = this.#algo.nSteps;
    const updates = m[SEAC_FIELDS + 1];
    const learners = this.#parts.blocksPerSeed;
    const per = (v: number, n: number) => (updates > 0 && n > 0 ? v / (updates * n) : NaN);
    const scalars: Record<string, number> = {
      policyLoss: per(m[0], learners),
      valueLoss: per(m[1], learners),
      entropy: per(m[2], N),
      gradNorm: per(m[SEAC_FIELDS], learners),
      updates,
    };
    if (this.#sharing === "seac" && N > 1) {
      scalars.foreignIsRatioMean = per(m[3], N * (N - 1) * T * E);
    }
    return episodeMetrics(s, { envSteps: this.envSteps, scalars });
  }

  stateTensors(): Record<string, Tensor> {
    const { net, learner, rollout, statsState, env } = this.#parts;
    return {
      "net.params": net.params,
      "adam.m": learner.adam.m,
      "adam.v": learner.adam.v,
      "adam.count": learner.adam.count,
      "rollout.counter": rollout.counter,
      "metrics.acc": learner.metricsAcc,
      ...statsState,
      ...envStateTensors(env),
    };
  }

  /** Net blocks and Adam state seed-minor; env, statistics and metric accumulators seed-major. */
  seedLayouts(): Record<string, SeedLayout> {
    const { net, learner, seeds, blocksPerSeed, env } = this.#parts;
    const blocks = (t: Tensor) => seedMinorBlocks(t.shape, blocksPerSeed);
    const out: Record<string, SeedLayout> = {
      "net.params": blocks(net.params),
      "adam.m": blocks(learner.adam.m),
      "adam.v": blocks(learner.adam.v),
      "adam.count": blocks(learner.adam.count),
      "rollout.counter": "shared",
      "metrics.acc": seedMajor(learner.metricsAcc.shape, 0, seeds),
      ...envSeedLayouts(env, seeds),
    };
    for (const [k, t] of Object.entries(this.#parts.statsState)) {
      out[k] = seedMajor(t.shape, 1, seeds);
    }
    return out;
  }

  hostState(): Record<string, number> {
    return { iterations: this.#iterations };
  }

  restoreHostState(state: Record<string, number>): void {
    const what = `"${this.#label}"`;
    this.#iterations = restoredCounters(state, { names: ["iterations"], what }).iterations;
  }
}

/**
 * Builds a SEAC-family trainer on an existing env (benches, tests; `create` looks the env up).
 *
 * @param engine Engine that owns the device.
 * @param env The vectorised env.
 * @param options Sharing mode, seed and hyper-parameters.
 * @returns The trainer and its parts.
 */
export async function createSeacTrainer(
  engine: Engine,
  env: VecEnv,
  options: { sharing: SeacSharing; seed: number; algo: SeacConfig; seeds?: number },
): Promise<Trainer & { readonly parts: SeacParts; encodeIteration(enc: Encoder): void }> {
  const parts = await buildSeacParts(engine, env, options);
  const trainer = new SeacTrainer(engine, parts, options.algo, options.sharing, options.sharing);
  return Object.assign(trainer, { parts });
}

/**
 * The SEAC paper's evaluation (docs/algorithms/seac.md §5, Table 1): the best model of each seed,
 * 100 episodes with the stochastic policy, returns summed over agents (LBF: fraction of food
 * collected; RWARE: deliveries). Models are evaluated every 1 M env steps (the reference code's
 * save interval; how it picked the best saved model is not stated, so we pick it by this same
 * evaluation) on 10 envs.
 */
export const SEAC_EVAL_PROTOCOL: EvalProtocol = Object.freeze({
  name: "evaluation return",
  bestName: "final evaluation return",
  runner: "evaluator",
  source: "Christianos et al. 2020, Table 1 (best model, 100 stochastic episodes, team return)",
  interval: 1_000_000,
  intervalFraction: 0,
  episodes: 100,
  policy: "stochastic",
  returns: "team",
  envs: 10,
  seed: 1,
  best: true,
});

function defFor(sharing: SeacSharing, source: string): AlgorithmDef<SeacConfig> {
  return Object.freeze({
    name: sharing,
    source,
    defaults: SEAC_DEFAULTS,
    check: checkSeacConfig,
    evalProtocol: () => SEAC_EVAL_PROTOCOL,
    async create(engine: Engine, run: RunConfig, algo: SeacConfig): Promise<Trainer> {
      const { def, spec } = findTask(run.env);
      const env = await def.create(engine, spec, { numEnvs: run.numEnvs, seed: run.seed });
      return createSeacTrainer(engine, env, { sharing, seed: run.seed, algo });
    },
    async createSeeds(
      engine: Engine,
      run: RunConfig,
      algo: SeacConfig,
      seeds: number,
    ): Promise<Trainer> {
      const { def, spec } = findTask(run.env);
      const numEnvs = run.numEnvs * seeds;
      const env = await def.create(engine, spec, { numEnvs, seed: run.seed, seeds });
      return createSeacTrainer(engine, env, { sharing, seed: run.seed, algo, seeds });
    },
  });
}

const PAPER = "Christianos, Schäfer, Albrecht 2020, Shared Experience Actor-Critic (NeurIPS)";

/** SEAC: A2C per agent plus λ-weighted importance-sampled losses on the other agents' rollouts. */
export const SEAC: AlgorithmDef<SeacConfig> = defFor("seac", `${PAPER}; uoe-agents/seac`);
/** IAC: independent A2C per agent (SEAC with λ = 0). */
export const IAC: AlgorithmDef<SeacConfig> = defFor("iac", `${PAPER}, baseline IAC`);
/** SNAC: one actor and one critic shared by all agents, trained on all agents' data. */
export const SNAC: AlgorithmDef<SeacConfig> = defFor("snac", `${PAPER}, baseline SNAC`);
