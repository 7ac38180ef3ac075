/**
 * Pursuit (PettingZoo SISL `pursuit_v4`/`v5`, spec `docs/envs/pursuit.md`) on the GPU: the
 * task registry, the state layout, golden-state import and {@linkcode PursuitEnv}, which plays one
 * cycle (all pursuers, capture, evader moves) of `numEnvs` envs in one dispatch
 * (`shaders/envs/pursuit/env.wgsl`) and writes the u8 observations and the episode flags in a
 * second one (`shaders/envs/pursuit/env_observe.wgsl`), with auto-reset. The independent CPU reference is
 * `envs/pursuit/reference.ts`.
 *
 * Rewards are the parallel API's individual rewards (`shared_reward=False`), delivered as the f32
 * nearest to the reference's float64 value: the reward depends only on the pursuer's index, its
 * tag counts before and after its move and its catcher flag, so the host tabulates it once
 * ({@linkcode pursuitRewardTable}) by summing the sub-step vectors in float64 in the reference's
 * order.
 *
 * ```ts ignore
 * const spec = PURSUIT.parseTask("pursuit")!;
 * const env = await PURSUIT.create(engine, spec, { numEnvs: 1024, seed: 1 });
 * env.encodeReset(enc);       // obs [8, 1024, 7, 7, 3] u8
 * env.encodeStep(enc);        // reads actions [8, 1024] u32
 * ```
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import { readTensor } from "../../engine/readback.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { EnvDef, EnvSpec, VecEnvOptions } from "../env.ts";
import { envsPerSeed } from "../env.ts";
import { createEnvBuffers, type TypedEnvBuffers } from "../buffers.ts";
import { checkNumEnvs, type Encodable, VecEnvBase } from "../vec_env_base.ts";
import {
  packPursuitStates,
  parsePursuitTask,
  PURSUIT_MAX_EVADERS,
  PURSUIT_MAX_PURSUERS,
  type PursuitConfig,
  pursuitObstacles,
  pursuitRewardTable,
  pursuitSpec,
  type PursuitState,
  pursuitStateStride,
  pursuitTagMax,
  unpackPursuitStates,
} from "./state.ts";
export * from "./state.ts";

const STEP_SHADER = "envs/pursuit/env.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl"] as const;
const PARAMS = {
  numEnvs: "u32",
  xSize: "u32",
  ySize: "u32",
  numPursuers: "u32",
  numEvaders: "u32",
  maxCycles: "u32",
  tagMax: "u32",
  surround: "u32",
  numCatch: "u32",
  freezeEvaders: "u32",
  injectEvaderActions: "u32",
  seed: "u32",
  envsPerSeed: "u32",
  resetPurpose: "u32",
  stepPurpose: "u32",
} as const;
const OBSERVE_PARAMS = {
  numEnvs: "u32",
  xSize: "u32",
  ySize: "u32",
  numPursuers: "u32",
  obsRange: "u32",
} as const;

/** Resets every env to episode 0 of its stream; one thread per env. */
export const pursuitReset = defineKernel({
  name: "pursuit.reset",
  shader: STEP_SHADER,
  entryPoint: "reset",
  includes: INCLUDES,
  bindings: {
    tables: "read",
    state: "write",
    scene: "write",
    reward: "write",
    ends: "write",
  },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/** One cycle of every env with auto-reset; one thread per env. */
export const pursuitStep = defineKernel({
  name: "pursuit.step",
  shader: STEP_SHADER,
  entryPoint: "step",
  includes: INCLUDES,
  bindings: {
    tables: "read",
    state: "write",
    actions: "read",
    evaderActions: "read",
    scene: "write",
    terminalScene: "write",
    reward: "write",
    ends: "write",
  },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/**
 * Observations (and terminal observations of ended envs), and the env flags (terminated,
 * truncated, episodeStep) from the `ends` the step wrote; one thread per u32 word of obs (at least
 * one per env).
 */
export const pursuitObserve = defineKernel({
  name: "pursuit.observe",
  shader: "envs/pursuit/env_observe.wgsl",
  entryPoint: "observe",
  includes: ["common/_index.wgsl", "envs/common/_episode.wgsl"],
  bindings: {
    scene: "read",
    terminalScene: "read",
    ends: "read",
    obs: "write",
    terminalObs: "write",
    terminated: "write",
    truncated: "write",
    episodeStep: "write",
  },
  params: OBSERVE_PARAMS,
  threads: (p) =>
    Math.max(p.numEnvs, Math.ceil((p.numPursuers * p.numEnvs * p.obsRange * p.obsRange * 3) / 4)),
});

/** The dispatches of a {@linkcode PursuitEnv}. */
interface PursuitDispatches {
  reset: Dispatch<typeof PARAMS>;
  step: Dispatch<typeof PARAMS>;
  stepInjected: Dispatch<typeof PARAMS>;
  observe: Dispatch<typeof OBSERVE_PARAMS>;
}

/** The GPU Pursuit env: buffers of {@linkcode EnvBuffers} plus the packed state. */
export class PursuitEnv extends VecEnvBase<PursuitState, TypedEnvBuffers<"u8">> {
  readonly config: PursuitConfig;
  /** [numEnvs, stride] u32: packed states (layout in `shaders/envs/pursuit/env.wgsl`). */
  readonly state: Tensor<"u32">;
  /** [numEnvs, numEvaders] u32: evader actions by id, used by {@linkcode encodeStepInjected}. */
  readonly evaderActions: Tensor<"u32">;
  readonly #stepInjected: readonly Encodable[];

  /** Use {@linkcode createPursuitEnv}. */
  constructor(
    engine: Engine,
    spec: EnvSpec,
    parts: {
      config: PursuitConfig;
      options: VecEnvOptions;
      buffers: PursuitEnv["buffers"];
      state: Tensor<"u32">;
      evaderActions: Tensor<"u32">;
      dispatches: PursuitDispatches;
    },
  ) {
    const d = parts.dispatches;
    super(engine, spec, {
      title: "Pursuit",
      numEnvs: parts.options.numEnvs,
      seed: parts.options.seed,
      buffers: parts.buffers,
      state: { state: parts.state },
      reset: [d.reset, d.observe],
      step: [d.step, d.observe],
    });
    this.config = parts.config;
    this.state = parts.state;
    this.evaderActions = parts.evaderActions;
    this.#stepInjected = [d.stepInjected, d.observe];
  }

  /**
   * Records one cycle whose evader moves are read from {@linkcode evaderActions} instead of drawn
   * (replays of recorded draws); otherwise as {@linkcode encodeStep}.
   */
  encodeStepInjected(enc: Encoder): void {
    for (const d of this.#stepInjected) d.encode(enc);
  }

  /** Packs with {@linkcode packPursuitStates}. */
  protected packStates(states: readonly PursuitState[]): { state: Uint32Array } {
    return { state: packPursuitStates(this.config, states) };
  }

  /**
   * Queues a write of the evader actions the next {@linkcode encodeStepInjected} applies.
   *
   * @param actions [numEnvs, numEvaders]: action of evader `id` of env `e` at `e·numEvaders + id`
   *   (entries of caught evaders are ignored).
   */
  writeEvaderActions(actions: ArrayLike<number>): void {
    this.engine.write(this.evaderActions, actions);
  }

  /**
   * Decodes words read from {@linkcode PursuitEnv.state} (read them with `engine/readback.ts`).
   *
   * @param words The state tensor's contents.
   * @returns One state per env.
   */
  decodeStates(words: Uint32Array): PursuitState[] {
    return unpackPursuitStates(this.config, words);
  }

  /**
   * A text picture of env `envIndex` (reads the GPU state once): rows are y, columns x; `#`
   * obstacle, a digit the number of pursuers on a cell, `e` an evader, `*` both.
   */
  protected async renderEnv(envIndex: number): Promise<string> {
    const [s] = this.decodeStates(await readTensor(this.engine, this.state)).slice(envIndex);
    const cfg = this.config;
    const walls = pursuitObstacles(cfg);
    const pursuers = new Map<number, number>(), evaders = new Set<number>();
    for (const p of s.pursuers) {
      pursuers.set(p.x * cfg.ySize + p.y, (pursuers.get(p.x * cfg.ySize + p.y) ?? 0) + 1);
    }
    for (const e of s.evaders) evaders.add(e.x * cfg.ySize + e.y);
    const rows: string[] = [];
    for (let y = 0; y < cfg.ySize; y++) {
      let row = "";
      for (let x = 0; x < cfg.xSize; x++) {
        const k = x * cfg.ySize + y, n = pursuers.get(k) ?? 0;
        row += walls[k]
          ? "#"
          : n && evaders.has(k)
          ? "*"
          : n
          ? String(Math.min(n, 9))
          : evaders.has(k)
          ? "e"
          : ".";
      }
      rows.push(row);
    }
    return [`cycle ${s.frames} episode ${s.episode} evaders left ${s.evaders.length}`, ...rows]
      .join("\n");
  }
}

function checkConfig(spec: EnvSpec, cfg: PursuitConfig, numEnvs: number): void {
  const fail = (what: string, Err: typeof RangeError = RangeError) => {
    throw new Err(`Cannot build Pursuit env "${spec.name}": ${what}`);
  };
  if (spec.family !== "pursuit") fail(`spec is of family "${spec.family}"`, TypeError);
  if (cfg.numPursuers < 1 || cfg.numPursuers > PURSUIT_MAX_PURSUERS) {
    fail(`${cfg.numPursuers} pursuers, kernel holds 1..${PURSUIT_MAX_PURSUERS}`);
  }
  if (cfg.numEvaders < 0 || cfg.numEvaders > PURSUIT_MAX_EVADERS) {
    fail(`${cfg.numEvaders} evaders, kernel holds 0..${PURSUIT_MAX_EVADERS}`);
  }
  if (cfg.xSize < 2 || cfg.ySize < 2 || cfg.xSize > 255 || cfg.ySize > 255) {
    fail(`map ${cfg.xSize}x${cfg.ySize} is outside 2..255 per side`);
  }
  if (cfg.obsRange < 1 || cfg.obsRange % 2 !== 1) fail(`obsRange ${cfg.obsRange} is not odd`);
  if (cfg.sharedReward) {
    fail("sharedReward is true, only individual rewards are supported", TypeError);
  }
  if (cfg.constraintWindow !== 1) {
    fail(`constraintWindow is ${cfg.constraintWindow}, only 1 is supported`);
  }
  if (!pursuitObstacles(cfg).includes(0)) fail("the map has no open cell");
  checkNumEnvs(spec, { numEnvs, title: "Pursuit" });
}

/**
 * Builds a Pursuit env: buffers (labelled `pursuit.*`), pipelines and bind groups, once.
 *
 * @param engine Engine that owns the device.
 * @param spec Spec of a Pursuit task (from {@linkcode PURSUIT}.parseTask or {@linkcode pursuitSpec}).
 * @param options `numEnvs` and the `seed` of resets and evader moves.
 * @returns The env; call `encodeReset` before the first step.
 */
export async function createPursuitEnv(
  engine: Engine,
  spec: EnvSpec,
  options: VecEnvOptions,
): Promise<PursuitEnv> {
  const cfg = spec.config as unknown as PursuitConfig;
  checkConfig(spec, cfg, options.numEnvs);
  const n = options.numEnvs, N = cfg.numPursuers;
  const buffers = createEnvBuffers(engine, {
    numAgents: N,
    numEnvs: n,
    obsShape: [cfg.obsRange, cfg.obsRange, 3],
    obsDType: "u8",
    label: "pursuit",
  });
  const cells = cfg.xSize * cfg.ySize;
  const state = engine.tensor({
    dtype: "u32",
    shape: [n, pursuitStateStride(cfg)],
    label: "pursuit.state",
  });
  const scene = engine.tensor({ dtype: "u32", shape: [n, cells + N], label: "pursuit.scene" });
  const terminalScene = engine.tensor({
    dtype: "u32",
    shape: [n, cells + N],
    label: "pursuit.terminalScene",
  });
  const ends = engine.tensor({ dtype: "u32", shape: [n, 2], label: "pursuit.ends" });
  const evaderActions = engine.tensor({
    dtype: "u32",
    shape: [n, Math.max(1, cfg.numEvaders)],
    label: "pursuit.evaderActions",
  });
  const table = pursuitRewardTable(cfg);
  const words = new Uint32Array(cells + table.length);
  words.set(pursuitObstacles(cfg));
  words.set(new Uint32Array(table.buffer, table.byteOffset, table.length), cells); // f32 bits
  const tables = engine.tensor({
    dtype: "u32",
    shape: [words.length],
    label: "pursuit.tables",
    data: words,
  });
  const params = {
    numEnvs: n,
    xSize: cfg.xSize,
    ySize: cfg.ySize,
    numPursuers: N,
    numEvaders: cfg.numEvaders,
    maxCycles: cfg.maxCycles,
    tagMax: pursuitTagMax(cfg),
    surround: cfg.surround ? 1 : 0,
    numCatch: cfg.numCatch,
    freezeEvaders: cfg.freezeEvaders ? 1 : 0,
    injectEvaderActions: 0,
    seed: options.seed >>> 0,
    envsPerSeed: envsPerSeed(options),
    resetPurpose: RNG_PURPOSE.envReset,
    stepPurpose: RNG_PURPOSE.envStep,
  };
  const [kr, ks, ko] = await Promise.all([
    compileKernel(engine, pursuitReset),
    compileKernel(engine, pursuitStep),
    compileKernel(engine, pursuitObserve),
  ]);
  const { obs, terminalObs, actions, reward, ...flags } = buffers;
  const stepTensors = { tables, state, actions, evaderActions, scene, terminalScene, reward, ends };
  const dispatches: PursuitDispatches = {
    reset: kr.bind({ tables, state, scene, reward, ends }, params, "pursuit.reset"),
    step: ks.bind(stepTensors, params, "pursuit.step"),
    stepInjected: ks.bind(
      stepTensors,
      { ...params, injectEvaderActions: 1 },
      "pursuit.stepInjected",
    ),
    observe: ko.bind(
      { scene, terminalScene, ends, obs, terminalObs, ...flags },
      { numEnvs: n, xSize: cfg.xSize, ySize: cfg.ySize, numPursuers: N, obsRange: cfg.obsRange },
    ),
  };
  return new PursuitEnv(engine, spec, {
    config: cfg,
    options,
    buffers,
    state,
    evaderActions,
    dispatches,
  });
}

/** The Pursuit family: registry parse of `pursuit[-max-cycles-{n}]` and the GPU env builder. */
export const PURSUIT: EnvDef = Object.freeze({
  family: "pursuit",
  tasks: ["pursuit", "pursuit-max-cycles-60"] as const,
  parseTask(name: string): EnvSpec | null {
    const cfg = parsePursuitTask(name);
    return cfg ? pursuitSpec(cfg, name.replace(/-v[45]$/, "")) : null;
  },
  create: createPursuitEnv,
});
