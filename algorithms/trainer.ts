/**
 * The contract between training pipelines (IDQN family, SEAC family, DIALS) and the product layer
 * (`deno task run`, checkpoints, reports). A pipeline is built once from a validated config; then
 * the host only records iterations (`run`) and reads metrics once per log interval.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { VecEnv } from "../envs/env.ts";

/** Settings every run has, whatever the algorithm. */
export interface RunConfig {
  /** Seed of every random stream of the run. */
  seed: number;
  /** Parallel environments. */
  numEnvs: number;
  /** Env steps to train for (counted per env: one step of all envs counts numEnvs). */
  totalSteps: number;
  /** Registry name of the task, e.g. "Foraging-8x8-2p-2f-coop" or "rware-tiny-4ag". */
  env: string;
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
   */
  stateTensors(): Record<string, Tensor>;
  /** Host-side counters to checkpoint alongside the tensors. */
  hostState(): Record<string, number>;
  /** Restores host-side counters written by `hostState` (tensors are restored by the caller). */
  restoreHostState(state: Record<string, number>): void;
}

/** An algorithm: its defaults and how to build it. */
export interface AlgorithmDef<C extends object> {
  readonly name: string;
  /** Paper or source the defaults follow. */
  readonly source: string;
  readonly defaults: Readonly<C>;
  /** Extra semantic checks after type validation; returns problems as "path: message". */
  check?(run: RunConfig, algo: C): string[];
  create(engine: Engine, run: RunConfig, algo: C): Promise<Trainer>;
}
