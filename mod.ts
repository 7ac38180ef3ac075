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
// Everything the browser entry offers, plus the file-system parts (train, parseConfig) and the
// kernel system for writing new ops.
export * from "./web.ts";
export { compileKernel, defineKernel } from "./engine/kernel.ts";
export { parseConfig } from "./app/config.ts";
export { train } from "./app/train.ts";
export type { SeedResult, TrainOptions, TrainResult } from "./app/train.ts";
