/**
 * A playground session: one trainer on its own engine, driven a frame at a time by the page
 * (`examples/playground/main.js`). Each frame the page records some work, `train(iterations)`
 * (`trainer.run`) or `watch(steps)` (the policy acts without learning, episodes counted on the
 * GPU), then reads one picture of a chosen env (`readFrame`: one readback of the state entries
 * the family's renderer names) and now and then the metrics (`readMetrics`: one readback). The
 * reads come between submits, never inside them, and throttle the page to the GPU's pace.
 *
 * Checkpoints travel as bytes (`app/checkpoint_bytes.ts`): `checkpoint()` for a download,
 * `loadPolicy()` for a file or a shipped policy.
 *
 * @module
 */
import { createEngine, type Engine } from "../engine/device.ts";
import { readTensors } from "../engine/readback.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { EnvSpec } from "../envs/env.ts";
import type { EnvRenderer, EnvStateFrame } from "../envs/draw.ts";
import { findRenderer } from "../envs/renderers.ts";
import { createEpisodeStats, type EpisodeStats } from "../algorithms/episode_stats.ts";
import type { Trainer } from "../algorithms/trainer.ts";
import type { ExperimentConfig } from "./config.ts";
import { buildTrainer } from "./train_loop.ts";
import { type CheckpointData, encodeCheckpoint, loadPolicy } from "./checkpoint_bytes.ts";

/** One metrics read of a session. */
export interface PlaygroundMetrics {
  /** "train": the trainer's interval metrics; "watch": episodes of the policy acting alone. */
  mode: "train" | "watch";
  /** Env steps trained so far [steps, summed over envs]. */
  envSteps: number;
  /** Env steps watched so far [steps, summed over envs]. */
  watchSteps: number;
  /** Episodes finished since the last read. */
  episodes: number;
  /** Mean return per agent over those episodes (NaN when none finished). */
  meanReturn: number;
  /** Mean length of those episodes [steps] (NaN when none finished). */
  meanLength: number;
  /** The trainer's scalars (losses …); empty in watch mode. */
  scalars: Record<string, number>;
}

/** Options of {@linkcode createPlaygroundSession}. */
export interface PlaygroundSessionOptions {
  /** Engine to use (default: a fresh one with `maxStorageBuffers` 8, destroyed by `destroy`). */
  engine?: Engine;
}

/** A trainer the page drives frame by frame (see the module doc). */
export interface PlaygroundSession {
  readonly engine: Engine;
  readonly config: ExperimentConfig;
  readonly trainer: Trainer;
  readonly spec: EnvSpec;
  readonly numEnvs: number;
  /**
   * The family's renderer; null when the family has none or the trainer's env is not the state
   * it draws (DIALS trains on local simulators): no picture.
   */
  readonly renderer: EnvRenderer | null;
  /** Env steps one `train(1)` advances. */
  readonly stepsPerIteration: number;
  /** Env steps watched so far [steps, summed over envs] (host counter). */
  readonly watchSteps: number;
  /** Records and submits `iterations` training iterations (no read). */
  train(iterations: number): void;
  /**
   * Records and submits `steps` steps of every env with the current policy and no learning
   * (greedy: argmax), counting finished episodes (no read).
   */
  watch(steps: number, options: { greedy: boolean }): void;
  /** Reads the renderer's state entries (one readback); null without a renderer. */
  readFrame(envIndex: number): Promise<EnvStateFrame | null>;
  /** Reads the metrics since the last read of the current mode (one readback). */
  readMetrics(): Promise<PlaygroundMetrics>;
  /** Encodes the session as a checkpoint file (one readback); `policyOnly`: the weights. */
  checkpoint(options?: { policyOnly?: boolean }): Promise<Uint8Array>;
  /** Queues writes of a checkpoint's policy into the trainer (built from its config). */
  loadPolicy(checkpoint: CheckpointData): { loaded: string[] };
  /** Frees the session's GPU memory (and its engine, when the session made it). */
  destroy(): void;
}

/**
 * Builds a session for a validated config (from `playgroundConfig`): an engine capped at the
 * WebGPU minimum of 8 storage buffers per stage unless one is given, the trainer, and the episode
 * statistics of watch mode.
 *
 * @param config The config.
 * @param options An engine to use instead of a fresh one.
 * @returns The session, its envs reset.
 *
 * @example Train a session, keep its policy as bytes, watch it in another session
 * ```ts
 * import { createPlaygroundSession, decodeCheckpoint, playgroundConfig } from "../mod.ts";
 *
 * const config = playgroundConfig({ algo: "seac", env: "Foraging-5x5-2p-1f", numEnvs: 4 });
 * const session = await createPlaygroundSession(config);
 * session.train(2); // records work, reads nothing
 * const frame = await session.readFrame(0); // one readback: what the renderer draws
 * console.log(Object.keys(frame!.state), (await session.readMetrics()).envSteps); // ["state"] 40
 * const bytes = await session.checkpoint({ policyOnly: true }); // a safetensors file
 * const other = await createPlaygroundSession(
 *   playgroundConfig({ algo: "seac", env: "Foraging-5x5-2p-1f", numEnvs: 2 }),
 * );
 * console.log(other.loadPolicy(decodeCheckpoint(bytes)).loaded); // ["trainer.net.params"]
 * other.watch(60, { greedy: false }); // the policy acts, nothing learns
 * console.log((await other.readMetrics()).episodes);
 * session.destroy();
 * other.destroy();
 * ```
 */
export async function createPlaygroundSession(
  config: ExperimentConfig,
  options: PlaygroundSessionOptions = {},
): Promise<PlaygroundSession> {
  const engine = options.engine ?? await createEngine({ maxStorageBuffers: 8 });
  try {
    const trainer = await buildTrainer(engine, config);
    const env = trainer.env;
    const stats = await createEpisodeStats(engine, {
      env: env.buffers,
      numAgents: env.spec.numAgents,
      numEnvs: env.numEnvs,
      label: "playground.watch",
    });
    return new Session(engine, { config, trainer, stats, ownsEngine: !options.engine });
  } catch (e) {
    if (!options.engine) engine.destroy();
    throw e;
  }
}

/**
 * The renderer when the env's state entries have the sizes it draws (null otherwise: a trainer
 * whose env is not the task's global simulator, such as DIALS's local simulators).
 */
function drawable(
  renderer: EnvRenderer | null,
  spec: EnvSpec,
  state: Record<string, Tensor>,
  numEnvs: number,
): EnvRenderer | null {
  if (!renderer) return null;
  const words = renderer.stateWords(spec);
  const fits = renderer.tensors.every((name) =>
    state[name]?.dtype === "u32" && state[name].size === numEnvs * words[name]
  );
  return fits ? renderer : null;
}

class Session implements PlaygroundSession {
  readonly engine: Engine;
  readonly config: ExperimentConfig;
  readonly trainer: Trainer;
  readonly spec: EnvSpec;
  readonly numEnvs: number;
  readonly renderer: EnvRenderer | null;
  readonly #stats: EpisodeStats;
  readonly #ownsEngine: boolean;
  readonly #frameTensors: Tensor[];
  #mode: "train" | "watch" = "train";
  #watchSteps = 0;

  constructor(
    engine: Engine,
    parts: { config: ExperimentConfig; trainer: Trainer; stats: EpisodeStats; ownsEngine: boolean },
  ) {
    this.engine = engine;
    this.config = parts.config;
    this.trainer = parts.trainer;
    this.spec = parts.trainer.env.spec;
    this.numEnvs = parts.trainer.env.numEnvs;
    const state = parts.trainer.env.stateTensors();
    this.renderer = drawable(findRenderer(this.spec.family), this.spec, state, this.numEnvs);
    this.#stats = parts.stats;
    this.#ownsEngine = parts.ownsEngine;
    this.#frameTensors = (this.renderer?.tensors ?? []).map((name) => state[name]);
  }

  get watchSteps(): number {
    return this.#watchSteps;
  }

  get stepsPerIteration(): number {
    return this.trainer.stepsPerIteration;
  }

  train(iterations: number): void {
    this.#mode = "train";
    this.trainer.run(iterations);
  }

  watch(steps: number, options: { greedy: boolean }): void {
    if (!Number.isInteger(steps) || steps < 0) {
      throw new RangeError(`Cannot watch the playground policy: steps is ${steps}`);
    }
    this.#mode = "watch";
    const env = this.trainer.env;
    for (let done = 0; done < steps;) {
      const n = Math.min(64, steps - done);
      const enc = this.engine.encoder("playground.watch");
      for (let i = 0; i < n; i++) {
        this.trainer.encodeAct(enc, { greedy: options.greedy });
        env.encodeStep(enc);
        this.#stats.track(enc);
      }
      this.engine.submit(enc);
      done += n;
    }
    this.#watchSteps += steps * this.numEnvs;
  }

  async readFrame(envIndex: number): Promise<EnvStateFrame | null> {
    if (!this.renderer) return null;
    if (!(Number.isInteger(envIndex) && envIndex >= 0 && envIndex < this.numEnvs)) {
      throw new RangeError(
        `Cannot draw env ${envIndex} of "${this.spec.name}": the session has ${this.numEnvs} envs`,
      );
    }
    const arrays = await readTensors(this.engine, this.#frameTensors);
    const state: Record<string, Uint32Array> = {};
    this.renderer.tensors.forEach((name, i) => state[name] = arrays[i] as Uint32Array);
    return { spec: this.spec, state, numEnvs: this.numEnvs, envIndex };
  }

  async readMetrics(): Promise<PlaygroundMetrics> {
    const base = { envSteps: this.trainer.envSteps, watchSteps: this.#watchSteps };
    if (this.#mode === "train") {
      const m = await this.trainer.readMetrics();
      return {
        mode: "train",
        ...base,
        envSteps: m.envSteps,
        episodes: m.episodes,
        meanReturn: m.meanReturn,
        meanLength: m.meanLength,
        scalars: { ...m.scalars },
      };
    }
    const enc = this.engine.encoder("playground.watch.summary");
    this.#stats.summarise(enc);
    this.engine.submit(enc);
    const [out] = await readTensors(this.engine, [this.#stats.out] as const);
    const s = this.#stats.decode(out);
    return {
      mode: "watch",
      ...base,
      episodes: s.episodes,
      meanReturn: s.meanReturn,
      meanLength: s.meanLength,
      scalars: {},
    };
  }

  checkpoint(options: { policyOnly?: boolean } = {}): Promise<Uint8Array> {
    return encodeCheckpoint(this.engine, {
      trainer: this.trainer,
      config: this.config,
      policyOnly: options.policyOnly,
    });
  }

  loadPolicy(checkpoint: CheckpointData): { loaded: string[] } {
    return loadPolicy(this.engine, { trainer: this.trainer, checkpoint });
  }

  destroy(): void {
    if (this.#ownsEngine) this.engine.destroy();
  }
}
