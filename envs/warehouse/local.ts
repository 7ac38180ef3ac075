/**
 * Warehouse commissioning, local simulators (IALS/DIALS, §9 of
 * `docs/envs/warehouse.md`): {@linkcode WarehouseLocalEnv} steps one
 * 5 × 5 region per (agent, env) lane — numAgents × numEnvs regions in one dispatch
 * (`shaders/envs/warehouse/local.wgsl`) — with the same obs/reward layout as the GS
 * (`envs/warehouse/env.ts`) for that agent. The neighbours enter only through `influence`
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
import type { Engine } from "../../engine/device.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import { readTensor } from "../../engine/readback.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { EnvSpec, VecEnvOptions } from "../env.ts";
import { envsPerSeed } from "../env.ts";
import { createEnvBuffers, RESET_BINDINGS, resetBuffers } from "../buffers.ts";
import {
  checkEnvFamily,
  checkNumEnvs,
  type PackedStateParts,
  packedStateParts,
  VecEnvBase,
} from "../vec_env_base.ts";
import { WAREHOUSE_INCLUDES } from "./env.ts";
import {
  checkWarehouseConfig,
  packWarehouseLocalStates,
  unpackWarehouseLocalStates,
  WAREHOUSE_LOCAL_STRIDE,
  WAREHOUSE_OBS,
  WAREHOUSE_SOURCES,
  type WarehouseConfig,
  type WarehouseLocalState,
} from "./layout.ts";

const SHADER = "envs/warehouse/local.wgsl";
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
  envsPerSeed: "u32",
  seedMix: "u32",
} as const;

/**
 * Options of the local simulators: {@linkcode VecEnvOptions} and `seedMix`, XORed into each
 * seed's draw seed (DIALS keys its local simulators by `seed ^ C`; with seeds batched, seed k's
 * envs draw with `(seed + k) ^ seedMix`, as a lone run seeded `seed + k`). Default 0.
 */
export interface WarehouseLocalEnvOptions extends VecEnvOptions {
  seedMix?: number;
}

/** Resets every lane to episode 0; one thread per lane. */
export const warehouseLocalReset = defineKernel({
  name: "warehouse.local.reset",
  shader: SHADER,
  entryPoint: "reset",
  includes: WAREHOUSE_INCLUDES,
  bindings: { state: "write", ...RESET_BINDINGS },
  params: PARAMS,
  threads: (p) => p.numAgents * p.numEnvs,
});

/**
 * One LS step of every lane with auto-reset; one thread per lane. Writes every step buffer but
 * `terminated`: LS episodes end only by the time limit, so it holds the 0 that
 * {@linkcode warehouseLocalReset} wrote (and keeps the kernel within 8 storage buffers).
 */
export const warehouseLocalStep = defineKernel({
  name: "warehouse.local.step",
  shader: SHADER,
  entryPoint: "step",
  includes: WAREHOUSE_INCLUDES,
  bindings: {
    state: "write",
    influence: "read",
    actions: "read",
    obs: "write",
    terminalObs: "write",
    reward: "write",
    truncated: "write",
    episodeStep: "write",
  },
  params: PARAMS,
  threads: (p) => p.numAgents * p.numEnvs,
});

/** The GPU local simulators of every learning agent. */
export class WarehouseLocalEnv extends VecEnvBase<WarehouseLocalState> {
  readonly config: WarehouseConfig;
  /** [numAgents, numEnvs, 4] u32: influence classes of the next step, written by the caller. */
  readonly influence: Tensor<"u32">;
  /** [numAgents, numEnvs, 16] u32 packed lanes (layout in `envs/warehouse/layout.ts`). */
  readonly state: Tensor<"u32">;

  /** Use {@linkcode createWarehouseLocalEnv}. */
  constructor(
    engine: Engine,
    spec: EnvSpec,
    parts: PackedStateParts<WarehouseLocalEnv["buffers"], Dispatch<typeof PARAMS>> & {
      influence: Tensor<"u32">;
    },
  ) {
    super(engine, spec, {
      ...packedStateParts("warehouse local", parts),
      seed: (parts.options.seed ^ ((parts.options as WarehouseLocalEnvOptions).seedMix ?? 0)) >>> 0,
    });
    this.config = spec.config as unknown as WarehouseConfig;
    this.influence = parts.influence;
    this.state = parts.state;
  }

  /** `writeStates` takes lanes, one per (agent, env) in [numAgents, numEnvs] order. */
  protected override checkStateCount(lanes: readonly WarehouseLocalState[]): void {
    const want = this.spec.numAgents * this.numEnvs;
    if (lanes.length !== want) {
      throw new RangeError(
        `Cannot write ${lanes.length} warehouse lanes: the local env has ${want} lanes`,
      );
    }
  }

  /** Packs with {@linkcode packWarehouseLocalStates}. */
  protected packStates(lanes: readonly WarehouseLocalState[]): { state: Uint32Array } {
    return { state: packWarehouseLocalStates(lanes) };
  }

  /** Decodes words read from {@linkcode WarehouseLocalEnv.state} ([numAgents, numEnvs] order). */
  decodeStates(words: Uint32Array): WarehouseLocalState[] {
    return unpackWarehouseLocalStates(words);
  }

  /**
   * A text picture of the regions of env `envIndex`, one per agent (`R` robot, `o` item, `*`
   * robot on an item, `+` free shelf, `#` corner).
   */
  protected async renderEnv(envIndex: number): Promise<string> {
    const lanes = this.decodeStates(await readTensor(this.engine, this.state));
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
 * @param options `numEnvs` (lanes per agent), the `seed`, `seeds` batched and `seedMix`.
 * @returns The env; call `encodeReset` before the first step.
 */
export async function createWarehouseLocalEnv(
  engine: Engine,
  spec: EnvSpec,
  options: WarehouseLocalEnvOptions,
): Promise<WarehouseLocalEnv> {
  checkEnvFamily(spec, { families: ["warehouse"], title: "warehouse local" });
  const cfg = spec.config as unknown as WarehouseConfig;
  checkWarehouseConfig(cfg, `warehouse local env "${spec.name}"`);
  checkNumEnvs(spec, { numEnvs: options.numEnvs, title: "warehouse local" });
  const n = options.numEnvs, A = cfg.learningPerSide ** 2;
  const t = <D extends "f32" | "u32">(dtype: D, shape: number[], name: string) =>
    engine.tensor({ dtype, shape, label: `warehouse.local.${name}` });
  const buffers = createEnvBuffers(engine, {
    numAgents: A,
    numEnvs: n,
    obsShape: [WAREHOUSE_OBS],
    obsDType: "f32",
    label: "warehouse.local",
  });
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
    envsPerSeed: envsPerSeed(options),
    seedMix: (options.seedMix ?? 0) >>> 0,
  };
  const [kr, ks] = await Promise.all([
    compileKernel(engine, warehouseLocalReset),
    compileKernel(engine, warehouseLocalStep),
  ]);
  const reset = kr.bind({ ...resetBuffers(buffers), state }, params, "warehouse.local.reset");
  const { terminated: _, ...stepBuffers } = buffers;
  const step = ks.bind({ ...stepBuffers, influence, state }, params, "warehouse.local.step");
  return new WarehouseLocalEnv(engine, spec, { options, buffers, influence, state, reset, step });
}
