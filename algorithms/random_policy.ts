/**
 * The "random" baseline: every agent picks a uniformly random action each step, drawn on the GPU
 * from the counter-based RNG (purpose `action`, stream (env, agent), step = iteration counter).
 * No learning. Useful for environment statistics (the return of chance) and to drive the product
 * end to end (progress, outputs, checkpoints, resume, reports) without a learner.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch, type Kernel } from "../engine/kernel.ts";
import { readTensor } from "../engine/readback.ts";
import { RNG_PURPOSE } from "../engine/rng.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { VecEnv } from "../envs/env.ts";
import { findTask } from "../envs/registry.ts";
import { createEpisodeStats, type EpisodeStats } from "./episode_stats.ts";
import {
  type AlgorithmDef,
  envStateTensors,
  episodeMetrics,
  type EvalActor,
  type Metrics,
  recordIterations,
  restoredCounters,
  type RunConfig,
  type Trainer,
} from "./trainer.ts";

const SHADER = "algorithms/random_policy.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  numEnvs: "u32",
  numActions: "u32",
  seed: "u32",
  purpose: "u32",
} as const;

/** Draws `actions[a, e]` uniformly in [0, numActions) for iteration `step[0]`. */
export const randomPolicyAct = defineKernel({
  name: "random.policy.act",
  shader: SHADER,
  entryPoint: "act",
  includes: INCLUDES,
  bindings: { step: "read", actions: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.numEnvs,
});

/** Adds one to the policy's iteration counter. */
export const randomPolicyAdvance = defineKernel({
  name: "random.policy.advance",
  shader: SHADER,
  entryPoint: "advance",
  includes: INCLUDES,
  bindings: { counter: "write" },
  params: PARAMS,
  threads: () => 1,
});

/** The random baseline has no hyper-parameters. */
export type RandomConfig = Record<never, never>;

/** Iterations recorded per submit (bounds the size of one command buffer). */
const ITERATIONS_PER_SUBMIT = 64;

class RandomTrainer implements Trainer {
  readonly env: VecEnv;
  readonly stepsPerIteration: number;
  readonly #engine: Engine;
  readonly #stats: EpisodeStats;
  readonly #statsState: Record<string, Tensor>;
  readonly #counter: Tensor<"u32">;
  readonly #act: Dispatch<typeof PARAMS>;
  readonly #advance: Dispatch<typeof PARAMS>;
  readonly #kernels: RandomKernels;
  #iterations = 0;

  constructor(parts: {
    engine: Engine;
    env: VecEnv;
    stats: EpisodeStats;
    statsState: Record<string, Tensor>;
    counter: Tensor<"u32">;
    act: Dispatch<typeof PARAMS>;
    advance: Dispatch<typeof PARAMS>;
    kernels: RandomKernels;
  }) {
    this.#engine = parts.engine;
    this.env = parts.env;
    this.stepsPerIteration = parts.env.numEnvs;
    this.#stats = parts.stats;
    this.#statsState = parts.statsState;
    this.#counter = parts.counter;
    this.#act = parts.act;
    this.#advance = parts.advance;
    this.#kernels = parts.kernels;
  }

  get envSteps(): number {
    return this.#iterations * this.stepsPerIteration;
  }

  /** Uniform random actions whether or not `greedy` is set (the baseline has no greedy policy). */
  encodeAct(enc: Encoder, _options: { greedy: boolean }): void {
    this.#act.encode(enc);
    this.#advance.encode(enc);
  }

  /** Uniform random actions on `env` from their own counter and stream (`options.seed`). */
  createEvalActor(env: VecEnv, options: { seed: number }): Promise<EvalActor> {
    return Promise.resolve(bindRandomActor(this.#engine, this.#kernels, {
      env,
      seed: options.seed,
      label: "random.eval",
    }));
  }

  /** The baseline has no weights. */
  policyTensors(): Record<string, Tensor> {
    return {};
  }

  run(iterations: number): void {
    recordIterations(this.#engine, iterations, {
      what: "the random baseline",
      label: "random.run",
      perSubmit: ITERATIONS_PER_SUBMIT,
      encodeIteration: (enc) => {
        this.encodeAct(enc, { greedy: false });
        this.env.encodeStep(enc);
        this.#stats.track(enc);
        this.#iterations++;
      },
    });
  }

  async readMetrics(): Promise<Metrics> {
    const enc = this.#engine.encoder("random.metrics");
    this.#stats.summarise(enc);
    this.#engine.submit(enc);
    const s = this.#stats.decode(await readTensor(this.#engine, this.#stats.out));
    return episodeMetrics(s, { envSteps: this.envSteps, scalars: {} });
  }

  stateTensors(): Record<string, Tensor> {
    return { "policy.counter": this.#counter, ...this.#statsState, ...envStateTensors(this.env) };
  }

  hostState(): Record<string, number> {
    return { iterations: this.#iterations };
  }

  restoreHostState(state: Record<string, number>): void {
    const c = restoredCounters(state, { names: ["iterations"], what: "the random baseline" });
    this.#iterations = c.iterations;
  }
}

interface RandomKernels {
  act: Kernel<{ step: "read"; actions: "write" }, typeof PARAMS>;
  advance: Kernel<{ counter: "write" }, typeof PARAMS>;
}

/** The random policy bound to `env`'s actions with its own counter: act, then advance. */
function bindRandomActor(
  engine: Engine,
  kernels: RandomKernels,
  o: { env: VecEnv; seed: number; label: string },
): EvalActor {
  const counter = engine.tensor({ dtype: "u32", shape: [1], label: `${o.label}.counter` });
  const p = {
    numAgents: o.env.spec.numAgents,
    numEnvs: o.env.numEnvs,
    numActions: o.env.spec.numActions,
    seed: o.seed >>> 0,
    purpose: RNG_PURPOSE.action,
  };
  const act = kernels.act.bind(
    { step: counter, actions: o.env.buffers.actions },
    p,
    `${o.label}.act`,
  );
  const advance = kernels.advance.bind({ counter }, p, `${o.label}.advance`);
  return {
    encodeAct(enc) {
      act.encode(enc);
      advance.encode(enc);
    },
    stateTensors: () => ({ counter }),
  };
}

async function createRandom(engine: Engine, run: RunConfig, _algo: RandomConfig): Promise<Trainer> {
  const { def, spec } = findTask(run.env);
  const env = await def.create(engine, spec, { numEnvs: run.numEnvs, seed: run.seed });
  const numAgents = spec.numAgents, numEnvs = run.numEnvs;
  const stats = await createEpisodeStats(engine, {
    env: env.buffers,
    numAgents,
    numEnvs,
    label: "random.stats",
  });
  const statsState = stats.stateTensors();
  const counter = engine.tensor({ dtype: "u32", shape: [1], label: "random.policy.counter" });
  const p = {
    numAgents,
    numEnvs,
    numActions: spec.numActions,
    seed: run.seed >>> 0,
    purpose: RNG_PURPOSE.action,
  };
  const [ka, kv] = await Promise.all([
    compileKernel(engine, randomPolicyAct),
    compileKernel(engine, randomPolicyAdvance),
  ]);
  const act = ka.bind({ step: counter, actions: env.buffers.actions }, p, "random.policy.act");
  const advance = kv.bind({ counter }, p, "random.policy.advance");
  const enc = engine.encoder("random.reset");
  env.encodeReset(enc);
  engine.submit(enc);
  const kernels = { act: ka, advance: kv };
  return new RandomTrainer({ engine, env, stats, statsState, counter, act, advance, kernels });
}

/** The uniform-random baseline. */
export const RANDOM: AlgorithmDef<RandomConfig> = Object.freeze({
  name: "random",
  source: "uniform random policy (baseline; no learning)",
  defaults: Object.freeze({}),
  create: createRandom,
});
