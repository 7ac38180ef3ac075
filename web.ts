/**
 * marl-webgpu in a browser: the engine, the env and algorithm registries, config validation and
 * the training loop ({@linkcode trainLoop}), which hands each metrics row to a callback instead of
 * writing run folders. Nothing here needs a file system. `deno task bundle` writes
 * `dist/marl-webgpu.js` (an ES module); serve the repository root over HTTP and import it: the
 * shaders are fetched from `shaders/` next to `dist/`. `examples/browser/index.html` trains live in
 * the page.
 *
 * The playground (`examples/playground/`, built by `deno task site`) uses the rest: its catalogue
 * and configs ({@linkcode PLAYGROUND_TASKS}, {@linkcode playgroundConfig}), sessions driven a frame
 * at a time ({@linkcode createPlaygroundSession}), checkpoints as bytes in the CLI's safetensors
 * format ({@linkcode encodeCheckpoint}, {@linkcode decodeCheckpoint}), the per-family canvas
 * renderers ({@linkcode RENDERERS}) and self-contained canvas replays ({@linkcode replayCanvasHtml}).
 *
 * Browsers expose fewer storage buffers per shader stage than Deno (Chrome: 10); every kernel binds
 * at most {@linkcode PORTABLE_STORAGE_BUFFERS}, the WebGPU minimum of 8.
 *
 * @example Train SEAC for a few thousand steps in a page
 * ```ts ignore
 * import { buildTrainer, createEngine, trainLoop, validateConfig } from "./dist/marl-webgpu.js";
 *
 * const config = validateConfig({
 *   env: "Foraging-5x5-2p-1f",
 *   numEnvs: 16,
 *   totalSteps: 8000,
 *   algo: { name: "seac" },
 *   log: { interval: 2000, checkpointEvery: 0 },
 * });
 * const engine = await createEngine();
 * const trainer = await buildTrainer(engine, config);
 * await trainLoop(trainer, config, { onRow: (row) => console.log(row.envSteps, row.meanReturn) });
 * engine.destroy();
 * ```
 *
 * @module
 */
export { createEngine, Engine, GpuError } from "./engine/device.ts";
export type { AdapterReport, EngineOptions } from "./engine/device.ts";
export { PORTABLE_STORAGE_BUFFERS } from "./engine/limits.ts";
export { Tensor } from "./engine/tensor.ts";
export type { DType } from "./engine/tensor.ts";
export { readTensor, readTensors } from "./engine/readback.ts";
export type {
  EnvBuffers,
  EnvDef,
  EnvOptionDef,
  EnvOptions,
  EnvOptionValue,
  EnvSpec,
  VecEnv,
} from "./envs/env.ts";
export { ENVS, findTask } from "./envs/registry.ts";
export type { EnvSection } from "./envs/registry.ts";
export { ALGORITHMS, findAlgorithm } from "./algorithms/mod.ts";
export type { AlgorithmDef, Metrics, RunConfig, Trainer } from "./algorithms/trainer.ts";
export { RUN_DEFAULTS, validateConfig } from "./app/config.ts";
export type { ExperimentConfig, LogConfig } from "./app/config.ts";
export { buildEvaluation, buildTrainer, trainLoop } from "./app/train_loop.ts";
export type {
  EvalPlan,
  EvalRow,
  Evaluation,
  LoopState,
  MetricsRow,
  TrainLoopOptions,
} from "./app/train_loop.ts";
export type { EvalConfig, EvalProtocol } from "./algorithms/trainer.ts";
export { decodeCheckpoint, encodeCheckpoint } from "./app/checkpoint_bytes.ts";
export type { CheckpointData } from "./app/checkpoint_bytes.ts";
export { createPlaygroundSession } from "./app/playground.ts";
export type { PlaygroundMetrics, PlaygroundSession } from "./app/playground.ts";
export {
  PLAYGROUND_ALGORITHMS,
  PLAYGROUND_TASKS,
  playgroundConfig,
  playgroundConfigFromCheckpoint,
  playgroundFits,
} from "./app/playground_config.ts";
export type {
  PlaygroundAlgorithm,
  PlaygroundChoice,
  PlaygroundTask,
} from "./app/playground_config.ts";
export { replayCanvasHtml } from "./app/replay_html.ts";
export type { ReplayFrame, ReplayOptions } from "./app/replay_html.ts";
export { RENDERERS } from "./envs/renderers.ts";
export type { DrawContext, EnvRenderer, EnvStateFrame } from "./envs/draw.ts";
