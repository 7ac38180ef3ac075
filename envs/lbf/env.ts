/**
 * Level-Based Foraging on the GPU (`Foraging-*-v3` and its options, spec `docs/envs/lbf.md`):
 * the family's {@linkcode EnvDef} ({@linkcode LBF}) and {@linkcode LbfEnv}, which steps `numEnvs`
 * envs with all players in one dispatch (`shaders/envs/lbf/env.wgsl`), with auto-reset. Task parameters, the
 * registry parse, golden-state import and the packed state layout are in `envs/lbf/state.ts`; the
 * independent CPU reference is `envs/lbf/reference.ts`.
 *
 * ```ts ignore
 * const spec = LBF.parseTask("Foraging-8x8-2p-2f-coop")!; // or with options, e.g.
 * // LBF.parseTask("Foraging-8x8-2p-2f-coop", { maxEpisodeSteps: 25, timeLimit: "truncate" })
 * const env = await LBF.create(engine, spec, { numEnvs: 1024, seed: 1 });
 * env.encodeReset(enc);       // obs [2, 1024, 12] f32
 * env.encodeStep(enc);        // reads actions [2, 1024] u32
 * ```
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import { readTensor } from "../../engine/readback.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { EnvDef, EnvOptions, EnvSpec, VecEnvOptions } from "../env.ts";
import { envsPerSeed } from "../env.ts";
import { createEnvBuffers, RESET_BINDINGS, resetBuffers, STEP_BINDINGS } from "../buffers.ts";
import {
  checkLbfConfig,
  LBF_MAX_FOOD,
  LBF_MAX_PLAYERS,
  LBF_OPTIONS,
  type LbfConfig,
  lbfSpec,
  type LbfState,
  lbfStateStride,
  packLbfStates,
  parseLbfTask,
  unpackLbfStates,
} from "./state.ts";
import {
  checkEnvFamily,
  checkNumEnvs,
  type PackedStateParts,
  packedStateParts,
  VecEnvBase,
} from "../vec_env_base.ts";

export type { LbfConfig, LbfFoodLevels, LbfState, LbfTimeLimit } from "./state.ts";

const SHADER = "envs/lbf/env.wgsl";
const INCLUDES = [
  "common/_index.wgsl",
  "common/_rng.wgsl",
  "common/_exact.wgsl",
  "envs/common/_episode.wgsl",
] as const;
const PARAMS = {
  numEnvs: "u32",
  rows: "u32",
  cols: "u32",
  numPlayers: "u32",
  numFood: "u32",
  sight: "u32",
  maxSteps: "u32",
  forceCoop: "u32",
  minPlayerLevel: "u32",
  maxPlayerLevel: "u32",
  minFoodLevel: "u32",
  normalizeReward: "u32",
  penalty: "f32",
  seed: "u32",
  envsPerSeed: "u32",
  resetPurpose: "u32",
  timeLimitTruncates: "u32",
  foodLevelsV0: "u32",
} as const;

/** Resets every env to episode 0 of its stream; one thread per env. */
export const lbfReset = defineKernel({
  name: "lbf.reset",
  shader: SHADER,
  entryPoint: "reset",
  includes: INCLUDES,
  bindings: { state: "write", ...RESET_BINDINGS },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/** One step of every env with auto-reset; one thread per env. */
export const lbfStep = defineKernel({
  name: "lbf.step",
  shader: SHADER,
  entryPoint: "step",
  includes: INCLUDES,
  bindings: { state: "write", ...STEP_BINDINGS },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/** The GPU LBF env: buffers of {@linkcode EnvBuffers} plus the packed `state`. */
export class LbfEnv extends VecEnvBase<LbfState> {
  readonly config: LbfConfig;
  /** [numEnvs, stride] u32: packed states (layout in `shaders/envs/lbf/env.wgsl`). */
  readonly state: Tensor<"u32">;

  /** Use {@linkcode createLbfEnv}. */
  constructor(
    engine: Engine,
    spec: EnvSpec,
    parts: PackedStateParts<LbfEnv["buffers"], Dispatch<typeof PARAMS>> & { config: LbfConfig },
  ) {
    super(engine, spec, packedStateParts("LBF", parts));
    this.config = parts.config;
    this.state = parts.state;
  }

  /** Packs with {@linkcode packLbfStates}. */
  protected packStates(states: readonly LbfState[]): { state: Uint32Array } {
    return { state: packLbfStates(this.config, states) };
  }

  /**
   * A text picture of env `envIndex` (one read of the GPU state): `.` empty, digits food levels,
   * letters players (A = player 0), `*` several players on one cell; then one line per player.
   *
   * @param envIndex Which env.
   * @returns The picture.
   */
  protected async renderEnv(envIndex: number): Promise<string> {
    const [s] = this.decodeStates(await readTensor(this.engine, this.state)).slice(envIndex);
    const cfg = this.config;
    const grid = Array.from({ length: cfg.rows }, () => new Array<string>(cfg.cols).fill("."));
    for (const f of s.food) grid[f.row][f.col] = f.level < 10 ? String(f.level) : "+";
    s.players.forEach((p, i) => {
      const c = grid[p.row][p.col];
      grid[p.row][p.col] = /[A-Z*]/.test(c) ? "*" : String.fromCharCode(65 + i);
    });
    const who = s.players.map((p, i) =>
      `${String.fromCharCode(65 + i)} (${p.row}, ${p.col}) level ${p.level} score ${s.scores[i]}`
    );
    return [`step ${s.step} episode ${s.episode}`, ...grid.map((r) => r.join("")), ...who]
      .join("\n");
  }

  /**
   * Decodes words read from {@linkcode LbfEnv.state} (read them with `engine/readback.ts`).
   *
   * @param words The state tensor's contents.
   * @returns One state per env.
   */
  decodeStates(words: Uint32Array): LbfState[] {
    return unpackLbfStates(this.config, words);
  }
}

/**
 * Builds an LBF env: buffers (labelled `lbf.*`), pipelines and bind groups, once.
 *
 * @param engine Engine that owns the device.
 * @param spec Spec of an LBF task (from {@linkcode LBF}.parseTask or {@linkcode lbfSpec}).
 * @param options `numEnvs` and the reset `seed`.
 * @returns The env; call `encodeReset` before the first step.
 */
export async function createLbfEnv(
  engine: Engine,
  spec: EnvSpec,
  options: VecEnvOptions,
): Promise<LbfEnv> {
  const cfg = spec.config as unknown as LbfConfig;
  checkEnvFamily(spec, { families: ["lbf"], title: "LBF" });
  if (cfg.numPlayers > LBF_MAX_PLAYERS || cfg.numFood > LBF_MAX_FOOD || cfg.numPlayers < 1) {
    throw new RangeError(
      `Cannot build LBF env "${spec.name}": ${cfg.numPlayers} players and ${cfg.numFood} foods, kernel holds 1..${LBF_MAX_PLAYERS} and ${LBF_MAX_FOOD}`,
    );
  }
  if (cfg.rows < 3 || cfg.cols < 3) {
    throw new RangeError(
      `Cannot build LBF env "${spec.name}": field ${cfg.rows}x${cfg.cols} is below 3x3`,
    );
  }
  checkLbfConfig(cfg, `LBF env "${spec.name}"`);
  checkNumEnvs(spec, { numEnvs: options.numEnvs, title: "LBF" });
  const n = options.numEnvs, P = cfg.numPlayers, dim = spec.obsShape[0];
  const buffers = createEnvBuffers(engine, {
    numAgents: P,
    numEnvs: n,
    obsShape: [dim],
    obsDType: "f32",
    label: "lbf",
  });
  const state = engine.tensor({
    dtype: "u32",
    shape: [n, lbfStateStride(cfg)],
    label: "lbf.state",
  });
  const params = {
    numEnvs: n,
    rows: cfg.rows,
    cols: cfg.cols,
    numPlayers: P,
    numFood: cfg.numFood,
    sight: cfg.sight,
    maxSteps: cfg.maxEpisodeSteps,
    forceCoop: cfg.forceCoop ? 1 : 0,
    minPlayerLevel: cfg.minPlayerLevel,
    maxPlayerLevel: cfg.maxPlayerLevel,
    minFoodLevel: cfg.minFoodLevel,
    normalizeReward: cfg.normalizeReward ? 1 : 0,
    penalty: cfg.penalty,
    seed: options.seed >>> 0,
    envsPerSeed: envsPerSeed(options),
    resetPurpose: RNG_PURPOSE.envReset,
    timeLimitTruncates: cfg.timeLimit === "truncate" ? 1 : 0,
    foodLevelsV0: cfg.foodLevels === "v0" ? 1 : 0,
  };
  const [kr, ks] = await Promise.all([
    compileKernel(engine, lbfReset),
    compileKernel(engine, lbfStep),
  ]);
  const reset = kr.bind({ ...resetBuffers(buffers), state }, params, "lbf.reset");
  const step = ks.bind({ ...buffers, state }, params, "lbf.step");
  return new LbfEnv(engine, spec, { config: cfg, options, buffers, state, reset, step });
}

/** Example tasks: SEAC's four and the partial-view golden task. */
const TASKS = [
  "Foraging-8x8-2p-2f-coop",
  "Foraging-10x10-3p-3f",
  "Foraging-12x12-2p-1f",
  "Foraging-15x15-3p-4f",
  "Foraging-2s-8x8-3p-2f",
] as const;

/**
 * The LBF family: registry parse of `Foraging-*` names, the options {@linkcode LBF_OPTIONS}
 * (`maxEpisodeSteps`, `timeLimit`, `foodLevels`) and the GPU env builder.
 */
export const LBF: EnvDef = Object.freeze({
  family: "lbf",
  tasks: TASKS,
  options: LBF_OPTIONS,
  parseTask(name: string, options?: EnvOptions): EnvSpec | null {
    const cfg = parseLbfTask(name, options);
    return cfg ? lbfSpec(cfg, name.replace(/-v3$/, "")) : null;
  },
  create: createLbfEnv,
});
