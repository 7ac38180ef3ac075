/**
 * The IDQN family on the GPU (docs/algorithms/idqn.md): independent DQN/DDQN with one Q-network per agent batched
 * in one dispatch, parameter sharing (`ps`), "IDQN same RB" (`idqn-same-rb`), SEQL and IQL. The
 * whole loop — ε-greedy act, env step, store, (share), sample, learn, target sync, statistics —
 * is recorded without host reads; metrics are read once per log interval.
 *
 * Seams for the experience-sharing variants built on this pipeline (SUPER, LBS):
 * - {@linkcode createQNetwork} evaluates an agent's Q on arbitrary rows (a second instance on the
 *   same Net);
 * - a {@linkcode BatchSource} replaces the default minibatch (replay sampling, uniform or PER);
 * - a {@linkcode ShareStage} runs after each store at fragment boundaries (SUPER's relay).
 * Pass them to {@linkcode createIdqnTrainer} through {@linkcode IdqnTrainerOptions}.
 *
 * Seed batching (`createSeeds`, `IdqnTrainerOptions.seeds`; algorithms/seeds.ts): S seeds train
 * in the same dispatches. The env holds S·numEnvs envs seed-major; networks, Adam moments,
 * replay rings, samplers and stage tensors are blocks in seed-minor order (block `b·S + k` is
 * seed k's learner or ring b), and every draw of block `b·S + k` is the draw of block b in a run
 * seeded `seed + k`, so each seed is bit-identical to its one-seed run. Parameter sharing
 * replicates seed k's network into the acting blocks `a·S + k` (one dispatch) before acting.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { readTensors } from "../../engine/readback.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import { findTask } from "../../envs/registry.ts";
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
import { buildIdqn, type IdqnBuild, type IdqnTrainerParts } from "./build.ts";
import {
  checkIdqnConfig,
  IDQN_DEFAULTS,
  type IdqnConfig,
  type IdqnVariant,
  SEQL_DEFAULTS,
} from "./config.ts";
import type { IdqnTrainerOptions, StageMetricsRead } from "./stages.ts";

export {
  createQNetwork,
  type QNetwork,
  qNetworkInit,
  type QNetworkOptions,
  qNetworkParamCount,
  qNetworkParams,
  type QNetworkSpec,
} from "./network.ts";
export {
  checkIdqnConfig,
  IDQN_DEFAULTS,
  type IdqnConfig,
  type IdqnVariant,
  networkSpec,
  SEQL_DEFAULTS,
} from "./config.ts";
export type { IdqnTrainerParts } from "./build.ts";
export type {
  BatchSource,
  BatchTensors,
  IdqnParts,
  IdqnTrainerOptions,
  ShareStage,
  StageMetrics,
} from "./stages.ts";

/** Iterations recorded per submit (bounds the size of one command buffer). */
const ITERATIONS_PER_SUBMIT = 16;

/** The built IDQN-family pipeline. */
export class IdqnTrainer implements Trainer {
  readonly env: VecEnv;
  readonly stepsPerIteration: number;
  /** Seeds trained in these dispatches (algorithms/seeds.ts; 1: one seed). */
  readonly seeds: number;
  readonly parts: IdqnTrainerParts;
  readonly #engine: Engine;
  readonly #tensors: Record<string, Tensor>;
  readonly #act: (enc: Encoder, greedy: boolean) => void;
  readonly #insert: { encode(enc: Encoder): void };
  readonly #fragment: number;
  readonly #evalActor: IdqnBuild["evalActor"];
  readonly #seedLayouts: IdqnBuild["seedLayouts"];
  #iterations = 0;
  #pending = 0;
  #lastSync = 0;
  #updates = 0;

  constructor(o: IdqnBuild) {
    this.#engine = o.engine;
    this.parts = o.parts;
    this.env = o.parts.env;
    this.stepsPerIteration = o.parts.numEnvs;
    this.#tensors = o.tensors;
    this.#act = o.act;
    this.#insert = o.insert;
    this.#fragment = o.fragment;
    this.#evalActor = o.evalActor;
    this.seeds = o.seeds;
    this.#seedLayouts = o.seedLayouts;
  }

  get envSteps(): number {
    return this.#iterations * this.stepsPerIteration;
  }

  /** Gradient steps so far (host counter). */
  get updates(): number {
    return this.#updates;
  }

  encodeAct(enc: Encoder, options: { greedy: boolean }): void {
    this.#act(enc, options.greedy);
  }

  /**
   * The online networks acting on `env` (evaluation): greedy, or ε-greedy at `epsilonEnd`, from
   * an RNG stream seeded by `options.seed`.
   */
  createEvalActor(env: VecEnv, options: { seed: number }): Promise<EvalActor> {
    return this.#evalActor(env, options.seed);
  }

  /** The online networks' parameters. */
  policyTensors(): Record<string, Tensor> {
    const params = this.parts.net.params;
    return Object.fromEntries(Object.entries(this.#tensors).filter(([, t]) => t === params));
  }

  /**
   * Records one iteration, Algorithm 1 of DQN per agent (all agents batched in each dispatch).
   * Learning and target syncs are scheduled from host counters only.
   */
  #encodeIteration(enc: Encoder): void {
    const { config: c, learner, share, stats } = this.parts;
    // ACT: a_t^i = ε-greedy(Q_i(o_t^i)) for every agent i in every env.
    this.#act(enc, false);
    // STEP: o_{t+1}, r_t, done_t ← env.step(a_t), auto-reset; episode statistics.
    this.env.encodeStep(enc);
    stats.track(enc);
    // STORE: (o_t^i, a_t^i, r_t^i, o_{t+1}^i, done_t) into agent i's replay D_i.
    this.#insert.encode(enc);
    this.#iterations++;
    // SHARE (SUPER): at each fragment end, relay selected rows between the agents' buffers.
    if (share && this.#iterations % this.#fragment === 0) share.encode(enc);
    const steps = this.envSteps;
    if (steps <= c.learningStarts) return;
    this.#pending += this.stepsPerIteration;
    while (this.#pending >= c.stepsPerUpdate) {
      this.#pending -= c.stepsPerUpdate;
      // LEARN: sample a minibatch (uniform / PER / LBS / SEQL), y = r + γ(1 − d)·Q̄(o', argmax
      // Q(o')) (double DQN) or max Q̄(o'), Huber loss on Q(o, a) − y, backward, Adam (learner.ts).
      learner.learn(enc);
      this.parts.policy.accumulate(enc);
      this.#updates++;
      // TARGET: θ̄_i ← θ_i every `targetEvery` env steps (Polyak updates run inside learn).
      if (c.tau >= 1 && steps - this.#lastSync >= c.targetEvery) {
        learner.syncTarget(enc);
        this.#lastSync = steps;
      }
    }
  }

  run(iterations: number): void {
    recordIterations(this.#engine, iterations, {
      what: `"${this.parts.variant}"`,
      label: `${this.parts.variant}.run`,
      perSubmit: ITERATIONS_PER_SUBMIT,
      encodeIteration: (enc) => this.#encodeIteration(enc),
    });
  }

  /**
   * Summarises and reads the interval's metrics with one readback; a stage's accumulators
   * (`stage`: SUPER, LBS) are snapshotted, zeroed and read in the same readback. With several
   * seeds: seed 0's.
   */
  async readMetrics(stage?: StageMetricsRead): Promise<Metrics> {
    return (await this.#readSeeds(stage, true))[0];
  }

  /** Each seed's metrics of the interval, in seed order, with one readback (as `readMetrics`). */
  readSeedMetrics(stage?: StageMetricsRead): Promise<Metrics[]> {
    return this.#readSeeds(stage, false);
  }

  async #readSeeds(stage: StageMetricsRead | undefined, first: boolean): Promise<Metrics[]> {
    const { stats, policy } = this.parts;
    const S = this.seeds, L = this.parts.numLearners / S;
    const enc = this.#engine.encoder(`${this.parts.variant}.metrics`);
    stats.summarise(enc);
    policy.summarise(enc);
    if (stage) {
      enc.copy(stage.metrics.accumulators, stage.snapshot);
      enc.clear(stage.metrics.accumulators);
    }
    this.#engine.submit(enc);
    const [s, m, extra] = await readTensors(
      this.#engine,
      [stats.out, policy.out, stage?.snapshot ?? policy.out] as const,
    );
    const episodes = S > 1 ? stats.decodeSeeds(s) : [stats.decode(s)];
    const stageScalars = !stage
      ? []
      : S > 1
      ? stage.metrics.decodeSeeds?.(extra) ?? []
      : [stage.metrics.decode(extra)];
    if (stage && stageScalars.length !== S) {
      throw new TypeError(`"${this.parts.variant}": the stage's metrics do not decode ${S} seeds`);
    }
    const out: Metrics[] = [];
    for (let k = 0; k < (first ? 1 : S); k++) {
      // Learner l of seed k is block l·S + k; summed in learner order as a one-seed run sums.
      let loss = 0, td = 0;
      for (let l = 0; l < L; l++) {
        loss += m[2 * (l * S + k)] / L;
        td += m[2 * (l * S + k) + 1] / L;
      }
      const scalars = {
        loss,
        meanAbsTd: td,
        epsilon: m[2 * (L * S + k)],
        updates: m[2 * (L * S + k) + 1],
        ...(stage ? stageScalars[k] : {}),
      };
      out.push(episodeMetrics(episodes[k], { envSteps: this.envSteps, scalars }));
    }
    return out;
  }

  /**
   * How each entry of `stateTensors()` holds the seeds (algorithms/seeds.ts): block-axis tensors
   * seed-minor, env-axis tensors seed-major, one-element counters shared.
   */
  seedLayouts(): Record<string, SeedLayout> {
    return this.#seedLayouts();
  }

  /** Every tensor the build created (keyed by label) and the env's state (`env.*`). */
  stateTensors(): Record<string, Tensor> {
    return { ...this.#tensors, ...envStateTensors(this.env) };
  }

  hostState(): Record<string, number> {
    return {
      iterations: this.#iterations,
      pendingSteps: this.#pending,
      lastSync: this.#lastSync,
      updates: this.#updates,
    };
  }

  restoreHostState(state: Record<string, number>): void {
    const c = restoredCounters(state, {
      names: ["iterations", "pendingSteps", "lastSync", "updates"],
      what: `"${this.parts.variant}"`,
    });
    this.#iterations = c.iterations;
    this.#pending = c.pendingSteps;
    this.#lastSync = c.lastSync;
    this.#updates = c.updates;
  }
}

/**
 * Builds an IDQN-family trainer (one of the variants) for `run`, with optional custom batch
 * source and share stage (SUPER, LBS).
 *
 * @param engine Engine that owns the device.
 * @param variant Which variant ({@linkcode IdqnVariant}).
 * @param run Run settings (seed, numEnvs, task).
 * @param algo Validated hyper-parameters.
 * @param options Custom stages and replay options.
 * @returns The {@linkcode IdqnTrainer}, reset and ready to `run`.
 */
export async function createIdqnTrainer(
  engine: Engine,
  variant: IdqnVariant,
  run: RunConfig,
  algo: Readonly<IdqnConfig>,
  options: IdqnTrainerOptions = {},
): Promise<IdqnTrainer> {
  return new IdqnTrainer(await buildIdqn(engine, variant, run, algo, options));
}

/**
 * The evaluation of SUPER (docs/algorithms/super.md §4, §6) and of the LBS comparison and IDQN
 * baselines run with it: every 1/200 of the budget (RLlib's 4 000 of 800 000 env steps on
 * Pursuit), 20 greedy episodes, episode returns summed over the learning team; the final
 * evaluation is read at the end of the budget (no best-model selection). 20 envs: one episode
 * each.
 */
export const IDQN_EVAL_PROTOCOL: EvalProtocol = Object.freeze({
  name: "team return",
  bestName: "best team return",
  runner: "evaluator",
  source: "Gerstgrasser et al. 2023 (SUPER), RLlib evaluation: 20 greedy episodes every 1/200",
  interval: 0,
  intervalFraction: 0.005,
  episodes: 20,
  policy: "greedy",
  returns: "team",
  envs: 20,
  seed: 1,
  best: false,
});

/**
 * The evaluation of SEQL and IQL in the SEAC repository (paper App. D; docs/algorithms/idqn.md
 * §9): 5 episodes at ε = 0.01 (our `epsilonEnd`, the "stochastic" policy of the IDQN family) every
 * 50 training episodes, counted here as 50 · maxSteps env steps (episodes that end early make the
 * reference evaluate more often); total return over agents.
 */
export function seqlEvalProtocol(run: RunConfig): EvalProtocol {
  return Object.freeze({
    name: "team return",
    bestName: "best team return",
    runner: "evaluator",
    source: "uoe-agents/seac seql/ (SEAC paper App. D): 5 episodes at ε 0.01 every 50 episodes",
    interval: 50 * findTask(run.env).spec.maxSteps,
    intervalFraction: 0,
    episodes: 5,
    policy: "stochastic",
    returns: "team",
    envs: 5,
    seed: 1,
    best: false,
  });
}

function define(
  name: IdqnVariant,
  source: string,
  defaults: Readonly<IdqnConfig>,
): AlgorithmDef<IdqnConfig> {
  const def: AlgorithmDef<IdqnConfig> = {
    name,
    source,
    defaults,
    check: (run, algo) => checkIdqnConfig(name, run, algo),
    evalProtocol: name === "seql" || name === "iql" ? seqlEvalProtocol : () => IDQN_EVAL_PROTOCOL,
    create: (engine, run, algo) => createIdqnTrainer(engine, name, run, algo),
    createSeeds: (engine, run, algo, seeds) =>
      createIdqnTrainer(engine, name, run, algo, { seeds }),
  };
  return Object.freeze(def);
}

const RLLIB = "RLlib 2.0 DDQN as configured by mgerstgrasser/super (docs/algorithms/idqn.md §4.1)";

/** Independent DQN/DDQN: one network and one replay per agent (docs/algorithms/idqn.md §4.1). */
export const IDQN: AlgorithmDef<IdqnConfig> = define("idqn", RLLIB, IDQN_DEFAULTS);

/** Parameter-sharing DQN: one network and one replay for all agents (docs/algorithms/idqn.md §4.2). */
export const PS_DQN: AlgorithmDef<IdqnConfig> = define(
  "ps",
  `${RLLIB}; parameter sharing (docs/algorithms/idqn.md §4.2)`,
  IDQN_DEFAULTS,
);

/** "IDQN same RB": own networks; every learner draws uniformly from all agents' data (docs/algorithms/idqn.md §4.3). */
export const IDQN_SAME_RB: AlgorithmDef<IdqnConfig> = define(
  "idqn-same-rb",
  "LBS paper baseline (seed 000), docs/algorithms/idqn.md §4.3",
  Object.freeze({ ...IDQN_DEFAULTS, prioritized: false }),
);

/** SEQL: equal shares of every agent's buffer, foreign rows weighted by λ (docs/algorithms/idqn.md §4.4). */
export const SEQL: AlgorithmDef<IdqnConfig> = define(
  "seql",
  "uoe-agents/seac seql/ (SEAC paper App. D), docs/algorithms/idqn.md §4.4",
  SEQL_DEFAULTS,
);

/** IQL as in the SEAC repository: independent MLP Q-learners, uniform replay (docs/algorithms/idqn.md §4.4). */
export const IQL: AlgorithmDef<IdqnConfig> = define(
  "iql",
  "uoe-agents/seac seql/iql.py (SEAC paper App. D), docs/algorithms/idqn.md §4.4",
  SEQL_DEFAULTS,
);

/** Every IDQN-family algorithm by config name (spread into the registry). */
export const IDQN_ALGORITHMS = Object.freeze({
  idqn: IDQN,
  ps: PS_DQN,
  "idqn-same-rb": IDQN_SAME_RB,
  seql: SEQL,
  iql: IQL,
});
