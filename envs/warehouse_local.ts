/**
 * Warehouse commissioning, local simulators (IALS/DIALS, §9 of
 * `shared/specs/envs/warehouse-commissioning.md`): {@linkcode WarehouseLocalEnv} steps one
 * 5 × 5 region per (agent, env) lane — numAgents × numEnvs regions in one dispatch
 * (`shaders/envs/warehouse_local.wgsl`) — with the same obs/reward layout as the GS
 * (`envs/warehouse.ts`) for that agent. The neighbours enter only through `influence`
 * ([numAgents, numEnvs, 4] u32, classes 0..3 for the E, S, W, N neighbours: 0..2 = the
 * neighbour stands on edge cell k + 1 and removes its item, 3 = off the edge), which the caller
 * fills before each step: sampled from an AIP, or copied from the GS's `buffers.influence`.
 *
 * Spawns use the GS's random keys for the agent's region, so with the same seed, the GS's actions
 * and its influence sources, lane (a, e) reproduces agent a's trajectory in GS env e exactly.
 *
 * ```ts ignore
 * const ls = await createWarehouseLocalEnv(engine, WAREHOUSE.parseTask("warehouse-4")!, { numEnvs, seed });
 * ls.encodeReset(enc);
 * enc.copy(sampledClasses, ls.influence);   // [4, numEnvs, 4] u32
 * ls.encodeStep(enc);                        // reads actions [4, numEnvs]
 * ```
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../engine/kernel.ts";
import { readTensor } from "../engine/readback.ts";
import { RNG_PURPOSE } from "../engine/rng.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { EnvBuffers, EnvSpec, VecEnv, VecEnvOptions } from "./env.ts";
import {
  checkWarehouseConfig,
  packWarehouseLocalStates,
  unpackWarehouseLocalStates,
  WAREHOUSE_LOCAL_STRIDE,
  WAREHOUSE_OBS,
  WAREHOUSE_SOURCES,
  type WarehouseConfig,
  type WarehouseLocalState,
} from "./warehouse_layout.ts";

const SHADER = "envs/warehouse_local.wgsl";
const INCLUDES = [
  "common/index.wgsl",
  "common/rng.wgsl",
  "common/exact.wgsl",
  "envs/warehouse_rules.wgsl",
] as const;
const PARAMS = {
  numEnvs: "u32",
  numAgents: "u32",
  robotsPerSide: "u32",
  learningPerSide: "u32",
  maxSteps: "u32",
  probItem: "f32",
  seed: "u32",
  resetPurpose: "u32",
  stepPurpose: "u32",
} as const;

/** Resets every lane to episode 0; one thread per lane. */
export const warehouseLocalReset = defineKernel({
  name: "warehouse.local.reset",
  shader: SHADER,
  entryPoint: "reset",
  includes: INCLUDES,
  bindings: {
    state: "write",
    obs: "write",
    reward: "write",
    terminated: "write",
    truncated: "write",
    episodeStep: "write",
  },
  params: PARAMS,
  threads: (p) => p.numAgents * p.numEnvs,
});

/** One LS step of every lane with auto-reset; one thread per lane. */
export const warehouseLocalStep = defineKernel({
  name: "warehouse.local.step",
  shader: SHADER,
  entryPoint: "step",
  includes: INCLUDES,
  bindings: {
    state: "write",
    actions: "read",
    influence: "read",
    obs: "write",
    terminalObs: "write",
    reward: "write",
    terminated: "write",
    truncated: "write",
    episodeStep: "write",
  },
  params: PARAMS,
  threads: (p) => p.numAgents * p.numEnvs,
});

/** The GPU local simulators of every learning agent. */
export class WarehouseLocalEnv implements VecEnv {
  readonly spec: EnvSpec;
  readonly config: WarehouseConfig;
  readonly numEnvs: number;
  readonly seed: number;
  readonly buffers: EnvBuffers & {
    readonly obs: Tensor<"f32">;
    readonly terminalObs: Tensor<"f32">;
  };
  /** [numAgents, numEnvs, 4] u32: influence classes of the next step, written by the caller. */
  readonly influence: Tensor<"u32">;
  /** [numAgents, numEnvs, 16] u32 packed lanes (layout in `envs/warehouse_layout.ts`). */
  readonly state: Tensor<"u32">;
  readonly #engine: Engine;
  readonly #reset: Dispatch<typeof PARAMS>;
  readonly #step: Dispatch<typeof PARAMS>;

  /** Use {@linkcode createWarehouseLocalEnv}. */
  constructor(
    engine: Engine,
    spec: EnvSpec,
    parts: {
      options: VecEnvOptions;
      buffers: WarehouseLocalEnv["buffers"];
      influence: Tensor<"u32">;
      state: Tensor<"u32">;
      reset: Dispatch<typeof PARAMS>;
      step: Dispatch<typeof PARAMS>;
    },
  ) {
    this.#engine = engine;
    this.spec = spec;
    this.config = spec.config as unknown as WarehouseConfig;
    this.numEnvs = parts.options.numEnvs;
    this.seed = parts.options.seed >>> 0;
    this.buffers = parts.buffers;
    this.influence = parts.influence;
    this.state = parts.state;
    this.#reset = parts.reset;
    this.#step = parts.step;
  }

  /** Records a reset of every lane (episode 0, counter 0); writes `obs`. */
  encodeReset(enc: Encoder): void {
    this.#reset.encode(enc);
  }

  /** Records one step of every lane (reads `buffers.actions` and `influence`), with auto-reset. */
  encodeStep(enc: Encoder): void {
    this.#step.encode(enc);
  }

  /** Queues a write of lanes ([numAgents, numEnvs] order) into the GPU state. */
  writeStates(lanes: readonly WarehouseLocalState[]): void {
    const want = this.spec.numAgents * this.numEnvs;
    if (lanes.length !== want) {
      throw new RangeError(
        `Cannot write ${lanes.length} warehouse lanes: the local env has ${want} lanes`,
      );
    }
    this.#engine.write(this.state, packWarehouseLocalStates(lanes));
  }

  /** Decodes words read from {@linkcode WarehouseLocalEnv.state} ([numAgents, numEnvs] order). */
  decodeStates(words: Uint32Array): WarehouseLocalState[] {
    return unpackWarehouseLocalStates(words);
  }

  /** The tensors that continue the lanes identically. */
  stateTensors(): Record<string, Tensor> {
    return { state: this.state, obs: this.buffers.obs, episodeStep: this.buffers.episodeStep };
  }

  /**
   * A text picture of the regions of env `envIndex`, one per agent (`R` robot, `o` item, `*`
   * robot on an item, `+` free shelf, `#` corner).
   */
  async render(envIndex: number): Promise<string> {
    if (!(envIndex >= 0 && envIndex < this.numEnvs)) {
      throw new RangeError(
        `Cannot render warehouse local env ${envIndex}: the env has ${this.numEnvs} envs`,
      );
    }
    const lanes = this.decodeStates(await readTensor(this.#engine, this.state));
    const out: string[] = [];
    for (let a = 0; a < this.spec.numAgents; a++) {
      const s = lanes[a * this.numEnvs + envIndex];
      out.push(`agent ${a} step ${s.step} episode ${s.episode}`);
      for (let r = 0; r < 5; r++) {
        let line = "";
        for (let c = 0; c < 5; c++) {
          const shelf = (r === 0 || r === 4) !== (c === 0 || c === 4);
          const item = s.items.some((it) => it.row === r && it.col === c);
          const robot = s.pos.row === r && s.pos.col === c;
          line += robot ? (item ? "*" : "R") : item ? "o" : shelf ? "+" : r % 4 === 0 ? "#" : ".";
        }
        out.push(line);
      }
    }
    return out.join("\n");
  }
}

/**
 * Builds the local simulators of every learning agent of a warehouse task: buffers (labelled
 * `warehouse.local.*`), pipelines and bind groups, once.
 *
 * @param engine Engine that owns the device.
 * @param spec Spec of a warehouse task (the GS's; the LS uses its geometry for random keys).
 * @param options `numEnvs` (lanes per agent) and the `seed`.
 * @returns The env; call `encodeReset` before the first step.
 */
export async function createWarehouseLocalEnv(
  engine: Engine,
  spec: EnvSpec,
  options: VecEnvOptions,
): Promise<WarehouseLocalEnv> {
  if (spec.family !== "warehouse") {
    throw new TypeError(
      `Cannot build warehouse local env from spec "${spec.name}" of family "${spec.family}"`,
    );
  }
  const cfg = spec.config as unknown as WarehouseConfig;
  checkWarehouseConfig(cfg, `warehouse local env "${spec.name}"`);
  if (!Number.isInteger(options.numEnvs) || options.numEnvs < 1) {
    throw new RangeError(
      `Cannot build warehouse local env "${spec.name}": numEnvs is ${options.numEnvs}`,
    );
  }
  const n = options.numEnvs, A = cfg.learningPerSide ** 2;
  const t = <D extends "f32" | "u32">(dtype: D, shape: number[], name: string) =>
    engine.tensor({ dtype, shape, label: `warehouse.local.${name}` });
  const buffers = {
    obs: t("f32", [A, n, WAREHOUSE_OBS], "obs"),
    terminalObs: t("f32", [A, n, WAREHOUSE_OBS], "terminalObs"),
    actions: t("u32", [A, n], "actions"),
    reward: t("f32", [A, n], "reward"),
    terminated: t("u32", [n], "terminated"),
    truncated: t("u32", [n], "truncated"),
    episodeStep: t("u32", [n], "episodeStep"),
  };
  const influence = t("u32", [A, n, WAREHOUSE_SOURCES], "influence");
  const state = t("u32", [A, n, WAREHOUSE_LOCAL_STRIDE], "state");
  const params = {
    numEnvs: n,
    numAgents: A,
    robotsPerSide: cfg.robotsPerSide,
    learningPerSide: cfg.learningPerSide,
    maxSteps: cfg.maxSteps,
    probItem: cfg.probItem,
    seed: options.seed >>> 0,
    resetPurpose: RNG_PURPOSE.envReset,
    stepPurpose: RNG_PURPOSE.envStep,
  };
  const [kr, ks] = await Promise.all([
    compileKernel(engine, warehouseLocalReset),
    compileKernel(engine, warehouseLocalStep),
  ]);
  const { actions: _a, terminalObs: _t, ...resetBuffers } = buffers;
  const reset = kr.bind({ ...resetBuffers, state }, params, "warehouse.local.reset");
  const step = ks.bind({ ...buffers, influence, state }, params, "warehouse.local.step");
  return new WarehouseLocalEnv(engine, spec, { options, buffers, influence, state, reset, step });
}
