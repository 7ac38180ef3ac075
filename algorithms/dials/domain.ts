/**
 * What DIALS needs from a domain (docs/algorithms/dials.md §1, §3–§5): the global simulator, its AIP dataset
 * recorder, the local simulators with their influence input, and the predictor's shape. The
 * implementations are {@linkcode createWarehouseDomain} and {@linkcode createTrafficDomain}.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { EnvSpec, VecEnv } from "../../envs/env.ts";
import { createTrafficEnv } from "../../envs/traffic/env.ts";
import { createTrafficInfluenceRecorder, TRAFFIC_DSET_DIM } from "../../envs/traffic/influence.ts";
import { createTrafficLocalEnv } from "../../envs/traffic/local.ts";
import { createWarehouseEnv } from "../../envs/warehouse/env.ts";
import { createWarehouseDataset } from "../../envs/warehouse/dataset.ts";
import {
  WAREHOUSE_CLASSES,
  WAREHOUSE_OBS,
  WAREHOUSE_SOURCES,
} from "../../envs/warehouse/layout.ts";
import { createWarehouseLocalEnv } from "../../envs/warehouse/local.ts";
import type { AipSpec } from "./aip.ts";

/** A DIALS domain: simulators, dataset and predictor shape. */
export interface DialsDomain {
  /** Global simulator (data collection and evaluation). */
  readonly gs: VecEnv;
  /** Local simulators, one lane per (agent, env); their influence comes from `influence`. */
  readonly ls: VecEnv;
  /** [numAgents, numEnvs, sources] u32 influence sources read by the LS step. */
  readonly influence: Tensor<"u32">;
  readonly aipSpec: AipSpec;
  /** LS observation entries before the AIP input. */
  readonly aipSkip: number;
  readonly dataset: {
    /**
     * [numAgents, rows, ⌈inDim / 32⌉] u32 inputs, bit-packed as in `envs/bits.ts` (see
     * `aip.ts`), and [numAgents, rows, sources] targets (u32, or f32 0/1).
     */
    readonly inputs: Tensor<"u32">;
    readonly targets: Tensor;
    readonly rows: number;
    /** GS steps per env of one collection (whole episodes from a reset). */
    readonly stepsPerEnv: number;
    /** Records the start of a collection (after the GS reset). */
    encodeBegin(enc: Encoder): void;
    /** Records the samples of the GS step just encoded. */
    encodeRecord(enc: Encoder): void;
  };
}

/**
 * The warehouse: GS with the scripted ring, 5 × 5 local regions, AIP = GRU(37 → hidden) with four
 * 4-way softmax sources trained on whole 100-step episodes.
 *
 * @param engine Engine that owns the device.
 * @param spec A warehouse task spec.
 * @param o LS lanes per agent, GS envs, seed, dataset size and AIP width.
 * @returns The {@linkcode DialsDomain}.
 */
export async function createWarehouseDomain(
  engine: Engine,
  spec: EnvSpec,
  o: DialsDomainOptions,
): Promise<DialsDomain> {
  const seeds = o.seeds ?? 1;
  const gs = await createWarehouseEnv(engine, spec, {
    numEnvs: o.gsEnvs * seeds,
    seed: o.seed,
    seeds,
  });
  // The local simulators draw their own item spawns: a seed stream apart from the GS's
  // (seed ^ LS_SEED_MIX, per seed of a batch).
  const ls = await createWarehouseLocalEnv(engine, spec, {
    numEnvs: o.numEnvs * seeds,
    seed: o.seed,
    seeds,
    seedMix: LS_SEED_MIX,
  });
  const data = await createWarehouseDataset(engine, gs, { datasetSize: o.datasetSize, seeds });
  return {
    gs,
    ls,
    influence: ls.influence,
    aipSpec: {
      loss: "softmax",
      inDim: WAREHOUSE_OBS,
      sources: WAREHOUSE_SOURCES,
      classes: WAREHOUSE_CLASSES,
      hidden: o.aipHidden,
      seqLen: gs.config.maxSteps,
    },
    aipSkip: 0,
    dataset: {
      inputs: data.inputs,
      targets: data.targets,
      rows: data.plan.rows,
      stepsPerEnv: data.plan.stepsPerEnv,
      encodeBegin: (enc) => data.encodeBegin(enc),
      encodeRecord: (enc) => data.encodeRecord(enc),
    },
  };
}

/** XORed into the run seed for the local simulators' draws. */
const LS_SEED_MIX = 0x5bd1e995;

/** Options every domain builder takes. */
export interface DialsDomainOptions {
  /** LS lanes per agent (per seed). */
  numEnvs: number;
  /** GS envs for collection and evaluation (per seed). */
  gsEnvs: number;
  /**
   * Seeds batched (default 1; docs/statistics.md §8): the simulators hold `seeds` times the envs,
   * seed-major, seed k's drawing as a lone run seeded `seed + k`; the dataset's rows per agent
   * are `seeds` blocks of a lone run's rows (`rows` counts one block).
   */
  seeds?: number;
  seed: number;
  /** Samples per agent per AIP dataset. */
  datasetSize: number;
  /** GRU width (warehouse) or hidden layer width (traffic) of the AIP. */
  aipHidden: number;
}

/**
 * Traffic: GS grid, one-intersection local regions, AIP = Linear(36 → hidden) ReLU → Linear(→ 4)
 * with one Bernoulli per incoming lane, trained on single steps (the reference's pairing: d and u
 * both read after the GS step). The predictor writes the LS `sources` directly; `resetSources`
 * (entries at an LS episode's first step) stay 0.
 *
 * @param engine Engine that owns the device.
 * @param spec A traffic task spec.
 * @param o LS lanes per agent, GS envs, seed, dataset size and AIP width.
 * @returns The {@linkcode DialsDomain}.
 */
export async function createTrafficDomain(
  engine: Engine,
  spec: EnvSpec,
  o: DialsDomainOptions,
): Promise<DialsDomain> {
  const seeds = o.seeds ?? 1;
  const gs = await createTrafficEnv(engine, spec, {
    numEnvs: o.gsEnvs * seeds,
    seed: o.seed,
    seeds,
  });
  const ls = await createTrafficLocalEnv(engine, spec, {
    numEnvs: o.numEnvs * seeds,
    seed: o.seed,
    seeds,
    seedMix: LS_SEED_MIX,
  });
  const rec = await createTrafficInfluenceRecorder(engine, gs, {
    datasetSize: o.datasetSize,
    seeds,
  });
  return {
    gs,
    ls,
    influence: ls.sources,
    aipSpec: {
      loss: "bce",
      inDim: TRAFFIC_DSET_DIM,
      sources: 4,
      classes: 2,
      hidden: o.aipHidden,
      seqLen: 1,
    },
    aipSkip: 0,
    dataset: {
      inputs: rec.dset,
      targets: rec.targets,
      rows: rec.capacity,
      stepsPerEnv: rec.slots,
      encodeBegin: () => {},
      encodeRecord: (enc) => rec.encode(enc),
    },
  };
}

/** Domain builders by env family. */
export const DIALS_DOMAINS: Readonly<
  Record<string, (engine: Engine, spec: EnvSpec, o: DialsDomainOptions) => Promise<DialsDomain>>
> = Object.freeze({
  warehouse: createWarehouseDomain,
  traffic: createTrafficDomain,
});
