/**
 * A {@linkcode Trainer} that adds a stage's GPU metrics to an IDQN-family trainer's: the stage
 * accumulates them on the GPU; at a log point they are snapshotted and zeroed on the GPU, and read
 * with one readback next to the trainer's own (SUPER's rows shared, LBS's pool statistics).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import type { IdqnTrainer } from "./mod.ts";
import type { StageMetrics } from "./stages.ts";
import type { EvalActor, Metrics, SeedLayout, Trainer } from "../trainer.ts";

/** An IDQN-family trainer with a stage's metrics. */
export class StageTrainer implements Trainer {
  readonly inner: IdqnTrainer;
  readonly #engine: Engine;
  readonly #metrics: StageMetrics;
  readonly #snapshot: Tensor<"f32">;

  constructor(engine: Engine, inner: IdqnTrainer, metrics: StageMetrics) {
    this.#engine = engine;
    this.inner = inner;
    this.#metrics = metrics;
    this.#snapshot = engine.tensor({
      dtype: "f32",
      shape: [...metrics.accumulators.shape],
      label: `${metrics.accumulators.label}.snapshot`,
    });
  }

  get env(): VecEnv {
    return this.inner.env;
  }

  get stepsPerIteration(): number {
    return this.inner.stepsPerIteration;
  }

  get envSteps(): number {
    return this.inner.envSteps;
  }

  /** Seeds trained in these dispatches (1: one seed). */
  get seeds(): number {
    return this.inner.seeds;
  }

  encodeAct(enc: Encoder, options: { greedy: boolean }): void {
    this.inner.encodeAct(enc, options);
  }

  /** The inner trainer's online networks acting on `env` (evaluation). */
  createEvalActor(env: VecEnv, options: { seed: number }): Promise<EvalActor> {
    return this.inner.createEvalActor(env, options);
  }

  policyTensors(): Record<string, Tensor> {
    return this.inner.policyTensors();
  }

  run(iterations: number): void {
    this.inner.run(iterations);
  }

  /** The trainer's metrics and the stage's, in one readback. */
  readMetrics(): Promise<Metrics> {
    return this.inner.readMetrics({ metrics: this.#metrics, snapshot: this.#snapshot });
  }

  /** Each seed's metrics and stage metrics, in one readback. */
  readSeedMetrics(): Promise<Metrics[]> {
    return this.inner.readSeedMetrics({ metrics: this.#metrics, snapshot: this.#snapshot });
  }

  seedLayouts(): Record<string, SeedLayout> {
    return this.inner.seedLayouts();
  }

  stateTensors(): Record<string, Tensor> {
    return this.inner.stateTensors();
  }

  hostState(): Record<string, number> {
    return this.inner.hostState();
  }

  restoreHostState(state: Record<string, number>): void {
    this.inner.restoreHostState(state);
  }
}
