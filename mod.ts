/**
 * marl-webgpu: experience-sharing multi-agent RL trained entirely on the GPU through WebGPU.
 *
 * The public API: an {@linkcode Engine} ({@linkcode createEngine}), the environment registry
 * ({@linkcode ENVS}, {@linkcode findTask}), the algorithm registry ({@linkcode ALGORITHMS}) and
 * {@linkcode train}, which runs an experiment from a config object and writes its outputs
 * (config, metrics, checkpoint, report) under `runs/`. Works from a local checkout and when
 * imported by URL (shaders are fetched relative to this module).
 *
 * @example Train the random baseline for a few steps
 * ```ts
 * import { ALGORITHMS, createEngine, findTask, train } from "./mod.ts";
 *
 * const engine = await createEngine();
 * const { spec } = findTask("Foraging-8x8-2p-2f-coop");
 * console.log(engine.adapter.description, spec.numAgents, Object.keys(ALGORITHMS));
 *
 * const result = await train(
 *   {
 *     env: spec.name,
 *     numEnvs: 16,
 *     totalSteps: 1600,
 *     algo: { name: "random" },
 *     log: { interval: 800, checkpointEvery: 0 },
 *   },
 *   { root: await Deno.makeTempDir(), engine, progress: "off", report: false },
 * );
 * console.log(result.dir, result.seeds[0].rows.map((r) => r.meanReturn));
 * engine.destroy();
 * ```
 *
 * @module
 */
export { createEngine, Engine, GpuError } from "./engine/device.ts";
export type { AdapterReport, EngineOptions } from "./engine/device.ts";
export { Tensor } from "./engine/tensor.ts";
export type { DType } from "./engine/tensor.ts";
export { compileKernel, defineKernel, PORTABLE_STORAGE_BUFFERS } from "./engine/kernel.ts";
export { readTensor, readTensors } from "./engine/readback.ts";
export type { EnvBuffers, EnvDef, EnvSpec, VecEnv } from "./envs/env.ts";
export { ENVS, findTask } from "./envs/registry.ts";
export { ALGORITHMS, findAlgorithm } from "./algorithms/registry.ts";
export type { AlgorithmDef, Metrics, RunConfig, Trainer } from "./algorithms/trainer.ts";
export { parseConfig, RUN_DEFAULTS, validateConfig } from "./algorithms/config.ts";
export type { ExperimentConfig, LogConfig } from "./algorithms/config.ts";
export { train } from "./algorithms/train.ts";
export { buildTrainer, trainLoop } from "./algorithms/train_loop.ts";
export type { LoopState, TrainLoopOptions } from "./algorithms/train_loop.ts";
export type { MetricsRow, SeedResult, TrainOptions, TrainResult } from "./algorithms/train.ts";
