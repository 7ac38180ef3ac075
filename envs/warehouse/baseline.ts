/**
 * The warehouse's hand-coded robot as a policy for the learning agents of the GS (§8 of
 * `docs/envs/warehouse.md`): shortest path to the oldest item in the region
 * (variant "oldest", the paper's baseline) or to the closest item, sticky (variant "closest",
 * the reference's HEAD). One dispatch (`shaders/envs/warehouse/baseline.wgsl`) reads the GS state
 * and writes the GS's `actions`.
 *
 * ```ts ignore
 * const policy = await createWarehouseBaseline(engine, env, { variant: "oldest" });
 * policy.encode(enc);   // writes env.buffers.actions
 * env.encodeStep(enc);
 * ```
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { WarehouseEnv } from "./env.ts";
import { WAREHOUSE_NO_SLOT, type WarehouseScripted } from "./layout.ts";

const PARAMS = {
  numEnvs: "u32",
  robotsPerSide: "u32",
  learningPerSide: "u32",
  variant: "u32",
  seed: "u32",
  purpose: "u32",
} as const;

/** Hand-coded actions of every learning agent; one thread per (agent, env). */
export const warehouseBaselineAct = defineKernel({
  name: "warehouse.baseline.act",
  shader: "envs/warehouse/baseline.wgsl",
  entryPoint: "act",
  includes: [
    "common/_index.wgsl",
    "common/_rng.wgsl",
    "common/_exact.wgsl",
    "envs/warehouse/_rules.wgsl",
  ],
  bindings: { gsState: "read", memory: "write", actions: "write" },
  params: PARAMS,
  threads: (p) => p.learningPerSide ** 2 * p.numEnvs,
});

/** Options of {@linkcode createWarehouseBaseline}. */
export interface WarehouseBaselineOptions {
  variant: WarehouseScripted;
  /** Seed of the random actions (default: the env's seed). */
  seed?: number;
}

/** The baseline policy bound to one GS. */
export class WarehouseBaseline {
  readonly variant: WarehouseScripted;
  /** [numAgents, numEnvs] u32: remembered target slot (variant "closest"; 12 = none). */
  readonly memory: Tensor<"u32">;
  readonly #act: Dispatch<typeof PARAMS>;

  /** Use {@linkcode createWarehouseBaseline}. */
  constructor(variant: WarehouseScripted, memory: Tensor<"u32">, act: Dispatch<typeof PARAMS>) {
    this.variant = variant;
    this.memory = memory;
    this.#act = act;
  }

  /** Records the dispatch that writes the GS's `actions` from its current state. */
  encode(enc: Encoder): void {
    this.#act.encode(enc);
  }
}

/**
 * Builds the baseline policy for `env` (pipeline, memory buffer, bind group), once.
 *
 * @param engine Engine that owns the device.
 * @param env The GS whose learning agents it drives.
 * @param options Variant and seed.
 * @returns The policy; `encode` before each `env.encodeStep`.
 */
export async function createWarehouseBaseline(
  engine: Engine,
  env: WarehouseEnv,
  options: WarehouseBaselineOptions,
): Promise<WarehouseBaseline> {
  if (options.variant !== "oldest" && options.variant !== "closest") {
    throw new TypeError(`Cannot build warehouse baseline: variant is "${options.variant}"`);
  }
  const cfg = env.config, A = env.spec.numAgents;
  const memory = engine.tensor({
    dtype: "u32",
    shape: [A, env.numEnvs],
    label: "warehouse.baseline.memory",
    data: new Uint32Array(A * env.numEnvs).fill(WAREHOUSE_NO_SLOT),
  });
  const k = await compileKernel(engine, warehouseBaselineAct);
  const act = k.bind({ gsState: env.state, memory, actions: env.buffers.actions }, {
    numEnvs: env.numEnvs,
    robotsPerSide: cfg.robotsPerSide,
    learningPerSide: cfg.learningPerSide,
    variant: options.variant === "oldest" ? 0 : 1,
    seed: (options.seed ?? env.seed) >>> 0,
    purpose: RNG_PURPOSE.action,
  }, "warehouse.baseline.act");
  return new WarehouseBaseline(options.variant, memory, act);
}
