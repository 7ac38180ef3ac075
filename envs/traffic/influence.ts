/**
 * AIP training data from the traffic global simulator (`docs/algorithms/dials.md` §3, spec A6/A9): after each GS
 * step, {@linkcode createTrafficInfluenceRecorder}'s op appends every agent's sample — the 36-value
 * d-set (0/1 values, bit-packed as in `envs/bits.ts`) and the 4 influence sources of that step —
 * to GPU ring buffers, with no host round trip
 * (`shaders/envs/traffic/influence.wgsl`, entry points `record` and `advance`).
 *
 * Pairing as in the reference: d and u are both read after the step (the sample of an episode's
 * last step uses its terminal observation). The target u is the GS's entry event per approach ("a
 * vehicle entered this lane at this step", what the local simulator consumes); the reference's
 * code labels bin 9 of the lane bitmap instead — in our model that bin also stays set while a
 * queue reaches back to the entrance.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel } from "../../engine/kernel.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { packedWords } from "../bits.ts";
import type { TrafficEnv } from "./env.ts";

const AUX_SHADER = "envs/traffic/influence.wgsl";
/** AIP input values per sample: bins 0..8 of the 4 approaches (`DSET_DIM` of the shader). */
export const TRAFFIC_DSET_DIM = 36;
/** Params of `shaders/envs/traffic/influence.wgsl` (shared by the baseline and the recorder). */
export const TRAFFIC_AUX_PARAMS = {
  numEnvs: "u32",
  numAgents: "u32",
  minGreen: "u32",
  maxGreen: "u32",
  gapSteps: "u32",
  fixedGreen: "u32",
  slots: "u32",
  envsPerSeed: "u32",
} as const;

/** Appends every agent's (dset, sources) sample of the last GS step; one thread per (agent, env). */
export const trafficRecord = defineKernel({
  name: "traffic.influence.record",
  shader: AUX_SHADER,
  entryPoint: "record",
  includes: ["common/_index.wgsl"],
  bindings: {
    obs: "read",
    terminalObs: "read",
    terminated: "read",
    truncated: "read",
    sources: "read",
    cursorIn: "read",
    dset: "write",
    targets: "write",
  },
  params: TRAFFIC_AUX_PARAMS,
  threads: (p) => p.numEnvs * p.numAgents,
});

/** Advances the recorder's cursor by one step; one thread. */
export const trafficAdvance = defineKernel({
  name: "traffic.influence.advance",
  shader: AUX_SHADER,
  entryPoint: "advance",
  includes: ["common/_index.wgsl"],
  bindings: { cursor: "write" },
  params: TRAFFIC_AUX_PARAMS,
  threads: () => 1,
});

/** AIP training data of every agent, filled on the GPU from global-simulator steps. */
export interface TrafficInfluenceRecorder {
  /**
   * [A, capacity, 2] u32: the d-set (the 36 0/1 values of bins 0..8 of W, S, E, N) after the step,
   * bit-packed as in `envs/bits.ts` (value i at bit i % 32 of word ⌊i / 32⌋).
   */
  readonly dset: Tensor<"u32">;
  /** [A, capacity, 4] f32: the influence sources of the same step (targets). */
  readonly targets: Tensor<"f32">;
  /** [1] u32: steps recorded since creation (slot = cursor mod slots). */
  readonly cursor: Tensor<"u32">;
  /** Steps held before the ring wraps; capacity = slots · numEnvs rows per agent (and seed). */
  readonly slots: number;
  readonly capacity: number;
  /** Records the samples of the GS step just encoded (call after `gs.encodeStep`). */
  encode(enc: Encoder): void;
}

/**
 * Builds the AIP dataset recorder of a global simulator (`docs/algorithms/dials.md` §3: d and u both read after
 * the step; the sample of an episode's last step uses its terminal observation).
 *
 * @param engine Engine that owns the device.
 * @param gs The global simulator.
 * @param options `datasetSize`: samples per agent to hold (default 80 000, rounded up to whole steps).
 * @returns The recorder (labels `traffic.influence.*`).
 */
export async function createTrafficInfluenceRecorder(
  engine: Engine,
  gs: TrafficEnv,
  options: { datasetSize?: number; seeds?: number } = {},
): Promise<TrafficInfluenceRecorder> {
  const size = options.datasetSize ?? 80_000;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Cannot build traffic influence recorder: datasetSize is ${size}`);
  }
  // Seeds batched in the GS (envs [k·g, (k+1)·g) are seed k's): agent a's samples of seed k, a
  // ring of slots · g rows as a lone run's, are block a·seeds + k of [A·seeds, capacity] (the
  // AIP's seed-minor blocks).
  const seeds = options.seeds ?? 1;
  if (!(Number.isInteger(seeds) && seeds >= 1 && gs.numEnvs % seeds === 0)) {
    throw new RangeError(`Cannot build traffic influence recorder: ${seeds} seeds`);
  }
  const n = gs.numEnvs, g = n / seeds, A = gs.spec.numAgents;
  const slots = Math.ceil(size / g), capacity = slots * g;
  const dset = engine.tensor({
    dtype: "u32",
    shape: [A, seeds * capacity, packedWords(TRAFFIC_DSET_DIM)],
    label: "traffic.influence.dset",
  });
  const targets = engine.tensor({
    dtype: "f32",
    shape: [A, seeds * capacity, 4],
    label: "traffic.influence.targets",
  });
  const cursor = engine.tensor({ dtype: "u32", shape: [1], label: "traffic.influence.cursor" });
  const params = {
    numEnvs: n,
    numAgents: A,
    minGreen: 0,
    maxGreen: 0,
    gapSteps: 0,
    fixedGreen: 0,
    slots,
    envsPerSeed: g,
  };
  const [kr, ka] = await Promise.all([
    compileKernel(engine, trafficRecord),
    compileKernel(engine, trafficAdvance),
  ]);
  const record = kr.bind({
    obs: gs.buffers.obs,
    terminalObs: gs.buffers.terminalObs,
    terminated: gs.buffers.terminated,
    truncated: gs.buffers.truncated,
    sources: gs.sources,
    cursorIn: cursor,
    dset,
    targets,
  }, params);
  const advance = ka.bind({ cursor }, params);
  return {
    dset,
    targets,
    cursor,
    slots,
    capacity,
    encode(enc: Encoder): void {
      record.encode(enc);
      advance.encode(enc);
    },
  };
}
