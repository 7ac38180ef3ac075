/**
 * DIALS on one GPU (Suau et al., NeurIPS 2022; docs/algorithms/dials.md): independent PPO agents trained on
 * influence-augmented local simulators (IALS = local simulator + AIP), with the AIPs periodically
 * retrained on data collected from the global simulator (GS) under the current joint policy, and
 * periodic evaluation of the joint policy on the GS. "Distributed" becomes "batched": all N IALS
 * run as one batched kernel (numEnvs lanes per agent), each lane with its agent's own AIP and PPO
 * parameters. {@linkcode DIALS} and {@linkcode UNTRAINED_DIALS} (AIPs never trained) come from
 * the same code; the GS baseline is `PPO_GS` in `ppo.ts`.
 *
 * Outer loop (docs/algorithms/dials.md §2), recorded without readbacks; one iteration = one PPO rollout of T
 * steps on every lane plus one update. Before an iteration that starts a chunk of C = min(evalFreq,
 * F) agent steps: when the step is a multiple of F (and the AIPs train) collect a dataset from the
 * GS and train every AIP (test loss before and after); when it is a multiple of evalFreq evaluate
 * on the GS. Deviation (stated): chunks do not reset the local simulators (auto-reset episodes run
 * on; a reset would replay the lanes' episode-0 random streams every chunk).
 *
 * Runtime breakdown: every phase is submitted on its own and timed by `dials_clock.ts` (GPU
 * timestamps where the adapter has them); `Metrics.scalars` reports the cumulative totals [s]
 * as timeCollect, timeAipTrain, timePolicy and timeEval.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { readTensors } from "../../engine/readback.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import { findTask } from "../../envs/registry.ts";
import { type Aip, createAip } from "./aip.ts";
import { type AipSampler, createAipSampler } from "./sampler.ts";
import { createPhaseClock, type DialsPhase, type PhaseClock } from "./clock.ts";
import { checkDialsOnlyConfig, DIALS_DEFAULTS, type DialsConfig } from "./config.ts";
import { DIALS_DOMAINS, type DialsDomain } from "./domain.ts";
import { createEpisodeStats, type EpisodeStats } from "../episode_stats.ts";
import {
  buildPpoAgents,
  type PpoAgents,
  ppoScalars,
  ppoSeedLayouts,
  ppoStateTensors,
} from "./gs.ts";
import { envSeedLayouts, seedMajor, seedMinorBlocks } from "../seeds.ts";
import { createTrunkActor } from "../ppo/policy.ts";
import { createPpoRollout, type PpoRollout } from "../ppo/rollout.ts";
import {
  type AlgorithmDef,
  checkIterations,
  envStateTensors,
  episodeMetrics,
  type EvalProtocol,
  type Metrics,
  restoredCounters,
  type RunConfig,
  type SeedLayout,
  type Trainer,
} from "../trainer.ts";

/** The parts of a built DIALS pipeline (exposed for tests and benches). */
export interface DialsParts {
  /** Seeds batched (docs/statistics.md §8): simulators seed-major, networks seed-minor blocks. */
  readonly seeds: number;
  readonly domain: DialsDomain;
  /** The IALS: local simulators whose step first samples influence from the AIPs. */
  readonly ials: VecEnv;
  readonly agents: PpoAgents;
  readonly aip: Aip;
  readonly sampler: AipSampler;
  /** The joint policy acting on the GS (same weights, own GRU state and RNG stream). */
  readonly gsRollout: PpoRollout;
  readonly gsStats: EpisodeStats;
  /** Runtime breakdown by phase. */
  readonly clock: PhaseClock;
}

/** The LS with the AIP's sampling before and its state commit after every step. */
function influenceAugmented(ls: VecEnv, sampler: AipSampler): VecEnv {
  return {
    spec: ls.spec,
    numEnvs: ls.numEnvs,
    buffers: ls.buffers,
    encodeReset(enc) {
      ls.encodeReset(enc);
      sampler.encodeReset(enc);
    },
    encodeStep(enc) {
      sampler.encodeSample(enc);
      ls.encodeStep(enc);
      sampler.encodeCommit(enc);
    },
    stateTensors: () => ls.stateTensors(),
    render: (envIndex) => ls.render(envIndex),
  };
}

/**
 * Builds every part of DIALS for a task (domain, IALS, PPO agents, AIPs, GS actor and
 * statistics) and resets the simulators.
 *
 * @param engine Engine that owns the device.
 * @param run Seed, LS lanes per agent (`numEnvs`), budget and task.
 * @param algo Hyper-parameters.
 * @param seeds Seeds batched (default 1): seeds `run.seed + k`, each bit-identical to a lone run
 *   (`run.numEnvs` and `algo.gsEnvs` per seed).
 * @returns The {@linkcode DialsParts}.
 */
export async function buildDialsParts(
  engine: Engine,
  run: RunConfig,
  algo: DialsConfig,
  seeds = 1,
): Promise<DialsParts> {
  const { spec } = findTask(run.env);
  const build = DIALS_DOMAINS[spec.family];
  if (!build) {
    throw new TypeError(
      `Cannot build DIALS on "${spec.name}": family "${spec.family}" has no local simulators (have ${
        Object.keys(DIALS_DOMAINS).join(", ")
      })`,
    );
  }
  const domain = await build(engine, spec, {
    numEnvs: run.numEnvs,
    gsEnvs: algo.gsEnvs,
    seed: run.seed,
    datasetSize: algo.datasetSize,
    aipHidden: algo.aipHidden,
    seeds,
  });
  const aip = await createAip(engine, {
    spec: domain.aipSpec,
    numAgents: spec.numAgents,
    inputs: domain.dataset.inputs,
    targets: domain.dataset.targets,
    rows: domain.dataset.rows,
    epochs: algo.aipEpochs,
    batch: algo.aipBatch,
    lr: algo.aipLr,
    testFraction: algo.aipTestFraction,
    seed: (run.seed + 1) >>> 0,
    label: "dials.aip",
    seeds,
  });
  const ls = domain.ls;
  const sampler = await createAipSampler(engine, {
    aip,
    obs: ls.buffers.obs,
    obsDim: ls.spec.obsShape.reduce((a, b) => a * b, 1),
    skip: domain.aipSkip,
    numEnvs: ls.numEnvs / seeds,
    terminated: ls.buffers.terminated,
    truncated: ls.buffers.truncated,
    influence: domain.influence,
    seed: run.seed,
    label: "dials.sampler",
    seeds,
  });
  const ials = influenceAugmented(ls, sampler);
  const agents = await buildPpoAgents(engine, ials, {
    algo,
    seed: run.seed,
    totalSteps: run.totalSteps,
    label: "dials",
    seeds,
  });
  const gs = domain.gs;
  const gsActor = await createTrunkActor(engine, {
    net: agents.net,
    spec: agents.spec,
    x: gs.buffers.obs,
    numEnvs: gs.numEnvs / seeds,
    label: "dials.gs.actor",
  });
  const gsRollout = await createPpoRollout(engine, {
    env: gs,
    actor: gsActor,
    numActions: gs.spec.numActions,
    steps: 1,
    seqLen: 1,
    horizon: 1,
    gamma: algo.gamma,
    lambda: algo.lambda,
    // Its own stream: (seed ^ C), per seed of a batch.
    seed: run.seed,
    seedMix: 0x27d4eb2f,
    purpose: RNG_PURPOSE.action,
    schedule: { totalSteps: 1, lr0: 0, lrEnd: 0, clip0: 0, clipEnd: 0 },
    label: "dials.gs.rollout",
    seeds,
  });
  const gsStats = await createEpisodeStats(engine, {
    env: gs.buffers,
    numAgents: gs.spec.numAgents,
    numEnvs: gs.numEnvs,
    seeds,
    label: "dials.gs.stats",
  });
  const enc = engine.encoder("dials.reset");
  ials.encodeReset(enc);
  engine.submit(enc);
  const clock = await createPhaseClock(engine, "dials.clock");
  return { seeds, domain, ials, agents, aip, sampler, gsRollout, gsStats, clock };
}

/**
 * The layouts of a local simulator's `envStateTensors` entries: every tensor is lanes
 * `[numAgents, seeds·n, …]` (env axis 1) but the per-env episode flags `[seeds·n]` (axis 0).
 */
function lanesSeedLayouts(ls: VecEnv, seeds: number, prefix: string): Record<string, SeedLayout> {
  const out: Record<string, SeedLayout> = {};
  const A = ls.spec.numAgents, E = ls.numEnvs;
  for (const [key, t] of Object.entries(envStateTensors(ls, prefix))) {
    const axis = t.shape[0] === A && t.shape[1] === E ? 1 : 0;
    if (t.shape[axis] !== E) {
      throw new TypeError(`lanesSeedLayouts: "${key}" [${t.shape}] has no env axis`);
    }
    out[key] = seedMajor(t.shape, axis, seeds);
  }
  return out;
}

class DialsTrainer implements Trainer {
  readonly env: VecEnv;
  readonly stepsPerIteration: number;
  readonly parts: DialsParts;
  readonly seeds: number;
  readonly #engine: Engine;
  readonly #algo: DialsConfig;
  readonly #name: string;
  #iterations = 0;
  #retrainings = 0;
  #evaluations = 0;

  constructor(engine: Engine, parts: DialsParts, algo: DialsConfig, name: string) {
    this.#engine = engine;
    this.parts = parts;
    this.#algo = algo;
    this.#name = name;
    this.env = parts.ials;
    this.seeds = parts.seeds;
    this.stepsPerIteration = (parts.ials.numEnvs / parts.seeds) * algo.rolloutSteps;
  }

  get envSteps(): number {
    return this.#iterations * this.stepsPerIteration;
  }

  /** Acting on the IALS's current observations (the trainer's env). */
  encodeAct(enc: Encoder, options: { greedy: boolean }): void {
    this.parts.agents.rollout.encodeAct(enc, options.greedy);
  }

  /** Records a GS collection of whole episodes from a reset into the AIP dataset. */
  encodeCollect(enc: Encoder): void {
    const { domain, gsRollout } = this.parts;
    domain.gs.encodeReset(enc);
    gsRollout.encodeResetState(enc);
    domain.dataset.encodeBegin(enc);
    for (let t = 0; t < domain.dataset.stepsPerEnv; t++) {
      gsRollout.encodeActStep(enc, false);
      domain.dataset.encodeRecord(enc);
    }
  }

  /** Records the AIP test loss (slot 0), one training round, and the test loss again (slot 1). */
  encodeAipTrain(enc: Encoder): void {
    this.parts.aip.encodeTest(enc, 0);
    this.parts.aip.encodeTrain(enc);
    this.parts.aip.encodeTest(enc, 1);
  }

  /** Records an evaluation: `evalEpisodes` whole GS episodes from a reset, stochastic actions. */
  encodeEval(enc: Encoder): void {
    const { domain, gsRollout, gsStats } = this.parts;
    domain.gs.encodeReset(enc);
    gsRollout.encodeResetState(enc);
    const steps = this.#algo.evalEpisodes * domain.gs.spec.maxSteps;
    for (let t = 0; t < steps; t++) {
      gsRollout.encodeActStep(enc, false);
      gsStats.track(enc);
    }
  }

  /** Records one PPO iteration on the IALS (the inner loop of DIALS, docs/algorithms/dials.md). */
  encodeIteration(enc: Encoder): void {
    const { agents } = this.parts;
    // ACT → STEP → STORE, T steps: each agent i acts with π_i in its own local simulator, whose
    // influence sources u_t ~ Î_i(u | d_t) come from agent i's AIP; then GAE returns
    // (ppo/rollout.ts).
    agents.rollout.encodeCollect(enc, (e) => agents.stats.track(e));
    // LOSS → UPDATE: PPO epochs over minibatches, clipped surrogate + clipped value loss −
    // entropy bonus, Adam with linear lr and clip schedules (ppo/learner.ts).
    agents.learner.encodeUpdate(enc);
  }

  /** Outer-loop events due before the iteration that starts at agent step `step`. */
  #events(step: number): void {
    const a = this.#algo, prev = step - this.stepsPerIteration;
    const due = (period: number) => Math.floor(prev / period) !== Math.floor(step / period);
    // Every F steps (the outer loop of DIALS): COLLECT a dataset of (d_t, u_t) from the global
    // simulator with the current policies, then TRAIN each agent's AIP Î_i on it (cross-entropy).
    if (a.trainAips && due(a.influenceTrainFreq)) {
      this.#phase("collect", (e) => this.encodeCollect(e));
      this.#phase("aipTrain", (e) => this.encodeAipTrain(e));
      this.#retrainings++;
    }
    // EVALUATE the policies in the global simulator.
    if (due(a.evalFreq)) {
      this.#phase("eval", (e) => this.encodeEval(e));
      this.#evaluations++;
    }
  }

  #phase(phase: DialsPhase, record: (enc: Encoder) => void): void {
    const enc = this.#engine.encoder(`${this.#name}.${phase}`);
    this.parts.clock.submit(this.#engine, enc, phase, record);
  }

  run(iterations: number): void {
    checkIterations(iterations, `"${this.#name}"`);
    let left = iterations;
    while (left > 0) {
      this.#events(this.envSteps);
      // Record up to the next outer-loop event or the submit size, whichever comes first.
      this.#phase("policy", (enc) => {
        let n = 0;
        do {
          this.encodeIteration(enc);
          this.#iterations++;
          left--;
          n++;
        } while (left > 0 && n < this.#algo.iterationsPerSubmit && !this.#eventDue());
      });
    }
  }

  #eventDue(): boolean {
    const a = this.#algo, step = this.envSteps, prev = step - this.stepsPerIteration;
    const due = (period: number) => Math.floor(prev / period) !== Math.floor(step / period);
    return (a.trainAips && due(a.influenceTrainFreq)) || due(a.evalFreq);
  }

  async readMetrics(): Promise<Metrics> {
    return (await this.readSeedMetrics())[0];
  }

  /** Each seed's metrics, with its own GS evaluation (one readback). */
  async readSeedMetrics(): Promise<Metrics[]> {
    const { agents, gsStats, aip, clock, seeds } = this.parts;
    const enc = this.#engine.encoder(`${this.#name}.metrics`);
    gsStats.summarise(enc);
    agents.stats.summarise(enc);
    agents.learner.encodeSummarise(enc);
    this.#engine.submit(enc);
    const [gsOut, lsOut, m, aipLoss, times] = await readTensors(
      this.#engine,
      [
        gsStats.out,
        agents.stats.out,
        agents.learner.metricsOut,
        aip.testLoss,
        clock.totals,
      ] as const,
    );
    const N = this.env.spec.numAgents, W = m.length / seeds;
    const gsAll = gsStats.decodeSeeds(gsOut), lsAll = agents.stats.decodeSeeds(lsOut);
    const mean = (x: Float32Array) => x.reduce((s, v) => s + v, 0) / x.length;
    // Seed k's test losses: agents a of slot s at [s, a·seeds + k].
    const losses = (slot: number, k: number) =>
      Float32Array.from({ length: N }, (_, a) => aipLoss[(slot * N + a) * seeds + k]);
    const trained = this.#retrainings > 0;
    const t = clock.decode(times);
    return gsAll.map((gs, k) => {
      const ls = lsAll[k];
      const scalars = {
        ...ppoScalars(m.subarray(k * W, (k + 1) * W), N),
        lsReturn: ls.meanReturn,
        lsEpisodes: ls.episodes,
        // The AIP test cross-entropy (softmax CE for the warehouse, BCE for traffic; mean over
        // the held-out (sample, source) pairs and agents) before and after the last retraining:
        // the paper's "influence loss" (docs/results/papers.md §4.3).
        aipTestCrossEntropyBefore: trained ? mean(losses(0, k)) : NaN,
        aipTestCrossEntropyAfter: trained ? mean(losses(1, k)) : NaN,
        aipRetrainings: this.#retrainings,
        evaluations: this.#evaluations,
        // Phase times of the whole batch (every seed's row reports them).
        timeCollect: t.collect,
        timeAipTrain: t.aipTrain,
        timePolicy: t.policy,
        timeEval: t.eval,
      };
      const m0 = episodeMetrics(gs, { envSteps: this.envSteps, scalars });
      // The GS evaluation is the protocol's evaluation (dialsEvalProtocol): rows carry it.
      return gs.episodes > 0 ? { ...m0, evaluation: gs } : m0;
    });
  }

  stateTensors(): Record<string, Tensor> {
    const { agents, aip, sampler, gsStats, domain } = this.parts;
    const out = ppoStateTensors(agents, "ppo");
    out["aip.net.params"] = aip.net.params;
    out["aip.adam.m"] = aip.adam.m;
    out["aip.adam.v"] = aip.adam.v;
    out["aip.adam.count"] = aip.adam.count;
    out["aip.step"] = aip.step;
    out["aip.testLoss"] = aip.testLoss;
    out["sampler.counter"] = sampler.counter;
    if (sampler.h) out["sampler.h"] = sampler.h;
    // The LS agents' episode stats are `ppo.stats.*`; the GS evaluation's are `gs.stats.*`.
    for (const [k, v] of Object.entries(gsStats.stateTensors())) out[`gs.${k}`] = v;
    // The trainer's env (the IALS) is the LS with the sampler: its state is `ls.*` and `sampler.*`.
    Object.assign(out, envStateTensors(domain.ls, "ls"), envStateTensors(domain.gs, "gs"));
    out["gs.counter"] = this.parts.gsRollout.counter;
    out["clock.totals"] = this.parts.clock.totals;
    return out;
  }

  /**
   * PPO, AIP and sampler state in seed-minor blocks, the simulators' and statistics' seed-major,
   * counters shared (every seed advances them alike; the clock's totals time the whole batch).
   */
  seedLayouts(): Record<string, SeedLayout> {
    const { agents, aip, sampler, gsStats, domain, seeds } = this.parts;
    const N = this.env.spec.numAgents;
    const blocks = (t: Tensor) => seedMinorBlocks(t.shape, N);
    const out: Record<string, SeedLayout> = {
      ...ppoSeedLayouts(agents, "ppo"),
      "aip.net.params": blocks(aip.net.params),
      "aip.adam.m": blocks(aip.adam.m),
      "aip.adam.v": blocks(aip.adam.v),
      "aip.adam.count": blocks(aip.adam.count),
      "aip.step": "shared",
      // [2, N·seeds]: slot s, agent a of seed k at s·N·seeds + a·seeds + k.
      "aip.testLoss": { outer: 2 * N, inner: 1 },
      "sampler.counter": "shared",
      "gs.counter": "shared",
      "clock.totals": "shared",
      ...lanesSeedLayouts(domain.ls, seeds, "ls"),
      ...envSeedLayouts(domain.gs, seeds, "gs"),
    };
    if (sampler.h) out["sampler.h"] = blocks(sampler.h);
    for (const [k, t] of Object.entries(gsStats.stateTensors())) {
      out[`gs.${k}`] = seedMajor(t.shape, 1, seeds);
    }
    return out;
  }

  hostState(): Record<string, number> {
    return {
      iterations: this.#iterations,
      retrainings: this.#retrainings,
      evaluations: this.#evaluations,
    };
  }

  restoreHostState(state: Record<string, number>): void {
    const c = restoredCounters(state, {
      names: ["iterations", "retrainings", "evaluations"],
      what: `"${this.#name}"`,
    });
    this.#iterations = c.iterations;
    this.#retrainings = c.retrainings;
    this.#evaluations = c.evaluations;
  }
}

/**
 * Builds a DIALS trainer (tests, benches; the AlgorithmDefs call this).
 *
 * @param engine Engine that owns the device.
 * @param run Seed, LS lanes per agent, budget [agent steps] and task.
 * @param algo Hyper-parameters (`trainAips: false` gives untrained-DIALS).
 * @returns The trainer with its parts and phase encoders.
 */
export async function createDialsTrainer(
  engine: Engine,
  run: RunConfig,
  algo: DialsConfig,
  seeds = 1,
): Promise<DialsTrainer> {
  const parts = await buildDialsParts(engine, run, algo, seeds);
  return new DialsTrainer(engine, parts, algo, algo.trainAips ? "dials" : "untrained_dials");
}

export type { DialsTrainer };

const PAPER = "Suau, He, Çelikok, Spaan, Oliehoek 2022, Distributed Influence-Augmented Local " +
  "Simulators (NeurIPS); INFLUENCEorg/DIALS";

/**
 * DIALS's evaluation (docs/algorithms/dials.md §7): the trainer's own GS evaluation
 * (`encodeEval`), every `evalFreq` agent steps, `evalEpisodes` whole episodes on each of the
 * `gsEnvs` GS copies with the stochastic joint policy, the mean over episodes and learning agents
 * of the per-agent return ("mean episodic return"). Set through those hyper-parameters.
 *
 * @param _run The run (unused: the protocol depends only on the hyper-parameters).
 * @param algo The hyper-parameters.
 * @returns The protocol, `runner: "trainer"`.
 */
export function dialsEvalProtocol(_run: RunConfig, algo: Readonly<DialsConfig>): EvalProtocol {
  return Object.freeze({
    name: "mean episodic return",
    bestName: "best mean episodic return",
    runner: "trainer",
    source: "Suau et al. 2022 (DIALS), evaluation on the GS (algo.evalFreq, evalEpisodes, gsEnvs)",
    interval: algo.evalFreq,
    intervalFraction: 0,
    episodes: algo.evalEpisodes * algo.gsEnvs,
    policy: "stochastic",
    returns: "agent",
    envs: algo.gsEnvs,
    seed: 0,
    best: false,
  });
}

/** DIALS: PPO on IALS with AIPs retrained every F steps on GS data. */
export const DIALS: AlgorithmDef<DialsConfig> = Object.freeze({
  name: "dials",
  source: PAPER,
  defaults: DIALS_DEFAULTS,
  check: checkDialsOnlyConfig,
  evalProtocol: dialsEvalProtocol,
  create: (engine: Engine, run: RunConfig, algo: DialsConfig): Promise<Trainer> =>
    createDialsTrainer(engine, run, algo),
  createSeeds: (engine: Engine, run: RunConfig, algo: DialsConfig, seeds: number) =>
    createDialsTrainer(engine, run, algo, seeds),
});

/** Untrained-DIALS: the same pipeline with the AIPs never trained. */
export const UNTRAINED_DIALS: AlgorithmDef<DialsConfig> = Object.freeze({
  name: "untrained_dials",
  source: `${PAPER}, baseline untrained-DIALS`,
  defaults: Object.freeze({ ...DIALS_DEFAULTS, trainAips: false }),
  check: checkDialsOnlyConfig,
  evalProtocol: dialsEvalProtocol,
  create: (engine: Engine, run: RunConfig, algo: DialsConfig): Promise<Trainer> =>
    createDialsTrainer(engine, run, { ...algo, trainAips: false }),
  createSeeds: (engine: Engine, run: RunConfig, algo: DialsConfig, seeds: number) =>
    createDialsTrainer(engine, run, { ...algo, trainAips: false }, seeds),
});
