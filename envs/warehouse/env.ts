/**
 * Warehouse commissioning, global simulator (DIALS, spec
 * `docs/envs/warehouse.md`): the family's {@linkcode EnvDef}
 * ({@linkcode WAREHOUSE}, tasks `warehouse-{4,25,49,100}`) and {@linkcode WarehouseEnv}, which
 * steps `numEnvs` warehouses (the learning block and the scripted ring) in one dispatch
 * (`shaders/envs/warehouse/env.wgsl`, one workgroup per env), with auto-reset, after a tiny one
 * that writes the episode flags (so that each kernel binds at most 8 storage buffers). Besides the
 * {@linkcode EnvBuffers} every step writes the AIP data of §4: `dset` (observations before the
 * step) and `influence` (the neighbours' edge classes after the move); see
 * `envs/warehouse/dataset.ts` for recording them and `envs/warehouse/local.ts` for the local
 * simulator they drive.
 *
 * ```ts ignore
 * const spec = WAREHOUSE.parseTask("warehouse-4")!;
 * const env = await WAREHOUSE.create(engine, spec, { numEnvs: 256, seed: 1 });
 * env.encodeReset(enc);       // obs [4, 256, 37] f32
 * env.encodeStep(enc);        // reads actions [4, 256] u32 (0 UP, 1 DOWN, 2 LEFT, 3 RIGHT)
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
import type { EnvBuffers, EnvDef, EnvSpec, VecEnvOptions } from "../env.ts";
import { envsPerSeed } from "../env.ts";
import { createEnvBuffers, RESET_BINDINGS, resetBuffers } from "../buffers.ts";
import {
  checkWarehouseConfig,
  packWarehouseStates,
  parseWarehouseTask,
  unpackWarehouseStates,
  WAREHOUSE_OBS,
  WAREHOUSE_SOURCES,
  type WarehouseConfig,
  warehouseLearningRobot,
  warehouseRobots,
  warehouseShelfCount,
  warehouseSpec,
  type WarehouseState,
  warehouseStateStride,
} from "./layout.ts";
import {
  checkEnvFamily,
  checkNumEnvs,
  type PackedStateParts,
  packedStateParts,
  VecEnvBase,
} from "../vec_env_base.ts";

export type { WarehouseConfig, WarehouseState } from "./layout.ts";

const SHADER = "envs/warehouse/env.wgsl";
/**
 * Includes of the GS and LS kernels: both apply the rules of `envs/warehouse/_rules.wgsl` and the
 * episode contract of `envs/common/_episode.wgsl`.
 */
export const WAREHOUSE_INCLUDES = [
  "common/_index.wgsl",
  "common/_rng.wgsl",
  "common/_exact.wgsl",
  "envs/warehouse/_rules.wgsl",
  "envs/common/_episode.wgsl",
] as const;
const PARAMS = {
  numEnvs: "u32",
  robotsPerSide: "u32",
  learningPerSide: "u32",
  scripted: "u32",
  maxSteps: "u32",
  probItem: "f32",
  seed: "u32",
  resetPurpose: "u32",
  stepPurpose: "u32",
  inject: "u32",
  envsPerSeed: "u32",
} as const;
/** Threads per env workgroup. */
const WORKGROUP = 64;
const MAX_X = 65535;

/** One workgroup per env, split into (x, y) past 65535 envs. */
export function warehouseEnvWorkgroups(numEnvs: number): number[] {
  return numEnvs <= MAX_X ? [numEnvs, 1, 1] : [MAX_X, Math.ceil(numEnvs / MAX_X), 1];
}

/** Resets every env to episode 0 of its stream; one workgroup per env. */
export const warehouseReset = defineKernel({
  name: "warehouse.reset",
  shader: SHADER,
  entryPoint: "reset",
  includes: WAREHOUSE_INCLUDES,
  bindings: { state: "write", ...RESET_BINDINGS },
  params: PARAMS,
  workgroups: (p) => warehouseEnvWorkgroups(p.numEnvs),
  workgroupSize: WORKGROUP,
});

/**
 * First dispatch of a step: the flags (terminated 0, truncated, episodeStep) the step ends with,
 * from the header before it; one thread per env.
 */
export const warehouseFlags = defineKernel({
  name: "warehouse.flags",
  shader: SHADER,
  entryPoint: "flags",
  includes: WAREHOUSE_INCLUDES,
  bindings: { stateIn: "read", terminated: "write", truncated: "write", episodeStep: "write" },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/**
 * Second dispatch of a step: one GS step of every env with auto-reset (state, obs, terminalObs,
 * reward, dset, influence), after {@linkcode warehouseFlags}; one workgroup per env. With
 * `inject` = 1 its in-step draws come from `injected` (see {@linkcode WarehouseEnv.writeInjected}).
 */
export const warehouseStep = defineKernel({
  name: "warehouse.step",
  shader: SHADER,
  entryPoint: "step",
  includes: WAREHOUSE_INCLUDES,
  bindings: {
    state: "write",
    actions: "read",
    obs: "write",
    terminalObs: "write",
    reward: "write",
    dset: "write",
    influence: "write",
    injected: "read",
  },
  params: PARAMS,
  workgroups: (p) => warehouseEnvWorkgroups(p.numEnvs),
  workgroupSize: WORKGROUP,
});

/** {@linkcode warehouseReset} as one thread per env without barriers (CPU adapters). */
export const warehouseResetSerial = defineKernel({
  ...warehouseReset,
  name: "warehouse.resetSerial",
  entryPoint: "resetSerial",
  workgroups: undefined,
  workgroupSize: undefined,
  threads: (p) => p.numEnvs,
});

/** {@linkcode warehouseStep} as one thread per env without barriers (CPU adapters). */
export const warehouseStepSerial = defineKernel({
  ...warehouseStep,
  name: "warehouse.stepSerial",
  entryPoint: "stepSerial",
  workgroups: undefined,
  workgroupSize: undefined,
  threads: (p) => p.numEnvs,
});

/** Options of {@linkcode createWarehouseEnv}. */
export interface WarehouseEnvOptions extends VecEnvOptions {
  /**
   * One thread per env (no workgroup barriers) instead of one workgroup per env. Default: true on
   * CPU adapters (llvmpipe), where barriers are expensive. Both give identical results.
   */
  serial?: boolean;
}

/** Buffers of the GS: the {@linkcode EnvBuffers} plus the AIP data of the last step. */
export interface WarehouseBuffers extends EnvBuffers {
  readonly obs: Tensor<"f32">;
  readonly terminalObs: Tensor<"f32">;
  /** [numAgents, numEnvs, 37] f32: observations before the last step (the AIP input). */
  readonly dset: Tensor<"f32">;
  /** [numAgents, numEnvs, 4] u32: classes of the E, S, W, N neighbours after the last move. */
  readonly influence: Tensor<"u32">;
}

/** Recorded in-step draws of one env, for {@linkcode WarehouseEnv.writeInjected}. */
export interface WarehouseInjectedDraws {
  /**
   * The random action (0..3) of every robot, by robot id (K² entries; read only where the robot's
   * hand-coded policy acts randomly, so other entries may be anything).
   */
  readonly random: ArrayLike<number>;
  /** The spawn outcome of every shelf cell in scan order (6K(K + 1) entries): true = a hit. */
  readonly spawn: ArrayLike<boolean>;
}

/** The GPU global simulator. */
export class WarehouseEnv extends VecEnvBase<WarehouseState, WarehouseBuffers> {
  readonly config: WarehouseConfig;
  /** [numEnvs, stride] u32 packed states (layout in `envs/warehouse/layout.ts`). */
  readonly state: Tensor<"u32">;
  /**
   * [numEnvs, K² + 6K(K + 1)] u32: the draws {@linkcode encodeStepInjected} uses (random actions
   * by robot id, then spawn outcomes in scan order).
   */
  readonly injected: Tensor<"u32">;
  readonly #stepInjected: readonly Dispatch<typeof PARAMS>[];

  /** Use {@linkcode createWarehouseEnv}. */
  constructor(
    engine: Engine,
    spec: EnvSpec,
    parts: PackedStateParts<WarehouseBuffers, Dispatch<typeof PARAMS>> & {
      /** The {@linkcode warehouseFlags} dispatch, encoded before `step`. */
      flags: Dispatch<typeof PARAMS>;
      injected: Tensor<"u32">;
      /** `step` bound with `inject` = 1. */
      stepInjected: Dispatch<typeof PARAMS>;
    },
  ) {
    super(engine, spec, {
      ...packedStateParts("warehouse", parts),
      seed: parts.options.seed >>> 0,
      step: [parts.flags, parts.step],
    });
    this.config = spec.config as unknown as WarehouseConfig;
    this.state = parts.state;
    this.injected = parts.injected;
    this.#stepInjected = [parts.flags, parts.stepInjected];
  }

  /**
   * Records one step whose in-step draws (the ring's random actions, the spawn outcomes) are read
   * from {@linkcode injected} instead of drawn (replays of recorded trajectories); otherwise as
   * {@linkcode encodeStep}. The reset after a time limit still draws.
   */
  encodeStepInjected(enc: Encoder): void {
    for (const d of this.#stepInjected) d.encode(enc);
  }

  /**
   * Queues a write of the draws the next {@linkcode encodeStepInjected} applies.
   *
   * @param draws One entry per env: random actions by robot id, spawn outcomes in scan order.
   */
  writeInjected(draws: readonly WarehouseInjectedDraws[]): void {
    const robots = warehouseRobots(this.config), shelves = warehouseShelfCount(this.config);
    const stride = robots + shelves;
    const bad = draws.findIndex((d) => d.random.length !== robots || d.spawn.length !== shelves);
    if (draws.length !== this.numEnvs || bad >= 0) {
      throw new RangeError(
        `Cannot inject warehouse draws: got ${draws.length} entries for ${this.numEnvs} envs, each needs ${robots} random actions and ${shelves} spawn outcomes`,
      );
    }
    const words = new Uint32Array(this.numEnvs * stride);
    draws.forEach((d, e) => {
      words.set(Array.from(d.random), e * stride);
      words.set(Array.from(d.spawn, (hit) => (hit ? 1 : 0)), e * stride + robots);
    });
    this.engine.write(this.injected, words);
  }

  /** Packs with {@linkcode packWarehouseStates} (items in creation order). */
  protected packStates(states: readonly WarehouseState[]): { state: Uint32Array } {
    return { state: packWarehouseStates(this.config, states) };
  }

  /** Decodes words read from {@linkcode WarehouseEnv.state}. */
  decodeStates(words: Uint32Array): WarehouseState[] {
    return unpackWarehouseStates(this.config, words);
  }

  /**
   * A text picture of env `envIndex` (one read of the GPU state): `+` free shelf, `#` unreachable
   * corner, `o` item, `.` floor; robots `A`.. for learning agents, `r` for the ring (`*` on an
   * item).
   *
   * @param envIndex Which env.
   * @returns The picture.
   */
  protected async renderEnv(envIndex: number): Promise<string> {
    const s = this.decodeStates(await readTensor(this.engine, this.state))[envIndex];
    const cfg = this.config, n = 4 * cfg.robotsPerSide + 1;
    const grid = Array.from({ length: n }, (_, r) =>
      Array.from({ length: n }, (_, c): string => {
        const rb = r % 4 === 0, cb = c % 4 === 0;
        return rb && cb ? "#" : rb || cb ? "+" : ".";
      }));
    for (const it of s.items) grid[it.row][it.col] = "o";
    const learners = Array.from(
      { length: cfg.learningPerSide ** 2 },
      (_, a) => warehouseLearningRobot(cfg, a),
    );
    s.robots.forEach((p, id) => {
      const a = learners.indexOf(id);
      const onItem = grid[p.row][p.col] === "o";
      grid[p.row][p.col] = onItem ? "*" : a >= 0 ? String.fromCharCode(65 + (a % 26)) : "r";
    });
    return [
      `step ${s.step} episode ${s.episode} items ${s.items.length}`,
      ...grid.map((r) => r.join("")),
    ].join("\n");
  }
}

/**
 * Builds a warehouse GS: buffers (labelled `warehouse.*`), pipelines and bind groups, once.
 *
 * @param engine Engine that owns the device.
 * @param spec Spec of a warehouse task ({@linkcode WAREHOUSE}.parseTask or `warehouseSpec`).
 * @param options `numEnvs`, the `seed` of every random stream and the kernel variant.
 * @returns The env; call `encodeReset` before the first step.
 */
export async function createWarehouseEnv(
  engine: Engine,
  spec: EnvSpec,
  options: WarehouseEnvOptions,
): Promise<WarehouseEnv> {
  checkEnvFamily(spec, { families: ["warehouse"], title: "warehouse" });
  const cfg = spec.config as unknown as WarehouseConfig;
  checkWarehouseConfig(cfg, `warehouse env "${spec.name}"`);
  checkNumEnvs(spec, { numEnvs: options.numEnvs, title: "warehouse" });
  const n = options.numEnvs, A = cfg.learningPerSide ** 2;
  const t = <D extends "f32" | "u32">(dtype: D, shape: number[], name: string) =>
    engine.tensor({ dtype, shape, label: `warehouse.${name}` });
  const buffers: WarehouseBuffers = {
    ...createEnvBuffers(engine, {
      numAgents: A,
      numEnvs: n,
      obsShape: [WAREHOUSE_OBS],
      obsDType: "f32",
      label: "warehouse",
    }),
    dset: t("f32", [A, n, WAREHOUSE_OBS], "dset"),
    influence: t("u32", [A, n, WAREHOUSE_SOURCES], "influence"),
  };
  const state = t("u32", [n, warehouseStateStride(cfg)], "state");
  const injected = t(
    "u32",
    [n, warehouseRobots(cfg) + warehouseShelfCount(cfg)],
    "injected",
  );
  const params = {
    numEnvs: n,
    robotsPerSide: cfg.robotsPerSide,
    learningPerSide: cfg.learningPerSide,
    scripted: cfg.scripted === "oldest" ? 0 : 1,
    maxSteps: cfg.maxSteps,
    probItem: cfg.probItem,
    seed: options.seed >>> 0,
    resetPurpose: RNG_PURPOSE.envReset,
    stepPurpose: RNG_PURPOSE.envStep,
    inject: 0,
    envsPerSeed: envsPerSeed(options),
  };
  const serial = options.serial ?? engine.isCpu;
  const [kr, kf, ks] = await Promise.all([
    compileKernel(engine, serial ? warehouseResetSerial : warehouseReset),
    compileKernel(engine, warehouseFlags),
    compileKernel(engine, serial ? warehouseStepSerial : warehouseStep),
  ]);
  const { obs, terminalObs, actions, reward, terminated, truncated, episodeStep, dset, influence } =
    buffers;
  const reset = kr.bind({ ...resetBuffers(buffers), state }, params, "warehouse.reset");
  const flags = kf.bind(
    { stateIn: state, terminated, truncated, episodeStep },
    params,
    "warehouse.flags",
  );
  const stepTensors = { state, actions, obs, terminalObs, reward, dset, influence, injected };
  const step = ks.bind(stepTensors, params, "warehouse.step");
  const stepInjected = ks.bind(stepTensors, { ...params, inject: 1 }, "warehouse.stepInjected");
  return new WarehouseEnv(engine, spec, {
    options,
    buffers,
    state,
    reset,
    flags,
    step,
    injected,
    stepInjected,
  });
}

/** The registered tasks (ring on variant A); `-closest` variants run the ring on variant B. */
const TASKS = ["warehouse-4", "warehouse-25", "warehouse-49", "warehouse-100"] as const;

/** The warehouse family: registry parse of `warehouse-*` names and the GS builder. */
export const WAREHOUSE: EnvDef = Object.freeze({
  family: "warehouse",
  tasks: TASKS,
  parseTask(name: string): EnvSpec | null {
    const cfg = parseWarehouseTask(name);
    return cfg ? warehouseSpec(cfg, name) : null;
  },
  create: createWarehouseEnv,
});
