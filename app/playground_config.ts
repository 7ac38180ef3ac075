/**
 * What the browser playground offers (`examples/playground/`): the tasks, one or more per env
 * family that has a renderer, and for every registered algorithm the browser-sized settings it
 * trains with there (small replay rings and networks, so that any WebGPU adapter within the
 * default limits runs it: 8 storage buffers per stage, 128 MiB per binding) and which tasks it
 * can build on. {@linkcode playgroundConfig} turns a choice into a validated config.
 *
 * @module
 */
import type { EnvSpec } from "../envs/env.ts";
import { type EnvSection, findTask } from "../envs/registry.ts";
import { findRenderer } from "../envs/renderers.ts";
import type { ALGORITHMS } from "../algorithms/mod.ts";
import { type ExperimentConfig, validateConfig } from "./config.ts";

/** A task the playground offers. */
export interface PlaygroundTask {
  /** Registry name or env section, as a config's `env`. */
  env: string | EnvSection;
  /** What the menu shows. */
  label: string;
}

/**
 * The tasks, LBF first (the default is the first).
 *
 * @example What the playground offers: tasks and the algorithms that fit each
 * ```ts
 * import { PLAYGROUND_ALGORITHMS, PLAYGROUND_TASKS, playgroundFits } from "../mod.ts";
 *
 * for (const task of PLAYGROUND_TASKS) {
 *   const algos = Object.keys(PLAYGROUND_ALGORITHMS).filter((a) => playgroundFits(a, task.env));
 *   console.log(task.label, algos.join(" ")); // e.g. "Pursuit, … random idqn ps …"
 * }
 * ```
 */
export const PLAYGROUND_TASKS: readonly PlaygroundTask[] = Object.freeze([
  { env: "Foraging-5x5-2p-1f", label: "LBF 5×5, 2 players, 1 food" },
  { env: "Foraging-8x8-2p-2f-coop", label: "LBF 8×8, 2 players, 2 food, cooperative" },
  { env: "Foraging-10x10-3p-3f", label: "LBF 10×10, 3 players, 3 food" },
  { env: "rware-tiny-2ag", label: "RWARE tiny, 2 robots" },
  { env: "rware-tiny-4ag", label: "RWARE tiny, 4 robots" },
  { env: "rware-small-4ag", label: "RWARE small, 4 robots" },
  { env: "pursuit", label: "Pursuit, 8 pursuers, 30 evaders" },
  { env: "warehouse-4", label: "Warehouse commissioning, 4 learning robots" },
  { env: "traffic-4", label: "Traffic lights, 2×2 grid" },
]);

/** How an algorithm runs in the playground. */
export interface PlaygroundAlgorithm {
  /** Hyper-parameters changed from the algorithm's defaults (for every task). */
  overrides: Readonly<Record<string, unknown>>;
  /** Extra changes for tasks with flat f32 observations (all but Pursuit). */
  flatObsOverrides?: Readonly<Record<string, unknown>>;
  /** Extra changes that depend on the number of envs (after the others). */
  byEnvs?(numEnvs: number): Readonly<Record<string, unknown>>;
  /** Extra changes by env family (after the others). */
  familyOverrides?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Whether it builds on a task. */
  fits(spec: EnvSpec): boolean;
  /** Watch the policy greedily (argmax) rather than sampling its behaviour policy. */
  greedy: boolean;
  /** A one-line note shown with the choice. */
  note: string;
}

const flat = (spec: EnvSpec) => spec.obsDType === "f32" && spec.obsShape.length === 1;
const anyTask = () => true;
const localSimulators = (spec: EnvSpec) => ["warehouse", "traffic"].includes(spec.family);
const ACTOR_CRITIC: PlaygroundAlgorithm = {
  overrides: { hidden: 64, lr: 1e-3 },
  // seac_quick's settings, which learn LBF in about a minute.
  familyOverrides: { lbf: { hidden: 32, lr: 3e-3 } },
  fits: flat,
  greedy: false,
  note: "actor-critic: flat observations only (not Pursuit)",
};
const DQN: PlaygroundAlgorithm = {
  overrides: { bufferSize: 20_000, learningStarts: 1_000 },
  flatObsOverrides: { conv: [], embed: 64, headHidden: 64 },
  fits: anyTask,
  greedy: true,
  note: "DQN family: replay ring of 20,000 transitions per agent",
};
const SEQL: PlaygroundAlgorithm = {
  overrides: {
    bufferSize: 20_000,
    learningStarts: 1_000,
    randomSteps: 1_000,
    epsilonSteps: 100_000,
    lr: 5e-4,
  },
  fits: anyTask,
  greedy: true,
  note: "SEAC-code Q-learning: ε from 1 to 0.01 over 100,000 steps",
};
/** PPO splits its sequences (one per env) into minibatches: at most 4, dividing numEnvs. */
const ppoMinibatches = (numEnvs: number) => ({
  numMinibatches: numEnvs % 4 === 0 ? 4 : numEnvs % 2 === 0 ? 2 : 1,
});
const PPO: PlaygroundAlgorithm = {
  overrides: { hidden: 64, hidden2: 64 },
  byEnvs: ppoMinibatches,
  fits: flat,
  greedy: false,
  note: "independent PPO on the global simulator (flat observations only)",
};
const DIALS: PlaygroundAlgorithm = {
  overrides: {
    hidden: 64,
    hidden2: 64,
    gsEnvs: 8,
    datasetSize: 1_000,
    aipHidden: 32,
    aipEpochs: 10,
    aipLr: 1e-3,
  },
  byEnvs: ppoMinibatches,
  fits: localSimulators,
  greedy: false,
  note: "PPO on influence-augmented local simulators (warehouse and traffic only; slow to start)",
};

/**
 * Settings of every registered algorithm in the playground, by `algo.name`.
 *
 * @example What the playground offers: tasks and the algorithms that fit each
 * ```ts
 * import { PLAYGROUND_ALGORITHMS, PLAYGROUND_TASKS, playgroundFits } from "../mod.ts";
 *
 * for (const task of PLAYGROUND_TASKS) {
 *   const algos = Object.keys(PLAYGROUND_ALGORITHMS).filter((a) => playgroundFits(a, task.env));
 *   console.log(task.label, algos.join(" ")); // e.g. "Pursuit, … random idqn ps …"
 * }
 * ```
 */
export const PLAYGROUND_ALGORITHMS: Readonly<
  Record<keyof typeof ALGORITHMS, PlaygroundAlgorithm>
> = Object.freeze({
  random: { overrides: {}, fits: anyTask, greedy: false, note: "uniform random actions" },
  seac: { ...ACTOR_CRITIC, note: "shared experience actor-critic (λ = 1)" },
  iac: { ...ACTOR_CRITIC, note: "independent actor-critic" },
  snac: { ...ACTOR_CRITIC, note: "one shared actor-critic network" },
  idqn: DQN,
  ps: { ...DQN, note: "one Q-network shared by all agents" },
  "idqn-same-rb": { ...DQN, note: "independent Q-networks on one shared replay ring" },
  seql: { ...SEQL, note: "shared experience Q-learning" },
  iql: { ...SEQL, note: "independent Q-learning" },
  super: { ...DQN, note: "SUPER: agents share their most surprising transitions" },
  lbs: { ...DQN, note: "LBS: learner-driven sampling from a pool of all agents' replay" },
  dials: DIALS,
  untrained_dials: { ...DIALS, note: "DIALS with untrained influence predictors" },
  ppo_gs: PPO,
});

/** Options of {@linkcode playgroundConfig}. */
export interface PlaygroundChoice {
  /** `algo.name`. */
  algo: string;
  /** A task's `env` (registry name or section). */
  env: string | EnvSection;
  /** Parallel envs. Default 16. */
  numEnvs?: number;
  /** Seed. Default 1. */
  seed?: number;
  /** Hyper-parameters on top of the playground's (e.g. a loaded checkpoint's). */
  algoOverrides?: Readonly<Record<string, unknown>>;
}

/** Env steps a playground run may train for before it stops (far beyond a session). */
export const PLAYGROUND_TOTAL_STEPS = 100_000_000;

/**
 * Whether the playground can run `algo` on `env`: the task has a renderer and the algorithm fits
 * it.
 *
 * @param algo `algo.name`.
 * @param env The task.
 * @returns True when the pair is offered.
 *
 * @example What the playground offers: tasks and the algorithms that fit each
 * ```ts
 * import { PLAYGROUND_ALGORITHMS, PLAYGROUND_TASKS, playgroundFits } from "../mod.ts";
 *
 * for (const task of PLAYGROUND_TASKS) {
 *   const algos = Object.keys(PLAYGROUND_ALGORITHMS).filter((a) => playgroundFits(a, task.env));
 *   console.log(task.label, algos.join(" ")); // e.g. "Pursuit, … random idqn ps …"
 * }
 * ```
 */
export function playgroundFits(algo: string, env: string | EnvSection): boolean {
  const a = (PLAYGROUND_ALGORITHMS as Readonly<Record<string, PlaygroundAlgorithm>>)[algo];
  if (!a || !Object.hasOwn(PLAYGROUND_ALGORITHMS, algo)) return false;
  const { spec } = findTask(env);
  return findRenderer(spec.family) !== null && a.fits(spec);
}

/**
 * The validated config of a playground choice: the algorithm's defaults, the playground's
 * browser-sized changes, then `algoOverrides`; no checkpoints, a budget of
 * {@linkcode PLAYGROUND_TOTAL_STEPS}.
 *
 * @param choice Algorithm, task, envs, seed and overrides.
 * @returns The config.
 * @throws {TypeError} When the pair is not offered, or the config does not validate.
 *
 * @example The default choice
 * ```ts
 * import { playgroundConfig } from "./playground_config.ts";
 *
 * const config = playgroundConfig({ algo: "seac", env: "Foraging-5x5-2p-1f", numEnvs: 8 });
 * console.log(config.algo.name, config.numEnvs); // seac 8
 * ```
 */
export function playgroundConfig(choice: PlaygroundChoice): ExperimentConfig {
  if (!playgroundFits(choice.algo, choice.env)) {
    throw new TypeError(
      `Cannot run "${choice.algo}" on ${
        JSON.stringify(choice.env)
      } in the playground: the pair is not offered`,
    );
  }
  const a = (PLAYGROUND_ALGORITHMS as Readonly<Record<string, PlaygroundAlgorithm>>)[choice.algo];
  const { spec } = findTask(choice.env);
  const numEnvs = choice.numEnvs ?? 16;
  return validateConfig({
    seed: choice.seed ?? 1,
    numEnvs,
    totalSteps: PLAYGROUND_TOTAL_STEPS,
    env: choice.env,
    algo: {
      name: choice.algo,
      ...a.overrides,
      ...(flat(spec) ? a.flatObsOverrides : {}),
      ...a.familyOverrides?.[spec.family],
      ...a.byEnvs?.(numEnvs),
      ...choice.algoOverrides,
    },
    log: { interval: 10_000, checkpointEvery: 0 },
  }, "playground");
}

/**
 * The playground config that continues a checkpoint's run: its task, algorithm and
 * hyper-parameters (over the playground's), with `numEnvs` envs.
 *
 * @param config A checkpoint's `config` metadata (`decodeCheckpoint(...).config`).
 * @param numEnvs Parallel envs of the session.
 * @returns The config.
 * @throws {TypeError} When the metadata has no algorithm or task, or the pair is not offered.
 *
 * @example Continue a CLI run's settings with 8 envs
 * ```ts
 * import { playgroundConfigFromCheckpoint } from "../mod.ts";
 *
 * const saved = { env: "Foraging-5x5-2p-1f", seed: 1, algo: { name: "seac", hidden: 32 } };
 * const config = playgroundConfigFromCheckpoint(saved, 8);
 * console.log(config.algo.name, config.numEnvs); // seac 8
 * ```
 */
export function playgroundConfigFromCheckpoint(config: unknown, numEnvs: number): ExperimentConfig {
  const c = config as { env?: unknown; algo?: { name?: unknown }; seed?: unknown } | null;
  const algo = c?.algo;
  if (!algo || typeof algo.name !== "string" || c.env === undefined) {
    throw new TypeError(
      `Cannot use checkpoint in the playground: its config has no algo.name or env`,
    );
  }
  const { name, ...rest } = algo as Record<string, unknown>;
  return playgroundConfig({
    algo: name as string,
    env: c.env as string | EnvSection,
    numEnvs,
    seed: typeof c.seed === "number" ? c.seed + 1 : 1,
    algoOverrides: rest,
  });
}
