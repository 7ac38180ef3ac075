/**
 * marl-webgpu: experience-sharing multi-agent RL trained entirely on the GPU through WebGPU.
 *
 * The public API: an {@linkcode Engine} ({@linkcode createEngine}), the environment registry
 * ({@linkcode ENVS}, {@linkcode findTask}), the algorithm registry ({@linkcode ALGORITHMS}) and
 * {@linkcode train}, which runs an experiment from a config object and writes its outputs
 * (config, metrics, checkpoint, report) under `runs/`. The layers every algorithm is built from
 * are here too, batched over an agent axis with explicit backward passes:
 * {@linkcode createLinear}, {@linkcode createMlp}, {@linkcode createConv2d}, {@linkcode createGru},
 * {@linkcode createAdam}, {@linkcode createTargetUpdate}, replay ({@linkcode createReplay}) and
 * sampling ({@linkcode createUniformSampler}); new kernels come from {@linkcode defineKernel}. Works from a local checkout and when
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
// Everything the browser entry offers, plus the file-system parts (train, parseConfig), the
// kernel system for writing new ops and the layers to compose networks from.
export * from "./web.ts";
export { compileKernel, defineKernel } from "./engine/kernel.ts";
export type { Dispatch, Kernel, KernelDef } from "./engine/kernel.ts";
export type { Encoder } from "./engine/encoder.ts";
export { createNet } from "./engine/nn/net.ts";
export type { Net } from "./engine/nn/net.ts";
export { initNetParams } from "./engine/init.ts";
export type { InitNetOptions, ParamInit, ParamTensor } from "./engine/init.ts";
export { createLinear } from "./engine/nn/linear.ts";
export type { Activation, Linear, LinearOptions } from "./engine/nn/linear.ts";
export { createMlp, mlpInit, mlpParamCount } from "./engine/nn/mlp.ts";
export type { Mlp, MlpOptions, MlpSpec } from "./engine/nn/mlp.ts";
export { conv2dParamCount, createConv2d } from "./engine/nn/conv2d.ts";
export type { Conv2d, Conv2dOptions } from "./engine/nn/conv2d.ts";
export { createGru, gruParamCount } from "./engine/nn/gru.ts";
export type { Gru, GruOptions } from "./engine/nn/gru.ts";
export { createAdam } from "./engine/nn/adam.ts";
export type { Adam, AdamOptions } from "./engine/nn/adam.ts";
export { createTargetUpdate } from "./engine/nn/target.ts";
export type { TargetUpdate, TargetUpdateOptions } from "./engine/nn/target.ts";
export { createReplay } from "./engine/replay/buffer.ts";
export type { Replay, ReplayBatch } from "./engine/replay/buffer.ts";
export type { ReplayConfig } from "./engine/replay/memory.ts";
export { createUniformSampler } from "./engine/replay/sampling.ts";
export type { Sampler } from "./engine/replay/sampling.ts";
export { parseConfig } from "./app/config.ts";
export { train } from "./app/train.ts";
export type { SeedResult, TrainOptions, TrainResult } from "./app/train.ts";
