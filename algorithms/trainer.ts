/**
 * The contract between training pipelines (IDQN family, SEAC family, DIALS) and the product layer
 * (`deno task run`, checkpoints, reports). A pipeline is built once from a validated config; then
 * the host only records iterations (`run`) and reads metrics once per log interval.
 *
 * Also the pieces every trainer shares: {@linkcode envStateTensors} (the env's entries of
 * `stateTensors()`), {@linkcode recordIterations} (the chunked `run` loop),
 * {@linkcode checkIterations} and {@linkcode restoredCounters} (host-state validation) and
 * {@linkcode episodeMetrics} (the episode part of a {@linkcode Metrics} record).
 *
 * Evaluation: every family declares its paper's {@linkcode EvalProtocol} (`evalProtocol` on its
 * {@linkcode AlgorithmDef}); a trainer acts on separate evaluation envs with its current weights
 * through `createEvalActor` (`algorithms/evaluation.ts` runs the episodes), or, for DIALS, reports
 * its own evaluation in {@linkcode Metrics.evaluation}.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { VecEnv } from "../envs/env.ts";
import type { EnvSection } from "../envs/registry.ts";
import type { EpisodeSummary } from "./episode_stats.ts";

/** Settings every run has, whatever the algorithm. */
export interface RunConfig {
  /** Seed of every random stream of the run. */
  seed: number;
  /** Parallel environments. */
  numEnvs: number;
  /** Env steps to train for (counted per env: one step of all envs counts numEnvs). */
  totalSteps: number;
  /**
   * The task: its registry name, e.g. "Foraging-8x8-2p-2f-coop" or "rware-tiny-4ag", or a map of
   * `name` and options of its family, e.g. `{ name: "Foraging-8x8-2p-2f-coop", maxEpisodeSteps:
   * 25 }` (`findTask` takes either).
   */
  env: string | EnvSection;
}

/** One log record: what a pipeline reports once per interval. Units in brackets. */
export interface Metrics {
  /** Env steps so far [steps, summed over envs]. */
  envSteps: number;
  /** Episodes finished in the interval. */
  episodes: number;
  /** Mean episode return over agents and finished episodes in the interval (NaN if none). */
  meanReturn: number;
  /** Mean return per agent. */
  returnPerAgent: number[];
  /** Mean finished-episode length [steps]. */
  meanLength: number;
  /** Algorithm-specific scalars (losses, ε, entropy, rows shared …). */
  scalars: Record<string, number>;
  /**
   * The trainer's own evaluation episodes that ended in the interval, for a family whose
   * protocol has `runner: "trainer"` (DIALS: the GS evaluation); absent when none ended.
   */
  evaluation?: EpisodeSummary;
}

/** Which actions an evaluation takes. */
export type EvalPolicy = "greedy" | "stochastic";

/** How an evaluation turns episode returns into one number. */
export type EvalReturns = "team" | "agent";

/**
 * The settings of an evaluation protocol: the `eval:` section of a config (the family's
 * {@linkcode EvalProtocol} fills in what a config leaves out). Units in brackets.
 */
export interface EvalConfig {
  /** Env steps between evaluations [steps, summed over envs]; 0 with `intervalFraction` 0: off. */
  interval: number;
  /** Evaluate every this fraction of `totalSteps` instead (e.g. 0.005 = 200 times); 0: unused. */
  intervalFraction: number;
  /** Episodes per evaluation, counted exactly. */
  episodes: number;
  /** Greedy actions (argmax) or the family's stochastic policy. */
  policy: EvalPolicy;
  /** team: mean over episodes of the return summed over agents; agent: mean per agent. */
  returns: EvalReturns;
  /** Parallel evaluation envs (at most `episodes` are built). */
  envs: number;
  /** Seed offset of the evaluation envs and actions: they use run seed + `seed`. */
  seed: number;
  /** Keep the best model: save it when the evaluation value improves, report the best. */
  best: boolean;
}

/** A family's evaluation protocol: its paper's settings and names. */
export interface EvalProtocol extends EvalConfig {
  /** What the paper calls one evaluation's value, e.g. "team return". */
  readonly name: string;
  /** What the paper calls the reported value with `best`, e.g. "final evaluation return". */
  readonly bestName: string;
  /**
   * "evaluator": separate evaluation envs acted on through `Trainer.createEvalActor`;
   * "trainer": the trainer's own evaluation, reported in {@linkcode Metrics.evaluation} (its
   * settings come from the algorithm's hyper-parameters and cannot be changed in `eval:`).
   */
  readonly runner: "evaluator" | "trainer";
  /** Where the protocol comes from (paper, section). */
  readonly source: string;
}

/** Acting with a trainer's current weights on another env's observations. */
export interface EvalActor {
  /**
   * Records action selection for the env's current obs into its `actions`: argmax when `greedy`,
   * else the family's stochastic policy (own RNG stream, advanced by each call).
   */
  encodeAct(enc: Encoder, greedy: boolean): void;
  /** Records the start of an evaluation from reset envs (e.g. recurrent state zeroed). */
  encodeBegin?(enc: Encoder): void;
  /** Records what follows each env step of the acted env (e.g. recurrent state carried). */
  encodeAfterStep?(enc: Encoder): void;
  /** The actor's own state to checkpoint (RNG counters), by stable name. */
  stateTensors(): Record<string, Tensor>;
}

/** A built pipeline. */
export interface Trainer {
  /** The vectorised env the pipeline trains on. */
  readonly env: VecEnv;
  /**
   * Records action selection for the env's current obs into `env.buffers.actions`: greedy
   * (argmax Q / most probable action) when `greedy`, else the behaviour policy. For evaluation.
   */
  encodeAct(enc: Encoder, options: { greedy: boolean }): void;
  /** Env steps one iteration advances (numEnvs, or numEnvs × rollout length). */
  readonly stepsPerIteration: number;
  /** Env steps done so far (host-side counter; no GPU read). */
  readonly envSteps: number;
  /** Records and submits `iterations` training iterations. Never awaits. */
  run(iterations: number): void;
  /** Summarises and reads the interval's metrics: exactly one readback. */
  readMetrics(): Promise<Metrics>;
  /**
   * Tensors that fully describe the training state (weights, optimiser moments and counts, env
   * state, replay contents, RNG counters), keyed by stable names, for checkpoints.
   *
   * The trainer alone lists its env's state: the entries of {@linkcode envStateTensors}`(env)`,
   * keyed `env.<name>` (obs included). Checkpoints store these under their own `env.*` names (and
   * skip them in partial restores) and every other entry as `trainer.<name>`; they add nothing.
   * A trainer whose env is built from other envs (DIALS) lists those with their own prefixes.
   */
  stateTensors(): Record<string, Tensor>;
  /** Host-side counters to checkpoint alongside the tensors. */
  hostState(): Record<string, number>;
  /** Restores host-side counters written by `hostState` (tensors are restored by the caller). */
  restoreHostState(state: Record<string, number>): void;
  /**
   * Builds an actor that acts on `env` (same task, any numEnvs) with this trainer's current
   * weights, with its own RNG stream seeded by `options.seed`. Absent: the family cannot be
   * evaluated on separate envs.
   */
  createEvalActor?(env: VecEnv, options: { seed: number }): Promise<EvalActor>;
  /**
   * The entries of `stateTensors()` a policy needs to act (the weights), for the best model;
   * absent: all of them.
   */
  policyTensors?(): Record<string, Tensor>;
  /**
   * Seeds trained in this trainer's dispatches (seed batching, docs/statistics.md §8); absent or
   * 1: one seed. A batched trainer's `envSteps`, `stepsPerIteration` and `Metrics` count one
   * seed (each seed advances by the same steps), `readMetrics` gives seed 0's record.
   */
  readonly seeds?: number;
  /** Each seed's metrics of the interval, in seed order (one readback); with `seeds` > 1. */
  readSeedMetrics?(): Promise<Metrics[]>;
  /**
   * How each entry of `stateTensors()` holds the seeds of the batch (see
   * `algorithms/seeds.ts`); with `seeds` > 1.
   */
  seedLayouts?(): Record<string, SeedLayout>;
}

/**
 * How a tensor of a seed-batched trainer holds its seeds: viewed as `[outer, seeds, inner]`
 * elements (seed k's slice: `outer` runs of `inner` elements), or "shared" (the same for every
 * seed: counters every seed advances alike).
 */
export type SeedLayout = { readonly outer: number; readonly inner: number } | "shared";

/** An algorithm: its defaults and how to build it. */
export interface AlgorithmDef<C extends object> {
  readonly name: string;
  /** Paper or source the defaults follow. */
  readonly source: string;
  readonly defaults: Readonly<C>;
  /** Extra semantic checks after type validation; returns problems as "path: message". */
  check?(run: RunConfig, algo: C): string[];
  /**
   * The paper's evaluation protocol for a run (a config's `eval:` section overrides it). Absent:
   * {@linkcode EVAL_OFF}.
   */
  evalProtocol?(run: RunConfig, algo: Readonly<C>): EvalProtocol;
  create(engine: Engine, run: RunConfig, algo: C): Promise<Trainer>;
  /**
   * Builds one trainer for `seeds` seeds (`run.seed`, `run.seed + 1`, …) in the same dispatches,
   * seed k bit-identical to `create` with seed `run.seed + k` (`run.numEnvs` is per seed).
   * Absent: the family runs seeds one after another.
   */
  createSeeds?(engine: Engine, run: RunConfig, algo: C, seeds: number): Promise<Trainer>;
}

/**
 * The protocol of a family without one: no evaluation (`interval` 0); a config's `eval:` section
 * can turn it on (20 stochastic episodes per agent on 10 envs unless set).
 */
export const EVAL_OFF: EvalProtocol = Object.freeze({
  name: "return per agent",
  bestName: "best return per agent",
  runner: "evaluator",
  source: "none (no evaluation unless the config's eval section sets one)",
  interval: 0,
  intervalFraction: 0,
  episodes: 20,
  policy: "stochastic",
  returns: "agent",
  envs: 10,
  seed: 1,
  best: false,
});

/**
 * The evaluation protocol an algorithm declares for a run (its `evalProtocol`, or
 * {@linkcode EVAL_OFF}).
 *
 * @param def The algorithm.
 * @param run The run settings.
 * @param algo The algorithm's validated hyper-parameters.
 * @returns The family's protocol.
 */
export function familyEvalProtocol<C extends object>(
  def: AlgorithmDef<C>,
  run: RunConfig,
  algo: Readonly<C>,
): EvalProtocol {
  return def.evalProtocol?.(run, algo) ?? EVAL_OFF;
}

/**
 * The names an evaluation's values go by: the family's paper names where the returns are the
 * family's kind, else "team return" / "return per agent"; the protocol's episodes and policy in
 * parentheses. `best` names the best-model value (only meaningful with `eval.best`).
 *
 * @param protocol The family's protocol (names and default returns).
 * @param evalConfig The effective settings.
 * @returns The name of one evaluation's value and of the best model's value, e.g.
 *   "evaluation return (100 stochastic episodes)" and "final evaluation return (best model, 100
 *   stochastic episodes)".
 */
export function evalNames(
  protocol: EvalProtocol,
  evalConfig: EvalConfig,
): { value: string; best: string } {
  const same = evalConfig.returns === protocol.returns;
  const generic = evalConfig.returns === "team" ? "team return" : "return per agent";
  const name = same ? protocol.name : generic;
  const bestName = same ? protocol.bestName : `best ${generic}`;
  const what = `${evalConfig.episodes} ${evalConfig.policy} episode${
    evalConfig.episodes === 1 ? "" : "s"
  }`;
  return { value: `${name} (${what})`, best: `${bestName} (best model, ${what})` };
}

/**
 * The env's state tensors as `stateTensors()` entries: every tensor of `env.stateTensors()` keyed
 * `<prefix>.<name>`, plus `<prefix>.obs` (`env.buffers.obs`) when the env does not list it.
 *
 * @param env The vectorised env.
 * @param prefix Key prefix: `env` for the trainer's env (the default).
 * @returns The entries, to spread into a trainer's `stateTensors()`.
 */
export function envStateTensors(env: VecEnv, prefix = "env"): Record<string, Tensor> {
  const state = env.stateTensors();
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(state)) out[`${prefix}.${k}`] = t;
  if (!Object.values(state).includes(env.buffers.obs)) out[`${prefix}.obs`] = env.buffers.obs;
  return out;
}

/**
 * Checks the argument of `Trainer.run`.
 *
 * @param iterations The requested number of iterations.
 * @param what The trainer in errors: a quoted name (`"seac"`) or a phrase.
 * @throws {RangeError} When `iterations` is not a non-negative integer.
 */
export function checkIterations(iterations: number, what: string): void {
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new RangeError(`Cannot run ${what}: iterations is ${iterations}`);
  }
}

/** Options of {@linkcode recordIterations}. */
export interface RecordIterationsOptions {
  /** The trainer in errors: a quoted name (`"seac"`) or a phrase. */
  what: string;
  /** Label of each encoder, e.g. `seac.run`. */
  label: string;
  /** Iterations recorded per submit (bounds the size of one command buffer). */
  perSubmit: number;
  /** Records one iteration (and advances the trainer's host counters). */
  encodeIteration(enc: Encoder): void;
}

/**
 * The chunked `Trainer.run` loop: checks `iterations`, then records them in submits of at most
 * `perSubmit` iterations each. Never awaits.
 *
 * @param engine Engine that owns the device.
 * @param iterations Iterations to record.
 * @param options Error subject, encoder label, submit size and the iteration encoder.
 */
export function recordIterations(
  engine: Engine,
  iterations: number,
  options: RecordIterationsOptions,
): void {
  checkIterations(iterations, options.what);
  let left = iterations;
  while (left > 0) {
    const n = Math.min(left, options.perSubmit);
    const enc = engine.encoder(options.label);
    for (let i = 0; i < n; i++) options.encodeIteration(enc);
    engine.submit(enc);
    left -= n;
  }
}

/**
 * Validates host counters written by `hostState()` before a trainer restores them.
 *
 * @param state The host state from a checkpoint.
 * @param options The counter `names` and the trainer in errors (`what`, as in `run`).
 * @returns The counters by name.
 * @throws {TypeError} When a counter is missing or not a non-negative integer.
 */
export function restoredCounters<K extends string>(
  state: Record<string, number>,
  options: { names: readonly K[]; what: string },
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of options.names) {
    const v = state[k];
    if (!Number.isInteger(v) || v < 0) {
      throw new TypeError(`Cannot restore ${options.what}: host state "${k}" is ${v}`);
    }
    out[k] = v;
  }
  return out;
}

/**
 * A {@linkcode Metrics} record from an interval's episode statistics.
 *
 * @param episodes The decoded episode statistics.
 * @param options Env steps so far and the algorithm's scalars.
 * @returns The record.
 */
export function episodeMetrics(
  episodes: EpisodeSummary,
  options: { envSteps: number; scalars: Record<string, number> },
): Metrics {
  return {
    envSteps: options.envSteps,
    episodes: episodes.episodes,
    meanReturn: episodes.meanReturn,
    returnPerAgent: episodes.meanReturnPerAgent,
    meanLength: episodes.meanLength,
    scalars: options.scalars,
  };
}
