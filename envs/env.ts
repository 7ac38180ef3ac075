/**
 * The one environment interface every algorithm uses. An environment is a named task with static
 * sizes ({@linkcode EnvSpec}) and a GPU implementation that steps `numEnvs` copies in parallel
 * ({@linkcode VecEnv}). Every GPU array is agent-major: `[numAgents, numEnvs, …]`.
 *
 * One step, as recorded by `encodeStep` (no host round trip):
 *   read `actions` → apply the rules → write `reward`, `terminated`, `truncated`;
 *   for envs whose episode ended, copy the final observation into `terminalObs` and reset them
 *   (auto-reset); write `obs` (of the new episode where one started).
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import type { Tensor } from "../engine/tensor.ts";

/** Static description of a named task. */
export interface EnvSpec {
  /** Registry name, as the references name it (e.g. "rware-tiny-4ag", "Foraging-8x8-2p-2f-coop"). */
  readonly name: string;
  /** Environment family ("pursuit", "lbf", "rware", …). */
  readonly family: string;
  readonly numAgents: number;
  /** Per-agent observation shape (e.g. [71] or [7, 7, 3] in HWC order). */
  readonly obsShape: readonly number[];
  /** Element type observations are stored in (u8 for small grid counts/flags). */
  readonly obsDType: "f32" | "u8";
  readonly numActions: number;
  /** Steps after which an episode is truncated. */
  readonly maxSteps: number;
  /** Family-specific parameters (grid size, counts, rewards …), as in the reference. */
  readonly config: Readonly<Record<string, number | boolean | string>>;
}

/** Buffers an env exposes to algorithms. Written only by the env's kernels unless noted. */
export interface EnvBuffers {
  /** [numAgents, numEnvs, ...obsShape] in spec.obsDType. */
  readonly obs: Tensor;
  /** Final observation of the episode that ended at the last step (rows where done=1 only). */
  readonly terminalObs: Tensor;
  /** [numAgents, numEnvs] u32: written by the algorithm before each step. */
  readonly actions: Tensor<"u32">;
  /** [numAgents, numEnvs] f32: reward of the last step. */
  readonly reward: Tensor<"f32">;
  /** [numEnvs] u32 (0/1): the last step ended the episode by the rules. */
  readonly terminated: Tensor<"u32">;
  /** [numEnvs] u32 (0/1): the last step ended the episode by the time limit. */
  readonly truncated: Tensor<"u32">;
  /** [numEnvs] u32: steps taken in the current episode (after the last step / reset). */
  readonly episodeStep: Tensor<"u32">;
}

/** Options every env constructor takes. */
export interface VecEnvOptions {
  numEnvs: number;
  seed: number;
  /**
   * Seeds batched in these envs (default 1): envs [k·n, (k+1)·n), n = numEnvs / seeds, are seed
   * `seed + k`'s and draw exactly as the envs of a run seeded `seed + k` with n envs.
   */
  seeds?: number;
}

/**
 * Envs per seed of a seed batch ({@linkcode VecEnvOptions.seeds}); throws unless `seeds` divides
 * `numEnvs`.
 *
 * @example Four seeds of 8 envs each
 * ```ts
 * import { envsPerSeed } from "./env.ts";
 *
 * console.log(envsPerSeed({ numEnvs: 32, seed: 1, seeds: 4 })); // 8
 * ```
 */
export function envsPerSeed(options: VecEnvOptions): number {
  const seeds = options.seeds ?? 1;
  if (!Number.isInteger(seeds) || seeds < 1 || options.numEnvs % seeds !== 0) {
    throw new RangeError(
      `Cannot build envs: seeds must be an integer >= 1 that divides numEnvs (${options.numEnvs}), got ${seeds}`,
    );
  }
  return options.numEnvs / seeds;
}

/**
 * Throws for a family whose kernels do not batch seeds yet when `options.seeds` > 1.
 *
 * @example
 * ```ts
 * import { requireOneSeed } from "./env.ts";
 *
 * requireOneSeed({ numEnvs: 4, seed: 1 }, "warehouse"); // fine: one seed
 * ```
 */
export function requireOneSeed(options: VecEnvOptions, family: string): void {
  if ((options.seeds ?? 1) !== 1) {
    throw new RangeError(
      `Cannot build ${family} envs with seeds: ${options.seeds}: the ${family} kernels run one seed per env batch (run the seeds one after another)`,
    );
  }
}

/** A vectorised environment on the GPU. */
export interface VecEnv {
  readonly spec: EnvSpec;
  readonly numEnvs: number;
  readonly buffers: EnvBuffers;
  /** Records a reset of every env (episode 0 of each env's stream) and writes `obs`. */
  encodeReset(enc: Encoder): void;
  /** Records one step of every env (reads `actions`), with auto-reset. */
  encodeStep(enc: Encoder): void;
  /**
   * Every tensor needed to continue the envs identically (state, counters, obs …), by stable
   * name, for checkpoints and resume.
   */
  stateTensors(): Record<string, Tensor>;
  /** A text picture of env `envIndex` (reads the GPU state once; for evaluation, never in training). */
  render(envIndex: number): Promise<string>;
}

/** A value of an env option, as a YAML scalar gives it. */
export type EnvOptionValue = number | boolean | string;

/** Values of a family's options by name (see {@linkcode EnvDef.options}). */
export type EnvOptions = Readonly<Record<string, EnvOptionValue>>;

/**
 * One option a family's tasks take besides the task name (a key of a config's `env` map): its
 * default, which keeps the registered task as it is, and its allowed values.
 */
export interface EnvOptionDef {
  /** The value when none is given. */
  readonly default: EnvOptionValue;
  /** The allowed values of a string option. */
  readonly values?: readonly string[];
  /** The inclusive bounds of an integer option. */
  readonly integer?: readonly [number, number];
  /** What it does, in one line. */
  readonly doc: string;
}

/** An environment family: its registry of named tasks and how to build it. */
export interface EnvDef {
  readonly family: string;
  /** The options of the family's tasks by name, with defaults and allowed values (none if absent). */
  readonly options?: Readonly<Record<string, EnvOptionDef>>;
  /**
   * The spec of a named task, or null if the name is not of this family. `options` sets some of
   * {@linkcode EnvDef.options}, the rest take their defaults; a family with options throws on an
   * unknown key or a bad value (`resolveEnvOptions` in `envs/options.ts`). `findTask` checks the
   * options of every family, including those that declare none.
   */
  parseTask(name: string, options?: EnvOptions): EnvSpec | null;
  /** Example task names (documentation, --list, tests). */
  readonly tasks: readonly string[];
  create(engine: Engine, spec: EnvSpec, options: VecEnvOptions): Promise<VecEnv>;
}
