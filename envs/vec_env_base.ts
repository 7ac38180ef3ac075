/**
 * The skeleton every GPU env class shares ({@linkcode VecEnvBase}): the fields of
 * {@linkcode VecEnv}, reset and step as fixed lists of dispatches bound once at setup, the checked
 * write of host states into the env's state tensors, the checkpoint tensor list and the range
 * check of `render`. Plus the two checks every `create*Env` makes of its spec and `numEnvs`.
 * Each env keeps its kernels, state layout, pictures and extra inputs in its own file.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { EnvBuffers, EnvSpec, VecEnv, VecEnvOptions } from "./env.ts";
import type { TypedEnvBuffers } from "./buffers.ts";

/** Something that records work into an encoder (a bound `Dispatch`). */
export interface Encodable {
  encode(enc: Encoder): void;
}

/** What a {@linkcode VecEnvBase} is built from (by the env's `create*Env`). */
export interface VecEnvBaseParts<B extends EnvBuffers, T extends Record<string, Tensor>> {
  /** Names the env in error messages: "LBF", "warehouse local" … */
  title: string;
  numEnvs: number;
  seed: number;
  buffers: B;
  /** The env's own state tensors by checkpoint name; `stateTensors()` lists them first. */
  state: T;
  /** Dispatches of a reset, encoded in this order. */
  reset: readonly Encodable[];
  /** Dispatches of one step, encoded in this order. */
  step: readonly Encodable[];
}

/**
 * What an env with one packed u32 `state`, one reset and one step dispatch is built from (the
 * constructor parts of most env classes; `D` is the env's dispatch type).
 */
export interface PackedStateParts<B extends EnvBuffers, D extends Encodable = Encodable> {
  options: VecEnvOptions;
  buffers: B;
  state: Tensor<"u32">;
  reset: D;
  step: D;
}

/**
 * The {@linkcode VecEnvBaseParts} of an env with one packed `state` (seed as given).
 *
 * @param title Names the env in error messages.
 * @param parts Options, buffers, state and the two dispatches.
 * @returns The parts for `super(engine, spec, parts)`.
 */
export function packedStateParts<B extends EnvBuffers>(
  title: string,
  parts: PackedStateParts<B>,
): VecEnvBaseParts<B, { state: Tensor<"u32"> }> {
  return {
    title,
    numEnvs: parts.options.numEnvs,
    seed: parts.options.seed,
    buffers: parts.buffers,
    state: { state: parts.state },
    reset: [parts.reset],
    step: [parts.step],
  };
}

/**
 * Base of the GPU env classes. `S` is the host state type `writeStates` takes one of per env,
 * `B` the buffers (default: f32 observations) and `T` the env's own state tensors by checkpoint
 * name (default: one packed u32 `state`).
 */
export abstract class VecEnvBase<
  S,
  B extends EnvBuffers = TypedEnvBuffers<"f32">,
  T extends Record<string, Tensor> = { state: Tensor<"u32"> },
> implements VecEnv {
  readonly spec: EnvSpec;
  readonly numEnvs: number;
  readonly seed: number;
  readonly buffers: B;
  /** Engine that owns the env's tensors (for the env's own writes and reads). */
  protected readonly engine: Engine;
  /** Names the env in error messages. */
  protected readonly title: string;
  readonly #state: T;
  readonly #reset: readonly Encodable[];
  readonly #step: readonly Encodable[];

  /**
   * Stores the parts; called by the env classes' constructors.
   *
   * @param engine Engine that owns the tensors.
   * @param spec The task's spec.
   * @param parts Buffers, state tensors and the bound dispatches.
   */
  constructor(engine: Engine, spec: EnvSpec, parts: VecEnvBaseParts<B, T>) {
    this.engine = engine;
    this.spec = spec;
    this.title = parts.title;
    this.numEnvs = parts.numEnvs;
    this.seed = parts.seed;
    this.buffers = parts.buffers;
    this.#state = parts.state;
    this.#reset = parts.reset;
    this.#step = parts.step;
  }

  /** Records a reset of every env (episode 0 of each env's stream); writes `obs`. */
  encodeReset(enc: Encoder): void {
    for (const d of this.#reset) d.encode(enc);
  }

  /** Records one step of every env (reads `buffers.actions`), with auto-reset. */
  encodeStep(enc: Encoder): void {
    for (const d of this.#step) d.encode(enc);
  }

  /**
   * Queues a write of `states` (one per env) into the GPU state (lands before the next submit).
   * Observations are not rewritten; the next step uses the new states.
   *
   * @param states One state per env.
   */
  writeStates(states: readonly S[]): void {
    this.checkStateCount(states);
    const words = this.packStates(states);
    for (const name of Object.keys(words) as (keyof T)[]) {
      this.engine.write(this.#state[name], words[name]!);
    }
  }

  /** The tensors that continue the envs identically: the env's state, then obs and step counters. */
  stateTensors(): Record<string, Tensor> {
    return { ...this.#state, obs: this.buffers.obs, episodeStep: this.buffers.episodeStep };
  }

  /**
   * A text picture of env `envIndex` (reads the GPU state once; for evaluation, never in training).
   *
   * @param envIndex Which env, an integer in [0, numEnvs).
   * @returns The picture (see the env's `renderEnv`).
   */
  async render(envIndex: number): Promise<string> {
    if (!(Number.isInteger(envIndex) && envIndex >= 0 && envIndex < this.numEnvs)) {
      throw new RangeError(
        `Cannot render ${this.title} env ${envIndex}: the env has ${this.numEnvs} envs`,
      );
    }
    return await this.renderEnv(envIndex);
  }

  /**
   * Throws unless `states` has one state per env; envs whose states are not one per env override
   * it with their own count.
   */
  protected checkStateCount(states: readonly S[]): void {
    if (states.length !== this.numEnvs) {
      throw new RangeError(
        `Cannot write ${states.length} ${this.title} states: the env has ${this.numEnvs} envs`,
      );
    }
  }

  /** Packs host states into words for the named state tensors (written in key order). */
  protected abstract packStates(
    states: readonly S[],
  ): { readonly [K in keyof T]?: ArrayLike<number> };

  /** The picture of env `envIndex`, already checked to be in range. */
  protected abstract renderEnv(envIndex: number): Promise<string>;
}

/**
 * Throws unless `spec` is of one of `families`, in the words every env builder uses.
 *
 * @param spec The spec a `create*Env` was given.
 * @param options The accepted families and the env's title ("LBF", "warehouse local" …).
 */
export function checkEnvFamily(
  spec: EnvSpec,
  options: { families: readonly string[]; title: string },
): void {
  if (!options.families.includes(spec.family)) {
    throw new TypeError(
      `Cannot build ${options.title} env from spec "${spec.name}" of family "${spec.family}"`,
    );
  }
}

/**
 * Throws unless `numEnvs` is a positive integer, in the words every env builder uses.
 *
 * @param spec The spec a `create*Env` was given.
 * @param options The requested `numEnvs` and the env's title.
 */
export function checkNumEnvs(spec: EnvSpec, options: { numEnvs: number; title: string }): void {
  if (!Number.isInteger(options.numEnvs) || options.numEnvs < 1) {
    throw new RangeError(
      `Cannot build ${options.title} env "${spec.name}": numEnvs is ${options.numEnvs}`,
    );
  }
}
