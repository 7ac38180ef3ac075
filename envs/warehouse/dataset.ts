/**
 * AIP training data from the warehouse GS (§3 of `docs/algorithms/dials.md`): after
 * every GS step, {@linkcode WarehouseDataset.encodeRecord} copies each agent's `dset` (its
 * observation before the step, the AIP input: 37 values 0/1, stored bit-packed as in
 * `envs/bits.ts`) and `influence` (its neighbours' classes after the move, the AIP target) into
 * per-agent tables, encode-only. Rows are `e · stepsPerEnv + slot`
 * with `slot` the env's steps since {@linkcode WarehouseDataset.encodeBegin}, so when recording
 * starts at an episode boundary every 100 consecutive rows are one whole episode (one GRU
 * training sequence). Rows past `stepsPerEnv` are not written.
 *
 * ```ts ignore
 * const data = await createWarehouseDataset(engine, env);   // ≥ 10 000 samples per agent
 * env.encodeReset(enc); data.encodeBegin(enc);
 * for (let t = 0; t < data.plan.stepsPerEnv; t++) { act(enc); env.encodeStep(enc); data.encodeRecord(enc); }
 * ```
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { WarehouseEnv } from "./env.ts";
import { packedWords } from "../bits.ts";
import { WAREHOUSE_OBS, WAREHOUSE_SOURCES, warehouseStateStride } from "./layout.ts";

const SHADER = "envs/warehouse/dataset.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = { numEnvs: "u32", numAgents: "u32", stride: "u32", stepsPerEnv: "u32" } as const;

/** Marks the start of a collection: copies every env's GS step counter. */
export const warehouseDatasetBegin = defineKernel({
  name: "warehouse.dataset.begin",
  shader: SHADER,
  entryPoint: "begin",
  includes: INCLUDES,
  bindings: { gsState: "read", start: "write" },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/** Copies the last GS step's `dset` (bit-packed) and `influence` into the tables by rows. */
export const warehouseDatasetRecord = defineKernel({
  name: "warehouse.dataset.record",
  shader: SHADER,
  entryPoint: "record",
  includes: INCLUDES,
  bindings: {
    gsState: "read",
    startIn: "read",
    dset: "read",
    influence: "read",
    inputs: "write",
    targets: "write",
  },
  params: PARAMS,
  threads: (p) => p.numAgents * p.numEnvs,
});

/** Sizes of a collection. */
export interface WarehouseDatasetPlan {
  /** GS steps recorded per env: whole episodes, enough for `datasetSize` samples per agent. */
  stepsPerEnv: number;
  /** Samples (rows) per agent: numEnvs · stepsPerEnv. */
  rows: number;
  /** Whole-episode sequences per agent. */
  sequences: number;
}

/**
 * Plans a collection of at least `datasetSize` samples per agent from `numEnvs` GS envs in whole
 * episodes (the spec's warehouse size is 10 000).
 */
export function planWarehouseDataset(
  numEnvs: number,
  options: { datasetSize?: number; episodeLength?: number } = {},
): WarehouseDatasetPlan {
  const size = options.datasetSize ?? 10_000, len = options.episodeLength ?? 100;
  if (!(size >= 1) || !(numEnvs >= 1) || !(len >= 1)) {
    throw new RangeError(
      `Cannot plan warehouse dataset: datasetSize ${size}, numEnvs ${numEnvs}, episode ${len}`,
    );
  }
  const stepsPerEnv = Math.ceil(size / numEnvs / len) * len;
  return { stepsPerEnv, rows: numEnvs * stepsPerEnv, sequences: (numEnvs * stepsPerEnv) / len };
}

/** Recorder bound to one GS. */
export class WarehouseDataset {
  readonly plan: WarehouseDatasetPlan;
  /**
   * [numAgents, rows, 2] u32: AIP inputs (the 37 0/1 observation values before each step),
   * bit-packed as in `envs/bits.ts` (value q at bit q % 32 of word ⌊q / 32⌋).
   */
  readonly inputs: Tensor<"u32">;
  /** [numAgents, rows, 4] u32: AIP targets (classes of E, S, W, N; 3 = off the edge). */
  readonly targets: Tensor<"u32">;
  /** [numEnvs] u32: GS step counters at `encodeBegin`. */
  readonly start: Tensor<"u32">;
  readonly #begin: Dispatch<typeof PARAMS>;
  readonly #record: Dispatch<typeof PARAMS>;

  /** Use {@linkcode createWarehouseDataset}. */
  constructor(parts: {
    plan: WarehouseDatasetPlan;
    inputs: Tensor<"u32">;
    targets: Tensor<"u32">;
    start: Tensor<"u32">;
    begin: Dispatch<typeof PARAMS>;
    record: Dispatch<typeof PARAMS>;
  }) {
    this.plan = parts.plan;
    this.inputs = parts.inputs;
    this.targets = parts.targets;
    this.start = parts.start;
    this.#begin = parts.begin;
    this.#record = parts.record;
  }

  /** Records the start of a collection (rows restart at slot 0). */
  encodeBegin(enc: Encoder): void {
    this.#begin.encode(enc);
  }

  /** Records the copy of the last GS step's data (encode after `env.encodeStep`). */
  encodeRecord(enc: Encoder): void {
    this.#record.encode(enc);
  }
}

/**
 * Builds a recorder for `env`: tables (labelled `warehouse.dataset.*`), pipelines and bind
 * groups, once.
 *
 * @param engine Engine that owns the device.
 * @param env The GS to record.
 * @param options Samples per agent (default 10 000).
 * @returns The recorder.
 */
export async function createWarehouseDataset(
  engine: Engine,
  env: WarehouseEnv,
  options: { datasetSize?: number; seeds?: number } = {},
): Promise<WarehouseDataset> {
  // Seeds batched in the GS (envs [k·g, (k+1)·g) are seed k's): rows are env-major, so agent a's
  // rows of seed k, planned for g envs, are block a·seeds + k of [A·seeds, rows] (the AIP's
  // seed-minor blocks) with the plan of a lone run.
  const seeds = options.seeds ?? 1;
  if (!(Number.isInteger(seeds) && seeds >= 1 && env.numEnvs % seeds === 0)) {
    throw new RangeError(`Cannot build warehouse dataset: ${seeds} seeds of ${env.numEnvs} envs`);
  }
  const plan = planWarehouseDataset(env.numEnvs / seeds, {
    datasetSize: options.datasetSize,
    episodeLength: env.config.maxSteps,
  });
  const A = env.spec.numAgents;
  const inputs = engine.tensor({
    dtype: "u32",
    shape: [A, seeds * plan.rows, packedWords(WAREHOUSE_OBS)],
    label: "warehouse.dataset.inputs",
  });
  const targets = engine.tensor({
    dtype: "u32",
    shape: [A, seeds * plan.rows, WAREHOUSE_SOURCES],
    label: "warehouse.dataset.targets",
  });
  const start = engine.tensor({
    dtype: "u32",
    shape: [env.numEnvs],
    label: "warehouse.dataset.start",
  });
  const params = {
    numEnvs: env.numEnvs,
    numAgents: A,
    stride: warehouseStateStride(env.config),
    stepsPerEnv: plan.stepsPerEnv,
  };
  const [kb, kr] = await Promise.all([
    compileKernel(engine, warehouseDatasetBegin),
    compileKernel(engine, warehouseDatasetRecord),
  ]);
  const begin = kb.bind({ gsState: env.state, start }, params, "warehouse.dataset.begin");
  const record = kr.bind(
    {
      gsState: env.state,
      startIn: start,
      dset: env.buffers.dset,
      influence: env.buffers.influence,
      inputs,
      targets,
    },
    params,
    "warehouse.dataset.record",
  );
  return new WarehouseDataset({ plan, inputs, targets, start, begin, record });
}
