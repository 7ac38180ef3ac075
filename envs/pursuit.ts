/**
 * Pursuit (PettingZoo SISL `pursuit_v4`/`v5`, spec `shared/specs/envs/pursuit.md`) on the GPU: the
 * task registry, the state layout, golden-state import and {@linkcode PursuitEnv}, which plays one
 * cycle (all pursuers, capture, evader moves) of `numEnvs` envs in one dispatch
 * (`shaders/envs/pursuit_step.wgsl`) and writes the u8 observations in a second one
 * (`shaders/envs/pursuit_observe.wgsl`), with auto-reset. The independent CPU reference is
 * `envs/pursuit_reference.ts`.
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
import type { Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../engine/kernel.ts";
import { RNG_PURPOSE } from "../engine/rng.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { EnvBuffers, EnvDef, EnvSpec, VecEnv, VecEnvOptions } from "./env.ts";
import type { GoldenHeader } from "./golden.ts";

/** Parameters of a Pursuit task (the reference's constructor arguments, renamed). */
export interface PursuitConfig {
  readonly xSize: number;
  readonly ySize: number;
  readonly numPursuers: number;
  readonly numEvaders: number;
  /** Side of the square observation window (odd). */
  readonly obsRange: number;
  /** Pursuers needed on an evader's cell; used only when `surround` is false. */
  readonly numCatch: number;
  /** Capture by occupying every open 4-neighbour of the evader (true) or by `numCatch` (false). */
  readonly surround: boolean;
  readonly freezeEvaders: boolean;
  readonly tagReward: number;
  readonly catchReward: number;
  readonly urgencyReward: number;
  /** Fraction of the map used for spawning (only 1 is supported by the GPU env). */
  readonly constraintWindow: number;
  /** Truncation horizon [cycles]. */
  readonly maxCycles: number;
  /** Team-mean rewards (the reference's default); the GPU env supports only false. */
  readonly sharedReward: boolean;
}

/** Our reference configuration (spec §1): the library defaults with `shared_reward=False`. */
export const PURSUIT_DEFAULTS: Readonly<PursuitConfig> = Object.freeze({
  xSize: 16,
  ySize: 16,
  numPursuers: 8,
  numEvaders: 30,
  obsRange: 7,
  numCatch: 2,
  surround: true,
  freezeEvaders: false,
  tagReward: 0.01,
  catchReward: 5.0,
  urgencyReward: -0.1,
  constraintWindow: 1.0,
  maxCycles: 500,
  sharedReward: false,
});

/** A cell (x, y). */
export interface PursuitCell {
  x: number;
  y: number;
}

/** An alive evader: its spawn index (`id`, kept for the episode) and cell. */
export interface PursuitEvader extends PursuitCell {
  id: number;
}

/** The full state of one env. */
export interface PursuitState {
  /** Completed cycles of this episode. */
  frames: number;
  /** Episode index of this env's reset stream (the RNG step of its next reset is one more). */
  episode: number;
  /** Cycles this env has played in all episodes (the RNG step of its in-step draws). */
  cycles: number;
  /** Pursuer cells in agent order. */
  pursuers: PursuitCell[];
  /** Alive evaders by ascending id. */
  evaders: PursuitEvader[];
}

/** State as the golden files write it. */
export interface PursuitGoldenState {
  frames: number;
  pursuers: number[][];
  /** [id, x, y] of alive evaders, ascending id. */
  evaders: number[][];
}

/** Largest pursuer count the kernel holds. */
export const PURSUIT_MAX_PURSUERS = 16;
/** Largest evader count the kernel holds. */
export const PURSUIT_MAX_EVADERS = 64;
/** Words of the per-env state header: frames, episode, cycles. */
const HEADER = 3;

const TASK_RE = /^pursuit(?:-max-cycles-(\d+))?(?:-v[45])?$/;

/**
 * The config of a task name: `pursuit` (spec §1), optionally `pursuit-max-cycles-{n}` (golden
 * file `pursuit-max-cycles-60`) and a `-v4`/`-v5` suffix; null for any other name.
 *
 * @param name Task name.
 * @returns The task's parameters or null.
 */
export function parsePursuitTask(name: string): PursuitConfig | null {
  const m = TASK_RE.exec(name);
  if (!m) return null;
  const maxCycles = m[1] === undefined ? PURSUIT_DEFAULTS.maxCycles : Number(m[1]);
  if (maxCycles < 1) return null;
  return { ...PURSUIT_DEFAULTS, maxCycles };
}

/**
 * The {@linkcode EnvSpec} of a config: obs `[obsRange, obsRange, 3]` u8 (every channel is a
 * 0/1 flag or a count of at most max(numPursuers, numEvaders) ≤ 64), 5 actions.
 *
 * @param cfg Task parameters.
 * @param name Registry name.
 * @returns The spec; its `config` is `cfg`.
 */
export function pursuitSpec(cfg: PursuitConfig, name = "pursuit"): EnvSpec {
  return Object.freeze({
    name,
    family: "pursuit",
    numAgents: cfg.numPursuers,
    obsShape: Object.freeze([cfg.obsRange, cfg.obsRange, 3]),
    obsDType: "u8",
    numActions: 5,
    maxSteps: cfg.maxCycles,
    config: Object.freeze({ ...cfg }),
  });
}

/**
 * The config a golden file was recorded with (its header's `config`).
 *
 * @param header Header line of a Pursuit golden file.
 * @returns The task parameters.
 */
export function pursuitConfigFromGolden(header: GoldenHeader): PursuitConfig {
  const c = header.config as Record<string, number | boolean>;
  return {
    xSize: c.x_size as number,
    ySize: c.y_size as number,
    numPursuers: c.n_pursuers as number,
    numEvaders: c.n_evaders as number,
    obsRange: c.obs_range as number,
    numCatch: c.n_catch as number,
    surround: Boolean(c.surround),
    freezeEvaders: Boolean(c.freeze_evaders),
    tagReward: c.tag_reward as number,
    catchReward: c.catch_reward as number,
    urgencyReward: c.urgency_reward as number,
    constraintWindow: c.constraint_window as number,
    maxCycles: c.max_cycles as number,
    sharedReward: Boolean(c.shared_reward),
  };
}

/**
 * Converts a golden state into a {@linkcode PursuitState}.
 *
 * @param g State object of a golden line.
 * @param counters Episode and cycle counters to give the state (default 0, and `frames` cycles).
 * @returns The state.
 */
export function pursuitStateFromGolden(
  g: PursuitGoldenState,
  counters: { episode?: number; cycles?: number } = {},
): PursuitState {
  return {
    frames: g.frames,
    episode: counters.episode ?? 0,
    cycles: counters.cycles ?? g.frames,
    pursuers: g.pursuers.map(([x, y]) => ({ x, y })),
    evaders: g.evaders.map(([id, x, y]) => ({ id, x, y })),
  };
}

/**
 * The obstacle map of the reference's `rectangle_map` (spec §3): cell (x, y) is an obstacle iff
 * 0.3 < x/xSize < 0.7 and 0.2 < y/ySize < 0.8 (float64, strict).
 *
 * @param cfg Task parameters.
 * @returns [xSize·ySize] u32, index x·ySize + y, 1 = obstacle.
 */
export function pursuitObstacles(cfg: PursuitConfig): Uint32Array {
  const out = new Uint32Array(cfg.xSize * cfg.ySize);
  for (let x = 0; x < cfg.xSize; x++) {
    for (let y = 0; y < cfg.ySize; y++) {
      const fx = x / cfg.xSize, fy = y / cfg.ySize;
      out[x * cfg.ySize + y] = fx > 0.3 && fx < 0.7 && fy > 0.2 && fy < 0.8 ? 1 : 0;
    }
  }
  return out;
}

/** Largest tag count a pursuer can have: an evader counts at most twice (corner, spec §7.1). */
export function pursuitTagMax(cfg: PursuitConfig): number {
  return 2 * cfg.numEvaders;
}

/**
 * The reward table: entry ((i·(M+1) + tOld)·(M+1) + tNew)·2 + caught (M = tag max) is the f32
 * nearest to pursuer i's parallel-API reward (spec §7.3) when its tag count is tOld on its cell
 * before the cycle and tNew after its move: the float64 sum over sub-steps k = 0 … N−1 of
 * tag·T/N (T = tOld while k < i, else tNew), the last sub-step adding catch·caught, then urgency.
 *
 * @param cfg Task parameters (`sharedReward` must be false).
 * @returns [numPursuers, M + 1, M + 1, 2] f32.
 */
export function pursuitRewardTable(cfg: PursuitConfig): Float32Array {
  const N = cfg.numPursuers, side = pursuitTagMax(cfg) + 1;
  const out = new Float32Array(N * side * side * 2);
  for (let i = 0; i < N; i++) {
    for (let tOld = 0; tOld < side; tOld++) {
      for (let tNew = 0; tNew < side; tNew++) {
        for (let caught = 0; caught < 2; caught++) {
          let r = 0;
          for (let k = 0; k < N; k++) {
            let v = (cfg.tagReward * (k < i ? tOld : tNew)) / N;
            if (k === N - 1) v = v + cfg.catchReward * caught + cfg.urgencyReward;
            r += v;
          }
          out[((i * side + tOld) * side + tNew) * 2 + caught] = r;
        }
      }
    }
  }
  return out;
}

/** u32 words of one env's GPU state. */
export function pursuitStateStride(cfg: PursuitConfig): number {
  return HEADER + 2 * cfg.numPursuers + 3 * cfg.numEvaders;
}

/**
 * Packs states into the GPU layout (see `shaders/envs/pursuit_step.wgsl`).
 *
 * @param cfg Task parameters.
 * @param states One state per env.
 * @returns [numEnvs, stride] u32 words.
 */
export function packPursuitStates(
  cfg: PursuitConfig,
  states: readonly PursuitState[],
): Uint32Array {
  const stride = pursuitStateStride(cfg);
  const out = new Uint32Array(states.length * stride);
  states.forEach((s, e) => {
    if (s.pursuers.length !== cfg.numPursuers || s.evaders.length > cfg.numEvaders) {
      throw new TypeError(
        `Cannot pack Pursuit state ${e}: ${s.pursuers.length} pursuers and ${s.evaders.length} evaders, task has ${cfg.numPursuers} and at most ${cfg.numEvaders}`,
      );
    }
    const base = e * stride;
    out.set([s.frames, s.episode, s.cycles], base);
    s.pursuers.forEach((p, i) => out.set([p.x, p.y], base + HEADER + 2 * i));
    const eb = base + HEADER + 2 * cfg.numPursuers;
    for (const v of s.evaders) {
      if (!(v.id >= 0 && v.id < cfg.numEvaders)) {
        throw new RangeError(`Cannot pack Pursuit state ${e}: evader id ${v.id} is out of range`);
      }
      out.set([v.x, v.y, 1], eb + 3 * v.id);
    }
  });
  return out;
}

/**
 * Unpacks GPU state words into states (caught evaders dropped).
 *
 * @param cfg Task parameters.
 * @param words [numEnvs, stride] u32 words, as read from {@linkcode PursuitEnv.state}.
 * @returns One state per env.
 */
export function unpackPursuitStates(cfg: PursuitConfig, words: Uint32Array): PursuitState[] {
  const stride = pursuitStateStride(cfg);
  const out: PursuitState[] = [];
  for (let base = 0; base + stride <= words.length; base += stride) {
    const pursuers: PursuitCell[] = [];
    for (let i = 0; i < cfg.numPursuers; i++) {
      pursuers.push({ x: words[base + HEADER + 2 * i], y: words[base + HEADER + 2 * i + 1] });
    }
    const evaders: PursuitEvader[] = [];
    const eb = base + HEADER + 2 * cfg.numPursuers;
    for (let id = 0; id < cfg.numEvaders; id++) {
      const o = eb + 3 * id;
      if (words[o + 2] === 1) evaders.push({ id, x: words[o], y: words[o + 1] });
    }
    out.push({
      frames: words[base],
      episode: words[base + 1],
      cycles: words[base + 2],
      pursuers,
      evaders,
    });
  }
  return out;
}

const STEP_SHADER = "envs/pursuit_step.wgsl";
const INCLUDES = ["common/index.wgsl", "common/rng.wgsl"] as const;
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
    obstacles: "read",
    state: "write",
    scene: "write",
    reward: "write",
    terminated: "write",
    truncated: "write",
    episodeStep: "write",
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
    obstacles: "read",
    rewardTable: "read",
    state: "write",
    actions: "read",
    evaderActions: "read",
    scene: "write",
    terminalScene: "write",
    reward: "write",
    terminated: "write",
    truncated: "write",
    episodeStep: "write",
  },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/** Observations (and terminal observations of ended envs); one thread per u32 word of obs. */
export const pursuitObserve = defineKernel({
  name: "pursuit.observe",
  shader: "envs/pursuit_observe.wgsl",
  entryPoint: "observe",
  includes: ["common/index.wgsl"],
  bindings: {
    scene: "read",
    terminalScene: "read",
    terminatedIn: "read",
    truncatedIn: "read",
    obs: "write",
    terminalObs: "write",
  },
  params: OBSERVE_PARAMS,
  threads: (p) => Math.ceil((p.numPursuers * p.numEnvs * p.obsRange * p.obsRange * 3) / 4),
});

/** The dispatches of a {@linkcode PursuitEnv}. */
interface PursuitDispatches {
  reset: Dispatch<typeof PARAMS>;
  step: Dispatch<typeof PARAMS>;
  stepInjected: Dispatch<typeof PARAMS>;
  observe: Dispatch<typeof OBSERVE_PARAMS>;
}

/** The GPU Pursuit env: buffers of {@linkcode EnvBuffers} plus the packed state. */
export class PursuitEnv implements VecEnv {
  readonly spec: EnvSpec;
  readonly config: PursuitConfig;
  readonly numEnvs: number;
  readonly seed: number;
  readonly buffers: EnvBuffers & { readonly obs: Tensor<"u8">; readonly terminalObs: Tensor<"u8"> };
  /** [numEnvs, stride] u32: packed states (layout in `shaders/envs/pursuit_step.wgsl`). */
  readonly state: Tensor<"u32">;
  /** [numEnvs, numEvaders] u32: evader actions by id, used by {@linkcode encodeStepInjected}. */
  readonly evaderActions: Tensor<"u32">;
  readonly #engine: Engine;
  readonly #d: PursuitDispatches;

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
    this.#engine = engine;
    this.spec = spec;
    this.config = parts.config;
    this.numEnvs = parts.options.numEnvs;
    this.seed = parts.options.seed;
    this.buffers = parts.buffers;
    this.state = parts.state;
    this.evaderActions = parts.evaderActions;
    this.#d = parts.dispatches;
  }

  /** Records a reset of every env (episode 0 of each env's stream); writes `obs`. */
  encodeReset(enc: Encoder): void {
    this.#d.reset.encode(enc);
    this.#d.observe.encode(enc);
  }

  /** Records one cycle of every env (reads `buffers.actions`), with auto-reset. */
  encodeStep(enc: Encoder): void {
    this.#d.step.encode(enc);
    this.#d.observe.encode(enc);
  }

  /**
   * Records one cycle whose evader moves are read from {@linkcode evaderActions} instead of drawn
   * (replays of recorded draws); otherwise as {@linkcode encodeStep}.
   */
  encodeStepInjected(enc: Encoder): void {
    this.#d.stepInjected.encode(enc);
    this.#d.observe.encode(enc);
  }

  /**
   * Queues a write of `states` (one per env) into the GPU state (lands before the next submit).
   * Observations are not rewritten; the next step uses the new states.
   *
   * @param states One state per env.
   */
  writeStates(states: readonly PursuitState[]): void {
    if (states.length !== this.numEnvs) {
      throw new RangeError(
        `Cannot write ${states.length} Pursuit states: the env has ${this.numEnvs} envs`,
      );
    }
    this.#engine.write(this.state, packPursuitStates(this.config, states));
  }

  /**
   * Queues a write of the evader actions the next {@linkcode encodeStepInjected} applies.
   *
   * @param actions [numEnvs, numEvaders]: action of evader `id` of env `e` at `e·numEvaders + id`
   *   (entries of caught evaders are ignored).
   */
  writeEvaderActions(actions: ArrayLike<number>): void {
    this.#engine.write(this.evaderActions, actions);
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
  if (!Number.isInteger(numEnvs) || numEnvs < 1) fail(`numEnvs is ${numEnvs}`);
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
  const obsShape = [N, n, cfg.obsRange, cfg.obsRange, 3];
  const buffers = {
    obs: engine.tensor({ dtype: "u8", shape: obsShape, label: "pursuit.obs" }),
    terminalObs: engine.tensor({ dtype: "u8", shape: obsShape, label: "pursuit.terminalObs" }),
    actions: engine.tensor({ dtype: "u32", shape: [N, n], label: "pursuit.actions" }),
    reward: engine.tensor({ dtype: "f32", shape: [N, n], label: "pursuit.reward" }),
    terminated: engine.tensor({ dtype: "u32", shape: [n], label: "pursuit.terminated" }),
    truncated: engine.tensor({ dtype: "u32", shape: [n], label: "pursuit.truncated" }),
    episodeStep: engine.tensor({ dtype: "u32", shape: [n], label: "pursuit.episodeStep" }),
  };
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
  const evaderActions = engine.tensor({
    dtype: "u32",
    shape: [n, Math.max(1, cfg.numEvaders)],
    label: "pursuit.evaderActions",
  });
  const obstacles = engine.tensor({
    dtype: "u32",
    shape: [cells],
    label: "pursuit.obstacles",
    data: pursuitObstacles(cfg),
  });
  const table = pursuitRewardTable(cfg);
  const rewardTable = engine.tensor({
    dtype: "f32",
    shape: [table.length],
    label: "pursuit.rewardTable",
    data: table,
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
    resetPurpose: RNG_PURPOSE.envReset,
    stepPurpose: RNG_PURPOSE.envStep,
  };
  const [kr, ks, ko] = await Promise.all([
    compileKernel(engine, pursuitReset),
    compileKernel(engine, pursuitStep),
    compileKernel(engine, pursuitObserve),
  ]);
  const { obs, terminalObs, actions, ...flags } = buffers;
  const stepTensors = { obstacles, rewardTable, state, actions, evaderActions, scene };
  const dispatches: PursuitDispatches = {
    reset: kr.bind({ obstacles, state, scene, ...flags }, params, "pursuit.reset"),
    step: ks.bind({ ...stepTensors, terminalScene, ...flags }, params, "pursuit.step"),
    stepInjected: ks.bind(
      { ...stepTensors, terminalScene, ...flags },
      { ...params, injectEvaderActions: 1 },
      "pursuit.stepInjected",
    ),
    observe: ko.bind({
      scene,
      terminalScene,
      terminatedIn: flags.terminated,
      truncatedIn: flags.truncated,
      obs,
      terminalObs,
    }, { numEnvs: n, xSize: cfg.xSize, ySize: cfg.ySize, numPursuers: N, obsRange: cfg.obsRange }),
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
